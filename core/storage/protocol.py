"""The storage-backend seam: everything the engine keeps in its system of record.

A backend holds the catalog (tenants, databases, collections), the records
(ids, vectors, documents, metadata, URIs), answers metadata and full-text
filters, and keeps the deletion log that index segments catch up from. The
engine reaches it only through these protocols and never writes SQL itself.
SQLite (``huedb.storage.sqlite``) is the default; the signatures carry no
SQLite types, so another backend (PostgreSQL) fits behind the same seam.

Every read runs in one ``read()`` snapshot and every write in one ``write()``
transaction, committed whole or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from huedb.types import CollectionModel


@dataclass
class Records:
    """Rows of one read, columnar and decoded; a field not asked for is None."""

    rids: np.ndarray  # int64 record ids: the labels of index segments
    ids: list[str]
    documents: list[str | None] | None = None
    metadatas: list[dict[str, Any] | None] | None = None  # sparse vector values as SparseVector
    uris: list[str | None] | None = None
    embeddings: np.ndarray | None = None  # float32 (n, dimension)

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, positions: Sequence[int]) -> Records:
        """The rows at ``positions``, in that order."""
        pos = list(positions)

        def pick(column: list[Any] | None) -> list[Any] | None:
            return None if column is None else [column[i] for i in pos]

        return Records(
            rids=self.rids[pos] if len(pos) else self.rids[:0],
            ids=[self.ids[i] for i in pos],
            documents=pick(self.documents),
            metadatas=pick(self.metadatas),
            uris=pick(self.uris),
            embeddings=None if self.embeddings is None else self.embeddings[pos] if len(pos) else self.embeddings[:0],
        )


class Selection(Protocol):
    """What a get, query or delete selects in one collection: compiled (and so validated)
    by the backend before any read. Opaque to the engine."""


@dataclass
class NewRecords:
    """Records a write inserts; every list has one entry per id."""

    ids: Sequence[str]
    embeddings: np.ndarray
    documents: Sequence[str | None] | None = None
    uris: Sequence[str | None] | None = None
    metadatas: Sequence[dict[str, Any] | None] | None = None


@dataclass
class RecordChanges:
    """Changes a write makes to existing records (``rids``). A None entry keeps the stored
    value; metadata merges (a None value deletes the key); a field named in ``clear``
    becomes empty where no new value is given."""

    rids: np.ndarray
    embeddings: np.ndarray | None = None
    documents: Sequence[str | None] | None = None
    uris: Sequence[str | None] | None = None
    metadatas: Sequence[dict[str, Any] | None] | None = None
    clear: tuple[str, ...] = ()


class StaleRead(Exception):
    """A ``read_cached()`` read assumed something from its process's cache that another
    process (or this one) has changed since: its result must be thrown away and the read run
    again with ``read()``. Never reaches the user."""


class ReadTx(Protocol):
    """One consistent snapshot."""

    # -- catalog -------------------------------------------------------------
    def get_tenant(self, name: str) -> dict[str, str]: ...

    def list_tenants(self) -> list[dict[str, str]]: ...

    def get_database(self, name: str, tenant: str) -> dict[str, str]: ...

    def list_databases(self, tenant: str, limit: int | None, offset: int | None) -> list[dict[str, str]]: ...

    def collection_by_name(self, name: str, tenant: str, database: str) -> CollectionModel: ...

    def collection_by_id(self, collection_id: str) -> CollectionModel: ...

    def list_collections(
        self, tenant: str, database: str, limit: int | None, offset: int | None
    ) -> list[CollectionModel]: ...

    def all_collections(self, tenant: str | None = None, database: str | None = None) -> list[CollectionModel]:
        """Every collection, or those of one database."""
        ...

    def count_collections(self, tenant: str, database: str) -> int: ...

    def seen_keys(self, cids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
        """collection -> the sorted (metadata key, value type) pairs its records have held
        (value types as in Chroma's schema: string, int, float, bool, sparse_vector; see
        ``huedb.storage.keys``), kept after those records are gone. Collections without any
        may be left out."""
        ...

    def collection_seq(self, cid: int) -> int | None:
        """The sequence number of the collection's last write (None: no such collection)."""
        ...

    # -- records -------------------------------------------------------------
    def count_records(self, cid: int) -> int: ...

    def existing(self, cid: int, ids: Sequence[str]) -> dict[str, int]:
        """id -> rid for the ids that exist in the collection."""
        ...

    def matching_rids(self, selection: Selection) -> np.ndarray:
        """Sorted rids of every record the selection matches."""
        ...

    def select_records(
        self, selection: Selection, fields: Sequence[str], limit: int | None = None, offset: int | None = None
    ) -> Records:
        """Matching records in insertion order, with ``fields`` (names from huedb.types.RECORD_FIELDS)."""
        ...

    def records_by_rids(self, rids: np.ndarray, fields: Sequence[str]) -> Records:
        """The records of ``rids`` that still exist, in rid order."""
        ...

    def vectors_by_rids(self, rids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rids that still exist, their float32 vectors), in rid order: the exact-search path."""
        ...

    # -- the sparse inverted index ---------------------------------------------
    # Sparse vectors are metadata values; the backend keeps their postings, per
    # metadata key, in the same transaction as the record.
    def sparse_knn(
        self, cid: int, key: str, indices: np.ndarray, values: np.ndarray, limit: int, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(int64 rids, float64 scores) of the ``limit`` records whose sparse vector under
        metadata ``key`` has the highest dot product with the query (``indices``, ``values``),
        best first (ties: lower rid first). Exact: every posting of the query's terms is
        scored. Only ``allowed`` rids are considered when given; records sharing no term
        with the query are not returned."""
        ...

    def sparse_df(self, cid: int, key: str, indices: np.ndarray) -> np.ndarray:
        """Document frequency (int64) of each term in ``indices``: how many records hold a
        posting for it under ``key`` (BM25's IDF)."""
        ...

    def sparse_stats(self, cid: int, key: str) -> tuple[int, float]:
        """(number of records with a sparse vector under ``key``, their mean number of terms)."""
        ...

    def sparse_keys(self, cid: int, keys: Sequence[str]) -> list[str]:
        """Those of ``keys`` that hold a sparse vector in some record (filters refuse them)."""
        ...

    def label_offset(self, cid: int) -> int:
        """``rid - index label`` for the collection: nonzero for a fork, whose index files are
        copies of its source's (0 for any other collection)."""
        ...

    def fork_count(self, cid: int) -> int:
        """How many forks were made in the collection's lineage (source and forks alike)."""
        ...

    # -- what index segments catch up from -----------------------------------
    def changed_since(self, cid: int, seq: int, batch: int = 5000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(rids, float32 vectors) of records written after ``seq``, in chunks."""
        ...

    def deleted_since(self, cid: int, seq: int) -> np.ndarray:
        """rids deleted after ``seq`` (from the deletion log)."""
        ...

    def deletions_pruned_upto(self, cid: int) -> int:
        """The seq up to which the deletion log was pruned (0: it is complete)."""
        ...


class WriteTx(ReadTx, Protocol):
    """One all-or-nothing transaction; writers are serialised."""

    def create_tenant(self, name: str) -> None: ...

    def create_database(self, name: str, tenant: str) -> None: ...

    def delete_database(self, name: str, tenant: str) -> None: ...

    def insert_collection(
        self, name: str, metadata: dict[str, Any] | None, configuration: dict[str, Any], tenant: str, database: str
    ) -> CollectionModel: ...

    def update_collection(
        self,
        cid: int,
        name: str | None,
        metadata: dict[str, Any] | None,
        configuration: dict[str, Any] | None,
    ) -> None: ...

    def delete_collection(self, cid: int) -> None: ...

    def fork_collection(self, cid: int, new_name: str) -> CollectionModel:
        """A copy of the collection under ``new_name`` in the same database: catalog row, records,
        filter and full-text rows, sparse postings and deletion log, under fresh rids; its
        ``label_offset`` maps them to the source's index labels."""
        ...

    def ensure_defaults(self, default_tenant: str, default_database: str) -> None:
        """Creates the default tenant and database if they are missing."""
        ...

    def reset(self, default_tenant: str, default_database: str) -> None:
        """Removes every tenant, database, collection and record; recreates the defaults."""
        ...

    def collection_state(self, cid: int) -> tuple[int, int | None]:
        """(seq, dimension) of the collection, read under the write lock."""
        ...

    def set_collection_state(self, cid: int, seq: int, dimension: int | None) -> None: ...

    def insert_records(self, cid: int, seq: int, records: NewRecords) -> np.ndarray:
        """Inserts new records; returns their rids. Records the batch's metadata keys
        (``seen_keys``) in the same transaction, as ``update_records`` does."""
        ...

    def update_records(self, cid: int, seq: int, changes: RecordChanges) -> None:
        """Changes existing records, ``changes.rids``, all of collection ``cid`` (the caller
        found them there in this transaction). Records the new metadata keys (``seen_keys``)
        in the same transaction, as ``insert_records`` does."""
        ...

    def delete_records(self, cid: int, seq: int, rids: np.ndarray) -> None:
        """Deletes records, logging their rids (persistent backends) for index catch-up."""
        ...

    def prune_deletions(self, cid: int, upto_seq: int) -> None:
        """Drops deletion-log entries up to ``upto_seq``: a persisted index has applied them."""
        ...


class StorageBackend(Protocol):
    #: True when several processes may share the data (a file or a server), so a
    #: deletion log is kept for their index segments
    persistent: bool
    #: where index segment files live (None: indexes stay in memory)
    index_directory: Path | None

    def selection(self, cid: int, ids: Sequence[str] | None, where: Any, where_document: Any) -> Selection:
        """Compiles (and so validates) the filters of a get, query or delete; reads nothing."""
        ...

    def read(self) -> AbstractContextManager[ReadTx]: ...

    # Optional: ``read_cached() -> AbstractContextManager[ReadTx]``, a read that may answer
    # ``collection_by_id`` from a process cache and check it only with its later statements
    # (PostgreSQL: a query in one round trip). Its body or exit raises StaleRead when the cache
    # was stale; the engine then runs the read again with ``read()``.

    def write(self) -> AbstractContextManager[WriteTx]: ...

    def checkpoint(self) -> None:
        """Makes deleted data leave the write-ahead log, where the backend has one."""
        ...

    def vacuum(self) -> None:
        """Reclaims the space of deleted data."""
        ...

    def close(self) -> None: ...
