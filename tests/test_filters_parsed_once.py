"""A filter is parsed once per process: the client's validation hands the parsed tree (carried
by the filter dict itself) to the engine's validation and to the storage backend."""

from __future__ import annotations

import json

import pytest

import huedb
import huedb.filters as filters


@pytest.fixture
def parses(monkeypatch):
    counts = {"where": 0, "where_document": 0}
    field, document = filters._field, filters._document

    def counting_field(*args):
        counts["where"] += 1
        return field(*args)

    def counting_document(wd, depth, budget):
        counts["where_document"] += depth == 0
        return document(wd, depth, budget)

    monkeypatch.setattr(filters, "_field", counting_field)
    monkeypatch.setattr(filters, "_document", counting_document)
    return counts


@pytest.mark.parametrize("operation", ["get", "query", "delete"])
def test_embedded_operations_parse_each_filter_once(tmp_path, parses, operation):
    col = huedb.PersistentClient(path=str(tmp_path / "db")).create_collection("once")
    col.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]], metadatas=[{"n": 1}, {"n": 2}], documents=["hi", "yo"])
    parses.update(where=0, where_document=0)
    where, where_document = {"n": 1}, {"$contains": "hi"}
    if operation == "get":
        assert col.get(where=where, where_document=where_document)["ids"] == ["a"]
    elif operation == "query":
        got = col.query(query_embeddings=[[1.0, 0.0]], n_results=1, where=where, where_document=where_document)
        assert got["ids"] == [["a"]]
    else:
        assert col.delete(where=where, where_document=where_document) == {"deleted": 1}
    assert parses == {"where": 1, "where_document": 1}


def test_a_parsed_filter_is_still_the_dict_it_was():
    where = {"$and": [{"n": {"$gte": 1}}, {"tag": {"$in": ["a", "b"]}}]}
    parsed = filters.validate_where(where)
    assert parsed == where and json.loads(json.dumps(parsed)) == where
    assert filters.parse_where(parsed) is parsed.tree and filters.validate_where(parsed) is parsed
    document = filters.validate_where_document({"$or": [{"$contains": "x"}, {"$regex": "y+"}]})
    assert filters.parse_where_document(document) is document.tree
