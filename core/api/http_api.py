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

from huedb import wire
from huedb.api.http_transport import (
    HttpCall,
    _q,
    base_url,
    build_request,
    client_headers,
    decode,
    not_connected,
    write_steps,
)
from huedb.api.search import http_search
from huedb.api.steps import Steps, steps, steps_of
from huedb.config import Settings
from huedb.errors import (
    InvalidArgumentError,
    NotImplementedFeatureError,
)
from huedb.requests import validate_delete, validate_get, validate_query
from huedb.types import DEFAULT_DATABASE, DEFAULT_TENANT, CollectionModel, GetResult, QueryResult
from huedb.validation import validate_metadata


class HttpAPI:
    """A ServerAPI whose backend is a huedb (or Chroma) server."""

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self._url = base_url(settings)
        verify = settings.chroma_server_ssl_verify
        self._http = httpx.Client(
            headers=client_headers(settings),
            timeout=httpx.Timeout(None, connect=10.0),
            verify=True if verify is None else verify,
            transport=transport,
        )
        self._preflight: dict[str, Any] | None = None

    # -- plumbing ----------------------------------------------------------
    def _perform(self, call: HttpCall) -> Any:
        """Sends one step's request (the async client sends the same on an httpx.AsyncClient)."""
        request = build_request(self._http, self._url, call)
        try:
            response = self._http.send(request)
        except httpx.ConnectError:
            raise not_connected(self._url) from None
        return decode(response)

    def _request(self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        return self._perform(HttpCall(method, path, json, params))

    def _db(self, tenant: str, database: str) -> str:
        return f"/tenants/{_q(tenant)}/databases/{_q(database)}"

    def _coll(self, collection_id: Any, tenant: str, database: str) -> str:
        return f"{self._db(tenant, database)}/collections/{_q(collection_id)}"

    def close(self) -> None:
        self._http.close()

    # -- system --------------------------------------------------------------
    @steps
    def heartbeat(self) -> Steps[int]:
        return int((yield HttpCall("GET", "/heartbeat"))["nanosecond heartbeat"])

    @steps
    def get_version(self) -> Steps[str]:
        return str((yield HttpCall("GET", "/version")))

    def get_settings(self) -> Settings:
        return self.settings

    @steps
    def pre_flight_checks(self) -> Steps[dict[str, Any]]:
        if self._preflight is None:
            self._preflight = yield HttpCall("GET", "/pre-flight-checks")
        return self._preflight

    @steps
    def get_max_batch_size(self) -> Steps[int]:
        return int((yield from steps_of(self.pre_flight_checks)).get("max_batch_size") or 1000)

    @steps
    def supports_base64_encoding(self) -> Steps[bool]:
        return bool((yield from steps_of(self.pre_flight_checks)).get("supports_base64_encoding"))

    @steps
    def get_user_identity(self) -> Steps[dict[str, Any]]:
        return (yield HttpCall("GET", "/auth/identity"))

    @steps
    def reset(self) -> Steps[bool]:
        return bool((yield HttpCall("POST", "/reset")))

    def vacuum(self, progress: Callable[[int, int, str], None] | None = None) -> None:
        raise NotImplementedFeatureError("vacuum runs on the server's machine: use `huedb vacuum --path ...` there")

    # -- tenants and databases --------------------------------------------
    @steps
    def create_tenant(self, name: str) -> Steps[None]:
        yield HttpCall("POST", "/tenants", json={"name": name})

    @steps
    def get_tenant(self, name: str) -> Steps[dict[str, str]]:
        return {"name": (yield HttpCall("GET", f"/tenants/{_q(name)}"))["name"]}

    def list_tenants(self) -> list[dict[str, str]]:
        raise NotImplementedFeatureError("Listing tenants is not part of the REST API; use get_tenant(name)")

    @steps
    def create_database(self, name: str, tenant: str = DEFAULT_TENANT) -> Steps[None]:
        yield HttpCall("POST", f"/tenants/{_q(tenant)}/databases", json={"name": name})

    @steps
    def get_database(self, name: str, tenant: str = DEFAULT_TENANT) -> Steps[dict[str, str]]:
        return (yield HttpCall("GET", self._db(tenant, name)))

    @steps
    def list_databases(
        self, limit: int | None = None, offset: int | None = None, tenant: str = DEFAULT_TENANT
    ) -> Steps[list[dict[str, str]]]:
        params = {k: v for k, v in (("limit", limit), ("offset", offset)) if v is not None}
        return (yield HttpCall("GET", f"/tenants/{_q(tenant)}/databases", params=params))

    @steps
    def delete_database(self, name: str, tenant: str = DEFAULT_TENANT) -> Steps[None]:
        yield HttpCall("DELETE", self._db(tenant, name))

    # -- collections ---------------------------------------------------------
    @staticmethod
    def _model(data: dict[str, Any]) -> CollectionModel:
        return wire.collection_from_json(data)

    @steps
    def create_collection(
        self,
        name: str,
        configuration: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        get_or_create: bool = False,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
        schema: dict[str, Any] | None = None,
    ) -> Steps[CollectionModel]:
        metadata = validate_metadata(metadata, allow_none=False, where="collection metadata")
        body = {
            "name": name,
            "configuration": configuration,
            "metadata": metadata,
            "schema": schema,
            "get_or_create": get_or_create,
        }
        return self._model((yield HttpCall("POST", f"{self._db(tenant, database)}/collections", json=body)))

    @steps
    def get_collection(
        self, name: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE
    ) -> Steps[CollectionModel]:
        if not isinstance(name, str):
            raise InvalidArgumentError(f"Expected collection name to be a string, got {name!r}")
        return self._model((yield HttpCall("GET", self._coll(name, tenant, database))))

    @steps
    def get_collection_by_id(
        self, collection_id: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE
    ) -> Steps[CollectionModel]:
        path = f"{self._db(tenant, database)}/collections/by-id/{_q(collection_id)}"
        return self._model((yield HttpCall("GET", path)))

    @steps
    def list_collections(
        self,
        limit: int | None = None,
        offset: int | None = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> Steps[list[CollectionModel]]:
        params = {k: v for k, v in (("limit", limit), ("offset", offset)) if v is not None}
        data = yield HttpCall("GET", f"{self._db(tenant, database)}/collections", params=params)
        return [self._model(d) for d in data]

    @steps
    def count_collections(self, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE) -> Steps[int]:
        return int((yield HttpCall("GET", f"{self._db(tenant, database)}/collections_count")))

    @steps
    def delete_collection(
        self, name: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE
    ) -> Steps[None]:
        yield HttpCall("DELETE", self._coll(name, tenant, database))

    @steps
    def modify_collection(
        self,
        collection_id: str,
        new_name: str | None = None,
        new_metadata: dict[str, Any] | None = None,
        new_configuration: dict[str, Any] | None = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> Steps[CollectionModel]:
        new_metadata = validate_metadata(new_metadata, allow_none=False, where="collection metadata")
        body = {"new_name": new_name, "new_metadata": new_metadata, "new_configuration": new_configuration}
        data = yield HttpCall("PUT", self._coll(collection_id, tenant, database), json=body)
        if isinstance(data, dict) and "id" in data:  # huedb answers with the collection
            return self._model(data)
        # a Chroma server answers {}
        return (yield from steps_of(self.get_collection_by_id, collection_id, tenant, database))

    # -- records ---------------------------------------------------------------
    @steps
    def _fork(
        self, collection_id: str, new_name: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE
    ) -> Steps[CollectionModel]:
        path = self._coll(collection_id, tenant, database) + "/fork"
        return self._model((yield HttpCall("POST", path, json={"new_name": new_name})))

    @steps
    def _fork_count(
        self, collection_id: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE
    ) -> Steps[int]:
        return int((yield HttpCall("GET", self._coll(collection_id, tenant, database) + "/fork_count"))["count"])

    @steps
    def _count(self, collection_id: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE) -> Steps[int]:
        return int((yield HttpCall("GET", self._coll(collection_id, tenant, database) + "/count")))

    @steps
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
    ) -> Steps[bool]:
        yield from write_steps(
            self, "add", collection_id, ids, embeddings, metadatas, documents, uris, tenant, database
        )
        return True

    @steps
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
    ) -> Steps[bool]:
        yield from write_steps(
            self, "update", collection_id, ids, embeddings, metadatas, documents, uris, tenant, database, clear
        )
        return True

    @steps
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
    ) -> Steps[bool]:
        yield from write_steps(
            self, "upsert", collection_id, ids, embeddings, metadatas, documents, uris, tenant, database, clear
        )
        return True

    @steps
    def _delete(
        self,
        collection_id: str,
        ids: Any = None,
        where: Any = None,
        where_document: Any = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
        limit: int | None = None,
    ) -> Steps[int]:
        """How many records were deleted (what the REST API answers)."""
        r = validate_delete(ids, where, where_document, limit)
        body = {"ids": r.ids, "where": r.where, "where_document": r.where_document, "limit": r.limit}
        data = yield HttpCall("POST", self._coll(collection_id, tenant, database) + "/delete", json=body)
        return int((data or {}).get("deleted", 0))

    @steps
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
    ) -> Steps[GetResult]:
        request = validate_get(ids, where, where_document, limit, offset, include)
        body = {
            "ids": request.ids,
            "where": request.where,
            "limit": request.limit,
            "offset": request.offset,
            "where_document": request.where_document,
            "include": _wire_include(request.include),
        }
        data = yield HttpCall("POST", self._coll(collection_id, tenant, database) + "/get", json=body)
        return wire.get_result_from_json(data)

    @steps
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
    ) -> Steps[QueryResult]:
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
        data = yield HttpCall("POST", self._coll(collection_id, tenant, database) + "/query", json=body)
        return wire.query_result_from_json(data)

    _search = http_search  # POST .../search with the payloads (huedb.api.search)


def _wire_include(include: list[str]) -> list[str]:
    """``data`` is loaded client side (Collection does it): the server is never asked for it."""
    return [i for i in include if i in wire.INCLUDE_VALUES]
