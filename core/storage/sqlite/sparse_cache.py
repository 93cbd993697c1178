"""Postings of recently queried sparse terms, kept in memory per collection version.

A BM25 query term such as "topic" may be in every document: reading its postings from
SQLite costs tens of milliseconds at 50,000 records, far more than scoring them. The cache
keeps each queried term's postings (rids, values) as numpy arrays, stamped with the
collection's ``seq`` (and id, so a re-used cid never matches) read in the querying
transaction, and the backend's count of write transactions: every engine write bumps
``seq``, in this process or another, and any write through this backend bumps the count, so
a stamp that differs means the postings are re-read. Results stay exact; only the reads are saved. The cache is
bounded (least recently used terms go first) and shared by the backend's threads.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from typing import Any

import numpy as np

#: postings kept at most (16 bytes each: ~128 MB)
MAX_ENTRIES = 8_000_000

Version = tuple[str, int, int]


def read_postings(conn: sqlite3.Connection, cid: int, key: str, term: int) -> tuple[np.ndarray, np.ndarray]:
    rows = conn.execute(
        "SELECT rid, value FROM sparse WHERE collection_id=? AND key=? AND term=? ORDER BY rid", (cid, key, term)
    ).fetchall()
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    both = np.array(rows, dtype=np.float64)  # rids are below 2**53
    return both[:, 0].astype(np.int64), np.ascontiguousarray(both[:, 1])


class PostingsCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._terms: OrderedDict[tuple[Any, ...], tuple[Version, np.ndarray, np.ndarray]] = OrderedDict()
        self._stats: dict[tuple[Any, ...], tuple[Version, int, float]] = {}
        self._size = 0
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

    def postings(
        self, conn: sqlite3.Connection, cid: int, version: Version | None, key: str, term: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rids ascending, values) of ``term`` under ``key`` as of ``version``."""
        if version is None:
            return read_postings(conn, cid, key, term)
        slot = (cid, key, term)
        with self._lock:
            hit = self._terms.get(slot)
            if hit is not None and hit[0] == version:
                self._terms.move_to_end(slot)
                return hit[1], hit[2]
        rids, values = read_postings(conn, cid, key, term)
        with self._lock:
            old = self._terms.pop(slot, None)
            if old is not None:
                self._size -= len(old[1])
            if len(rids) <= self.max_entries:
                self._terms[slot] = (version, rids, values)
                self._size += len(rids)
            while self._size > self.max_entries and self._terms:
                _, (_, dropped, _) = self._terms.popitem(last=False)
                self._size -= len(dropped)
        return rids, values

    def stats(self, conn: sqlite3.Connection, cid: int, key: str) -> tuple[int, float]:
        """(records holding a sparse vector under ``key``, their mean number of terms)."""
        version = self.version(conn, cid)
        slot = (cid, key)
        with self._lock:
            hit = self._stats.get(slot)
        if hit is not None and version is not None and hit[0] == version:
            return hit[1], hit[2]
        count, total = conn.execute(
            "SELECT count(*), total(nnz) FROM sparse_docs WHERE collection_id=? AND key=?", (cid, key)
        ).fetchone()
        out = int(count), (float(total) / count if count else 0.0)
        if version is not None:
            with self._lock:
                self._stats[slot] = (version, *out)
        return out
