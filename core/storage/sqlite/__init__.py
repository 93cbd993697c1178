"""The SQLite storage backend (the default): one file under the client's path, or memory.

``SqliteBackend`` implements ``huedb.storage.protocol.StorageBackend``; the
SQL lives in the modules beside this one (schema, catalog, records, filters,
connection), and nothing outside this package sees a connection or a row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from huedb.storage.catalog_tx import CatalogReads, CatalogWrites
from huedb.storage.protocol import NewRecords, RecordChanges, Records
from huedb.storage.sqlite import catalog, fork, keys, sparse
from huedb.storage.sqlite import records as rec
from huedb.storage.sqlite.connection import Store
from huedb.storage.sqlite.read_cache import ReadCache
from huedb.types import CollectionModel


class SqliteRead(CatalogReads):
    """A read snapshot over one connection."""

    _catalog = catalog
    _forks = fork

    def __init__(self, conn: Any, persistent: bool, cache: ReadCache | None = None) -> None:
        super().__init__(conn)
        self.persistent = persistent
        self.cache = cache  # None in a write transaction: it reads storage directly

    def all_collections(self, tenant: str | None = None, database: str | None = None) -> list[CollectionModel]:
        did = None if database is None else catalog.database_did(self.conn, database, tenant or "")
        return catalog.all_collections(self.conn, did)

    def seen_keys(self, cids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
        return keys.seen(self.conn, cids)

    # -- records -------------------------------------------------------------
    def count_records(self, cid: int) -> int:
        return rec.count(self.conn, cid)

    def existing(self, cid: int, ids: Sequence[str]) -> dict[str, int]:
        return rec.existing(self.conn, cid, ids)

    def matching_rids(self, selection: Any) -> np.ndarray:
        return rec.matching_rids(self.conn, selection, self.cache)

    def select_records(
        self, selection: Any, fields: Sequence[str], limit: int | None = None, offset: int | None = None
    ) -> Records:
        return rec.select_records(self.conn, selection, fields, limit, offset, self.cache)

    def records_by_rids(self, rids: np.ndarray, fields: Sequence[str]) -> Records:
        return rec.rows_by_rids(self.conn, rids, fields)

    def vectors_by_rids(self, rids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return rec.vectors_by_rids(self.conn, rids)

    # -- the sparse inverted index ---------------------------------------------
    def sparse_knn(
        self, cid: int, key: str, indices: np.ndarray, values: np.ndarray, limit: int, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        return sparse.knn(self.conn, cid, key, indices, values, limit, allowed, self.cache)

    def sparse_df(self, cid: int, key: str, indices: np.ndarray) -> np.ndarray:
        return sparse.document_frequencies(self.conn, cid, key, indices, self.cache)

    def sparse_stats(self, cid: int, key: str) -> tuple[int, float]:
        return sparse.stats(self.conn, cid, key, self.cache)

    def sparse_keys(self, cid: int, keys: Sequence[str]) -> list[str]:
        return sparse.sparse_keys(self.conn, cid, keys)

    def label_offset(self, cid: int) -> int:
        return fork.label_offset(self.conn, cid)

    # -- index catch-up --------------------------------------------------------
    def changed_since(self, cid: int, seq: int, batch: int = 5000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for rids, blobs in rec.changed_since(self.conn, cid, seq, batch):
            yield rids, rec.embeddings_from_blobs(blobs, None)

    def deleted_since(self, cid: int, seq: int) -> np.ndarray:
        return rec.deleted_since(self.conn, cid, seq)

    def deletions_pruned_upto(self, cid: int) -> int:
        return rec.deletions_pruned_upto(self.conn, cid)


class SqliteWrite(SqliteRead, CatalogWrites):
    """The write transaction (``BEGIN IMMEDIATE``)."""

    def set_collection_state(self, cid: int, seq: int, dimension: int | None) -> None:
        catalog.set_collection_state(self.conn, cid, seq, dimension)

    def insert_records(self, cid: int, seq: int, records: NewRecords) -> np.ndarray:
        keys.record(self.conn, cid, records.metadatas)
        return rec.insert(
            self.conn, cid, seq, records.ids, records.embeddings, records.documents, records.uris, records.metadatas
        )

    def update_records(self, cid: int, seq: int, changes: RecordChanges) -> None:
        if not len(changes.rids):
            return
        if changes.metadatas is not None:
            keys.record(self.conn, cid, changes.metadatas)
        rec.update(
            self.conn,
            seq,
            changes.rids.tolist(),
            changes.embeddings,
            changes.documents,
            changes.uris,
            changes.metadatas,
            changes.clear,
        )

    def delete_records(self, cid: int, seq: int, rids: np.ndarray) -> None:
        rec.delete(self.conn, cid, seq, rids, log=self.persistent)

    def prune_deletions(self, cid: int, upto_seq: int) -> None:
        rec.prune_deletions(self.conn, cid, upto_seq)


class SqliteBackend:
    """SQLite in WAL mode under ``directory`` (or in memory when it is None)."""

    def __init__(self, directory: Path | None, synchronous: str = "FULL", read_cache_bytes: int | None = None) -> None:
        self._store = Store(directory, synchronous=synchronous)
        self.persistent = self._store.persistent
        # filters' rid sets and sparse terms' postings, per collection version
        self._cache = ReadCache(read_cache_bytes)
        self.index_directory = directory

    def selection(self, cid: int, ids: Sequence[str] | None, where: Any, where_document: Any) -> Any:
        return rec.select(cid, ids, where, where_document)

    @contextmanager
    def read(self) -> Iterator[SqliteRead]:
        with self._store.read() as conn:
            yield SqliteRead(conn, self.persistent, self._cache)

    @contextmanager
    def write(self) -> Iterator[SqliteWrite]:
        try:
            with self._store.write() as conn:
                yield SqliteWrite(conn, self.persistent)
        finally:
            self._cache.bump()

    def checkpoint(self) -> None:
        self._store.checkpoint()

    def vacuum(self) -> None:
        self._store.vacuum()

    def close(self) -> None:
        self._store.close()
