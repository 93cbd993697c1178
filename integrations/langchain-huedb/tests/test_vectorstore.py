"""HuedbVectorStore beyond the standard suite: what langchain_chroma.Chroma offers."""

from __future__ import annotations

import math
import uuid

import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_huedb import HuedbVectorStore

import huedb

VOCAB = ["cat", "dog", "fish", "bird", "car", "train", "plane", "boat"]


class BagEmbeddings(Embeddings):
    """Unit vectors of word counts over a fixed vocabulary (plus 0.01 so none is zero): texts
    sharing words are near."""

    def _embed(self, text: str) -> list[float]:
        words = text.lower().replace(".", " ").split()
        counts = [words.count(w) + 0.01 for w in VOCAB]
        norm = math.sqrt(sum(c * c for c in counts))
        return [c / norm for c in counts]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


class ImageEmbeddings(BagEmbeddings):
    """Embeds an image file by its name (cat.png is near "cat")."""

    def embed_image(self, uris: list[str]) -> list[list[float]]:
        return [self._embed(u.rsplit("/", 1)[-1].split(".")[0]) for u in uris]


TEXTS = ["cat cat", "cat dog", "dog dog", "car train", "plane boat", "fish bird"]
METAS = [
    {"kind": "pet", "n": 1},
    {"kind": "pet", "n": 2},
    {"kind": "pet", "n": 3},
    {"kind": "vehicle", "n": 4},
    {"kind": "vehicle", "n": 5},
    {"kind": "animal", "n": 6},
]


def _name() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture()
def store() -> HuedbVectorStore:
    return HuedbVectorStore.from_texts(
        TEXTS,
        BagEmbeddings(),
        metadatas=METAS,
        ids=[f"id{i}" for i in range(len(TEXTS))],
        collection_name=_name(),
        client=huedb.EphemeralClient(),
    )


def test_similarity_search_ranks_by_embedding(store: HuedbVectorStore) -> None:
    docs = store.similarity_search("cat", k=2)
    assert [d.id for d in docs] == ["id0", "id1"]
    assert docs[0].page_content == "cat cat" and docs[0].metadata == {"kind": "pet", "n": 1}


def test_scores_are_distances_and_relevance_is_normalised(store: HuedbVectorStore) -> None:
    scored = store.similarity_search_with_score("cat cat", k=3)
    assert scored[0][0].id == "id0" and scored[0][1] == pytest.approx(0.0, abs=1e-4)
    assert scored[0][1] <= scored[1][1] <= scored[2][1]
    relevance = store.similarity_search_with_relevance_scores("cat cat", k=3)
    assert relevance[0][1] == pytest.approx(1.0, abs=1e-4)
    assert all(0.0 <= r <= 1.0 for _, r in relevance) and relevance[0][1] > relevance[2][1]


def test_cosine_space_uses_cosine_relevance() -> None:
    store = HuedbVectorStore(
        _name(),
        BagEmbeddings(),
        client=huedb.EphemeralClient(),
        collection_configuration={"hnsw": {"space": "cosine"}},
    )
    store.add_texts(["dog", "dog dog dog", "car"])
    # cosine ignores length: both dog texts are at distance ~0
    top = store.similarity_search_with_relevance_scores("dog", k=2)
    assert {d.page_content for d, _ in top} == {"dog", "dog dog dog"}
    assert all(r == pytest.approx(1.0, abs=1e-3) for _, r in top)


def test_search_by_vector(store: HuedbVectorStore) -> None:
    vec = BagEmbeddings().embed_query("plane boat")
    assert store.similarity_search_by_vector(vec, k=1)[0].id == "id4"
    scored = store.similarity_search_by_vector_with_relevance_scores(vec, k=2)
    assert scored[0][0].id == "id4" and scored[0][1] < scored[1][1]
    with_vectors = store.similarity_search_with_vectors("plane boat", k=1)
    assert with_vectors[0][0].id == "id4"
    assert list(with_vectors[0][1]) == pytest.approx(vec, abs=1e-5)


def test_filter_and_where_document(store: HuedbVectorStore) -> None:
    assert [d.id for d in store.similarity_search("cat", k=3, filter={"kind": "vehicle"})] == ["id3", "id4"]
    docs = store.similarity_search("cat", k=5, filter={"n": {"$gte": 2}}, where_document={"$contains": "dog"})
    assert [d.id for d in docs] == ["id1", "id2"]
    scored = store.similarity_search_with_score("cat", k=5, where_document={"$not_contains": "cat"})
    assert "id0" not in {d.id for d, _ in scored} and "id1" not in {d.id for d, _ in scored}
    got = store.get(where={"kind": "animal"})
    assert got["ids"] == ["id5"] and got["documents"] == ["fish bird"]
    assert store.get(where_document={"$contains": "train"}, include=["metadatas"])["metadatas"] == [METAS[3]]


def test_mmr_prefers_diversity(store: HuedbVectorStore) -> None:
    # Nearest two to "cat dog" are "cat dog" and then "cat cat" / "dog dog"; with strong diversity
    # the second pick is far from the first.
    similar = store.similarity_search("cat dog", k=2)
    diverse = store.max_marginal_relevance_search("cat dog", k=2, fetch_k=6, lambda_mult=0.1)
    assert similar[0].id == diverse[0].id == "id1"
    assert diverse[1].metadata["kind"] != "pet"
    by_vector = store.max_marginal_relevance_search_by_vector(
        BagEmbeddings().embed_query("cat dog"), k=2, fetch_k=6, lambda_mult=0.1, filter={"kind": "pet"}
    )
    assert [d.metadata["kind"] for d in by_vector] == ["pet", "pet"]


def test_retrievers(store: HuedbVectorStore) -> None:
    assert [d.id for d in store.as_retriever(search_kwargs={"k": 1}).invoke("train")] == ["id3"]
    mmr = store.as_retriever(search_type="mmr", search_kwargs={"k": 2, "fetch_k": 6, "lambda_mult": 0.1})
    assert len(mmr.invoke("cat dog")) == 2
    threshold = store.as_retriever(
        search_type="similarity_score_threshold", search_kwargs={"k": 6, "score_threshold": 0.9}
    )
    assert [d.id for d in threshold.invoke("cat cat")] == ["id0"]
    filtered = store.as_retriever(search_kwargs={"k": 3, "filter": {"kind": "vehicle"}})
    assert {d.id for d in filtered.invoke("cat")} == {"id3", "id4"}


async def test_async(store: HuedbVectorStore) -> None:
    ids = await store.aadd_texts(["boat boat"], metadatas=[{"kind": "vehicle"}])
    docs = await store.asimilarity_search("boat boat", k=1)
    assert docs[0].id == ids[0]
    assert [d.id for d in await store.amax_marginal_relevance_search("boat", k=1)] == ids
    assert (await store.as_retriever(search_kwargs={"k": 1}).ainvoke("boat boat"))[0].id == ids[0]
    await store.adelete(ids)
    assert await store.aget_by_ids(ids) == []


def test_from_documents_keeps_ids_and_update(store: HuedbVectorStore) -> None:
    client = huedb.EphemeralClient()
    docs = [Document("cat", metadata={"a": 1}, id="x"), Document("dog", id="y")]
    s = HuedbVectorStore.from_documents(docs, BagEmbeddings(), collection_name=_name(), client=client)
    assert sorted(d.id for d in s.get_by_ids(["x", "y", "missing"])) == ["x", "y"]
    assert s.get_by_ids(["y"])[0].metadata == {}
    s.update_document("x", Document("train", metadata={"a": 2}))
    assert s.similarity_search("train", k=1)[0].metadata == {"a": 2}


def test_delete_semantics(store: HuedbVectorStore) -> None:
    store.delete([])  # nothing, no error
    store.delete(["id0", "not-there"])
    store.delete(where={"kind": "vehicle"})
    assert sorted(store.get()["ids"]) == ["id1", "id2", "id5"]
    with pytest.raises(ValueError):
        store.delete()
    store.reset_collection()
    assert store.get()["ids"] == []
    store.delete_collection()
    with pytest.raises(ValueError):
        store.similarity_search("cat")


def test_persistent_store_reopens(tmp_path) -> None:
    name = _name()
    HuedbVectorStore.from_texts(TEXTS, BagEmbeddings(), collection_name=name, persist_directory=str(tmp_path))
    reopened = HuedbVectorStore(name, BagEmbeddings(), persist_directory=str(tmp_path))
    assert reopened.similarity_search("fish", k=1)[0].page_content == "fish bird"
    with pytest.raises(huedb.errors.NotFoundError):
        HuedbVectorStore(
            "no-such-collection",
            BagEmbeddings(),
            persist_directory=str(tmp_path),
            create_collection_if_not_exists=False,
        )
    with pytest.raises(ValueError):
        HuedbVectorStore(name, persist_directory=str(tmp_path), host="localhost")


def test_http_store(huedb_server) -> None:
    host, port = huedb_server
    store = HuedbVectorStore.from_texts(
        TEXTS, BagEmbeddings(), metadatas=METAS, collection_name=_name(), host=host, port=port
    )
    assert store.similarity_search("car", k=1, filter={"kind": "vehicle"})[0].page_content == "car train"
    assert len(store.max_marginal_relevance_search("cat", k=2)) == 2
    store.delete_collection()


def test_store_on_existing_collection_uses_its_persisted_ef(tmp_path) -> None:
    """No LangChain embedding: the collection's own (persisted) embedding function embeds texts and queries."""
    client = huedb.PersistentClient(path=str(tmp_path))
    collection = client.create_collection("with-default-ef")  # huedb's default EF (MiniLM, offline)
    collection.add(ids=["a", "b"], documents=["The cat sat on the mat", "Stock markets fell sharply today"])
    store = HuedbVectorStore(collection=collection)
    assert store.similarity_search("a kitten on a rug", k=1)[0].id == "a"
    by_name = HuedbVectorStore("with-default-ef", persist_directory=str(tmp_path))
    by_name.add_texts(["Interest rates and inflation"], ids=["c"])
    assert by_name.similarity_search("finance and the economy", k=2)[0].id in {"b", "c"}
    assert by_name.max_marginal_relevance_search("pets", k=1)[0].id == "a"


def test_images(tmp_path) -> None:
    for name in ("cat", "car"):
        (tmp_path / f"{name}.png").write_bytes(name.encode() * 8)
    store = HuedbVectorStore(_name(), ImageEmbeddings(), client=huedb.EphemeralClient())
    ids = store.add_images([str(tmp_path / "cat.png"), str(tmp_path / "car.png")], metadatas=[{"k": "c"}])
    assert len(ids) == 2
    hit = store.similarity_search_by_image(str(tmp_path / "cat.png"), k=1)[0]
    assert hit.page_content == HuedbVectorStore.encode_image(str(tmp_path / "cat.png"))
    assert hit.metadata == {"k": "c"}
    scored = store.similarity_search_by_image_with_relevance_score(str(tmp_path / "car.png"), k=2)
    assert scored[0][0].id == ids[1] and scored[0][1] < scored[1][1]
