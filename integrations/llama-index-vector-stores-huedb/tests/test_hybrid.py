"""VectorStoreQueryMode.HYBRID (dense + BM25 by Rrf, weighted by alpha): an exact keyword match
that dense retrieval misses is found, through the store and through a VectorStoreIndex retriever,
embedded and over HTTP, with huedb's offline default embedding function."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from llama_index.core import StorageContext, VectorStoreIndex
from llama_index.core.embeddings import BaseEmbedding
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import (
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)
from llama_index.vector_stores.huedb import HuedbVectorStore

import huedb
from huedb.utils.embedding_functions import DefaultEmbeddingFunction

CORPUS = json.loads((Path(__file__).parents[2] / "hybrid_corpus.json").read_text())
QUERY, MATCH = CORPUS["query"], CORPUS["keyword_match"]
HYBRID = VectorStoreQueryMode.HYBRID


class DefaultEmbedding(BaseEmbedding):
    """huedb's default embedding function (all-MiniLM-L6-v2, offline) as a LlamaIndex embedding."""

    def _vectors(self, texts: list[str]) -> list[list[float]]:
        return [[float(x) for x in v] for v in DefaultEmbeddingFunction()(texts)]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vectors([query])[0]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vectors([text])[0]


@pytest.fixture(params=["embedded", "http"])
def client(request, tmp_path, huedb_server):
    if request.param == "embedded":
        return huedb.PersistentClient(path=str(tmp_path / "db"))
    host, port = huedb_server
    return huedb.HttpClient(host=host, port=port)


def _nodes() -> list[TextNode]:
    return [
        TextNode(text=text, id_=node_id, metadata={"n": i}, excluded_embed_metadata_keys=["n"])
        for i, (node_id, text) in enumerate(CORPUS["documents"].items())
    ]


def test_hybrid_query_finds_the_keyword_match_that_dense_misses(client):
    store = HuedbVectorStore(collection_name=f"h-{uuid.uuid4().hex[:8]}", client=client, hybrid=True)
    store.add(_nodes())  # no embeddings: the collection's default EF embeds, the BM25 index fills
    dense = store.query(VectorStoreQuery(query_str=QUERY, similarity_top_k=3))
    assert MATCH not in dense.ids
    hybrid = store.query(VectorStoreQuery(query_str=QUERY, similarity_top_k=3, mode=HYBRID, alpha=0.5))
    assert MATCH in hybrid.ids and len(hybrid.ids) == 3
    assert hybrid.similarities == sorted(hybrid.similarities, reverse=True)  # higher is better
    assert all(node.metadata == {"n": int(node.node_id[1:])} for node in hybrid.nodes)  # no BM25 vector
    bm25_only = store.query(VectorStoreQuery(query_str=QUERY, similarity_top_k=1, mode=HYBRID, alpha=0.0))
    assert bm25_only.ids == [MATCH]
    dense_only = store.query(VectorStoreQuery(query_str=QUERY, similarity_top_k=3, mode=HYBRID, alpha=1.0))
    assert dense_only.ids == dense.ids
    # filters and node ids narrow both sides
    filters = MetadataFilters(filters=[MetadataFilter(key="n", value=6, operator=FilterOperator.GTE)])
    narrowed = store.query(VectorStoreQuery(query_str=QUERY, similarity_top_k=10, mode=HYBRID, filters=filters))
    assert narrowed.ids and all(int(i[1:]) >= 6 for i in narrowed.ids)
    picked = store.query(VectorStoreQuery(query_str=QUERY, similarity_top_k=10, mode=HYBRID, node_ids=["d1", "d6"]))
    assert sorted(picked.ids) == ["d1", "d6"]


def test_index_retriever_in_hybrid_mode(client):
    store = HuedbVectorStore(collection_name=f"i-{uuid.uuid4().hex[:8]}", client=client, hybrid=True)
    index = VectorStoreIndex(
        _nodes(), storage_context=StorageContext.from_defaults(vector_store=store), embed_model=DefaultEmbedding()
    )
    retriever = index.as_retriever(vector_store_query_mode="hybrid", similarity_top_k=3, alpha=0.5)
    assert MATCH in [n.node.node_id for n in retriever.retrieve(QUERY)]
    plain = index.as_retriever(similarity_top_k=3)
    assert MATCH not in [n.node.node_id for n in plain.retrieve(QUERY)]


def test_hybrid_needs_a_bm25_index_and_a_query_string(client):
    store = HuedbVectorStore(collection_name=f"p-{uuid.uuid4().hex[:8]}", client=client)
    store.add(_nodes()[:2])
    with pytest.raises(huedb.errors.InvalidArgumentError, match="bm25_schema"):
        store.query(VectorStoreQuery(query_str="battery", mode=HYBRID))
    with pytest.raises(ValueError, match="query_str"):
        store.query(VectorStoreQuery(query_embedding=[0.0] * 384, mode=HYBRID))


def test_records_written_without_llamaindex_lose_only_the_bm25_vector(client):
    """A record added with huedb's own API (no LlamaIndex node content) comes back as a TextNode
    whose metadata is the record's, without the BM25 vector the hybrid collection keeps beside it."""
    from huedb.api.hybrid import DEFAULT_SPARSE_KEY, bm25_schema

    collection = client.create_collection(f"o-{uuid.uuid4().hex[:8]}", schema=bm25_schema())
    documents = CORPUS["documents"]
    collection.add(
        ids=list(documents), documents=list(documents.values()), metadatas=[{"n": i} for i in range(len(documents))]
    )
    assert DEFAULT_SPARSE_KEY in collection.get(ids=[MATCH])["metadatas"][0]  # stored beside the user's keys
    store = HuedbVectorStore.from_collection(collection)
    expected = {node_id: {"n": i} for i, node_id in enumerate(documents)}
    got = store.get_nodes(node_ids=[MATCH])
    dense = store.query(VectorStoreQuery(query_str=QUERY, similarity_top_k=3)).nodes
    hybrid = store.query(VectorStoreQuery(query_str=QUERY, similarity_top_k=3, mode=HYBRID)).nodes
    for node in [*got, *dense, *hybrid]:
        assert node.metadata == expected[node.node_id]
