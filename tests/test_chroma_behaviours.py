"""Behaviours observed on chromadb 1.5.9 (in a scratch venv) that huedb matches.

Each test states the observed behaviour; the ``client`` fixture runs embedded and over HTTP.
"""

from __future__ import annotations

import pytest


# -- embedding_function=None at creation (langchain-chroma creates collections this way) ----------
def test_ef_none_without_configuration_embeds_with_the_default_ef(client):
    # chromadb 1.5.9: create_collection(name, embedding_function=None) and no configuration still
    # embeds documents (and query texts) with the default EF.
    col = client.create_collection("noneef", embedding_function=None)
    col.add(ids=["a", "b"], documents=["pineapples grow in Hawaii", "the stock market fell"])
    (vector,) = col.get(ids=["a"], include=["embeddings"])["embeddings"]
    assert len(vector) == 384
    assert col.query(query_texts=["tropical fruit"], n_results=1)["ids"] == [["a"]]


def test_ef_none_on_get_uses_the_persisted_ef(client):
    # chromadb 1.5.9: get_collection / get_or_create_collection(embedding_function=None) on an
    # existing collection embeds with the collection's persisted EF.
    client.create_collection("persisted", embedding_function=None)
    for col in (
        client.get_collection("persisted", embedding_function=None),
        client.get_or_create_collection("persisted", embedding_function=None),
    ):
        col.upsert(ids=["a"], documents=["hello"])
        assert len(col.get(ids=["a"], include=["embeddings"])["embeddings"][0]) == 384


def test_ef_none_with_a_configuration_means_no_ef(client):
    # chromadb 1.5.9: with any configuration given, embedding_function=None leaves the collection
    # without an EF (persisted as "legacy"): documents without embeddings are refused, then and
    # after reopening.
    col = client.create_collection("cfgnone", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
    assert col.configuration_json["embedding_function"] == {"type": "legacy"}
    with pytest.raises(ValueError, match="(?i)embedding function"):
        col.add(ids=["a"], documents=["hello"])
    col.add(ids=["a"], embeddings=[[1.0, 0.0]], documents=["hello"])
    with pytest.raises(ValueError, match="(?i)embedding function"):
        client.get_collection("cfgnone").query(query_texts=["hello"])


# -- metadata dicts with no values (the JS client sends {} for an all-null metadata) --------------
def test_empty_metadata_is_no_metadata(client):
    # Chroma's server: add with {} stores no metadata; update and upsert with {} change nothing.
    col = client.create_collection("emptymd", embedding_function=None)
    col.add(ids=["a", "b"], embeddings=[[1.0, 2.0], [3.0, 4.0]], metadatas=[{}, {"k": 1}])
    assert col.get(ids=["a", "b"])["metadatas"] == [None, {"k": 1}]
    col.update(ids=["b"], metadatas=[{}])
    col.upsert(ids=["b", "c"], embeddings=[[3.0, 4.0], [5.0, 6.0]], metadatas=[{}, {}])
    assert col.get(ids=["a", "b", "c"])["metadatas"] == [None, {"k": 1}, None]
    col.update(ids=["b"], metadatas=[{"k": None}])  # a None value still deletes its key
    assert col.get(ids=["b"])["metadatas"] == [None]


def test_empty_metadata_over_raw_rest(http_client_factory):
    # What the JS client sends: a JSON {} in metadatas (Chroma's server answers 201).
    c = http_client_factory()
    col = c.create_collection("jsmd", embedding_function=None)
    api = c._server
    r = api._http.post(
        f"{api._url}/tenants/{c.tenant}/databases/{c.database}/collections/{col.id}/add",
        json={"ids": ["a"], "embeddings": [[1.0, 2.0]], "metadatas": [{}]},
    )
    assert r.status_code == 201, r.text
    assert col.get(ids=["a"])["metadatas"] == [None]


# -- delete() returns {"deleted": n} and takes limit= ---------------------------------------------
def _five(client):
    col = client.create_collection("del5", embedding_function=None)
    col.add(
        ids=[str(i) for i in range(5)],
        embeddings=[[1.0, float(i)] for i in range(5)],
        metadatas=[{"k": i} for i in range(5)],
    )
    return col


def test_delete_returns_the_count(client):
    col = _five(client)
    assert col.delete(ids=["0", "1"]) == {"deleted": 2}
    assert col.delete(where={"k": {"$gte": 3}}) == {"deleted": 2}
    # Chroma 1.5.9 answers {"deleted": 1} for an id that does not exist; huedb counts real deletions.
    assert col.delete(ids=["nope"]) == {"deleted": 0}
    assert col.get()["ids"] == ["2"]


def test_delete_limit(client):
    col = _five(client)
    assert col.delete(where={"k": {"$gte": 0}}, limit=0) == {"deleted": 0}
    assert col.delete(where={"k": {"$gte": 0}}, limit=2) == {"deleted": 2}
    assert col.get()["ids"] == ["2", "3", "4"]  # the first matches, in insertion order
    assert col.delete(ids=["2", "3", "4"], where={"k": {"$gte": 0}}, limit=1) == {"deleted": 1}
    assert col.get()["ids"] == ["3", "4"]


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"ids": ["0"], "limit": 1}, ValueError, "limit can only be specified when a where or where_document"),
        ({"where": {"k": 1}, "limit": -1}, ValueError, "limit must be a non-negative integer"),
        ({"where": {"k": 1}, "limit": 1.5}, TypeError, "limit must be a non-negative integer"),
        ({"where": {"k": 1}, "limit": True}, TypeError, "limit must be a non-negative integer"),
    ],
)
def test_delete_limit_errors(client, kwargs, error, words):
    col = _five(client)
    with pytest.raises(error, match=words):
        col.delete(**kwargs)
    assert col.count() == 5


def test_delete_limit_over_raw_rest(http_client_factory):
    c = http_client_factory()
    col = _five(c)
    api = c._server
    url = f"{api._url}/tenants/{c.tenant}/databases/{c.database}/collections/{col.id}/delete"
    r = api._http.post(url, json={"where": {"k": {"$lt": 4}}, "limit": 3})
    assert r.status_code == 200 and r.json() == {"deleted": 3}
    assert col.get()["ids"] == ["3", "4"]


# -- query(ids=[...]) with repeated ids ---------------------------------------------------------
def test_query_ids_may_repeat(client):
    # chromadb 1.5.9: ids=["1", "1", "2"] restricts the search to {"1", "2"}.
    col = client.create_collection("dupq", embedding_function=None)
    col.add(ids=["1", "2", "3"], embeddings=[[1.0, 2.0], [3.0, 4.0], [1.0, 2.1]])
    got = col.query(query_embeddings=[[1.0, 2.0]], ids=["1", "1", "2"], n_results=3, include=["distances"])
    assert got["ids"] == [["1", "2"]]
    assert got["distances"][0][0] == 0.0 and got["distances"][0][1] == pytest.approx(8.0)


# -- error classes over HTTP ---------------------------------------------------------------------
def test_a_501_is_a_typed_error_for_huedb_and_chromadb_clients(http_client_factory):
    from huedb.errors import ChromaError, NotImplementedFeatureError, error_types

    c = http_client_factory()
    col = c.create_collection("fns", embedding_function=None)
    api = c._server
    path = f"/tenants/{c.tenant}/databases/{c.database}/collections/{col.id}/functions/attach"
    r = api._http.post(api._url + path, json={})
    # Chroma's server names its 501s "ChromaError", a name chromadb's clients map to a class.
    assert r.status_code == 501 and r.json()["error"] == "ChromaError" and "ChromaError" in error_types
    with pytest.raises(NotImplementedFeatureError, match="not supported") as info:
        api._request("POST", path, json={})
    assert isinstance(info.value, ChromaError)


def test_duplicate_and_reset_errors_are_chroma_errors(client, tmp_path):
    # Chroma's server: 409 "... already exists" and a disabled reset, each a ChromaError in
    # chromadb's client; huedb raises subclasses of it (UniqueConstraintError is also an
    # InternalError, which chromadb's embedded client raises for a duplicate collection).
    import huedb
    from huedb.errors import AuthorizationError, ChromaError, InternalError, UniqueConstraintError

    client.create_collection("twice", embedding_function=None)
    with pytest.raises(UniqueConstraintError, match=r"Collection \[twice\] already exists") as info:
        client.create_collection("twice", embedding_function=None)
    assert isinstance(info.value, (ChromaError, InternalError))
    no_reset = huedb.PersistentClient(path=str(tmp_path / "noreset"))
    with pytest.raises(AuthorizationError, match="(?i)reset") as info:
        no_reset.reset()
    assert isinstance(info.value, ChromaError)


# -- a Chroma persist directory ---------------------------------------------------------------
def test_a_chroma_directory_is_not_opened_as_an_empty_huedb_one(tmp_path):
    import os

    import huedb

    chroma_dir = tmp_path / "chroma"
    chroma_dir.mkdir()
    (chroma_dir / "chroma.sqlite3").write_bytes(b"SQLite format 3\x00")
    with pytest.raises(ValueError, match="huedb copy --all --from-chroma-dir") as info:
        huedb.PersistentClient(path=str(chroma_dir))
    assert "Chroma persist directory" in str(info.value)
    assert os.listdir(chroma_dir) == ["chroma.sqlite3"]  # nothing created beside it


# -- distance precision ---------------------------------------------------------------------
@pytest.mark.parametrize("dim", [3, 815])
def test_a_vector_queried_against_itself_is_at_distance_zero(client, dim):
    # chromadb 1.5.9 answers 0.0; |q|^2 - 2q.v + |v|^2 in float32 gave 6.1e-5 at 815 dimensions.
    import numpy as np

    rng = np.random.default_rng(dim)
    vectors = (rng.normal(size=(50, dim)) * 3).astype(np.float32)
    col = client.create_collection(f"self{dim}", embedding_function=None)
    col.add(ids=[str(i) for i in range(50)], embeddings=vectors)
    got = col.query(query_embeddings=vectors[:10], n_results=2, include=["distances"])
    assert [row[0] for row in got["ids"]] == [str(i) for i in range(10)]
    assert [row[0] for row in got["distances"]] == [0.0] * 10
    assert all(row[1] > 1.0 for row in got["distances"])


def test_pairwise_l2_is_exact_for_identical_and_close_to_numpy_otherwise():
    import numpy as np

    from huedb.distance import pairwise_distances

    rng = np.random.default_rng(1)
    v = rng.normal(size=(200, 815)).astype(np.float32)
    q = np.concatenate([v[:5], v[5:10] + 1e-3]).astype(np.float32)
    d = pairwise_distances(q, v, "l2")
    assert (d[np.arange(5), np.arange(5)] == 0.0).all()
    reference = ((q[:, None, :].astype(np.float64) - v[None, :, :]) ** 2).sum(-1)
    assert np.allclose(d, reference, rtol=1e-4, atol=1e-4)
