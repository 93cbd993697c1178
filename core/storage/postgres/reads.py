"""A PostgreSQL read: one REPEATABLE READ snapshot (``PostgresRead``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from huedb.storage.catalog_tx import CatalogReads
from huedb.storage.postgres import catalog, fork, keys, search
from huedb.storage.postgres import records as rec
from huedb.storage.postgres.cache import CollectionCache, read_row
from huedb.storage.protocol import Records
from huedb.storage.rows import records_from_rows
from huedb.types import CollectionModel


class PostgresRead(CatalogReads):
    """One REPEATABLE READ snapshot."""

    _catalog = catalog
    _forks = fork

    def __init__(
        self, conn: Any, ensure_index: Callable[[int], None] | None = None, cache: CollectionCache | None = None
    ) -> None:
        super().__init__(conn)
        self._ensure_index = ensure_index
        self._cache = cache if cache is not None else CollectionCache()
        #: record counts this transaction has taken, by collection (vector_search plans with them)
        self._counts: dict[int, int] = {}
        self._configurations: dict[int, str] = {}
        #: (rid, id, document, uri, metadata) of this snapshot's search hits, by rid
        self._hits: dict[int, tuple] = {}

    # -- catalog (the rest: CatalogReads) ---------------------------------------
    def collection_by_id(self, collection_id: str) -> CollectionModel:
        model, count, configuration, _ = read_row(self.conn, collection_id, self._cache)
        # one snapshot: the count and configuration serve this read's planning (count_records, vector_search)
        self._counts[model.storage_key] = count
        self._configurations[model.storage_key] = configuration
        return model

    def all_collections(self, tenant: str | None = None, database: str | None = None) -> list[CollectionModel]:
        return catalog.all_collections(self.conn, tenant, database)

    def seen_keys(self, cids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
        return keys.seen(self.conn, cids)

    # -- records -------------------------------------------------------------
    def count_records(self, cid: int) -> int:
        """The collection's record count, kept by its writes (one snapshot: read once per read)."""
        if cid not in self._counts:
            row = catalog.collection_state_for_read(self.conn, cid)
            self._counts[cid] = int(row[0]) if row else 0
            self._configurations[cid] = row[1] if row else "{}"
        return self._counts[cid]

    def existing(self, cid: int, ids: Sequence[str]) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT id, rid FROM records WHERE collection_id = %s AND id = ANY(%s::text[])", (cid, list(ids))
        )
        return dict(rows.fetchall())

    def matching_rids(self, selection: Any) -> np.ndarray:
        return rec.matching_rids(self.conn, selection)

    def select_records(
        self, selection: Any, fields: Sequence[str], limit: int | None = None, offset: int | None = None
    ) -> Records:
        return _records(rec.select_records(self.conn, selection, fields, limit, offset), fields)

    def records_by_rids(self, rids: np.ndarray, fields: Sequence[str]) -> Records:
        wanted = np.asarray(rids).tolist()
        if "embeddings" not in fields and all(r in self._hits for r in wanted):
            # the rows of search hits came with the search (same snapshot), in rid order as rows_by_rids
            columns = [_HIT_COLUMN[f] for f in fields]
            hits = [self._hits[r] for r in sorted(set(wanted))]
            return _records([(h[0], h[1], *(h[c] for c in columns)) for h in hits], fields)
        return _records(rec.rows_by_rids(self.conn, rids, fields), fields)

    def vectors_by_rids(self, rids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return rec.vectors_by_rids(self.conn, rids)

    # -- search in the database ------------------------------------------------
    def vector_search(
        self, cid: int, queries: np.ndarray, k: int, allowed: np.ndarray | None, space: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest allowed records per query (labels, Chroma distances), by pgvector."""
        exact = search.searched_exactly(k, allowed, self._counts.get(cid))
        if not exact and self._ensure_index is not None:
            self._ensure_index(cid)
        self.count_records(cid)  # also the configuration, for ef_search
        return search.vector_search(
            self.conn, cid, queries, k, allowed, space, exact, self._configurations[cid], self._hits
        )

    def sparse_knn(
        self, cid: int, key: str, indices: np.ndarray, values: np.ndarray, limit: int, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        return search.sparse_knn(self.conn, cid, key, indices, values, limit, allowed)

    def sparse_df(self, cid: int, key: str, indices: np.ndarray) -> np.ndarray:
        return search.sparse_df(self.conn, cid, key, indices)

    def sparse_stats(self, cid: int, key: str) -> tuple[int, float]:
        return search.sparse_stats(self.conn, cid, key)

    def sparse_keys(self, cid: int, keys: Sequence[str]) -> list[str]:
        return search.sparse_keys(self.conn, cid, keys)

    # -- the deletion log ------------------------------------------------------
    def changed_since(self, cid: int, seq: int, batch: int = 5000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        return rec.changed_since(self.conn, cid, seq, batch)

    def deleted_since(self, cid: int, seq: int) -> np.ndarray:
        rows = self.conn.execute(
            "SELECT rid FROM deletions WHERE collection_id = %s AND seq > %s ORDER BY seq, rid", (cid, seq)
        ).fetchall()
        return rec.rids_of(rows)

    def deletions_pruned_upto(self, cid: int) -> int:
        row = self.conn.execute("SELECT pruned_seq FROM deletions_pruned WHERE collection_id = %s", (cid,)).fetchone()
        return row[0] if row else 0

    def label_offset(self, cid: int) -> int:
        return 0  # search runs in the database: a fork's rows are indexed there, no files are copied


#: position of each record field in a search hit (rid, id, document, uri, metadata)
_HIT_COLUMN = {"documents": 2, "uris": 3, "metadatas": 4}


def _records(rows: Sequence[tuple], fields: Sequence[str]) -> Records:
    return records_from_rows(rows, fields, rec.vectors)
