"""Bad Search plans over REST: each is a 400 with ``{error, message}`` whose message names the
bad part by its path in the request (``searches[i]....``), never a 500. As on chromadb 1.5.9,
the expressions themselves accept these values (``Search().limit(-1)`` builds); the server
checks them."""

from __future__ import annotations

import httpx
import pytest

import huedb
from huedb import K, Knn, Schema, Search, SparseVector, SparseVectorIndexConfig
from huedb.errors import InvalidArgumentError

SPARSE = {"#type": "sparse_vector"}

BAD = [
    ({"rank": {"$knn": {"query": [1.0, 2.0], "key": "cat"}}}, "searches[1].rank.$knn.key", "'cat' has none"),
    (
        {"rank": {"$knn": {"query": {**SPARSE, "indices": [1], "values": [1.0]}, "key": "nope"}}},
        "searches[1].rank.$knn.key",
        "no sparse vector index on 'nope'",
    ),
    ({"filter": {"cat": {"$regex": "a.*"}}}, "searches[1].filter.cat.$regex", "#document only"),
    ({"limit": {"offset": 0, "limit": -1}}, "searches[1].limit.limit", "non-negative"),
    ({"limit": {"offset": -3}}, "searches[1].limit.offset", "non-negative"),
    ({"rank": {"$knn": {"query": [1.0, 2.0], "limit": -5}}}, "searches[1].rank.$knn.limit", "positive"),
    ({"rank": {"$knn": {"query": [1.0, 2.0, 3.0]}}}, "searches[1].rank.$knn.query", "dimension mismatch"),
    (
        {"rank": {"$knn": {"query": {**SPARSE, "indices": [3, 1], "values": [1.0, 1.0]}, "key": "sp"}}},
        "searches[1].rank.$knn.query.indices",
        "strictly ascending",
    ),
]


@pytest.fixture
def bad_plan_collection(http_client_factory):
    client = http_client_factory()
    col = client.create_collection("bad_plans", embedding_function=None)
    col.add(ids=["a"], embeddings=[[1.0, 2.0]], metadatas=[{"cat": "a", "sp": SparseVector([1], [1.0])}])
    return col


@pytest.mark.parametrize(("payload", "path", "what"), BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_a_bad_plan_is_a_400_naming_the_part(huedb_server, bad_plan_collection, payload, path, what):
    col = bad_plan_collection
    url = f"{huedb_server.url}/api/v2/tenants/{col.tenant}/databases/{col.database}/collections/{col.id}/search"
    answer = httpx.post(url, json={"searches": [{}, payload]})
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["error"] == "InvalidArgumentError"
    assert body["message"].startswith(path + ":") and what in body["message"], body["message"]


def test_bad_plans_from_the_python_client_raise_the_typed_error(client):
    col = client.create_collection("bad_plans_py", embedding_function=None)
    col.add(ids=["a"], embeddings=[[1.0, 2.0]])
    for search, part in (
        (Search().limit(-1), "limit.limit"),
        (Search().limit(2, offset=-1), "limit.offset"),
        (Search().rank(Knn(query=[1.0, 2.0], limit=-1)), "$knn.limit"),
        (Search().rank(Knn(query=[1.0, 2.0], key="cat")), "$knn.key"),
        (Search().where(K("cat").regex("x")), "$regex"),
    ):
        with pytest.raises(InvalidArgumentError, match=part.replace("$", r"\$")):
            col.search([Search(), search])


def test_a_dense_query_on_the_sparse_key_of_a_schema_is_refused():
    schema = Schema().create_index(SparseVectorIndexConfig(), key="sp")
    col = huedb.EphemeralClient().create_collection("dense_on_sparse", schema=schema, embedding_function=None)
    col.add(ids=["a"], embeddings=[[1.0, 2.0]])
    with pytest.raises(InvalidArgumentError, match=r"searches\[0\].rank.\$knn.key: a dense query searches #embedding"):
        col.search(Search().rank(Knn(query=[1.0, 2.0], key="sp")))
