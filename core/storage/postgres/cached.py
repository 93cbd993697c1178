"""Reads that trust the process's collection cache, and check it in their own statements.

A query needs its collection's row (dimension, configuration, record count) before it
searches. ``read()`` reads the row in its snapshot: BEGIN, the row, the search, COMMIT, each
a round trip. ``CachedRead`` takes the row from ``CollectionCache`` (filled by every read
of it, keyed by collection id, with the row's token: its ``xmin``, which every write to the
collection and every catalog change renews, and a deleted row no longer has) and sends no
BEGIN: a one-vector unfiltered query is one autocommit statement that reads the token in the
same snapshot as the search (``search.checked_search``). Any other statement first begins
a REPEATABLE READ transaction pipelined with a check of every token the read assumed (one
round trip): an unchanged token means no write to the collection committed in between, so
the read stays one consistent state. A changed or missing token raises ``StaleRead`` (at the
latest on exit), the entry is dropped, and the engine runs the query again with ``read()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from huedb.storage.postgres import catalog, search
from huedb.storage.postgres.cache import CollectionCache, read_row
from huedb.storage.postgres.reads import PostgresRead
from huedb.storage.protocol import StaleRead
from huedb.types import CollectionModel


class CachedRead(PostgresRead):
    """A read on a pooled connection with nothing sent yet, trusting the process's cache."""

    def __init__(
        self, conn: Any, ensure_index: Callable[[int], None] | None, cache: CollectionCache, begin: str
    ) -> None:
        super().__init__(conn, ensure_index, cache)
        self._begin_sql = begin
        self._begun = False
        #: cid -> (collection id, token) of every cached row this read assumed
        self._assumed: dict[int, tuple[str, str]] = {}
        #: an assumption no statement of this read has checked yet
        self._unchecked = False

    @property
    def conn(self) -> Any:
        if not self._begun:
            self._begin()
        return self._conn

    def _begin(self) -> None:
        """BEGIN, pipelined with the check of what this read assumed: one round trip."""
        conn = self._conn
        cids = list(self._assumed)
        with conn.pipeline():
            conn.execute(self._begin_sql)
            self._begun = True
            cur = conn.execute("SELECT cid, xmin::text FROM collections WHERE cid = ANY(%s)", (cids,)) if cids else None
        if cur is not None:
            self._check(dict(cur.fetchall()))

    def _check(self, tokens: dict[int, str]) -> None:
        stale = [cid for cid, (_, token) in self._assumed.items() if tokens.get(cid) != token]
        for cid in stale:
            self._cache.drop(self._assumed[cid][0])
        if stale:
            raise StaleRead(f"collections {stale} changed since this process cached them")
        self._unchecked = False

    def collection_by_id(self, collection_id: str) -> CollectionModel:
        entry = None if self._begun else self._cache.get(collection_id)
        if entry is None:  # read in the snapshot (and cached for the next read)
            entry = read_row(self.conn, collection_id, self._cache)
        else:
            self._assumed[entry[0].storage_key] = (collection_id, entry[3])
            self._unchecked = True
        model, count, configuration, _ = entry
        self._counts[model.storage_key] = count
        self._configurations[model.storage_key] = configuration
        return model

    def vector_search(
        self, cid: int, queries: np.ndarray, k: int, allowed: np.ndarray | None, space: str
    ) -> tuple[np.ndarray, np.ndarray]:
        if self._begun or allowed is not None or len(queries) != 1 or cid not in self._assumed:
            return super().vector_search(cid, queries, k, allowed, space)
        exact = search.searched_exactly(k, allowed, self._counts.get(cid))
        if not exact:
            if self._ensure_index is not None:
                self._ensure_index(cid)
            search.session_settings(self._conn, search.ef_search(self._configurations[cid], k))
        found = search.checked_search(self._conn, cid, queries[0], k, space, exact, self._assumed[cid][1], self._hits)
        if found is None:
            self._cache.drop(self._assumed[cid][0])
            raise StaleRead(f"collection {cid} changed since this process cached it")
        self._unchecked = False
        return found

    def finish(self) -> None:
        """COMMIT; or, for a read that sent nothing, the check of what it assumed."""
        import psycopg

        try:
            if self._begun:
                self._conn.execute("COMMIT")
            elif self._unchecked:
                self._check(catalog.collection_tokens(self._conn, list(self._assumed)))
        except psycopg.Error as e:
            raise StaleRead("the read failed in PostgreSQL; run it again with read()") from e

    def abandon(self, exc: BaseException) -> None:
        """The body raised ``exc``: roll back, and raise StaleRead instead when ``exc`` may come
        from a stale assumption, or from PostgreSQL (``read()`` runs it again, with its handling
        of broken connections and its error translation: a read is safe to run twice)."""
        import psycopg

        try:
            if self._begun:
                self._conn.execute("ROLLBACK")
            elif self._unchecked and isinstance(exc, Exception) and not isinstance(exc, StaleRead):
                self._check(catalog.collection_tokens(self._conn, list(self._assumed)))
        except psycopg.Error as e:  # (a broken connection: the pool discards it)
            if not isinstance(exc, Exception):
                return  # an interrupt propagates as it is
            raise StaleRead("the read failed in PostgreSQL; run it again with read()") from e
        if isinstance(exc, psycopg.Error):
            raise StaleRead("the read failed in PostgreSQL; run it again with read()") from exc
