"""Hybrid retrieval (dense + BM25 by Rrf): an exact keyword match that dense retrieval misses
is found, through the store and through a ``search_type="hybrid"`` retriever, embedded and over
HTTP, with huedb's offline default embedding function."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from langchain_huedb import HuedbRetriever, HuedbVectorStore

import huedb

CORPUS = json.loads((Path(__file__).parents[2] / "hybrid_corpus.json").read_text())
QUERY, MATCH = CORPUS["query"], CORPUS["keyword_match"]


@pytest.fixture(params=["embedded", "http"])
def store(request, tmp_path, huedb_server) -> HuedbVectorStore:
    if request.param == "embedded":
        client = huedb.PersistentClient(path=str(tmp_path / "db"))
    else:
        host, port = huedb_server
        client = huedb.HttpClient(host=host, port=port)
    store = HuedbVectorStore(f"hybrid-{uuid.uuid4().hex[:8]}", client=client, hybrid=True)
    ids = list(CORPUS["documents"])
    store.add_texts(list(CORPUS["documents"].values()), metadatas=[{"n": i} for i in range(len(ids))], ids=ids)
    return store


def test_hybrid_finds_the_keyword_match_that_dense_misses(store):
    dense = [d.id for d in store.similarity_search(QUERY, k=3)]
    assert MATCH not in dense
    hybrid = store.hybrid_search_with_score(QUERY, k=3)
    assert MATCH in [d.id for d, _ in hybrid]
    assert [s for _, s in hybrid] == sorted(s for _, s in hybrid)  # Rrf: lower is better
    for doc, _ in hybrid:  # the BM25 vector stays out of the user's metadata
        assert set(doc.metadata) == {"n"}
    assert all(set(d.metadata) == {"n"} for d in store.similarity_search(QUERY, k=3))
    assert [d.id for d in store.hybrid_search(QUERY, k=1, alpha=0.0)] == [MATCH]


def test_hybrid_filters(store):
    docs = store.hybrid_search(QUERY, k=10, filter={"n": {"$lt": 6}}, where_document={"$contains": "battery"})
    assert docs and all(d.metadata["n"] < 6 and "battery" in d.page_content for d in docs)


def test_hybrid_retriever_sync_and_async(store):
    retriever = store.as_retriever(search_type="hybrid", search_kwargs={"k": 3})
    assert isinstance(retriever, HuedbRetriever)
    assert MATCH in [d.id for d in retriever.invoke(QUERY)]
    import asyncio

    assert MATCH in [d.id for d in asyncio.run(retriever.ainvoke(QUERY))]
    # the other search types still work through the same retriever class
    assert len(store.as_retriever(search_kwargs={"k": 2}).invoke(QUERY)) == 2
    assert len(store.as_retriever(search_type="mmr", search_kwargs={"k": 2}).invoke(QUERY)) == 2
    with pytest.raises(ValueError, match="search_type"):
        store.as_retriever(search_type="bogus")


def test_a_store_without_a_bm25_index_says_how_to_get_one(tmp_path):
    store = HuedbVectorStore("plain", persist_directory=str(tmp_path / "p"))
    store.add_texts(["hello"])
    with pytest.raises(huedb.errors.InvalidArgumentError, match="bm25_schema"):
        store.hybrid_search("hello")
