"""Collection: the client-side handle, as in chromadb.

Every record method first validates the whole request with ``huedb.requests``
(ids, metadata, filters, include, ...), and only then turns documents, images or
URIs into embeddings with the collection's embedding function (client side, for
embedded and HTTP clients alike): a request that fails never reaches a paid
embedding function. It then hands the checked ids/vectors/fields to the
ServerAPI, which validates again (a server cannot trust its clients) and stores.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from huedb.api.collection_embed import EmbedMixin
from huedb.api.collection_fork import ForkMixin
from huedb.api.data_include import data_include, finish_data
from huedb.api.schema import Schema
from huedb.api.search import ReadLevel, SearchResult, run_search
from huedb.api.server_api import ServerAPI
from huedb.api.steps import ApiCall, Steps, api_call, steps, steps_of
from huedb.api.types import IndexingStatus
from huedb.configuration import validate_request
from huedb.errors import InvalidArgumentError
from huedb.execution.expression import Search  # noqa: F401 - chromadb exports it here
from huedb.index_schema import served
from huedb.requests import (
    DEFAULT_GET_INCLUDE,
    DEFAULT_QUERY_INCLUDE,
    as_list,
    explicit_include,
    validate_delete,
    validate_get,
    validate_query,
    validate_write,
)
from huedb.types import CLEARABLE_FIELDS, CollectionModel, GetResult, QueryResult

if TYPE_CHECKING:
    from huedb.api.client import Client

__all__ = ["Collection", "GetResult", "QueryResult", "Search", "SearchResult"]


class Collection(ForkMixin, EmbedMixin):
    def __init__(
        self,
        client: Client,
        model: CollectionModel,
        embedding_function: Any = None,
        data_loader: Any = None,
    ) -> None:
        self._client = client
        self._model = model
        self._embedding_function = embedding_function
        self._data_loader = data_loader

    # -- properties --------------------------------------------------------
    @property
    def _api(self) -> ServerAPI:
        return self._client._server

    @property
    def name(self) -> str:
        return self._model.name

    @property
    def id(self) -> uuid.UUID:
        return uuid.UUID(self._model.id)

    @property
    def metadata(self) -> dict[str, Any] | None:
        return self._model.metadata

    @property
    def tenant(self) -> str:
        return self._model.tenant

    @property
    def database(self) -> str:
        return self._model.database

    @property
    def configuration_json(self) -> dict[str, Any]:
        return self._model.configuration_json

    @property
    def configuration(self) -> dict[str, Any]:
        """Effective configuration: hnsw parameters, index plugin and the embedding function object."""
        cfg = self._model.configuration_json
        return {
            "hnsw": dict(cfg["hnsw"]),
            "index": dict(cfg.get("index") or {}),
            "embedding_function": self._embedding_function,
        }

    @property
    def embedding_function(self) -> Any:
        return self._embedding_function

    @property
    def schema(self) -> Schema:
        """The collection's index schema (``huedb.Schema``): what it was created with, its vector
        index as the collection is configured; Chroma's default schema when none was given."""
        return Schema.deserialize_from_json(served(self._model.schema, self._model.configuration_json))

    def get_model(self) -> CollectionModel:
        """The collection's model (id, name, metadata, configuration_json, dimension, tenant,
        database, version), subscriptable as chromadb's: ``model["name"]``."""
        return self._model

    @steps
    def get_indexing_status(self) -> Steps[IndexingStatus]:
        """How many records are indexed: huedb applies a write to the index before acknowledging
        it, so all are (progress 1.0), as the server's ``indexing_status`` route answers too."""
        total = yield from steps_of(self.count)
        return IndexingStatus(num_indexed_ops=total, num_unindexed_ops=0, total_ops=total, op_indexing_progress=1.0)

    @property
    def data_loader(self) -> Any:
        return self._data_loader

    def __repr__(self) -> str:
        return f"Collection(name={self.name})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Collection) and other._model.id == self._model.id

    def __hash__(self) -> int:
        return hash(self._model.id)

    def _scope(self) -> dict[str, str]:
        return {"tenant": self._model.tenant, "database": self._model.database}

    def _perform(self, call: ApiCall) -> Any:
        """Performs a step's ServerAPI call (huedb.api.steps; the async collection awaits it instead)."""
        return getattr(self._api, call.name)(*call.args, **call.kwargs)

    # -- records -----------------------------------------------------------
    @steps
    def count(self, read_level: Any = ReadLevel.INDEX_AND_WAL) -> Steps[int]:
        # huedb has no write-ahead log to skip: every level counts every committed record
        try:
            ReadLevel(getattr(read_level, "value", read_level))
        except ValueError:
            raise InvalidArgumentError(
                f"read_level must be a ReadLevel ({', '.join(level.value for level in ReadLevel)}), got {read_level!r}"
            ) from None
        return (yield api_call("_count", self._model.id, **self._scope()))

    @steps
    def add(
        self,
        ids: Any,
        embeddings: Any = None,
        metadatas: Any = None,
        documents: Any = None,
        images: Any = None,
        uris: Any = None,
    ) -> Steps[None]:
        request = validate_write("add", as_list(ids), embeddings, metadatas, as_list(documents), as_list(uris), images)
        vectors = self._vectors(request)
        yield api_call(
            "_add",
            self._model.id,
            request.ids,
            vectors,
            request.metadatas,
            request.documents,
            request.uris,
            **self._scope(),
        )

    @steps
    def upsert(
        self,
        ids: Any,
        embeddings: Any = None,
        metadatas: Any = None,
        documents: Any = None,
        images: Any = None,
        uris: Any = None,
    ) -> Steps[None]:
        request = validate_write(
            "upsert",
            as_list(ids),
            embeddings,
            metadatas,
            as_list(documents),
            as_list(uris),
            images,
            self._replaced_modalities(documents, images, uris),
        )
        vectors = self._vectors(request)
        yield api_call(
            "_upsert",
            self._model.id,
            request.ids,
            vectors,
            request.metadatas,
            request.documents,
            request.uris,
            **self._scope(),
            clear=request.clear,
        )

    @steps
    def update(
        self,
        ids: Any,
        embeddings: Any = None,
        metadatas: Any = None,
        documents: Any = None,
        images: Any = None,
        uris: Any = None,
    ) -> Steps[None]:
        request = validate_write(
            "update",
            as_list(ids),
            embeddings,
            metadatas,
            as_list(documents),
            as_list(uris),
            images,
            self._replaced_modalities(documents, images, uris),
        )
        vectors = self._vectors(request)
        yield api_call(
            "_update",
            self._model.id,
            request.ids,
            vectors,
            request.metadatas,
            request.documents,
            request.uris,
            **self._scope(),
            clear=request.clear,
        )

    def _replaced_modalities(self, documents: Any, images: Any, uris: Any) -> tuple[str, ...]:
        """Stored fields that a write in another modality empties: a record has one modality.

        Images replace the document and any URI (images themselves are never stored). In a
        collection with a data loader, URIs replace the document and documents replace the URI.
        Anywhere else a field that is not given stays as it is, as in Chroma.
        """
        if images is not None:
            return CLEARABLE_FIELDS  # images are never stored: the record keeps neither document nor URI
        if self._data_loader is not None:
            if uris is not None and documents is None:
                return ("documents",)
            if documents is not None and uris is None:
                return ("uris",)
        return ()

    @steps
    def delete(
        self, ids: Any = None, where: Any = None, where_document: Any = None, limit: int | None = None
    ) -> Steps[dict[str, int]]:
        """Deletes records; ``{"deleted": n}`` as Chroma (n: records that existed and are gone)."""
        r = validate_delete(as_list(ids), where, where_document, limit)
        n = yield api_call("_delete", self._model.id, r.ids, r.where, r.where_document, **self._scope(), limit=r.limit)
        return {"deleted": int(n)}

    @steps
    def get(
        self,
        ids: Any = None,
        where: Any = None,
        limit: int | None = None,
        offset: int | None = None,
        where_document: Any = None,
        include: Any = DEFAULT_GET_INCLUDE,
    ) -> Steps[GetResult]:
        request = validate_get(as_list(ids), where, where_document, limit, offset, explicit_include(include, "get"))
        server_include, want_data, hide_uris = data_include(request.include, self._data_loader, self.name)
        result = yield api_call(
            "_get",
            self._model.id,
            request.ids,
            request.where,
            request.limit,
            request.offset,
            request.where_document,
            server_include,
            **self._scope(),
        )
        if want_data:
            result["data"] = self._data_loader(result["uris"])
            finish_data(result, hide_uris)
        return result

    @steps
    def peek(self, limit: int = 10) -> Steps[GetResult]:
        return (yield from steps_of(self.get, limit=limit, include=["embeddings", "documents", "metadatas"]))

    @steps
    def query(
        self,
        query_embeddings: Any = None,
        query_texts: Any = None,
        query_images: Any = None,
        query_uris: Any = None,
        ids: Any = None,
        n_results: int = 10,
        where: Any = None,
        where_document: Any = None,
        include: Any = DEFAULT_QUERY_INCLUDE,
    ) -> Steps[QueryResult]:
        request = validate_query(
            query_embeddings,
            query_texts,
            query_images,
            query_uris,
            as_list(ids),
            n_results,
            where,
            where_document,
            explicit_include(include, "query"),
        )
        server_include, want_data, hide_uris = data_include(request.include, self._data_loader, self.name)
        vectors = request.query_embeddings
        if vectors is None:
            vectors = self._embed(request.query_texts, request.query_images, request.query_uris, query=True)
        result = yield api_call(
            "_query",
            self._model.id,
            vectors,
            request.n_results,
            request.where,
            request.where_document,
            server_include,
            request.ids,
            **self._scope(),
        )
        if want_data:
            result["data"] = [self._data_loader(u) for u in result["uris"] or []]
            finish_data(result, hide_uris)
        return result

    def search(self, searches: Any, read_level: Any = ReadLevel.INDEX_AND_WAL) -> SearchResult:
        """Runs a Search, or a list of them as one batch (``huedb.api.search``)."""
        return run_search(self, searches, read_level)

    @steps
    def modify(
        self,
        name: str | None = None,
        metadata: dict[str, Any] | None = None,
        configuration: dict[str, Any] | None = None,
    ) -> Steps[None]:
        config_update = None
        if configuration is not None:
            if not isinstance(configuration, Mapping):
                raise InvalidArgumentError(
                    f"configuration must be a dict such as {{'hnsw': {{'ef_search': 200}}}}, got "
                    f"{type(configuration).__name__}"
                )
            config_update = dict(configuration)
            ef = config_update.get("embedding_function")
            validate_request(
                {k: v for k, v in config_update.items() if k != "embedding_function"},
                where="configuration",
                update=True,
            )
            if ef is not None and not callable(ef):
                raise InvalidArgumentError(
                    f"configuration['embedding_function'] must be an embedding function, got {type(ef).__name__}"
                )
            if ef is not None:
                from huedb.ef_persistence import serialize

                config_update["embedding_function"] = serialize(ef)
                self._embedding_function = ef
        self._model = yield api_call(
            "modify_collection", self._model.id, name, metadata, config_update, **self._scope()
        )
