"""AsyncHttpClient and AsyncAdminClient: chromadb's async clients, on an ``httpx.AsyncClient``.

They run the very client logic of the sync clients (``huedb.api.steps``): each method's steps
validate and embed on the event loop, as chromadb's async client does, and every REST request
is awaited on the client's ``httpx.AsyncClient``, so concurrent awaits on one client overlap
and no thread is used. Collections come back as ``AsyncCollection``.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

import httpx

from huedb.api.client import AdminClient, Client, _Base
from huedb.api.collection import Collection
from huedb.api.http_api import HttpAPI
from huedb.api.http_transport import HttpCall, build_request, decode, not_connected
from huedb.api.search import ReadLevel, SearchResult, search_payloads, search_response, search_result
from huedb.api.steps import ApiCall, drive_async, steps_function


class AsyncServer:
    """A ServerAPI's calls, awaited: HttpAPI's steps with their requests sent on an
    httpx.AsyncClient (an embedded engine, for an AsyncAdminClient without a host, runs in a
    worker thread: it has no async I/O to await)."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self._http: httpx.AsyncClient | None = None
        if isinstance(server, HttpAPI):
            verify = server.settings.chroma_server_ssl_verify
            self._http = httpx.AsyncClient(
                headers=server._http.headers,
                timeout=httpx.Timeout(None, connect=10.0),
                verify=True if verify is None else verify,
            )

    async def send(self, call: HttpCall) -> Any:
        assert self._http is not None
        request = build_request(self._http, self.server._url, call)
        try:
            response = await self._http.send(request)
        except httpx.ConnectError:
            raise not_connected(self.server._url) from None
        return decode(response)

    async def perform(self, call: ApiCall) -> Any:
        steps = steps_function(type(self.server), call.name) if self._http is not None else None
        if steps is not None:
            return await drive_async(steps(self.server, *call.args, **call.kwargs), self.send)
        if self._http is None:
            return await asyncio.to_thread(
                functools.partial(getattr(self.server, call.name), *call.args, **call.kwargs)
            )
        return getattr(self.server, call.name)(*call.args, **call.kwargs)  # no I/O (a refusal, settings)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
        self.server.close()


def _async_method(name: str) -> Callable[..., Any]:
    """An async method running the steps of the sync object's method ``name``."""

    async def method(self: _AsyncWrapper, *args: Any, **kwargs: Any) -> Any:
        steps = steps_function(type(self._sync), name)
        assert steps is not None, name
        return self._wrap(await drive_async(steps(self._sync, *args, **kwargs), self._server.perform))

    method.__name__ = method.__qualname__ = name
    return method


class _AsyncWrapper:
    """Shares its sync object's state (properties, attributes pass through); its methods that
    reach the server are coroutines."""

    def __init__(self, sync: Any, server: AsyncServer) -> None:
        self._sync = sync
        self._server = server

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sync, name)

    def _wrap(self, value: Any) -> Any:
        if isinstance(value, Collection):
            return AsyncCollection(value, self._server)
        if isinstance(value, list) and value and all(isinstance(v, Collection) for v in value):
            return [AsyncCollection(v, self._server) for v in value]
        return value

    def __repr__(self) -> str:
        return f"Async{self._sync!r}"


class AsyncCollection(_AsyncWrapper):
    """chromadb's AsyncCollection: ``await collection.add(...)``, ``await collection.query(...)``."""

    count = _async_method("count")
    add = _async_method("add")
    upsert = _async_method("upsert")
    update = _async_method("update")
    delete = _async_method("delete")
    get = _async_method("get")
    peek = _async_method("peek")
    query = _async_method("query")
    modify = _async_method("modify")
    fork = _async_method("fork")
    fork_count = _async_method("fork_count")
    get_indexing_status = _async_method("get_indexing_status")

    async def search(self, searches: Any, read_level: Any = ReadLevel.INDEX_AND_WAL) -> SearchResult:
        """As ``Collection.search``: text queries embedded client side, the batch in one request."""
        payloads = search_payloads(self._sync, searches)
        model = self._sync.get_model()
        level = getattr(read_level, "value", read_level) or "index_and_wal"
        path = self._sync._api._coll(model.id, model.tenant, model.database) + "/search"
        return search_result(
            search_response(
                await self._server.send(HttpCall("POST", path, {"searches": payloads, "read_level": level}))
            )
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AsyncCollection) and other._sync == self._sync

    def __hash__(self) -> int:
        return hash(self._sync)


class AsyncClientAPI(_AsyncWrapper):
    """chromadb's AsyncClientAPI: ``await client.get_or_create_collection(...)`` etc."""

    heartbeat = _async_method("heartbeat")
    get_version = _async_method("get_version")
    get_user_identity = _async_method("get_user_identity")
    reset = _async_method("reset")
    get_max_batch_size = _async_method("get_max_batch_size")
    list_collections = _async_method("list_collections")
    count_collections = _async_method("count_collections")
    create_collection = _async_method("create_collection")
    get_collection = _async_method("get_collection")
    get_collection_by_id = _async_method("get_collection_by_id")
    get_or_create_collection = _async_method("get_or_create_collection")
    delete_collection = _async_method("delete_collection")
    set_tenant = _async_method("set_tenant")
    set_database = _async_method("set_database")
    clear_system_cache = staticmethod(_Base.clear_system_cache)

    async def close(self) -> None:
        await self._server.aclose()


class AsyncAdminClientAPI(_AsyncWrapper):
    heartbeat = _async_method("heartbeat")
    get_version = _async_method("get_version")
    create_tenant = _async_method("create_tenant")
    get_tenant = _async_method("get_tenant")
    create_database = _async_method("create_database")
    get_database = _async_method("get_database")
    list_databases = _async_method("list_databases")
    delete_database = _async_method("delete_database")

    async def close(self) -> None:
        await self._server.aclose()


async def connect(sync: Client) -> AsyncClientAPI:
    """The async face of a Client made with ``validate=False``: its tenant and database are
    checked here, awaited."""
    server = AsyncServer(sync._server)
    try:
        steps = steps_function(Client, "_validate_tenant_database")
        assert steps is not None
        await drive_async(steps(sync, sync.tenant, sync.database), server.perform)
    except BaseException:
        await server.aclose()
        raise
    return AsyncClientAPI(sync, server)


def admin(sync: AdminClient) -> AsyncAdminClientAPI:
    return AsyncAdminClientAPI(sync, AsyncServer(sync._server))
