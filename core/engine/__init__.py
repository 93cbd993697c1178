"""The engine: validation, the storage transaction and the index, behind ServerAPI.

Data flows one way: a request is validated, written to or read from the storage
backend in one transaction or snapshot (``huedb.storage``), then applied to or
answered by the collection's index segment (``segments``).
"""

from huedb.engine.local import LocalAPI

__all__ = ["LocalAPI"]
