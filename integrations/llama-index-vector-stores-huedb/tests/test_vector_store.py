"""HuedbVectorStore with llama-index-core's own types: the behaviours of LlamaIndex's Chroma
store tests, rewritten for huedb, plus filters, MMR, and an index build -> retrieve -> filter ->
delete round trip."""

from __future__ import annotations

import math
import uuid

import pytest
from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.embeddings import BaseEmbedding
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)
from llama_index.vector_stores.huedb import HuedbVectorStore, to_huedb_where

import huedb

VOCAB = ["cat", "dog", "fish", "car", "train", "plane", "money", "bank"]


class BagEmbedding(BaseEmbedding):
    """Unit vectors of word counts over a fixed vocabulary (plus 0.01): texts sharing words are near."""

    @staticmethod
    def _bag(text: str) -> list[float]:
        words = text.lower().replace(".", " ").replace(",", " ").split()
        counts = [words.count(w) + 0.01 for w in VOCAB]
        norm = math.sqrt(sum(c * c for c in counts))
        return [c / norm for c in counts]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._bag(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._bag(text)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._bag(query)


def _f(key: str, value, op: FilterOperator = FilterOperator.EQ) -> MetadataFilter:
    return MetadataFilter(key=key, value=value, operator=op)


@pytest.fixture()
def vector_store() -> HuedbVectorStore:
    client = huedb.EphemeralClient()
    return HuedbVectorStore(huedb_collection=client.create_collection(f"li-{uuid.uuid4().hex[:12]}"))


@pytest.fixture()
def node_embeddings() -> list[TextNode]:
    def node(i: str, text: str, source: str, metadata: dict, embedding: list[float]) -> TextNode:
        return TextNode(
            text=text,
            id_=i,
            relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=source)},
            metadata=metadata,
            embedding=embedding,
        )

    return [
        node(
            "n1",
            "lorem ipsum",
            "doc-0",
            {"author": "Stephen King", "theme": "Friendship", "year": 1982, "tags": ["horror", "novel"]},
            [1.0, 0.0, 0.0],
        ),
        node(
            "n2",
            "lorem ipsum",
            "doc-1",
            {"director": "Francis Ford Coppola", "theme": "Mafia", "year": 1972, "tags": ["film"]},
            [0.0, 1.0, 0.0],
        ),
        node("n3", "lorem ipsum", "doc-2", {"director": "Christopher Nolan", "year": 2010}, [0.0, 0.0, 1.0]),
        node(
            "n4",
            "I was taught that the way of progress was neither swift nor easy.",
            "doc-3",
            {"author": "Marie Curie", "year": 1921},
            [0.0, 0.0, 0.9],
        ),
        node(
            "n5",
            "The important thing is not to stop questioning.",
            "doc-4",
            {"author": "Albert Einstein", "year": 1955, "tags": ["science", "quote"]},
            [0.0, 0.0, 0.5],
        ),
        node(
            "n6",
            "I am no bird; and no net ensnares me.",
            "doc-4",
            {"author": "Charlotte Bronte", "year": 1847, "tags": ["novel", "quote"]},
            [0.0, 0.0, 0.3],
        ),
    ]


def test_instance_creation(tmp_path, huedb_server) -> None:
    client = huedb.EphemeralClient()
    collection = client.get_or_create_collection("llama_collection")
    assert HuedbVectorStore.from_collection(collection).client == collection
    with pytest.raises(TypeError):
        HuedbVectorStore.from_collection(object())
    persisted = HuedbVectorStore.from_params(collection_name="llama_collection", persist_dir=str(tmp_path))
    assert persisted.client.name == "llama_collection" and persisted.persist_dir == str(tmp_path)
    host, port = huedb_server
    remote = HuedbVectorStore.from_params(collection_name="llama_collection", host=host, port=port)
    assert remote.client.count() == 0
    assert HuedbVectorStore().collection_name == "llama_index"
    with pytest.raises(ValueError):
        HuedbVectorStore.from_params(collection_name="x")


@pytest.mark.parametrize("use_async", [True, False])
async def test_add_and_query(vector_store, node_embeddings, use_async) -> None:
    q = VectorStoreQuery(query_embedding=[1.0, 0.0, 0.0], similarity_top_k=1)
    if use_async:
        assert await vector_store.async_add(node_embeddings) == [n.node_id for n in node_embeddings]
        res = await vector_store.aquery(q)
    else:
        assert vector_store.add(node_embeddings) == [n.node_id for n in node_embeddings]
        res = vector_store.query(q)
    assert res.ids == ["n1"] and res.nodes[0].get_content() == "lorem ipsum"
    assert res.nodes[0].metadata["author"] == "Stephen King"
    assert res.nodes[0].ref_doc_id == "doc-0"
    assert res.similarities[0] == pytest.approx(1.0)  # l2 distance 0 -> exp(0)


@pytest.mark.parametrize("use_async", [True, False])
async def test_query_by_metadata_filters_only(vector_store, node_embeddings, use_async) -> None:
    filters = MetadataFilters(filters=[_f("author", "Marie Curie")], condition=FilterCondition.AND)
    q = VectorStoreQuery(filters=filters, similarity_top_k=1)
    if use_async:
        await vector_store.async_add(node_embeddings)
        res = await vector_store.aquery(q)
    else:
        vector_store.add(node_embeddings)
        res = vector_store.query(q)
    assert res.nodes[0].get_content() == "I was taught that the way of progress was neither swift nor easy."


def test_get_nodes_delete_nodes_clear(vector_store, node_embeddings) -> None:
    vector_store.add(node_embeddings)
    got = vector_store.get_nodes(node_ids=["n3", "n1", "n2"])
    assert [n.node_id for n in got] == ["n3", "n1", "n2"]
    assert [n.get_content() for n in got] == ["lorem ipsum"] * 3
    assert {n.node_id for n in vector_store.get_nodes(filters=MetadataFilters(filters=[_f("theme", "Mafia")]))} == {
        "n2"
    }
    vector_store.delete_nodes(node_ids=["n1", "n2"])
    assert [n.node_id for n in vector_store.get_nodes(node_ids=["n1", "n2", "n3"])] == ["n3"]
    vector_store.delete_nodes(filters=MetadataFilters(filters=[_f("year", 1900, FilterOperator.LT)]))
    assert vector_store.get_nodes(node_ids=["n6"]) == []
    vector_store.delete_nodes(node_ids=[])  # what LlamaIndex sends for "nothing": no error, nothing deleted
    vector_store.delete_nodes()
    assert vector_store.client.count() == 3
    vector_store.clear()
    assert vector_store.get_nodes(node_ids=["n3", "n4", "n5"]) == [] and vector_store.client.count() == 0
    vector_store.clear()  # on an empty collection: no error


async def test_async_deletes(vector_store, node_embeddings) -> None:
    await vector_store.async_add(node_embeddings)
    await vector_store.adelete("doc-4")
    await vector_store.adelete_nodes(node_ids=["n1"])
    assert sorted(n.node_id for n in await vector_store.aget_nodes(filters=None)) == ["n2", "n3", "n4"]
    await vector_store.aclear()
    assert vector_store.client.count() == 0


def test_delete_ref_doc(vector_store, node_embeddings) -> None:
    vector_store.add(node_embeddings)
    vector_store.delete("doc-4")
    assert sorted(vector_store.client.get()["ids"]) == ["n1", "n2", "n3", "n4"]
    vector_store.delete("no-such-doc")
    assert vector_store.client.count() == 4


FILTER_CASES = [
    ([_f("theme", "Mafia")], FilterCondition.AND, {"n2"}),
    ([_f("theme", "Mafia", FilterOperator.NE)], FilterCondition.AND, {"n1", "n3", "n4", "n5", "n6"}),
    ([_f("year", 1955, FilterOperator.GT)], FilterCondition.AND, {"n1", "n2", "n3"}),
    ([_f("year", 1955, FilterOperator.GTE)], FilterCondition.AND, {"n1", "n2", "n3", "n5"}),
    ([_f("year", 1921, FilterOperator.LT)], FilterCondition.AND, {"n6"}),
    ([_f("year", 1921, FilterOperator.LTE)], FilterCondition.AND, {"n4", "n6"}),
    ([_f("author", ["Marie Curie", "Albert Einstein"], FilterOperator.IN)], FilterCondition.AND, {"n4", "n5"}),
    ([_f("year", [1982, 1972], FilterOperator.NIN)], FilterCondition.AND, {"n3", "n4", "n5", "n6"}),
    ([_f("tags", "novel", FilterOperator.CONTAINS)], FilterCondition.AND, {"n1", "n6"}),
    ([_f("tags", ["film", "science"], FilterOperator.ANY)], FilterCondition.AND, {"n2", "n5"}),
    ([_f("tags", ["novel", "quote"], FilterOperator.ALL)], FilterCondition.AND, {"n6"}),
    ([_f("year", 1900, FilterOperator.GT), _f("year", 1960, FilterOperator.LT)], FilterCondition.AND, {"n4", "n5"}),
    ([_f("theme", "Mafia"), _f("author", "Marie Curie")], FilterCondition.OR, {"n2", "n4"}),
    ([_f("tags", "quote", FilterOperator.CONTAINS), _f("theme", "Mafia")], FilterCondition.NOT, {"n1", "n3", "n4"}),
    ([_f("author", ["Marie Curie", "Stephen King"], FilterOperator.IN)], FilterCondition.NOT, {"n2", "n3", "n5", "n6"}),
    (
        [
            _f("year", 2000, FilterOperator.LT),
            MetadataFilters(
                filters=[_f("theme", "Mafia"), _f("tags", "quote", FilterOperator.CONTAINS)],
                condition=FilterCondition.OR,
            ),
        ],
        FilterCondition.AND,
        {"n2", "n5", "n6"},
    ),
]


@pytest.mark.parametrize(("filters", "condition", "expected"), FILTER_CASES)
def test_filter_operators(vector_store, node_embeddings, filters, condition, expected) -> None:
    vector_store.add(node_embeddings)
    mf = MetadataFilters(filters=filters, condition=condition)
    res = vector_store.query(VectorStoreQuery(query_embedding=[0.0, 0.0, 1.0], similarity_top_k=10, filters=mf))
    assert set(res.ids) == expected
    assert {n.node_id for n in vector_store.get_nodes(filters=mf)} == expected


def test_unmappable_filters_raise() -> None:
    for op in (FilterOperator.TEXT_MATCH, FilterOperator.TEXT_MATCH_INSENSITIVE, FilterOperator.IS_EMPTY):
        with pytest.raises(ValueError, match=op.value):
            to_huedb_where(MetadataFilters(filters=[_f("k", "v", op)]))
    with pytest.raises(ValueError, match="NOT"):
        to_huedb_where(MetadataFilters(filters=[_f("year", 3, FilterOperator.GT)], condition=FilterCondition.NOT))
    assert to_huedb_where(MetadataFilters(filters=[])) is None


def test_query_narrowing(vector_store, node_embeddings) -> None:
    vector_store.add(node_embeddings)
    q = VectorStoreQuery(query_embedding=[0.0, 0.0, 1.0], similarity_top_k=10, doc_ids=["doc-4"])
    assert set(vector_store.query(q).ids) == {"n5", "n6"}
    q = VectorStoreQuery(query_embedding=[0.0, 0.0, 1.0], similarity_top_k=10, node_ids=["n1", "n4"])
    assert vector_store.query(q).ids == ["n4", "n1"]
    q = VectorStoreQuery(query_embedding=[0.0, 0.0, 1.0], similarity_top_k=10)
    assert vector_store.query(q, where_document={"$contains": "bird"}).ids == ["n6"]
    assert vector_store.query(q, where={"year": 2010}).ids == ["n3"]
    with pytest.raises(ValueError):
        vector_store.query(
            VectorStoreQuery(query_embedding=[0.0, 0.0, 1.0], filters=MetadataFilters(filters=[_f("a", 1)])),
            where={"b": 1},
        )
    with pytest.raises(ValueError, match="svm"):
        vector_store.query(VectorStoreQuery(query_embedding=[0.0, 0.0, 1.0], mode=VectorStoreQueryMode.SVM))


def test_mmr(vector_store) -> None:
    nodes = [
        TextNode(id_="a", text="a", embedding=[1.0, 0.0]),
        TextNode(id_="a2", text="a2", embedding=[0.99, 0.05]),
        TextNode(id_="b", text="b", embedding=[0.7, 0.7]),
    ]
    vector_store.add(nodes)
    plain = vector_store.query(VectorStoreQuery(query_embedding=[1.0, 0.0], similarity_top_k=2))
    assert plain.ids == ["a", "a2"]
    q = VectorStoreQuery(query_embedding=[1.0, 0.0], similarity_top_k=2, mode=VectorStoreQueryMode.MMR)
    diverse = vector_store.query(q, mmr_threshold=0.1)
    assert diverse.ids == ["a", "b"] and len(diverse.similarities) == 2
    assert vector_store.query(q, mmr_threshold=1.0, mmr_prefetch_k=3).ids == ["a", "a2"]
    with pytest.raises(ValueError):
        vector_store.query(q, mmr_prefetch_k=3, mmr_prefetch_factor=2.0)


def test_cosine_similarity_scores() -> None:
    collection = huedb.EphemeralClient().create_collection(
        f"li-{uuid.uuid4().hex[:12]}", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
    )
    store = HuedbVectorStore(huedb_collection=collection)
    store.add([TextNode(id_="x", text="x", embedding=[2.0, 0.0]), TextNode(id_="y", text="y", embedding=[0.0, 1.0])])
    res = store.query(VectorStoreQuery(query_embedding=[1.0, 0.0], similarity_top_k=2))
    assert res.ids == ["x", "y"]
    assert res.similarities == pytest.approx([1.0, 0.0], abs=1e-5)


def test_nodes_without_embeddings_use_the_collections_ef(tmp_path) -> None:
    """A store on a collection with a persisted EF (huedb's default, offline) embeds nodes and query text."""
    huedb.PersistentClient(path=str(tmp_path)).create_collection("with-ef")
    store = HuedbVectorStore.from_params(collection_name="with-ef", persist_dir=str(tmp_path))
    store.add([TextNode(id_="pets", text="The cat sat on the mat"), TextNode(id_="fin", text="Stock markets fell")])
    res = store.query(VectorStoreQuery(query_str="a kitten on a rug", similarity_top_k=1))
    assert res.ids == ["pets"]
    mmr = store.query(VectorStoreQuery(query_str="shares and bonds", similarity_top_k=1, mode="mmr"))
    assert mmr.ids == ["fin"]


def test_index_build_retrieve_filter_delete(tmp_path) -> None:
    store = HuedbVectorStore(persist_dir=str(tmp_path), collection_name="index-test")
    docs = [
        Document(text="The cat and the dog play.", doc_id="pets", metadata={"topic": "animals", "year": 2020}),
        Document(
            text="A fish swims. A cat watches the fish.", doc_id="aquarium", metadata={"topic": "animals", "year": 2024}
        ),
        Document(
            text="The train and the plane and the car.", doc_id="travel", metadata={"topic": "transport", "year": 2024}
        ),
        Document(text="The bank holds the money.", doc_id="finance", metadata={"topic": "money", "year": 2019}),
    ]
    index = VectorStoreIndex.from_documents(
        docs, storage_context=StorageContext.from_defaults(vector_store=store), embed_model=BagEmbedding()
    )
    top = index.as_retriever(similarity_top_k=1).retrieve("money in the bank")
    assert top[0].node.ref_doc_id == "finance" and top[0].node.metadata["topic"] == "money"
    filtered = index.as_retriever(
        similarity_top_k=3,
        filters=MetadataFilters(filters=[_f("topic", "animals"), _f("year", 2023, FilterOperator.GT)]),
    ).retrieve("cat")
    assert [r.node.ref_doc_id for r in filtered] == ["aquarium"]
    index.delete_ref_doc("aquarium", delete_from_docstore=True)
    after = index.as_retriever(similarity_top_k=4).retrieve("fish")
    assert "aquarium" not in {r.node.ref_doc_id for r in after} and len(after) == 3
    # reopened from disk: the same records, retrievable by a new index over the store
    reopened = VectorStoreIndex.from_vector_store(
        HuedbVectorStore(persist_dir=str(tmp_path), collection_name="index-test"), embed_model=BagEmbedding()
    )
    assert reopened.as_retriever(similarity_top_k=1).retrieve("plane")[0].node.ref_doc_id == "travel"


def test_http_store(huedb_server, node_embeddings) -> None:
    host, port = huedb_server
    store = HuedbVectorStore(host=host, port=port, collection_name=f"li-{uuid.uuid4().hex[:12]}")
    store.add(node_embeddings)
    mf = MetadataFilters(filters=[_f("tags", ["film", "science"], FilterOperator.ANY)])
    assert set(store.query(VectorStoreQuery(query_embedding=[0.0, 1.0, 0.0], similarity_top_k=5, filters=mf)).ids) == {
        "n2",
        "n5",
    }
    store.delete_nodes(node_ids=[])
    store.delete("doc-4")
    store.clear()
    assert store.client.count() == 0
