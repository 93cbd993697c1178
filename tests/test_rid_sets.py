"""Rid sets: probes run in SQLite, $and/$or combine sorted arrays in numpy."""

from __future__ import annotations

import numpy as np
import pytest

from huedb.index import sorted_unique
from huedb.storage.rows import loads_metadatas
from huedb.storage.sqlite.records import intersect_sorted


@pytest.mark.parametrize("seed", range(5))
def test_intersect_sorted_equals_numpy(seed):
    rng = np.random.default_rng(seed)
    a = np.unique(rng.integers(0, 500, rng.integers(0, 300)))
    b = np.unique(rng.integers(0, 500, rng.integers(0, 300)))
    np.testing.assert_array_equal(intersect_sorted(a, b), np.intersect1d(a, b))
    np.testing.assert_array_equal(intersect_sorted(b, a), np.intersect1d(a, b))


def test_sorted_unique_passes_sorted_input_through_and_fixes_the_rest():
    done = np.array([1, 4, 9], dtype=np.int64)
    assert sorted_unique(done) is done
    np.testing.assert_array_equal(sorted_unique(np.array([9, 1, 4, 4])), [1, 4, 9])


def test_loads_metadatas_keeps_nulls_in_place():
    assert loads_metadatas(['{"a": 1}', None, '{"b": "x"}']) == [{"a": 1}, None, {"b": "x"}]
    assert loads_metadatas([]) == []


def test_probes_whose_rids_come_unsorted_or_repeated(client):
    col = client.create_collection("ridsets", embedding_function=None)
    n = 12
    # Values descend as rids ascend, so a range probe (ordered by value) yields rids in reverse;
    # a repeated list element yields one rid twice.
    col.add(
        ids=[f"r{i}" for i in range(n)],
        embeddings=np.eye(n, dtype=np.float32),
        metadatas=[{"a": n - i, "tags": ["p", "p"] if i % 3 == 0 else ["q"]} for i in range(n)],
        documents=[f"doc {i}" for i in range(n)],
    )
    ids = lambda **kw: col.get(**kw)["ids"]  # noqa: E731
    assert ids(where={"a": {"$gt": 8}}) == ["r0", "r1", "r2", "r3"]
    assert ids(where={"tags": {"$contains": "p"}}) == ["r0", "r3", "r6", "r9"]
    assert ids(where={"$or": [{"a": {"$gt": 8}}, {"tags": {"$contains": "p"}}]}) == ["r0", "r1", "r2", "r3", "r6", "r9"]
    assert ids(where={"$and": [{"a": {"$lte": 9}}, {"tags": {"$contains": "p"}}]}) == ["r3", "r6", "r9"]
    assert ids(where={"a": {"$gt": 100}}) == []
    # ids, where and where_document narrow together.
    got = col.get(ids=["r9", "r0", "r3"], where={"tags": {"$contains": "p"}}, where_document={"$contains": "doc 9"})
    assert got["ids"] == ["r9"]
    res = col.query(
        query_embeddings=[np.eye(n, dtype=np.float32)[6]], n_results=3, where={"$or": [{"a": 6}, {"a": 12}]}
    )
    assert res["ids"] == [["r6", "r0"]]
