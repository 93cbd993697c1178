"""LocalAPI: the engine in process, the ServerAPI that embedded clients and the server use."""

from __future__ import annotations

from huedb.engine.admin import AdminEngine
from huedb.engine.reads import ReadEngine
from huedb.engine.search import SearchEngine
from huedb.engine.writes import WriteEngine


class LocalAPI(AdminEngine, WriteEngine, ReadEngine, SearchEngine):
    """The embedded ServerAPI: catalog (AdminEngine), writes (WriteEngine), reads
    (ReadEngine) and the Search API (SearchEngine) over one System per storage location."""
