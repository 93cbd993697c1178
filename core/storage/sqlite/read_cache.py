"""What the SQLite backend keeps in memory per collection version: rid sets of ``where``
filters, and postings of queried sparse terms with their key's record count and mean length.

A 10% filter's 100,000 rids take 12-20 ms to leave SQLite at 1M records, and a BM25 term
in every document tens of milliseconds at 50,000: far more than using them. Each entry is
stamped with the collection's ``seq`` (and id, so a re-used cid never matches) read in the
querying transaction, and the backend's count of write transactions: every engine write
bumps ``seq``, in this process or another, and any write through this backend bumps the
count, so a stamp that differs means the arrays are re-read. Results stay exact; only the
reads are saved (``huedb.stamped_cache``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Hashable

import numpy as np

from huedb.stamped_cache import READ_CACHE_BYTES, Arrays, StampedCache

Version = tuple[str, int, int]


def read_postings(conn: sqlite3.Connection, cid: int, key: str, term: int) -> tuple[np.ndarray, np.ndarray]:
    rows = conn.execute(
        "SELECT rid, value FROM sparse WHERE collection_id=? AND key=? AND term=? ORDER BY rid", (cid, key, term)
    ).fetchall()
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    both = np.array(rows, dtype=np.float64)  # rids are below 2**53
    return both[:, 0].astype(np.int64), np.ascontiguousarray(both[:, 1])


class ReadCache:
    def __init__(self, max_bytes: int | None = None) -> None:
        self._arrays = StampedCache(READ_CACHE_BYTES if max_bytes is None else max_bytes)
        self._lock = threading.Lock()
        self._generation = 0

    def bump(self) -> None:
        """After each write transaction of this backend: storage writes need not move ``seq``
        (the engine's do, in the same transaction, which is what other processes' writes show)."""
        with self._lock:
            self._generation += 1

    def version(self, conn: sqlite3.Connection, cid: int) -> Version | None:
        generation = self._generation
        row = conn.execute("SELECT id, seq FROM collections WHERE cid=?", (cid,)).fetchone()
        return None if row is None else (row[0], int(row[1]), generation)

    def arrays(self, slot: Hashable, version: Version | None, load: Callable[[], Arrays]) -> Arrays:
        """``load()``'s arrays for ``slot`` (which names its collection) as of ``version``."""
        return self._arrays.read(slot, version, load)

    def postings(
        self, conn: sqlite3.Connection, cid: int, version: Version | None, key: str, term: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rids ascending, values) of ``term`` under ``key`` as of ``version``."""
        rids, values = self.arrays(("sparse", cid, key, term), version, lambda: read_postings(conn, cid, key, term))
        return rids, values

    def stats(self, conn: sqlite3.Connection, cid: int, key: str) -> tuple[int, float]:
        """(records holding a sparse vector under ``key``, their mean number of terms)."""

        def load() -> Arrays:
            count, total = conn.execute(
                "SELECT count(*), total(nnz) FROM sparse_docs WHERE collection_id=? AND key=?", (cid, key)
            ).fetchone()
            return (np.array([count, total], dtype=np.float64),)  # counts are below 2**53

        (pair,) = self.arrays(("stats", cid, key), self.version(conn, cid), load)
        count = int(pair[0])
        return count, (float(pair[1]) / count if count else 0.0)
