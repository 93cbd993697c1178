"""Arrays read from storage, kept in memory with the data version they were read at.

Used where re-reading costs far more than the arrays' memory: the SQLite backend's rid sets
of ``where`` filters and postings of sparse query terms, and the engine's vectors of exact
search candidates. Each entry carries a *stamp* (the collection version of the snapshot it
was read in); a lookup with another stamp misses, so answers stay exactly those of the
snapshot and only the reads are saved. Bounded by bytes, least recently used first out,
and shared by threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

import numpy as np

Arrays = tuple[np.ndarray, ...]

#: default bounds, per storage location (the settings read_cache_bytes and
#: candidate_vectors_cache_bytes): filters' rid sets and sparse postings (8 bytes a rid), and
#: exact-search candidates' vectors (a 1% filter at 1M x 384: 15 MB)
READ_CACHE_BYTES = 128 * 2**20
CANDIDATE_VECTORS_BYTES = 64 * 2**20


class StampedCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[Hashable, Arrays, int]] = OrderedDict()
        self._size = 0

    @property
    def size(self) -> int:
        """Bytes held now."""
        return self._size

    def get(self, slot: Hashable, stamp: Hashable) -> Arrays | None:
        with self._lock:
            hit = self._entries.get(slot)
            if hit is None or hit[0] != stamp:
                return None
            self._entries.move_to_end(slot)
            return hit[1]

    def put(self, slot: Hashable, stamp: Hashable, arrays: Arrays) -> None:
        """Keeps ``arrays`` (read-only from here on: every reader shares them) under ``slot``."""
        size = sum(a.nbytes for a in arrays)
        for a in arrays:
            a.flags.writeable = False
        with self._lock:
            old = self._entries.pop(slot, None)
            if old is not None:
                self._size -= old[2]
            if size > self.max_bytes:
                return
            self._entries[slot] = (stamp, arrays, size)
            self._size += size
            while self._size > self.max_bytes:
                _, (_, _, dropped) = self._entries.popitem(last=False)
                self._size -= dropped

    def read(self, slot: Hashable, stamp: Hashable | None, load: Callable[[], Arrays]) -> Arrays:
        """The arrays of ``slot`` at ``stamp``, from memory or ``load()`` (kept for next time).
        A None stamp (no version known) always loads and keeps nothing."""
        if stamp is None:
            return load()
        hit = self.get(slot, stamp)
        if hit is not None:
            return hit
        arrays = load()
        self.put(slot, stamp, arrays)
        return arrays
