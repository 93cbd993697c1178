"""get() and query(): selection, ordering, paging, include, result shapes, distances."""

from __future__ import annotations

import numpy as np
import pytest

from huedb.errors import InvalidArgumentError

DIM = 4
N = 20


def _vectors(seed=0, n=N, dim=DIM):
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)


@pytest.fixture
def col(client):
    c = client.create_collection("getquery", embedding_function=None)
    c.add(
        ids=[f"r{i}" for i in range(N)],
        embeddings=_vectors(),
        documents=[f"doc {i}" for i in range(N)],
        metadatas=[{"i": i, "even": i % 2 == 0} for i in range(N)],
    )
    return c


def _exact(space, X, Q):
    if space == "l2":
        return ((Q[:, None, :].astype(np.float64) - X[None, :, :]) ** 2).sum(-1)
    if space == "ip":
        return 1.0 - Q.astype(np.float64) @ X.T.astype(np.float64)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    Qn = Q / np.linalg.norm(Q, axis=1, keepdims=True)
    return 1.0 - Qn.astype(np.float64) @ Xn.T.astype(np.float64)


# --- get: selection and order -------------------------------------------------------


def test_get_all_in_insertion_order(client):
    c = client.create_collection("order", embedding_function=None)
    c.add(ids=["z", "y", "x"], embeddings=[[1.0], [2.0], [3.0]])
    c.add(ids=["a"], embeddings=[[4.0]])
    c.upsert(ids=["y"], embeddings=[[5.0]])
    c.update(ids=["z"], embeddings=[[6.0]])
    assert c.get()["ids"] == ["z", "y", "x", "a"]


def test_get_ids_in_requested_order(col):
    # A deliberate improvement over chromadb, which returns insertion order.
    assert col.get(ids=["r5", "r1", "r12"])["ids"] == ["r5", "r1", "r12"]
    got = col.get(ids=["r3", "r0"], include=["documents", "metadatas", "embeddings"])
    assert got["documents"] == ["doc 3", "doc 0"]
    assert got["metadatas"] == [{"i": 3, "even": False}, {"i": 0, "even": True}]
    np.testing.assert_array_equal(got["embeddings"], _vectors()[[3, 0]])


def test_get_missing_ids_are_skipped(col):
    assert col.get(ids=["nope", "r2", "ghost"])["ids"] == ["r2"]
    assert col.get(ids=["nope"])["ids"] == []


def test_get_ids_with_where(col):
    assert col.get(ids=["r3", "r2", "r4"], where={"even": True})["ids"] == ["r2", "r4"]
    assert col.get(ids=["r4", "r2"], where_document={"$contains": "doc 4"})["ids"] == ["r4"]


def test_get_limit_offset(col):
    assert col.get(limit=3)["ids"] == ["r0", "r1", "r2"]
    assert col.get(limit=3, offset=2)["ids"] == ["r2", "r3", "r4"]
    assert col.get(offset=18)["ids"] == ["r18", "r19"]
    assert col.get(limit=0)["ids"] == []
    assert col.get(offset=50)["ids"] == []
    assert col.get(where={"even": True}, limit=2, offset=1)["ids"] == ["r2", "r4"]


def test_get_negative_limit_or_offset_is_an_error(col):
    with pytest.raises(ValueError):
        col.get(limit=-1)
    with pytest.raises(ValueError):
        col.get(offset=-1)


# --- include -----------------------------------------------------------------------


def test_get_default_include(col):
    got = col.get(ids=["r1"])
    assert sorted(got["included"]) == ["documents", "metadatas"]
    assert got["ids"] == ["r1"]
    assert got["documents"] == ["doc 1"]
    assert got["metadatas"] == [{"i": 1, "even": False}]
    assert got["embeddings"] is None
    assert got["uris"] is None
    assert got["data"] is None


def test_get_include_empty_still_returns_ids(col):
    got = col.get(limit=1, include=[])
    assert got["ids"] == ["r0"]
    assert got["included"] == []
    assert got["documents"] is None and got["metadatas"] is None and got["embeddings"] is None


def test_get_embeddings_are_2d_float32_numpy(col):
    got = col.get(limit=2, include=["embeddings"])
    assert got["included"] == ["embeddings"]
    emb = got["embeddings"]
    assert isinstance(emb, np.ndarray)
    assert emb.dtype == np.float32
    assert emb.shape == (2, DIM)
    np.testing.assert_array_equal(emb, _vectors()[:2])


def test_get_invalid_include(col):
    with pytest.raises(ValueError, match="foo"):
        col.get(include=["foo"])
    with pytest.raises(ValueError, match="distances"):
        col.get(include=["distances"])


def test_uris_and_data_on_request(client):
    class Loader:
        def __call__(self, uris):
            return [None if u is None else "DATA:" + u for u in uris]

    c = client.create_collection("uri", embedding_function=None, data_loader=Loader())
    c.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]], uris=["file-a", "file-b"])
    got = c.get(include=["uris", "data"])
    assert got["uris"] == ["file-a", "file-b"]
    assert got["data"] == ["DATA:file-a", "DATA:file-b"]
    assert sorted(got["included"]) == ["data", "uris"]
    q = c.query(query_embeddings=[[1.0, 0.0]], n_results=1, include=["uris", "data"])
    assert q["uris"] == [["file-a"]]
    assert q["data"] == [["DATA:file-a"]]


def test_include_data_without_loader_is_an_error(col):
    with pytest.raises(ValueError, match="(?i)loader"):
        col.get(include=["data"])


def test_uris_default_to_none_per_record(col):
    assert col.get(ids=["r1"], include=["uris"])["uris"] == [None]


# --- query ---------------------------------------------------------------------------


def test_query_default_n_results_and_include(col):
    res = col.query(query_embeddings=[[0.0] * DIM])
    assert len(res["ids"]) == 1 and len(res["ids"][0]) == 10
    assert sorted(res["included"]) == ["distances", "documents", "metadatas"]
    assert len(res["distances"][0]) == 10
    assert len(res["documents"][0]) == 10
    assert res["embeddings"] is None


def test_query_results_nested_per_query(col):
    Q = _vectors(seed=7, n=3)
    res = col.query(query_embeddings=Q, n_results=4, include=["documents", "metadatas", "distances", "embeddings"])
    for key in ("ids", "documents", "metadatas", "distances"):
        assert len(res[key]) == 3 and all(len(row) == 4 for row in res[key]), key
    assert len(res["embeddings"]) == 3
    X = _vectors()
    for q in range(3):
        emb = res["embeddings"][q]
        assert isinstance(emb, np.ndarray) and emb.dtype == np.float32 and emb.shape == (4, DIM)
        idx = [int(i[1:]) for i in res["ids"][q]]
        np.testing.assert_array_equal(emb, X[idx])
        assert res["documents"][q] == [f"doc {i}" for i in idx]
        assert [m["i"] for m in res["metadatas"][q]] == idx


def test_query_single_flat_embedding_and_numpy(col):
    X = _vectors()
    assert col.query(query_embeddings=X[3].tolist(), n_results=1)["ids"] == [["r3"]]
    assert col.query(query_embeddings=X[[5, 6]], n_results=1)["ids"] == [["r5"], ["r6"]]


@pytest.mark.parametrize("space", ["l2", "ip", "cosine"])
def test_distances_are_exact(client, space):
    X = _vectors(seed=1, n=30)
    Q = _vectors(seed=2, n=3)
    c = client.create_collection(f"d-{space}", configuration={"hnsw": {"space": space}}, embedding_function=None)
    c.add(ids=[f"r{i}" for i in range(30)], embeddings=X)
    res = c.query(query_embeddings=Q, n_results=30, include=["distances"])
    D = _exact(space, X, Q)
    for q in range(3):
        returned = np.array(res["distances"][q])
        np.testing.assert_allclose(returned, np.sort(D[q]), atol=1e-5, rtol=1e-5)
        # Each returned id carries its own exact distance.
        idx = [int(i[1:]) for i in res["ids"][q]]
        np.testing.assert_allclose(returned, D[q][idx], atol=1e-5, rtol=1e-5)
        assert len(set(idx)) == 30


def test_l2_is_squared(client):
    c = client.create_collection("squared", embedding_function=None)
    c.add(ids=["o"], embeddings=[[3.0, 4.0]])
    res = c.query(query_embeddings=[[0.0, 0.0]], n_results=1, include=["distances"])
    assert res["distances"][0][0] == pytest.approx(25.0, abs=1e-5)


def test_ip_and_cosine_values(client):
    ip = client.create_collection("ipc", configuration={"hnsw": {"space": "ip"}}, embedding_function=None)
    ip.add(ids=["a"], embeddings=[[2.0, 1.0]])
    assert ip.query(query_embeddings=[[3.0, 0.5]], n_results=1)["distances"][0][0] == pytest.approx(1 - 6.5, abs=1e-5)
    cos = client.create_collection("cosc", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
    cos.add(ids=["a", "b"], embeddings=[[5.0, 0.0], [0.0, 2.0]])
    d = cos.query(query_embeddings=[[1.0, 0.0]], n_results=2)["distances"][0]
    assert d == pytest.approx([0.0, 1.0], abs=1e-5)


def test_query_with_where_where_document_and_ids(col):
    X = _vectors()
    q = X[0] + 0.01
    res = col.query(query_embeddings=[q], n_results=5, where={"i": {"$lt": 2}})
    assert sorted(res["ids"][0]) == ["r0", "r1"]
    assert res["ids"][0][0] == "r0"
    res = col.query(query_embeddings=[q], n_results=5, ids=["r1", "r2"])
    assert sorted(res["ids"][0]) == ["r1", "r2"]
    res = col.query(query_embeddings=[q], n_results=20, where_document={"$contains": "doc 1"})
    assert sorted(res["ids"][0]) == sorted(["r1"] + [f"r1{i}" for i in range(10)])
    res = col.query(query_embeddings=[q], n_results=20, where={"even": True}, ids=["r0", "r1", "r2"])
    assert sorted(res["ids"][0]) == ["r0", "r2"]


def test_query_returns_fewer_when_fewer_match_and_never_raises(col, client):
    res = col.query(query_embeddings=[[0.0] * DIM], n_results=100)
    assert len(res["ids"][0]) == N
    res = col.query(query_embeddings=[[0.0] * DIM], n_results=5, where={"i": {"$lt": -2}})
    assert res["ids"] == [[]]
    assert res["distances"] == [[]]
    assert res["documents"] == [[]]
    empty = client.create_collection("emp", embedding_function=None)
    res = empty.query(query_embeddings=[[1.0, 2.0]], n_results=3)
    assert res["ids"] == [[]]


def test_query_after_deletes_never_returns_deleted(col):
    col.delete(ids=[f"r{i}" for i in range(0, N, 2)])
    res = col.query(query_embeddings=_vectors()[:4], n_results=N)
    for row in res["ids"]:
        assert sorted(row) == sorted(f"r{i}" for i in range(1, N, 2))


def test_query_sees_updated_embeddings(col):
    col.update(ids=["r7"], embeddings=[[100.0] * DIM])
    res = col.query(query_embeddings=[[100.0] * DIM], n_results=1, include=["distances"])
    assert res["ids"] == [["r7"]]
    assert res["distances"][0][0] == pytest.approx(0.0, abs=1e-5)


def test_top_k_is_prefix_of_top_k_plus_one(client):
    # Many exact ties (duplicate vectors) make this a real test of stable ordering.
    rng = np.random.default_rng(3)
    base = rng.integers(0, 3, size=(12, 3)).astype(np.float32)
    X = np.concatenate([base, base, base])
    c = client.create_collection("prefix", embedding_function=None)
    c.add(ids=[f"p{i}" for i in range(len(X))], embeddings=X)
    for q in rng.integers(0, 3, size=(4, 3)).astype(np.float32):
        prev = None
        for k in range(1, len(X) + 1):
            ids = c.query(query_embeddings=[q], n_results=k, include=[])["ids"][0]
            assert len(ids) == k
            if prev is not None:
                assert ids[: k - 1] == prev, k
            prev = ids


def test_query_include_variants(col):
    res = col.query(query_embeddings=[[0.0] * DIM], n_results=2, include=[])
    assert len(res["ids"][0]) == 2
    assert res["included"] == []
    assert res["distances"] is None and res["documents"] is None
    with pytest.raises(ValueError, match="foo"):
        col.query(query_embeddings=[[0.0] * DIM], include=["foo"])


@pytest.mark.parametrize("n", [0, -1])
def test_query_n_results_must_be_positive(col, n):
    with pytest.raises((ValueError, TypeError), match=str(n)):
        col.query(query_embeddings=[[0.0] * DIM], n_results=n)


def test_query_needs_embeddings_or_texts(col):
    with pytest.raises(ValueError):
        col.query()


def test_query_texts_without_embedding_function_is_an_error(client):
    c = client.create_collection("noef", configuration={"hnsw": {"space": "l2"}}, embedding_function=None)
    c.add(ids=["a"], embeddings=[[1.0, 2.0]])
    with pytest.raises(ValueError, match="(?i)embedding function"):
        c.query(query_texts=["hello"])


def test_query_dimension_mismatch_names_both(col):
    with pytest.raises(InvalidArgumentError) as info:
        col.query(query_embeddings=[[1.0, 2.0]])
    assert str(DIM) in str(info.value) and "2" in str(info.value)
