"""The PostgreSQL storage backend (the ``[postgres]`` extra): pgvector + pg_trgm.

``PostgresBackend(url)`` implements ``huedb.storage.protocol.StorageBackend``.
Everything lives in PostgreSQL (catalog, records, filter rows, full text, sparse
postings, the deletion log) and vectors are searched there too: its read
transactions offer ``vector_search`` (pgvector HNSW), so the engine keeps no
process-local index, and any number of huedb processes on one database are
consistent by construction. docs/postgres.md has the setup and the limits.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from huedb.storage.catalog_tx import CatalogWrites
from huedb.storage.postgres import catalog
from huedb.storage.postgres import records as rec
from huedb.storage.postgres.cache import CollectionCache, Entry, cache_entry
from huedb.storage.postgres.cached import CachedRead
from huedb.storage.postgres.connection import Pool
from huedb.storage.postgres.filters import select
from huedb.storage.postgres.reads import PostgresRead
from huedb.storage.protocol import NewRecords, RecordChanges

#: the deletion log keeps the deletions of this many most recent writes per collection: no
#: index catches up from it here (search runs in the database), it serves tools and audits
DELETION_LOG_WRITES = 1000


class PostgresWrite(PostgresRead, CatalogWrites):
    """One READ COMMITTED transaction; writes to a collection serialise on its catalog row."""

    def __init__(self, conn: Any) -> None:
        super().__init__(conn)
        #: collection rows as this write leaves them, for the process's cache after COMMIT
        self.committed_rows: list[Entry] = []

    def collection_seq(self, cid: int) -> int | None:
        return catalog.collection_seq(self.conn, cid, lock=True)

    def count_records(self, cid: int) -> int:
        # READ COMMITTED: each statement sees the latest commits, so nothing is kept between them
        row = catalog.collection_state_for_read(self.conn, cid)
        return int(row[0]) if row else 0

    def set_collection_state(self, cid: int, seq: int, dimension: int | None) -> None:
        row = catalog.set_collection_state(self.conn, cid, seq, dimension)
        if row is not None:  # cached once committed: this process's next query needs no second read
            model, count, token = row
            self.committed_rows.append(cache_entry(model, count, token))

    def insert_records(self, cid: int, seq: int, records: NewRecords) -> np.ndarray:
        return rec.insert(
            self.conn, cid, seq, records.ids, records.embeddings, records.documents, records.uris, records.metadatas
        )

    def update_records(self, cid: int, seq: int, changes: RecordChanges) -> None:
        if not len(changes.rids):
            return
        rec.update(
            self.conn,
            cid,
            seq,
            changes.rids.tolist(),
            changes.embeddings,
            changes.documents,
            changes.uris,
            changes.metadatas,
            changes.clear,
        )

    def delete_records(self, cid: int, seq: int, rids: np.ndarray) -> None:
        rec.delete(self.conn, cid, seq, rids)
        if seq > DELETION_LOG_WRITES:
            self.prune_deletions(cid, seq - DELETION_LOG_WRITES)

    def prune_deletions(self, cid: int, upto_seq: int) -> None:
        self.conn.execute("DELETE FROM deletions WHERE collection_id = %s AND seq <= %s", (cid, upto_seq))
        self.conn.execute(
            "INSERT INTO deletions_pruned(collection_id, pruned_seq) VALUES (%s, %s) ON CONFLICT (collection_id) "
            "DO UPDATE SET pruned_seq = greatest(deletions_pruned.pruned_seq, excluded.pruned_seq)",
            (cid, upto_seq),
        )


class PostgresBackend:
    """A PostgreSQL database (with pgvector and pg_trgm) at ``url``."""

    persistent = True
    index_directory: Path | None = None  # no index files
    #: vectors are searched in the database (``PostgresRead.vector_search``): no index segments
    in_database_search = True

    def __init__(self, url: str, max_connections: int = 16) -> None:
        self._pool = Pool(url, max_size=max_connections)
        #: collections known to have their HNSW index (cids are never reused; an index goes with its collection)
        self._indexed: set[int] = set()
        self._index_lock = threading.Lock()
        #: collection rows this process has read, checked by every read that trusts them
        self._cache = CollectionCache()

    def ensure_index(self, cid: int) -> None:
        """Builds the collection's HNSW index, in bulk, when a search first needs it.

        Writes never maintain an index that does not exist yet: a collection loaded in batches
        and then queried gets its index as COPY-then-CREATE-INDEX would (several times faster
        than inserting into an existing HNSW graph). Once built, pgvector keeps it current."""
        if cid in self._indexed:
            return
        with self._index_lock:
            if cid not in self._indexed and self._pool.build_index(cid):
                self._indexed.add(cid)

    def selection(self, cid: int, ids: Sequence[str] | None, where: Any, where_document: Any) -> Any:
        return select(cid, ids, where, where_document)

    @contextmanager
    def read(self) -> Iterator[PostgresRead]:
        with self._pool.transaction(write=False) as conn:
            yield PostgresRead(conn, self.ensure_index, self._cache)

    @contextmanager
    def read_cached(self) -> Iterator[PostgresRead]:
        """A read that trusts the process's collection cache (cached.py): a one-vector query in
        one round trip. Raises StaleRead when the cache was stale: run the read with ``read()``."""
        with self._pool.idle_connection() as conn:
            tx = CachedRead(conn, self.ensure_index, self._cache, self._pool.begin_read)
            try:
                yield tx
            except BaseException as e:
                tx.abandon(e)
                raise
            tx.finish()

    @contextmanager
    def write(self) -> Iterator[PostgresWrite]:
        with self._pool.transaction(write=True) as conn:
            tx = PostgresWrite(conn)
            yield tx
        for entry in tx.committed_rows:  # committed: the rows as this write left them
            self._cache.put(entry[0].id, entry)

    def checkpoint(self) -> None:
        """Nothing to do: PostgreSQL manages its own write-ahead log."""

    def vacuum(self) -> None:
        """Reclaims the space of deleted rows (VACUUM cannot run inside a transaction)."""
        self._pool.vacuum()

    def close(self) -> None:
        self._pool.close()
