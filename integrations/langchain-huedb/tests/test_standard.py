"""langchain-tests' standard vector-store suite (sync and async), embedded and over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from langchain_core.vectorstores import VectorStore
from langchain_huedb import HuedbVectorStore
from langchain_tests.integration_tests.vectorstores import VectorStoreIntegrationTests

import huedb


class TestHuedbEmbedded(VectorStoreIntegrationTests):
    @pytest.fixture()
    def vectorstore(self) -> Iterator[VectorStore]:  # type: ignore[override]
        client = huedb.EphemeralClient()
        store = HuedbVectorStore(
            collection_name=f"lc-{uuid.uuid4().hex}", embedding_function=self.get_embeddings(), client=client
        )
        try:
            yield store
        finally:
            store.delete_collection()


class TestHuedbPersistent(VectorStoreIntegrationTests):
    @pytest.fixture()
    def vectorstore(self, tmp_path) -> Iterator[VectorStore]:  # type: ignore[override]
        yield HuedbVectorStore(
            collection_name="langchain-tests", embedding_function=self.get_embeddings(), persist_directory=str(tmp_path)
        )


class TestHuedbHttp(VectorStoreIntegrationTests):
    @pytest.fixture()
    def vectorstore(self, huedb_server) -> Iterator[VectorStore]:  # type: ignore[override]
        host, port = huedb_server
        store = HuedbVectorStore(
            collection_name=f"lc-{uuid.uuid4().hex}", embedding_function=self.get_embeddings(), host=host, port=port
        )
        try:
            yield store
        finally:
            store.delete_collection()
