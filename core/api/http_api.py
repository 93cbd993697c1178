"""HttpAPI: the ServerAPI over HTTP (httpx), speaking Chroma's REST API v2.

It implements the ``ServerAPI`` Protocol (``huedb.api.server_api``), as the
embedded engine does, so the client-side Client and Collection work unchanged
(embedding functions run client side; the server only stores their configs).
Every record request is validated by ``huedb.requests`` before it is sent (the
server validates again), and encoded with the shared codec ``huedb.wire``: the
client never imports the server. Errors come back typed: the server's
``{"error", "message"}`` body is rebuilt with ``error_from_name``. Large writes
are split only by an estimate of the request size: a batch bigger than the announced
max batch size is still one request, so one transaction on the server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import httpx
import numpy as np

from huedb import wire
from huedb.api.http_transport import _q, base_url, chunk_size, raise_for_error
from huedb.api.search import http_search
from huedb.config import Settings
from huedb.errors import (
    InvalidArgumentError,
    NotImplementedFeatureError,
)
from huedb.registry import get_registry
from huedb.requests import validate_delete, validate_get, validate_query, validate_write
from huedb.types import DEFAULT_DATABASE, DEFAULT_TENANT, CollectionModel, GetResult, QueryResult
from huedb.validation import validate_metadata


class HttpAPI:
    """A ServerAPI whose backend is a huedb (or Chroma) server."""

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self._url = base_url(settings)
        headers: dict[str, str] = {"Content-Type": "application/json"}
        extra = settings.chroma_server_headers
        if extra:
            if not isinstance(extra, dict):
                raise InvalidArgumentError(
                    "chroma_server_headers (the headers= argument) must be a dict of header names to values"
                )
            headers.update({str(k): str(v) for k, v in extra.items()})
        provider_name = settings.chroma_client_auth_provider
        if provider_name:
            provider = get_registry().get("client_auth_provider", provider_name)(settings)
            headers.update(provider.authenticate())
        verify = settings.chroma_server_ssl_verify
        self._http = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(None, connect=10.0),
            verify=True if verify is None else verify,
            transport=transport,
        )
        self._preflight: dict[str, Any] | None = None

    # -- plumbing ----------------------------------------------------------
    def _request(self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        url = self._url + path
        try:
            request = self._http.build_request(method, url, json=json, params=params)
        except UnicodeEncodeError as e:
            # JSON is UTF-8: a lone surrogate (in a name, metadata, a configuration...) cannot be sent.
            bad = e.object[e.start : e.end] if isinstance(e.object, str) else ""
            raise InvalidArgumentError(
                f"Text must be valid Unicode, got a string holding a lone surrogate {bad!a}: "
                "every string sent to the server must be encodable as UTF-8"
            ) from None
        except (ValueError, TypeError) as e:  # NaN or infinity, numpy scalars: what JSON cannot carry
            raise InvalidArgumentError(
                f"The request cannot be sent as JSON: {e}; pass plain Python str, int, float "
                "(finite), bool, list and dict values"
            ) from None
        try:
            response = self._http.send(request)
        except httpx.ConnectError:
            raise ValueError(
                f"Could not connect to a huedb/Chroma server at {self._url}. Are you sure it is running?"
            ) from None
        raise_for_error(response)
        if not response.content:
            return None
        return response.json()

    def _db(self, tenant: str, database: str) -> str:
        return f"/tenants/{_q(tenant)}/databases/{_q(database)}"

    def _coll(self, collection_id: Any, tenant: str, database: str) -> str:
        return f"{self._db(tenant, database)}/collections/{_q(collection_id)}"

    def close(self) -> None:
        self._http.close()

    # -- system --------------------------------------------------------------
    def heartbeat(self) -> int:
        return int(self._request("GET", "/heartbeat")["nanosecond heartbeat"])

    def get_version(self) -> str:
        return str(self._request("GET", "/version"))

    def get_settings(self) -> Settings:
        return self.settings

    def pre_flight_checks(self) -> dict[str, Any]:
        if self._preflight is None:
            self._preflight = self._request("GET", "/pre-flight-checks")
        return self._preflight

    def get_max_batch_size(self) -> int:
        return int(self.pre_flight_checks().get("max_batch_size") or 1000)

    def supports_base64_encoding(self) -> bool:
        return bool(self.pre_flight_checks().get("supports_base64_encoding"))

    def get_user_identity(self) -> dict[str, Any]:
        return self._request("GET", "/auth/identity")

    def reset(self) -> bool:
        return bool(self._request("POST", "/reset"))

    def vacuum(self, progress: Callable[[int, int, str], None] | None = None) -> None:
        raise NotImplementedFeatureError("vacuum runs on the server's machine: use `huedb vacuum --path ...` there")

    # -- tenants and databases --------------------------------------------
    def create_tenant(self, name: str) -> None:
        self._request("POST", "/tenants", json={"name": name})

    def get_tenant(self, name: str) -> dict[str, str]:
        return {"name": self._request("GET", f"/tenants/{_q(name)}")["name"]}

    def list_tenants(self) -> list[dict[str, str]]:
        raise NotImplementedFeatureError("Listing tenants is not part of the REST API; use get_tenant(name)")

    def create_database(self, name: str, tenant: str = DEFAULT_TENANT) -> None:
        self._request("POST", f"/tenants/{_q(tenant)}/databases", json={"name": name})

    def get_database(self, name: str, tenant: str = DEFAULT_TENANT) -> dict[str, str]:
        return self._request("GET", self._db(tenant, name))

    def list_databases(
        self, limit: int | None = None, offset: int | None = None, tenant: str = DEFAULT_TENANT
    ) -> list[dict[str, str]]:
        params = {k: v for k, v in (("limit", limit), ("offset", offset)) if v is not None}
        return self._request("GET", f"/tenants/{_q(tenant)}/databases", params=params)

    def delete_database(self, name: str, tenant: str = DEFAULT_TENANT) -> None:
        self._request("DELETE", self._db(tenant, name))

    # -- collections ---------------------------------------------------------
    @staticmethod
    def _model(data: dict[str, Any]) -> CollectionModel:
        return wire.collection_from_json(data)

    def create_collection(
        self,
        name: str,
        configuration: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        get_or_create: bool = False,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
        schema: dict[str, Any] | None = None,
    ) -> CollectionModel:
        metadata = validate_metadata(metadata, allow_none=False, where="collection metadata")
        body = {
            "name": name,
            "configuration": configuration,
            "metadata": metadata,
            "schema": schema,
            "get_or_create": get_or_create,
        }
        return self._model(self._request("POST", f"{self._db(tenant, database)}/collections", json=body))

    def get_collection(
        self, name: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE
    ) -> CollectionModel:
        if not isinstance(name, str):
            raise InvalidArgumentError(f"Expected collection name to be a string, got {name!r}")
        return self._model(self._request("GET", self._coll(name, tenant, database)))

    def get_collection_by_id(
        self, collection_id: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE
    ) -> CollectionModel:
        return self._model(self._request("GET", f"{self._db(tenant, database)}/collections/by-id/{_q(collection_id)}"))

    def list_collections(
        self,
        limit: int | None = None,
        offset: int | None = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> list[CollectionModel]:
        params = {k: v for k, v in (("limit", limit), ("offset", offset)) if v is not None}
        data = self._request("GET", f"{self._db(tenant, database)}/collections", params=params)
        return [self._model(d) for d in data]

    def count_collections(self, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE) -> int:
        return int(self._request("GET", f"{self._db(tenant, database)}/collections_count"))

    def delete_collection(self, name: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE) -> None:
        self._request("DELETE", self._coll(name, tenant, database))

    def modify_collection(
        self,
        collection_id: str,
        new_name: str | None = None,
        new_metadata: dict[str, Any] | None = None,
        new_configuration: dict[str, Any] | None = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> CollectionModel:
        new_metadata = validate_metadata(new_metadata, allow_none=False, where="collection metadata")
        body = {"new_name": new_name, "new_metadata": new_metadata, "new_configuration": new_configuration}
        data = self._request("PUT", self._coll(collection_id, tenant, database), json=body)
        if isinstance(data, dict) and "id" in data:  # huedb answers with the collection
            return self._model(data)
        return self.get_collection_by_id(collection_id, tenant, database)  # a Chroma server answers {}

    # -- records ---------------------------------------------------------------
    def _fork(
        self, collection_id: str, new_name: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE
    ) -> CollectionModel:
        path = self._coll(collection_id, tenant, database) + "/fork"
        return self._model(self._request("POST", path, json={"new_name": new_name}))

    def _fork_count(self, collection_id: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE) -> int:
        return int(self._request("GET", self._coll(collection_id, tenant, database) + "/fork_count")["count"])

    def _count(self, collection_id: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE) -> int:
        return int(self._request("GET", self._coll(collection_id, tenant, database) + "/count"))

    def _add(
        self,
        collection_id: str,
        ids: Any,
        embeddings: Any,
        metadatas: Any = None,
        documents: Any = None,
        uris: Any = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> bool:
        self._write("add", collection_id, ids, embeddings, metadatas, documents, uris, tenant, database)
        return True

    def _update(
        self,
        collection_id: str,
        ids: Any,
        embeddings: Any = None,
        metadatas: Any = None,
        documents: Any = None,
        uris: Any = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
        clear: Sequence[str] = (),
    ) -> bool:
        self._write("update", collection_id, ids, embeddings, metadatas, documents, uris, tenant, database, clear)
        return True

    def _upsert(
        self,
        collection_id: str,
        ids: Any,
        embeddings: Any,
        metadatas: Any = None,
        documents: Any = None,
        uris: Any = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
        clear: Sequence[str] = (),
    ) -> bool:
        self._write("upsert", collection_id, ids, embeddings, metadatas, documents, uris, tenant, database, clear)
        return True

    def _encode_embeddings(self, embeddings: np.ndarray | None) -> Any:
        """Validated float32 rows -> base64 strings when the server takes them (smaller, exact), else lists."""
        if embeddings is None:
            return None
        if embeddings.size and self.supports_base64_encoding():
            return wire.encode_embeddings_b64(embeddings)
        return embeddings.tolist()

    def _write(
        self,
        op: str,
        collection_id: str,
        ids: Any,
        embeddings: Any,
        metadatas: Any,
        documents: Any,
        uris: Any,
        tenant: str,
        database: str,
        clear: Sequence[str] = (),
    ) -> None:
        # Checked here, before anything is sent: JSON would silently turn non-str metadata keys into
        # strings and fail on numpy scalars or lone surrogates.
        request = validate_write(
            op, ids, embeddings, metadatas, documents, uris, clear=clear or None, embeddings_required=True
        )
        encoded = self._encode_embeddings(request.embeddings)
        columns = {
            "embeddings": encoded,
            "metadatas": request.metadatas,
            "documents": request.documents,
            "uris": request.uris,
        }
        path = self._coll(collection_id, tenant, database) + "/" + op
        # huedb's modality replacement; sent only when used, so a Chroma server sees its own schema.
        extra = {wire.CLEAR_FIELD: list(request.clear)} if request.clear else {}
        ids = request.ids
        n = len(ids)
        step = chunk_size(n, encoded, request.documents)
        for start in range(0, n, step):
            chunk = {k: (None if v is None else v[start : start + step]) for k, v in columns.items()}
            self._request("POST", path, json={"ids": ids[start : start + step], **chunk, **extra})

    def _delete(
        self,
        collection_id: str,
        ids: Any = None,
        where: Any = None,
        where_document: Any = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
        limit: int | None = None,
    ) -> int:
        """How many records were deleted (what the REST API answers)."""
        r = validate_delete(ids, where, where_document, limit)
        body = {"ids": r.ids, "where": r.where, "where_document": r.where_document, "limit": r.limit}
        data = self._request("POST", self._coll(collection_id, tenant, database) + "/delete", json=body)
        return int((data or {}).get("deleted", 0))

    def _get(
        self,
        collection_id: str,
        ids: Any = None,
        where: Any = None,
        limit: int | None = None,
        offset: int | None = None,
        where_document: Any = None,
        include: Any = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> GetResult:
        request = validate_get(ids, where, where_document, limit, offset, include)
        body = {
            "ids": request.ids,
            "where": request.where,
            "limit": request.limit,
            "offset": request.offset,
            "where_document": request.where_document,
            "include": _wire_include(request.include),
        }
        data = self._request("POST", self._coll(collection_id, tenant, database) + "/get", json=body)
        return wire.get_result_from_json(data)

    def _query(
        self,
        collection_id: str,
        query_embeddings: Any,
        n_results: int = 10,
        where: Any = None,
        where_document: Any = None,
        include: Any = None,
        ids: Any = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> QueryResult:
        request = validate_query(
            query_embeddings, ids=ids, n_results=n_results, where=where, where_document=where_document, include=include
        )
        assert request.query_embeddings is not None  # the one-of rule, with only embeddings given
        body = {
            "query_embeddings": request.query_embeddings.tolist(),
            "n_results": request.n_results,
            "where": request.where,
            "where_document": request.where_document,
            "include": _wire_include(request.include),
            "ids": request.ids,
        }
        data = self._request("POST", self._coll(collection_id, tenant, database) + "/query", json=body)
        return wire.query_result_from_json(data)

    _search = http_search  # POST .../search with the payloads (huedb.api.search)


def _wire_include(include: list[str]) -> list[str]:
    """``data`` is loaded client side (Collection does it): the server is never asked for it."""
    return [i for i in include if i in wire.INCLUDE_VALUES]
