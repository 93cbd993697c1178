"""LocalAPI: the engine in process, the ServerAPI that embedded clients and the server use."""

from __future__ import annotations

from huedb.engine.admin import AdminEngine
from huedb.engine.reads import ReadEngine
from huedb.engine.writes import WriteEngine


class LocalAPI(AdminEngine, WriteEngine, ReadEngine):
    """The embedded ServerAPI: catalog (AdminEngine), writes (WriteEngine) and reads
    (ReadEngine) over one System per storage location."""
