"""AsyncHttpClient awaits its requests on an httpx.AsyncClient: concurrent awaits on one client
overlap, and no worker thread is used.

The overlap is measured, never timed: an ASGI layer in front of a real huedb server counts
the requests to one route that are in flight at once and holds each until ``EXPECTED`` have
arrived (a 10 s safety net only keeps a serial client from hanging the test; the assertion is
on the count). The surface is chromadb 1.5.9's: the coroutine methods listed below are those
``inspect.iscoroutinefunction`` reported on chromadb's AsyncClient and AsyncCollection.
"""

from __future__ import annotations

import asyncio
import inspect
import uuid

import numpy as np
import pytest

import huedb
from huedb.errors import InvalidArgumentError, NotFoundError
from huedb.execution.expression import K, Knn, Search
from server_fixtures import ServerThread, free_port

EXPECTED = 6

CLIENT_COROUTINES = [
    "count_collections",
    "create_collection",
    "delete_collection",
    "get_collection",
    "get_collection_by_id",
    "get_max_batch_size",
    "get_or_create_collection",
    "get_user_identity",
    "get_version",
    "heartbeat",
    "list_collections",
    "reset",
    "set_database",
    "set_tenant",
]
COLLECTION_COROUTINES = [
    "add",
    "count",
    "delete",
    "fork",
    "fork_count",
    "get",
    "get_indexing_status",
    "modify",
    "peek",
    "query",
    "search",
    "update",
    "upsert",
]


class InFlight:
    """ASGI middleware: counts concurrent requests whose path ends with ``suffix``."""

    def __init__(self, app, suffix: str) -> None:
        self.app, self.suffix = app, suffix
        self.now = self.most = 0
        self.all_in: asyncio.Event | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].endswith(self.suffix):
            return await self.app(scope, receive, send)
        if self.all_in is None:
            self.all_in = asyncio.Event()
        self.now += 1
        self.most = max(self.most, self.now)
        if self.now >= EXPECTED:
            self.all_in.set()
        try:
            await asyncio.wait_for(self.all_in.wait(), timeout=10)
        except asyncio.TimeoutError:
            pass  # a client that sends one request at a time: the count shows it
        try:
            await self.app(scope, receive, send)
        finally:
            self.now -= 1


@pytest.fixture
def watched_server(tmp_path):
    servers = []

    def start(suffix: str) -> tuple[ServerThread, InFlight]:
        server = ServerThread(str(tmp_path / f"db{len(servers)}"))
        watch = InFlight(server.app, suffix)
        server.server.config.app = watch
        servers.append(server.start())
        return server, watch

    yield start
    for server in servers:
        server.stop()


def test_concurrent_collection_calls_overlap(watched_server):
    server, watch = watched_server("/count")

    async def scenario():
        client = await huedb.AsyncHttpClient(host="127.0.0.1", port=server.port)
        col = await client.create_collection("overlap", embedding_function=None)
        await col.add(ids=["a", "b", "c"], embeddings=[[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
        counts = await asyncio.gather(*(col.count() for _ in range(EXPECTED)))
        await client.close()
        return counts

    assert asyncio.run(scenario()) == [3] * EXPECTED
    assert watch.most == EXPECTED


def test_concurrent_client_calls_overlap_without_threads(watched_server, monkeypatch):
    server, watch = watched_server("/heartbeat")

    def no_threads(*args, **kwargs):
        # (httpcore resolves host names in anyio's own worker thread; that is not the client's doing)
        raise AssertionError("the async HTTP client must not run its calls in worker threads")

    monkeypatch.setattr(asyncio, "to_thread", no_threads)
    monkeypatch.setattr(asyncio.BaseEventLoop, "run_in_executor", no_threads)

    async def scenario():
        client = await huedb.AsyncHttpClient(host="127.0.0.1", port=server.port)
        beats = await asyncio.gather(*(client.heartbeat() for _ in range(EXPECTED)))
        await client.close()
        return beats

    assert all(isinstance(b, int) and b > 0 for b in asyncio.run(scenario()))
    assert watch.most == EXPECTED


def test_the_async_surface_is_chromadbs(huedb_server):
    async def scenario():
        client = await huedb.AsyncHttpClient(host="127.0.0.1", port=huedb_server.port)
        col = await client.get_or_create_collection(f"surface-{uuid.uuid4().hex[:8]}", embedding_function=None)
        await client.close()
        return client, col

    client, col = asyncio.run(scenario())
    assert isinstance(client, huedb.AsyncClientAPI)
    for name in CLIENT_COROUTINES:
        assert inspect.iscoroutinefunction(getattr(client, name)), name
    for name in COLLECTION_COROUTINES:
        assert inspect.iscoroutinefunction(getattr(col, name)), name
    assert not inspect.iscoroutinefunction(col.get_model)
    assert col._model["name"] == col.name and col.get_model()["id"] == str(col.id)
    assert (client.tenant, client.database) == ("default_tenant", "default_database")


def test_async_client_end_to_end(huedb_server):
    async def scenario():
        client = await huedb.AsyncHttpClient(host="127.0.0.1", port=huedb_server.port)
        name = f"e2e-{uuid.uuid4().hex[:8]}"
        col = await client.create_collection(name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
        assert col.configuration_json["hnsw"]["space"] == "cosine"
        await col.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]], metadatas=[{"k": 1}, {"k": 2}])
        await col.upsert(ids=["c"], embeddings=[[1.0, 1.0]], documents=["third"])
        await col.update(ids=["a"], metadatas=[{"k": 10}])
        assert (await col.get(ids=["a"]))["metadatas"] == [{"k": 10}]
        res = await col.query(query_embeddings=[[0.9, 0.1]], n_results=1, where={"k": {"$gte": 1}})
        assert res["ids"] == [["a"]]
        found = await col.search(Search().where(K("k") == 2).rank(Knn(query=[0.0, 1.0])).limit(1))
        assert found["ids"] == [["b"]]
        assert len((await col.peek())["ids"]) == 3
        assert (await col.get_indexing_status()).total_ops == 3
        await col.modify(metadata={"m": 1}, configuration={"hnsw": {"ef_search": 50}})
        assert col.metadata == {"m": 1} and col.configuration_json["hnsw"]["ef_search"] == 50
        copy = await col.fork(name + "-fork")
        assert await copy.count() == 3 and await col.fork_count() == 1
        assert await col.delete(ids=["a", "b"]) == {"deleted": 2}
        # errors keep their classes, raised from the awaited call
        with pytest.raises(InvalidArgumentError, match="at least two where expressions"):
            await col.get(where={"$or": [{"k": 1}]})
        with pytest.raises(InvalidArgumentError, match="dimension"):
            await col.add(ids=["d"], embeddings=[[1.0, 2.0, 3.0]])
        again = await client.get_collection_by_id(col.id)
        assert again == col and await again.count() == 1
        assert {c.name for c in await client.list_collections()} >= {name, name + "-fork"}
        assert await client.get_max_batch_size() == 5461
        got = await col.get(ids=["c"], include=["embeddings", "documents"])
        assert got["embeddings"].dtype == np.float32 and got["documents"] == ["third"]
        await client.delete_collection(name)
        with pytest.raises(NotFoundError):
            await client.get_collection(name)
        with pytest.raises(NotFoundError, match="tenant"):
            await client.set_tenant("no-such-tenant")
        await client.close()

    asyncio.run(scenario())


def test_async_client_to_a_missing_tenant_or_server_fails_clearly(huedb_server):
    with pytest.raises(NotFoundError, match="Could not connect to tenant"):
        asyncio.run(huedb.AsyncHttpClient(host="127.0.0.1", port=huedb_server.port, tenant="nope"))

    with pytest.raises(ValueError, match="Could not connect"):
        asyncio.run(huedb.AsyncHttpClient(host="127.0.0.1", port=free_port()))


def test_async_admin_client(huedb_server):
    from huedb.api.http_client import AsyncAdminClient
    from huedb.config import Settings

    async def scenario():
        admin = await AsyncAdminClient(
            Settings(chroma_server_host="127.0.0.1", chroma_server_http_port=huedb_server.port)
        )
        tenant = f"t-{uuid.uuid4().hex[:8]}"
        await admin.create_tenant(tenant)
        await admin.create_database("db1", tenant)
        assert (await admin.get_tenant(tenant))["name"] == tenant
        assert [d["name"] for d in await admin.list_databases(tenant=tenant)] == ["db1"]
        client = await huedb.AsyncHttpClient(host="127.0.0.1", port=huedb_server.port, tenant=tenant, database="db1")
        assert await client.count_collections() == 0
        await client.close()
        await admin.close()

    asyncio.run(scenario())
