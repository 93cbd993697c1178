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

Beside the vectors, the entry keeps what the distance needs of them besides their dot
products with the query (squared norms for l2, norms for cosine: ``vector_norms``), so a
repeated search reads the vectors once; cosine no longer normalises a copy per query.
"""

from __future__ import annotations

import numpy as np

from huedb.distance import exact_search, vector_norms
from huedb.stamped_cache import CANDIDATE_VECTORS_BYTES, StampedCache
from huedb.storage import ReadTx
from huedb.types import CollectionModel

_NO_NORMS = np.zeros(0, dtype=np.float32)


class CandidateVectors:
    def __init__(self, max_bytes: int | None = None) -> None:
        self._cache = StampedCache(CANDIDATE_VECTORS_BYTES if max_bytes is None else max_bytes)

    def read(
        self, tx: ReadTx, collection: CollectionModel, rids: np.ndarray, space: str
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(rids found, their vectors, ``vector_norms`` of them in ``space``) of sorted
        ``rids``, as ``tx.vectors_by_rids`` and ``vector_norms`` answer."""
        rids = np.ascontiguousarray(rids, dtype=np.int64)
        slot = (collection.storage_key, space, hash(rids.tobytes()))
        stamp = (collection.id, collection.version)
        hit = self._cache.get(slot, stamp)
        if hit is not None and np.array_equal(hit[0], rids):  # equal hashes of different sets: read again
            _, present, vectors, norms = hit
        else:
            present, vectors = tx.vectors_by_rids(rids)
            computed = vector_norms(vectors, space)
            norms = _NO_NORMS if computed is None else computed
            self._cache.put(slot, stamp, (rids.copy(), present, vectors, norms))
        return present, vectors, None if norms is _NO_NORMS else norms

    def nearest(
        self, tx: ReadTx, collection: CollectionModel, rids: np.ndarray, queries: np.ndarray, k: int, space: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest of the candidates ``rids`` per query, exactly."""
        present, vectors, norms = self.read(tx, collection, rids, space)
        return exact_search(queries, vectors, present, k, space, norms)
