"""huedb.api.hybrid: dense + BM25 fused by Rrf in one call, embedded and over HTTP (the
integrations' hybrid retrieval is built on it)."""

from __future__ import annotations

import pytest

from huedb import Knn, Search
from huedb.api.hybrid import (
    bm25_schema,
    document_where,
    hybrid_search,
    search_where,
    sparse_key,
    without_sparse_key,
)
from huedb.errors import InvalidArgumentError

#: a keyword query the default (MiniLM) embedding misses: every battery text is nearer in meaning
#: than the one text naming the model
CORPUS = [
    "Replacing the battery in your phone: a step by step guide",
    "How to change a laptop battery safely",
    "Battery replacement service for smartwatches and fitness trackers",
    "When should you replace the battery of an electric toothbrush?",
    "Car battery replacement: signs your battery is failing",
    "Swapping the battery of a cordless drill",
    "Model ZR-4410 ships with a two year warranty",
    "Recycling old batteries at home",
    "The best power banks for travel",
    "Camera battery life tips for long shoots",
    "Solar panels and home battery storage explained",
    "Replacing a remote control battery",
]
QUERY = "battery replacement for the ZR-4410"
KEYWORD_DOC = "d6"


@pytest.fixture
def corpus(client):
    col = client.create_collection("hybrid", schema=bm25_schema())
    col.add(
        ids=[f"d{i}" for i in range(len(CORPUS))],
        documents=CORPUS,
        metadatas=[{"n": i, "even": i % 2 == 0} for i in range(len(CORPUS))],
    )
    return col


def ids(rows):
    return [r["id"] for r in rows]


def test_hybrid_ranks_an_exact_keyword_match_that_dense_retrieval_misses(corpus):
    dense = corpus.query(query_texts=[QUERY], n_results=3)["ids"][0]
    assert KEYWORD_DOC not in dense  # the premise: the embedding alone misses it
    rows = hybrid_search(corpus, QUERY, k=3)
    assert KEYWORD_DOC in ids(rows)
    assert len(rows) == 3 and [r["score"] for r in rows] == sorted(r["score"] for r in rows)
    for row in rows:  # the BM25 vector the index keeps in metadata is not handed back
        assert set(row) == {"id", "document", "metadata", "score"} and "bm25" not in row["metadata"]


def test_alpha_weighs_the_two_sides(corpus):
    dense = corpus.query(query_texts=[QUERY], n_results=4)["ids"][0]
    assert ids(hybrid_search(corpus, QUERY, k=4, alpha=1.0)) == dense
    bm25 = corpus.search(Search().rank(Knn(query=QUERY, key="bm25", limit=4))).rows()[0]
    assert ids(hybrid_search(corpus, QUERY, k=4, alpha=0.0)) == ids(bm25)
    assert ids(hybrid_search(corpus, QUERY, k=1, alpha=0.0)) == [KEYWORD_DOC]


def test_filters_apply_to_both_sides(corpus):
    rows = hybrid_search(corpus, QUERY, k=10, where={"even": True}, where_document={"$contains": "battery"})
    got = ids(rows)
    assert got and all(int(i[1:]) % 2 == 0 and "battery" in r["document"] for i, r in zip(got, rows))
    assert KEYWORD_DOC not in got  # it has no "battery"
    only = hybrid_search(corpus, QUERY, k=10, where_document={"$or": [{"$contains": "ZR"}, {"$contains": "drill"}]})
    assert sorted(ids(only)) == ["d5", "d6"]


def test_a_collection_without_a_sparse_index_is_told_how_to_get_one(client):
    col = client.create_collection("plain")
    col.add(ids=["a"], documents=["hello"])
    assert sparse_key(col) is None
    with pytest.raises(InvalidArgumentError, match="bm25_schema"):
        hybrid_search(col, "hello")


def test_bad_arguments(corpus):
    assert sparse_key(corpus) == "bm25"
    with pytest.raises(InvalidArgumentError, match="alpha"):
        hybrid_search(corpus, QUERY, alpha=1.5)
    with pytest.raises(InvalidArgumentError, match="where document"):
        document_where({"$contains": "a", "$regex": "b"})


def test_where_translation():
    assert document_where({"$and": [{"$contains": "a"}, {"$not_regex": "b+"}]}) == {
        "$and": [{"#document": {"$contains": "a"}}, {"#document": {"$not_regex": "b+"}}]
    }
    assert search_where({"n": 1}, None) == {"n": 1}
    assert search_where(None, {"$contains": "x"}) == {"#document": {"$contains": "x"}}
    assert search_where({"n": 1}, {"$contains": "x"}) == {"$and": [{"n": 1}, {"#document": {"$contains": "x"}}]}
    assert search_where({}, None) is None


def test_without_sparse_key_leaves_the_users_metadata():
    """The one helper the integrations strip a hybrid collection's BM25 vector with."""
    vector = {"indices": [1], "values": [0.5]}
    stored = {"n": 1, "bm25": vector}
    assert without_sparse_key(stored, "bm25") == {"n": 1}
    assert stored == {"n": 1, "bm25": vector}  # a copy: the stored record's dict is not changed
    assert without_sparse_key({"bm25": vector}, "bm25") is None  # nothing of the user's left
    plain = {"n": 1}
    assert without_sparse_key(plain, "bm25") is plain
    assert without_sparse_key(stored, None) is stored
    assert without_sparse_key(None, "bm25") is None


def test_source_key_takes_a_key_as_on_chromadb():
    from huedb import K, SparseVectorIndexConfig

    assert SparseVectorIndexConfig(source_key=K.DOCUMENT).source_key == "#document"
    assert SparseVectorIndexConfig(source_key=K("title")).source_key == "title"
