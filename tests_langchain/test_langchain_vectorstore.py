"""LangChain's standard VectorStoreIntegrationTests through langchain_chroma.Chroma(client=huedb client).

Run by .ci/langchain_step.sh in its own venv (langchain-chroma depends on chromadb, which
never goes into huedb's venv). Two variants:

* ``TestWithEmbeddings``: Chroma(client=..., embedding_function=<langchain-tests' fake>),
  the way most LangChain code is written;
* ``TestWithoutEmbeddingFunction``: no ``embedding_function`` argument at all, so
  langchain-chroma creates its collection with ``embedding_function=None`` and huedb must
  embed the texts with its default EF (as Chroma 1.5.9 does).
"""

from __future__ import annotations

import uuid
from collections.abc import Generator

import pytest
from langchain_chroma import Chroma
from langchain_core.vectorstores import VectorStore
from langchain_tests.integration_tests.vectorstores import VectorStoreIntegrationTests

import huedb
from huedb.config import Settings


@pytest.fixture(scope="module")
def huedb_client(tmp_path_factory):
    client = huedb.PersistentClient(path=str(tmp_path_factory.mktemp("lc") / "db"), settings=Settings(allow_reset=True))
    yield client
    client.close()


class TestWithEmbeddings(VectorStoreIntegrationTests):
    @pytest.fixture()
    def vectorstore(self, huedb_client) -> Generator[VectorStore, None, None]:  # type: ignore[override]
        store = Chroma(
            client=huedb_client,
            collection_name=f"lc-{uuid.uuid4().hex[:12]}",
            embedding_function=self.get_embeddings(),
        )
        try:
            yield store
        finally:
            store.delete_collection()


class TestWithoutEmbeddingFunction(VectorStoreIntegrationTests):
    @pytest.fixture()
    def vectorstore(self, huedb_client) -> Generator[VectorStore, None, None]:  # type: ignore[override]
        store = Chroma(client=huedb_client, collection_name=f"lc-noef-{uuid.uuid4().hex[:12]}")
        try:
            yield store
        finally:
            store.delete_collection()


def test_without_embedding_function_huedb_embeds_with_its_default_ef(huedb_client):
    """The no-EF variant is real: the texts were embedded by huedb's default EF (384-d MiniLM)."""
    store = Chroma(client=huedb_client, collection_name=f"lc-default-{uuid.uuid4().hex[:12]}")
    try:
        store.add_texts(["the cat sat on the mat", "quarterly tax filing deadline"], ids=["cat", "tax"])
        got = huedb_client.get_collection(store._collection.name).get(ids=["cat"], include=["embeddings"])
        assert len(got["embeddings"][0]) == 384
        assert [d.id for d in store.similarity_search("a kitten resting on a rug", k=1)] == ["cat"]
        assert [d.id for d in store.similarity_search("when are taxes due", k=1)] == ["tax"]
    finally:
        store.delete_collection()
