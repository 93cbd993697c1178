"""The vectors of recent exact-search candidate sets, kept per collection version.

A filtered query with few candidates (``huedb.index.exact_search_limit``) is answered by exact
search over the candidates' vectors, and reading them is nearly all of its time: a 1% filter
at 1M records reads 10,000 vectors scattered over the file, 27-37 ms from SQLite against
about 2 ms for the search itself (docs/benchmarks.md, "Profile at 1M"). Applications repeat
filters (one tenant's or one user's records, one category), so the vectors read for a
candidate set are kept, stamped with the collection's id and seq in the reader's snapshot:
every write moves the seq, so a later snapshot of a changed collection misses and reads
storage again, and an answer is always exactly the snapshot's. Bounded by bytes (the
setting ``candidate_vectors_cache_bytes``), least recently used first out. The index
segments are not involved: hnswlib cannot hand its vectors back quickly enough, and they
would not be stamped.
"""

from __future__ import annotations

import numpy as np

from huedb.stamped_cache import CANDIDATE_VECTORS_BYTES, StampedCache
from huedb.storage import ReadTx
from huedb.types import CollectionModel


class CandidateVectors:
    def __init__(self, max_bytes: int | None = None) -> None:
        self._cache = StampedCache(CANDIDATE_VECTORS_BYTES if max_bytes is None else max_bytes)

    def read(self, tx: ReadTx, collection: CollectionModel, rids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rids found, their vectors) of sorted ``rids``, as ``tx.vectors_by_rids`` answers."""
        rids = np.ascontiguousarray(rids, dtype=np.int64)
        slot = (collection.storage_key, hash(rids.tobytes()))
        stamp = (collection.id, collection.version)
        hit = self._cache.get(slot, stamp)
        if hit is not None and np.array_equal(hit[0], rids):  # equal hashes of different sets: read again
            return hit[1], hit[2]
        present, vectors = tx.vectors_by_rids(rids)
        self._cache.put(slot, stamp, (rids.copy(), present, vectors))
        return present, vectors
