"""Collection: the client-side handle, as in chromadb.

It turns documents, images and URIs into embeddings with the collection's
embedding function (client side, for embedded and HTTP clients alike), then
hands plain ids/vectors/fields to the ServerAPI, which validates and stores.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from huedb.api.models import CollectionModel
from huedb.configuration import validate_request
from huedb.embedding_functions import normalize_embeddings
from huedb.errors import InvalidArgumentError

if TYPE_CHECKING:
    from huedb.api.client import Client

GetResult = Dict[str, Any]
QueryResult = Dict[str, Any]


def _as_list(value: Any) -> Any:
    if value is None or isinstance(value, (list, tuple, np.ndarray)):
        return value
    return [value]


class Collection:
    def __init__(
        self,
        client: "Client",
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
    def _api(self) -> Any:
        return self._client._server

    @property
    def name(self) -> str:
        return self._model.name

    @property
    def id(self) -> Any:
        import uuid

        return uuid.UUID(self._model.id)

    @property
    def metadata(self) -> Optional[Dict[str, Any]]:
        return self._model.metadata

    @property
    def tenant(self) -> str:
        return self._model.tenant

    @property
    def database(self) -> str:
        return self._model.database

    @property
    def configuration_json(self) -> Dict[str, Any]:
        return self._model.configuration_json

    @property
    def configuration(self) -> Dict[str, Any]:
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
    def data_loader(self) -> Any:
        return self._data_loader

    def __repr__(self) -> str:
        return f"Collection(name={self.name})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Collection) and other._model.id == self._model.id

    def __hash__(self) -> int:
        return hash(self._model.id)

    def _scope(self) -> Dict[str, str]:
        return {"tenant": self._model.tenant, "database": self._model.database}

    # -- embedding ---------------------------------------------------------
    def _ef(self, purpose: str) -> Any:
        if self._embedding_function is None:
            raise InvalidArgumentError(
                f"Collection {self.name!r} has no embedding function, so it cannot embed {purpose}. "
                "Pass embeddings= yourself, or open the collection with embedding_function=..."
            )
        return self._embedding_function

    def _embed(self, documents: Any, images: Any, uris: Any, *, query: bool) -> Optional[np.ndarray]:
        """Embeddings for whichever modality is given (documents, then images, then uris)."""
        if documents is not None:
            ef = self._ef("documents")
            return self._call_ef(ef, list(_as_list(documents)), query)
        if images is not None:
            ef = self._ef("images")
            if not _supports_images(ef):
                raise InvalidArgumentError(
                    f"Collection {self.name!r}: its embedding function cannot embed images. "
                    "Use a multimodal embedding function such as OpenCLIPEmbeddingFunction"
                )
            return self._call_ef(ef, list(images), query)
        if uris is not None:
            if self._data_loader is None:
                raise InvalidArgumentError(
                    f"Collection {self.name!r} has no data loader, so URIs cannot be loaded for embedding. "
                    "Create or get the collection with data_loader=ImageLoader() (or pass embeddings=)"
                )
            data = self._data_loader(list(_as_list(uris)))
            return self._call_ef(self._ef("data loaded from URIs"), data, query)
        return None

    @staticmethod
    def _call_ef(ef: Any, inputs: List[Any], query: bool) -> np.ndarray:
        if query and hasattr(ef, "embed_query"):
            vectors = ef.embed_query(inputs)
        else:
            vectors = ef(inputs)
        return normalize_embeddings(vectors)

    def _prepare(self, ids: Any, embeddings: Any, documents: Any, images: Any, uris: Any, required: bool):
        ids = _as_list(ids)
        documents = _as_list(documents)
        uris = _as_list(uris)
        given = [name for name, v in (("embeddings", embeddings), ("documents", documents), ("images", images), ("uris", uris)) if v is not None]
        if not given and required:
            raise InvalidArgumentError("You must provide embeddings, documents, images, or uris")
        if images is not None and documents is not None:
            raise InvalidArgumentError("Provide documents or images, not both: a record has one modality")
        if embeddings is None:
            embeddings = self._embed(documents, images, uris, query=False)
        return ids, embeddings, documents, uris

    # -- records -----------------------------------------------------------
    def count(self) -> int:
        return self._api._count(self._model.id, **self._scope())

    def add(self, ids: Any, embeddings: Any = None, metadatas: Any = None, documents: Any = None,
            images: Any = None, uris: Any = None) -> None:
        self._write(self._api._add, ids, embeddings, metadatas, documents, images, uris, required=True)

    def upsert(self, ids: Any, embeddings: Any = None, metadatas: Any = None, documents: Any = None,
               images: Any = None, uris: Any = None) -> None:
        clear = self._replaced_modalities(documents, images, uris)
        self._write(self._api._upsert, ids, embeddings, metadatas, documents, images, uris, required=True, clear=clear)

    def update(self, ids: Any, embeddings: Any = None, metadatas: Any = None, documents: Any = None,
               images: Any = None, uris: Any = None) -> None:
        clear = self._replaced_modalities(documents, images, uris)
        self._write(self._api._update, ids, embeddings, metadatas, documents, images, uris, required=False, clear=clear)

    def _replaced_modalities(self, documents: Any, images: Any, uris: Any) -> Tuple[str, ...]:
        """Stored fields that a write in another modality empties: a record has one modality.

        Images replace the document and any URI (images themselves are never stored). In a
        collection with a data loader, URIs replace the document and documents replace the URI.
        Anywhere else a field that is not given stays as it is, as in Chroma.
        """
        if images is not None:
            return ("documents", "uris")
        if self._data_loader is not None:
            if uris is not None and documents is None:
                return ("documents",)
            if documents is not None and uris is None:
                return ("uris",)
        return ()

    def _write(self, send: Any, ids: Any, embeddings: Any, metadatas: Any, documents: Any, images: Any,
               uris: Any, required: bool, clear: Tuple[str, ...] = ()) -> None:
        """Embeds whatever modality was given (client side), then sends plain records."""
        ids, embeddings, documents, uris = self._prepare(ids, embeddings, documents, images, uris, required)
        extra = {"clear": clear} if clear else {}  # add() takes no clear
        send(self._model.id, ids, embeddings, _as_list(metadatas), documents, uris, **self._scope(), **extra)

    def delete(self, ids: Any = None, where: Any = None, where_document: Any = None) -> None:
        self._api._delete(self._model.id, _as_list(ids), where, where_document, **self._scope())

    def get(
        self,
        ids: Any = None,
        where: Any = None,
        limit: Optional[int] = None,
        offset: Optional[int] = None,
        where_document: Any = None,
        include: Any = None,
    ) -> GetResult:
        include, want_data, hide_uris = self._data_include(include, default=["metadatas", "documents"])
        result = self._api._get(
            self._model.id, _as_list(ids), where, limit, offset, where_document, include, **self._scope()
        )
        return self._finish(result, want_data, hide_uris, nested=False)

    def peek(self, limit: int = 10) -> GetResult:
        return self.get(limit=limit, include=["embeddings", "documents", "metadatas"])

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
        include: Any = None,
    ) -> QueryResult:
        given = [v for v in (query_embeddings, query_texts, query_images, query_uris) if v is not None]
        if len(given) != 1:
            raise InvalidArgumentError(
                "Provide exactly one of query_embeddings, query_texts, query_images or query_uris"
            )
        if query_embeddings is None:
            query_embeddings = self._embed(
                _as_list(query_texts) if query_texts is not None else None,
                query_images,
                query_uris,
                query=True,
            )
        include, want_data, hide_uris = self._data_include(include, default=["metadatas", "documents", "distances"])
        result = self._api._query(
            self._model.id, query_embeddings, n_results, where, where_document, include, _as_list(ids), **self._scope()
        )
        return self._finish(result, want_data, hide_uris, nested=True)

    def _data_include(self, include: Any, default: List[str]):
        """'data' is loaded client side through the data loader, from the records' URIs."""
        if include is None:
            return None, False, False
        if not isinstance(include, (list, tuple)):
            return include, False, False
        include = [getattr(i, "value", i) for i in include]
        if "data" not in include:
            return include, False, False
        if self._data_loader is None:
            raise InvalidArgumentError(
                f"include=['data'] needs a data loader: open collection {self.name!r} with data_loader=ImageLoader()"
            )
        hide_uris = "uris" not in include
        server_include = [i for i in include if i != "data"] + (["uris"] if hide_uris else [])
        return server_include, True, hide_uris

    def _finish(self, result: Dict[str, Any], want_data: bool, hide_uris: bool, nested: bool) -> Dict[str, Any]:
        if want_data:
            if nested:
                result["data"] = [self._data_loader(u) for u in result["uris"]]
            else:
                result["data"] = self._data_loader(result["uris"])
            if hide_uris:
                result["uris"] = None
            included = [i for i in result["included"] if not (hide_uris and i == "uris")]
            result["included"] = included + ["data"]
        return result

    # -- collection --------------------------------------------------------
    def modify(
        self,
        name: Optional[str] = None,
        metadata: Optional[Dict[str, Any]] = None,
        configuration: Optional[Dict[str, Any]] = None,
    ) -> None:
        config_update = None
        if configuration is not None:
            if not isinstance(configuration, Mapping):
                raise InvalidArgumentError(
                    f"configuration must be a dict such as {{'hnsw': {{'ef_search': 200}}}}, got {type(configuration).__name__}"
                )
            config_update = dict(configuration)
            ef = config_update.get("embedding_function")
            validate_request({k: v for k, v in config_update.items() if k != "embedding_function"}, where="configuration")
            if ef is not None and not callable(ef):
                raise InvalidArgumentError(
                    f"configuration['embedding_function'] must be an embedding function, got {type(ef).__name__}"
                )
            if ef is not None:
                from huedb.ef_persistence import serialize

                config_update["embedding_function"] = serialize(ef)
                self._embedding_function = ef
        self._model = self._api.modify_collection(
            self._model.id, name, metadata, config_update, **self._scope()
        )


def _supports_images(ef: Any) -> bool:
    fn = getattr(ef, "supports_images", None)
    return bool(fn()) if callable(fn) else False
