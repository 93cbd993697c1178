"""Requests chromadb 1.5.9 refuses, and huedb refuses alike (observed in a scratch venv):

- ``where={"$or": [one clause]}`` (and $and, and an empty list): ValueError "Expected where value for
  $and or $or to be a list with at least two where expressions"; where_document: "... at least two
  where document expressions". In get, query and delete.
- ``get(include=None)`` / ``query(include=None)``: ValueError "Expected include to be a list, got None".
- ``get_or_create_collection(existing, metadata={})``: InvalidArgumentError "Metadata cannot be empty";
  with ``{"hnsw:space": "bogus"}``: InvalidArgumentError ("Failed to parse hnsw parameters"), even
  though the collection exists.
huedb's InvalidArgumentError is a ValueError, so code catching either works.
"""

from __future__ import annotations

import httpx
import pytest

from huedb.errors import InvalidArgumentError

ONE_CLAUSE_WHERE = [{"$or": [{"x": 1}]}, {"$and": [{"x": 1}]}, {"$or": []}, {"$and": [{"x": 1}, {"$or": [{"x": 2}]}]}]
ONE_CLAUSE_DOCUMENT = [{"$or": [{"$contains": "d"}]}, {"$and": [{"$contains": "d"}]}]


@pytest.fixture
def col(client):
    c = client.create_collection("rules", embedding_function=None)
    c.add(ids=["1", "2"], embeddings=[[1.0, 2.0], [2.0, 1.0]], metadatas=[{"x": 1}, {"x": 2}], documents=["d", "e"])
    return c


@pytest.mark.parametrize("where", ONE_CLAUSE_WHERE)
def test_and_or_need_two_where_expressions(col, where):
    pattern = r"Expected where value for \$and or \$or to be a list with at least two where expressions"
    for call in (
        lambda: col.get(where=where),
        lambda: col.query(query_embeddings=[[1.0, 2.0]], where=where),
        lambda: col.delete(where=where),
    ):
        with pytest.raises(InvalidArgumentError, match=pattern):
            call()
    assert col.count() == 2
    # two or more are fine, at any depth
    assert col.get(where={"$or": [{"x": 1}, {"$and": [{"x": 1}, {"x": {"$gte": 0}}]}]})["ids"] == ["1"]


@pytest.mark.parametrize("where_document", ONE_CLAUSE_DOCUMENT)
def test_and_or_need_two_where_document_expressions(col, where_document):
    with pytest.raises(ValueError, match="at least two where document expressions"):
        col.get(where_document=where_document)
    with pytest.raises(ValueError, match="at least two where document expressions"):
        col.query(query_embeddings=[[1.0, 2.0]], where_document=where_document)
    assert col.get(where_document={"$or": [{"$contains": "d"}, {"$contains": "e"}]})["ids"] == ["1", "2"]


def test_the_server_refuses_a_one_clause_or(http_client_factory, huedb_server):
    client = http_client_factory()
    c = client.create_collection("rules_rest", embedding_function=None)
    url = (
        f"http://127.0.0.1:{huedb_server.port}/api/v2/tenants/{client.tenant}/databases/{client.database}"
        f"/collections/{c.id}/get"
    )
    r = httpx.post(url, json={"where": {"$or": [{"x": 1}]}})
    assert r.status_code == 400 and "at least two where expressions" in r.json()["message"]
    r = httpx.post(url, json={"where_document": {"$and": [{"$contains": "x"}]}})
    assert r.status_code == 400 and "at least two where document expressions" in r.json()["message"]


def test_include_none_is_refused(col):
    with pytest.raises(ValueError, match="Expected include to be a list, got None in get"):
        col.get(include=None)
    with pytest.raises(ValueError, match="Expected include to be a list, got None in query"):
        col.query(query_embeddings=[[1.0, 2.0]], include=None)
    # omitted: chromadb's defaults
    assert col.get()["included"] == ["metadatas", "documents"]
    assert col.query(query_embeddings=[[1.0, 2.0]], n_results=1)["included"] == ["metadatas", "documents", "distances"]


def test_get_or_create_checks_its_request_even_when_the_collection_exists(client):
    existing = client.create_collection("exists", metadata={"a": 1}, embedding_function=None)
    with pytest.raises(InvalidArgumentError, match="Metadata cannot be empty"):
        client.get_or_create_collection("exists", metadata={})
    with pytest.raises(InvalidArgumentError, match="hnsw space 'bogus'"):
        client.get_or_create_collection("exists", metadata={"hnsw:space": "bogus"})
    with pytest.raises(InvalidArgumentError, match="hnsw"):
        client.get_or_create_collection("exists", configuration={"hnsw": {"max_neighbors": -1}})
    # a valid request still returns the existing collection with its own metadata
    assert client.get_or_create_collection("exists", metadata={"b": 2}).metadata == existing.metadata == {"a": 1}
    with pytest.raises(InvalidArgumentError, match="Metadata cannot be empty"):
        client.get_or_create_collection("absent", metadata={})
    assert [c.name for c in client.list_collections()] == ["exists"]
