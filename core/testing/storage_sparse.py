"""The sparse-index part of the storage-backend conformance suite.

Sparse vectors are metadata values (``{"#type": "sparse_vector", "indices": [...],
"values": [...]}``, as chromadb serialises them); the backend keeps their postings in
the record's write transaction and answers exact top-k dot-product queries over them.
Read back, such a value is a ``SparseVector``. ``StorageBackendConformance`` inherits these checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from huedb.sparse import SparseVector
from huedb.storage import NewRecords, RecordChanges, StorageBackend
from huedb.types import CollectionModel

DIM = 4


def sv(indices: Sequence[int], values: Sequence[float]) -> dict[str, Any]:
    """A sparse vector as stored in metadata."""
    return {"#type": "sparse_vector", "indices": list(indices), "values": list(values)}


def reference_knn(
    vectors: dict[int, dict[str, Any]], indices: Sequence[int], values: Sequence[float], limit: int
) -> list[tuple[int, float]]:
    """Brute force: (rid, score) of records sharing a term with the query, best first, ties by rid."""
    query = dict(zip(indices, values))
    scored = []
    for rid, vec in vectors.items():
        common = [t for t in vec["indices"] if t in query]
        if common:
            weights = dict(zip(vec["indices"], vec["values"]))
            scored.append((rid, sum(query[t] * weights[t] for t in common)))
    scored.sort(key=lambda p: (-p[1], p[0]))
    return scored[:limit]


class SparseIndexChecks:
    """The sparse inverted index: postings follow every write, and search is exact."""

    @staticmethod
    def write_records(
        backend: StorageBackend, model: CollectionModel, ids: list[str], seq: int, metadatas: list[Any]
    ) -> np.ndarray:
        vectors = np.zeros((len(ids), DIM), dtype=np.float32)
        with backend.write() as tx:
            rids = tx.insert_records(model.storage_key, seq, NewRecords(ids, vectors, None, None, metadatas))
            tx.set_collection_state(model.storage_key, seq, DIM)
        return rids

    @staticmethod
    def knn(
        backend: StorageBackend,
        model: CollectionModel,
        indices: Sequence[int],
        values: Sequence[float],
        limit: int = 10,
        allowed: Sequence[int] | None = None,
        key: str = "sv",
    ) -> list[tuple[int, float]]:
        with backend.read() as tx:
            rids, scores = tx.sparse_knn(
                model.storage_key,
                key,
                np.asarray(indices, dtype=np.int64),
                np.asarray(values, dtype=np.float32),
                limit,
                None if allowed is None else np.asarray(allowed, dtype=np.int64),
            )
        assert rids.dtype == np.int64 and len(rids) == len(scores)
        return list(zip(rids.tolist(), scores.tolist()))

    def test_sparse_knn_is_exact_best_first_and_skips_records_without_overlap(
        self, backend: StorageBackend, collection: CollectionModel
    ) -> None:
        rids = self.write_records(
            backend,
            collection,
            ["a", "b", "c", "d", "e"],
            1,
            [
                {"sv": sv([1, 5], [1.0, 2.0]), "n": 1},
                {"sv": sv([5, 9], [3.0, 0.5])},
                {"sv": sv([2], [7.0])},  # no term in common with the query below
                {"other": sv([1, 5], [10.0, 10.0])},  # a sparse vector under another key
                None,
            ],
        )
        a, b = int(rids[0]), int(rids[1])
        got = self.knn(backend, collection, [1, 5, 9], [1.0, 1.0, 2.0])
        assert [r for r, _ in got] == [b, a]
        assert [s for _, s in got] == pytest.approx([4.0, 3.0])
        assert self.knn(backend, collection, [1, 5, 9], [1.0, 1.0, 2.0], limit=1) == got[:1]
        assert self.knn(backend, collection, [1, 5, 9], [1.0, 1.0, 2.0], allowed=[a, int(rids[2])]) == [(a, 3.0)]
        assert self.knn(backend, collection, [1, 5], [1.0, 1.0], allowed=[]) == []
        assert self.knn(backend, collection, [404], [1.0]) == []
        assert self.knn(backend, collection, [1], [1.0], key="other") == [(int(rids[3]), 10.0)]
        assert self.knn(backend, collection, [1], [1.0], key="n") == []
        with backend.read() as tx:
            # written as the validated #type dict, read back as SparseVector (columns and rows alike)
            for fields in (["metadatas"], ["metadatas", "embeddings"]):
                got_md = tx.records_by_rids(rids[:1], fields).metadatas
                assert got_md == [{"sv": SparseVector([1, 5], [1.0, 2.0]), "n": 1}]

    def test_sparse_knn_ties_keep_the_lower_rids(self, backend: StorageBackend, collection: CollectionModel) -> None:
        rids = self.write_records(backend, collection, [f"r{i}" for i in range(6)], 1, [{"sv": sv([3], [1.0])}] * 6)
        assert [r for r, _ in self.knn(backend, collection, [3], [2.0], limit=3)] == rids[:3].tolist()

    def test_sparse_knn_matches_brute_force(self, backend: StorageBackend, collection: CollectionModel) -> None:
        rng = np.random.default_rng(7)
        metadatas: list[Any] = []
        for i in range(300):
            nnz = int(rng.integers(0, 12))
            terms = np.sort(rng.choice(60, size=nnz, replace=False)).tolist()
            vec = sv(terms, np.round(rng.uniform(0.1, 3.0, size=nnz), 3).tolist())
            metadatas.append({"sv": vec} if nnz else ({"x": i} if i % 2 else None))
        rids = self.write_records(backend, collection, [f"id{i}" for i in range(300)], 1, metadatas)
        vectors = {int(r): m["sv"] for r, m in zip(rids, metadatas) if m and "sv" in m}
        for _ in range(25):
            nnz = int(rng.integers(1, 8))
            terms = np.sort(rng.choice(60, size=nnz, replace=False)).tolist()
            weights = np.round(rng.uniform(-1.0, 2.0, size=nnz), 2).tolist()
            limit = int(rng.integers(1, 40))
            allowed = np.sort(rng.choice(rids, size=150, replace=False)).tolist()
            subset = {r: v for r, v in vectors.items() if r in set(allowed)}
            for pool, allow in ((vectors, None), (subset, allowed)):
                want = reference_knn(pool, terms, weights, limit)
                got = self.knn(backend, collection, terms, weights, limit, allow)
                assert [r for r, _ in got] == [r for r, _ in want]
                assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-6, abs=1e-9)

    def test_sparse_postings_follow_updates_and_deletes(
        self, backend: StorageBackend, collection: CollectionModel
    ) -> None:
        cid = collection.storage_key
        rids = self.write_records(
            backend,
            collection,
            ["a", "b", "c"],
            1,
            [{"sv": sv([1], [1.0]), "k": "x"}, {"sv": sv([1, 2], [2.0, 1.0])}, None],
        )
        a, b, c = (int(r) for r in rids)
        with backend.write() as tx:
            tx.update_records(
                cid,
                2,
                RecordChanges(
                    rids,
                    metadatas=[{"k": "y"}, {"sv": sv([3], [5.0])}, {"sv": sv([1], [0.5])}],
                ),
            )
        assert self.knn(backend, collection, [1], [1.0]) == [(a, 1.0), (c, 0.5)]  # b's old vector is gone
        assert self.knn(backend, collection, [3], [1.0]) == [(b, 5.0)]
        with backend.read() as tx:
            assert tx.sparse_stats(cid, "sv") == (3, 1.0)
            assert tx.sparse_df(cid, "sv", np.array([1, 2, 3, 99])).tolist() == [2, 0, 1, 0]
            assert tx.sparse_keys(cid, ["sv", "k", "missing"]) == ["sv"]
        with backend.write() as tx:
            tx.update_records(cid, 3, RecordChanges(rids[:1], metadatas=[{"sv": None}]))  # a None value deletes the key
            tx.delete_records(cid, 3, rids[2:])
        assert self.knn(backend, collection, [1, 3], [1.0, 1.0]) == [(b, 5.0)]
        with backend.read() as tx:
            assert tx.sparse_stats(cid, "sv") == (1, 1.0)
            assert tx.records_by_rids(rids[:1], ["metadatas"]).metadatas == [{"k": "y"}]
        with backend.write() as tx:
            tx.delete_collection(cid)
        with backend.read() as tx:
            assert tx.sparse_stats(cid, "sv") == (0, 0.0)
            assert tx.sparse_df(cid, "sv", np.array([3])).tolist() == [0]

    def test_sparse_postings_roll_back_with_the_write(
        self, backend: StorageBackend, collection: CollectionModel
    ) -> None:
        with pytest.raises(RuntimeError):
            with backend.write() as tx:
                tx.insert_records(
                    collection.storage_key,
                    1,
                    NewRecords(["a"], np.zeros((1, DIM), np.float32), None, None, [{"sv": sv([1], [1.0])}]),
                )
                raise RuntimeError("the batch fails after the insert")
        assert self.knn(backend, collection, [1], [1.0]) == []
        with backend.read() as tx:
            assert tx.sparse_stats(collection.storage_key, "sv") == (0, 0.0)

    def test_sparse_vectors_in_metadata_holding_a_nul(
        self, backend: StorageBackend, collection: CollectionModel
    ) -> None:
        rids = self.write_records(backend, collection, ["a"], 1, [{"sv": sv([4, 8], [1.5, 2.0]), "t": "nul\x00here"}])
        assert self.knn(backend, collection, [8], [1.0]) == [(int(rids[0]), 2.0)]
