"""What every part of the engine shares: the System of its location, and scoping."""

from __future__ import annotations

import time

from huedb.config import Settings
from huedb.engine.segments import SegmentManager
from huedb.engine.systems import acquire_system, release_system
from huedb.errors import NotFoundError
from huedb.storage import ReadTx, StorageBackend
from huedb.types import CollectionModel
from huedb.version import __version__

#: what get_max_batch_size() answers: chromadb 1.5.9's value (local and server). Callers size
#: their batches by it; huedb still takes bigger batches whole, in one transaction.
MAX_BATCH_SIZE = 5461


class EngineBase:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._system = acquire_system(settings)
        self._closed = False

    @property
    def storage(self) -> StorageBackend:
        return self._system.storage

    @property
    def segments(self) -> SegmentManager:
        return self._system.segments

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            release_system(self._system)

    def heartbeat(self) -> int:
        return time.time_ns()

    def get_version(self) -> str:
        return __version__

    def get_settings(self) -> Settings:
        return self.settings

    def get_max_batch_size(self) -> int:
        return MAX_BATCH_SIZE

    def _collection(self, collection_id: str, tenant: str, database: str) -> CollectionModel:
        with self.storage.read() as tx:
            return self._scoped(tx, collection_id, tenant, database)

    @staticmethod
    def _scoped(tx: ReadTx, collection_id: str, tenant: str, database: str) -> CollectionModel:
        """The collection, read in ``tx``; one of another tenant or database does not exist here."""
        model = tx.collection_by_id(collection_id)
        if model.tenant != tenant or model.database != database:
            raise NotFoundError(f"Collection [{collection_id}] does not exist")
        return model
