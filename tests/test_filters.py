"""``where`` and ``where_document`` filters (on get, query and delete)."""

from __future__ import annotations

import pytest

from huedb.errors import InvalidArgumentError

IDS = ["i1", "i2", "f1", "btrue", "bfalse", "s", "lst", "none"]
METAS = [
    {"a": 1},
    {"a": 2},
    {"a": 1.0},
    {"a": True},
    {"a": False},
    {"a": "x"},
    {"tags": ["p", "q"], "nums": [1, 2], "fl": [0.5, 1.5], "bl": [True]},
    None,
]
DOCS = ["Hello World", "hello world", "ab", "日本語テキスト", "x", "100% sure", "a.b*c", None]


@pytest.fixture
def col(client):
    c = client.create_collection("flt", embedding_function=None)
    c.add(ids=IDS, embeddings=[[0.0, float(i)] for i in range(len(IDS))], metadatas=METAS, documents=DOCS)
    return c


def ids_where(col, where):
    return col.get(where=where)["ids"]


def ids_doc(col, where_document):
    return col.get(where_document=where_document)["ids"]


# --- where: comparison operators ----------------------------------------------------


@pytest.mark.parametrize(
    "where, expected",
    [
        # Numbers compare by value across int and float; bools are not numbers.
        ({"a": 1}, ["i1", "f1"]),
        ({"a": 1.0}, ["i1", "f1"]),
        ({"a": {"$eq": 1}}, ["i1", "f1"]),
        ({"a": True}, ["btrue"]),
        ({"a": False}, ["bfalse"]),
        ({"a": "x"}, ["s"]),
        ({"a": {"$eq": 1.5}}, []),
        ({"a": {"$gt": 1}}, ["i2"]),
        ({"a": {"$gte": 1}}, ["i1", "i2", "f1"]),
        ({"a": {"$lt": 2}}, ["i1", "f1"]),
        ({"a": {"$lte": 2}}, ["i1", "i2", "f1"]),
        ({"a": {"$gt": 0.5}}, ["i1", "i2", "f1"]),
        ({"a": {"$lt": 1.5}}, ["i1", "f1"]),
        ({"a": {"$in": [1, 2]}}, ["i1", "i2", "f1"]),
        ({"a": {"$in": ["x", "y"]}}, ["s"]),
        ({"a": {"$in": [True]}}, ["btrue"]),
    ],
)
def test_where_comparisons(col, where, expected):
    assert ids_where(col, where) == expected


def test_ne_and_nin_match_records_lacking_the_key(col):
    assert ids_where(col, {"a": {"$ne": 1}}) == ["i2", "btrue", "bfalse", "s", "lst", "none"]
    assert ids_where(col, {"a": {"$ne": True}}) == ["i1", "i2", "f1", "bfalse", "s", "lst", "none"]
    assert ids_where(col, {"a": {"$ne": "x"}}) == ["i1", "i2", "f1", "btrue", "bfalse", "lst", "none"]
    assert ids_where(col, {"a": {"$nin": [1, 2]}}) == ["btrue", "bfalse", "s", "lst", "none"]
    assert ids_where(col, {"missing": {"$ne": 0}}) == IDS
    assert ids_where(col, {"missing": {"$nin": ["z"]}}) == IDS


def test_missing_key_never_matches_positive_operators(col):
    for op in ("$eq", "$gt", "$gte", "$lt", "$lte"):
        assert ids_where(col, {"missing": {op: 1}}) == []
    assert ids_where(col, {"missing": {"$in": [1]}}) == []


# --- where: list values --------------------------------------------------------------


@pytest.mark.parametrize(
    "where, expected",
    [
        ({"tags": {"$contains": "p"}}, ["lst"]),
        ({"tags": {"$contains": "zz"}}, []),
        ({"nums": {"$contains": 1}}, ["lst"]),
        ({"nums": {"$contains": 3}}, []),
        ({"fl": {"$contains": 0.5}}, ["lst"]),
        ({"bl": {"$contains": True}}, ["lst"]),
        ({"bl": {"$contains": False}}, []),
        # $contains on a scalar value matches nothing (no error).
        ({"a": {"$contains": 1}}, []),
        # A scalar equality does not look inside lists.
        ({"tags": "p"}, []),
    ],
)
def test_where_list_contains(col, where, expected):
    assert ids_where(col, where) == expected


def test_not_contains_on_lists_matches_records_without_the_value(col):
    assert ids_where(col, {"tags": {"$not_contains": "p"}}) == ["i1", "i2", "f1", "btrue", "bfalse", "s", "none"]
    assert ids_where(col, {"tags": {"$not_contains": "zz"}}) == IDS


# --- where: logical operators --------------------------------------------------------


def test_and_or(col):
    assert ids_where(col, {"$and": [{"a": {"$gte": 1}}, {"a": {"$lte": 1.5}}]}) == ["i1", "f1"]
    assert ids_where(col, {"$or": [{"a": 2}, {"a": "x"}]}) == ["i2", "s"]
    nested = {"$or": [{"$and": [{"a": {"$gt": 0}}, {"a": {"$lt": 2}}]}, {"tags": {"$contains": "q"}}]}
    assert ids_where(col, nested) == ["i1", "f1", "lst"]
    assert ids_where(col, {"$and": [{"a": 1}, {"a": 2}]}) == []


# --- where: invalid filters --------------------------------------------------------


@pytest.mark.parametrize(
    "where, needle",
    [
        ({}, "(?i)one"),
        ({"a": 1, "tags": "p"}, "(?i)one"),
        ({"a": {"$foo": 1}}, r"\$foo"),
        ({"a": {"$gt": 1, "$lt": 3}}, "(?i)one"),
        ({"a": {"$gt": "x"}}, r"\$gt"),
        ({"a": {"$gt": True}}, r"\$gt"),
        ({"a": {"$in": 1}}, r"(?i)list"),
        ({"a": {"$in": []}}, r"(?i)empty"),
        ({"a": {"$in": [1, "x"]}}, r"(?i)same type"),
        ({"a": None}, "None"),
        ({"a": ["p", "q"]}, r"\['p', 'q'\]"),
        ({"$and": []}, r"\$and"),
        ({"$or": {"a": 1}}, r"\$or"),
        ({"$not": {"a": 1}}, r"\$not"),
    ],
)
def test_invalid_where_is_a_clear_error(col, where, needle):
    with pytest.raises(ValueError, match=needle):
        ids_where(col, where)


def test_where_must_be_a_dict(col):
    with pytest.raises(ValueError, match="dict"):
        ids_where(col, [1])


def test_invalid_where_on_query_and_delete(col):
    with pytest.raises(ValueError):
        col.query(query_embeddings=[[0.0, 0.0]], where={})
    with pytest.raises(ValueError):
        col.delete(where={"a": 1, "b": 2})
    assert col.count() == len(IDS)


# --- where_document ------------------------------------------------------------------


@pytest.mark.parametrize(
    "where_document, expected",
    [
        ({"$contains": "Hello"}, ["i1"]),
        ({"$contains": "hello"}, ["i2"]),
        ({"$contains": "a"}, ["f1", "lst"]),
        ({"$contains": "ab"}, ["f1"]),
        ({"$contains": "本"}, ["btrue"]),
        ({"$contains": "日本"}, ["btrue"]),
        ({"$contains": "テキスト"}, ["btrue"]),
        # Special characters are literal, not LIKE/GLOB wildcards.
        ({"$contains": "a.b*"}, ["lst"]),
        ({"$contains": "%"}, ["s"]),
        ({"$contains": "_"}, []),
        ({"$contains": "o W"}, ["i1"]),
        ({"$regex": "^[Hh]ello"}, ["i1", "i2"]),
        ({"$regex": "World$"}, ["i1"]),
        ({"$regex": "a\\.b\\*c"}, ["lst"]),
        ({"$not_regex": "^[Hh]ello"}, ["f1", "btrue", "bfalse", "s", "lst", "none"]),
        ({"$and": [{"$contains": "o"}, {"$not_contains": "W"}]}, ["i2"]),
        ({"$or": [{"$contains": "World"}, {"$contains": "ab"}]}, ["i1", "f1"]),
    ],
)
def test_where_document(col, where_document, expected):
    assert ids_doc(col, where_document) == expected


def test_not_contains_matches_records_without_a_document(col):
    assert ids_doc(col, {"$not_contains": "hello"}) == ["i1", "f1", "btrue", "bfalse", "s", "lst", "none"]
    assert ids_doc(col, {"$not_contains": "zzz"}) == IDS


def test_contains_is_case_sensitive_for_long_strings(client):
    c = client.create_collection("casey", embedding_function=None)
    c.add(ids=["u", "l"], embeddings=[[1.0], [2.0]], documents=["THE QUICK BROWN FOX", "the quick brown fox"])
    assert ids_doc(c, {"$contains": "QUICK BROWN"}) == ["u"]
    assert ids_doc(c, {"$contains": "quick brown"}) == ["l"]
    assert ids_doc(c, {"$contains": "Quick"}) == []


def test_where_and_where_document_combined(col):
    got = col.get(where={"a": {"$gte": 1}}, where_document={"$contains": "o"})["ids"]
    assert got == ["i1", "i2"]


def test_document_filter_follows_updates_and_deletes(col):
    col.update(ids=["f1"], embeddings=[[0.0, 2.0]], documents=["now zebra"])
    assert ids_doc(col, {"$contains": "zebra"}) == ["f1"]
    assert "f1" not in ids_doc(col, {"$contains": "ab"})
    col.delete(ids=["f1"])
    assert ids_doc(col, {"$contains": "zebra"}) == []


def test_metadata_filter_follows_updates(col):
    col.update(ids=["i2"], metadatas=[{"a": None, "b": 5}])
    assert ids_where(col, {"b": 5}) == ["i2"]
    assert "i2" not in ids_where(col, {"a": 2})
    assert "i2" in ids_where(col, {"a": {"$ne": 2}})


@pytest.mark.parametrize(
    "where_document, needle",
    [
        ({}, "(?i)one"),
        ({"$foo": "x"}, r"\$foo"),
        ({"$contains": ""}, "(?i)empty"),
        ({"$contains": 1}, "str"),
        ({"$contains": "a", "$not_contains": "b"}, "(?i)one"),
    ],
)
def test_invalid_where_document_is_a_clear_error(col, where_document, needle):
    with pytest.raises(ValueError, match=needle):
        ids_doc(col, where_document)


def test_invalid_regex_is_an_invalid_argument(col):
    with pytest.raises(InvalidArgumentError, match="(?i)regex"):
        ids_doc(col, {"$regex": "("})
