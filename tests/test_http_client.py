"""huedb's HTTP clients against a real server: same results as embedded, async,
CloudClient with token auth, remote AdminClient, EF configs persisted server side."""

from __future__ import annotations

import asyncio
import uuid

import numpy as np
import pytest

import huedb
from huedb import EmbeddingFunction, register_embedding_function
from huedb.config import Settings
from huedb.errors import InvalidArgumentError, NotFoundError, UniqueConstraintError
from server_fixtures import ServerThread, http_client_factory, huedb_server  # noqa: F401  (fixtures)


class CharCountEF(EmbeddingFunction):
    """[len(text) * weight, count of 'a']: the config changes the vectors, so a wrong rebuild shows."""

    def __init__(self, weight: float = 1.0) -> None:
        self.weight = float(weight)

    def __call__(self, input):
        return [[len(t) * self.weight, float(t.count("a"))] for t in input]

    @staticmethod
    def name() -> str:
        return "test_char_count"

    def get_config(self):
        return {"weight": self.weight}

    @staticmethod
    def build_from_config(config):
        return CharCountEF(config["weight"])


register_embedding_function(CharCountEF)

RNG = np.random.default_rng(7)
VECS = RNG.random((6, 8), dtype=np.float32)
IDS = [f"id{i}" for i in range(6)]
DOCS = [f"document number {i}" for i in range(6)]
METAS = [{"i": i, "even": i % 2 == 0, "f": i / 2, "s": f"v{i}"} for i in range(6)]


def _fill(client):
    col = client.create_collection("shapes", embedding_function=None, metadata={"kind": "test"})
    col.add(ids=IDS, embeddings=VECS, documents=DOCS, metadatas=METAS)
    return col


def _same(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype == np.float32 and a.shape == b.shape and np.array_equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-6)
    else:
        assert a == b


def test_results_have_the_same_shapes_as_embedded(http_client_factory, tmp_path):
    remote = _fill(http_client_factory())
    local = _fill(huedb.PersistentClient(str(tmp_path / "emb")))
    include_all = ["embeddings", "documents", "metadatas", "uris"]
    for kwargs in (
        {},
        {"include": include_all},
        {"ids": ["id3", "id1"], "include": include_all},
        {"where": {"even": True}, "limit": 2, "offset": 1},
        {"where_document": {"$contains": "number 4"}},
        {"ids": ["missing"]},
    ):
        _same(local.get(**kwargs), remote.get(**kwargs))
    for kwargs in (
        {"query_embeddings": VECS[:2], "n_results": 3},
        {"query_embeddings": VECS[0].tolist(), "n_results": 2, "include": ["embeddings", "distances", "metadatas"]},
        {"query_embeddings": [VECS[5]], "where": {"i": {"$lt": 3}}, "n_results": 10, "include": ["distances"]},
    ):
        _same(local.query(**kwargs), remote.query(**kwargs))
    peek = remote.peek(2)
    assert isinstance(peek["embeddings"], np.ndarray) and peek["embeddings"].dtype == np.float32
    assert remote.count() == local.count() == 6
    assert remote.metadata == {"kind": "test"} and remote.name == "shapes"


def test_errors_are_typed(http_client_factory):
    client = http_client_factory()
    with pytest.raises(NotFoundError):
        client.get_collection("does-not-exist")
    col = client.create_collection("typed", embedding_function=None)
    with pytest.raises(UniqueConstraintError):
        client.create_collection("typed", embedding_function=None)
    col.add(ids=["a"], embeddings=[[1.0, 2.0]])
    with pytest.raises(InvalidArgumentError, match="dimension"):
        col.add(ids=["b"], embeddings=[[1.0, 2.0, 3.0]])
    with pytest.raises(InvalidArgumentError, match=r"\$foo"):
        col.get(where={"a": {"$foo": 1}})
    client.delete_collection("typed")
    with pytest.raises(NotFoundError):
        col.count()


def test_batches_bigger_than_max_batch_size_are_one_request(tmp_path):
    # the announced size is what callers size batches by; a bigger batch is still one request
    # (one transaction): a bad record at its end leaves nothing behind
    with ServerThread(str(tmp_path / "d"), max_batch_size=100) as server:
        client = huedb.HttpClient(host="127.0.0.1", port=server.port)
        assert client.get_max_batch_size() == 100
        col = client.create_collection("big", embedding_function=None)
        vecs = np.random.default_rng(1).random((1050, 16), dtype=np.float32)
        ids = [f"r{i}" for i in range(1050)]
        with pytest.raises(InvalidArgumentError, match="dimension"):
            col.add(ids=[*ids, "bad"], embeddings=[*vecs.tolist(), [1.0] * 15], documents=[*ids, "bad"])
        assert col.count() == 0
        col.add(ids=ids, embeddings=vecs, documents=ids)
        assert col.count() == 1050
        got = col.get(ids=ids, include=["embeddings"])
        assert got["ids"] == ids and np.array_equal(got["embeddings"], vecs)
        col.upsert(ids=ids[:250], embeddings=vecs[:250] * 2)
        assert np.array_equal(col.get(ids=["r7"], include=["embeddings"])["embeddings"][0], vecs[7] * 2)
        client.close()


def test_async_http_client(huedb_server):
    async def scenario():
        client = await huedb.AsyncHttpClient(host="127.0.0.1", port=huedb_server.port)
        assert await client.heartbeat() > 0
        name = f"async-{uuid.uuid4().hex[:8]}"
        col = await client.create_collection(name, embedding_function=None)
        await col.add(ids=["a", "b", "c"], embeddings=[[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], documents=["x", "y", "z"])
        # concurrent coroutines
        counts = await asyncio.gather(*(col.count() for _ in range(5)))
        assert counts == [3] * 5
        res = await col.query(query_embeddings=[[0.0, 0.9]], n_results=1)
        assert res["ids"] == [["a"]] and res["documents"] == [["x"]]
        got = await col.get(ids=["b"], include=["embeddings"])
        assert got["embeddings"].dtype == np.float32
        names = [c.name for c in await client.list_collections()]
        assert name in names
        again = await client.get_collection(name)
        assert again == col and again.name == name
        await client.delete_collection(name)
        with pytest.raises(NotFoundError):
            await client.get_collection(name)

    asyncio.run(scenario())


def test_remote_admin_client(huedb_server):
    admin = huedb.AdminClient(Settings(chroma_server_host="127.0.0.1", chroma_server_http_port=huedb_server.port))
    tenant = f"adm-{uuid.uuid4().hex[:8]}"
    admin.create_tenant(tenant)
    assert admin.get_tenant(tenant)["name"] == tenant
    admin.create_database("one", tenant)
    admin.create_database("two", tenant)
    assert [d["name"] for d in admin.list_databases(tenant=tenant)] == ["one", "two"]
    assert admin.get_database("two", tenant)["tenant"] == tenant
    admin.delete_database("two", tenant)
    with pytest.raises(NotFoundError):
        admin.get_database("two", tenant)
    with pytest.raises(UniqueConstraintError):
        admin.create_tenant(tenant)
    client = huedb.HttpClient(host="127.0.0.1", port=huedb_server.port, tenant=tenant, database="one")
    assert client.count_collections() == 0
    with pytest.raises(ValueError, match="database two"):
        huedb.HttpClient(host="127.0.0.1", port=huedb_server.port, tenant=tenant, database="two")
    admin.close()
    client.close()


def test_ef_persisted_by_one_client_is_rebuilt_by_another(http_client_factory, huedb_server):
    first = http_client_factory()
    col = first.create_collection("with-ef", embedding_function=CharCountEF(weight=2.0))
    col.add(ids=["a", "b"], documents=["aaaa", "bb"])
    second = huedb.HttpClient(host="127.0.0.1", port=huedb_server.port, tenant=first.tenant, database=first.database)
    again = second.get_collection("with-ef")
    assert again.embedding_function.name() == "test_char_count"
    spec = again.configuration_json["embedding_function"]
    assert (spec["name"], spec["config"]) == ("test_char_count", {"weight": 2.0})
    res = again.query(query_texts=["aaaa"], n_results=1, include=["embeddings", "distances"])
    assert res["ids"] == [["a"]]
    assert res["embeddings"][0][0].tolist() == [8.0, 4.0]  # weight 2.0 came back from the server
    second.close()


def test_cloud_client_with_token_auth(tmp_path, monkeypatch):
    users = tmp_path / "users.yaml"
    users.write_text(
        "users:\n  - id: cloud-user\n    tenant: cloudy\n    databases: [prod]\n    tokens: [ck-test-123abc]\n"
    )
    with ServerThread(
        str(tmp_path / "d"),
        chroma_server_authn_provider="token",
        chroma_server_authn_credentials_file=str(users),
        chroma_auth_token_transport_header="X-Chroma-Token",
    ) as server:
        # set up tenant/database (the server checks tokens, so create them through the backend)
        server.app.state.api.create_tenant("cloudy")
        server.app.state.api.create_database("prod", "cloudy")
        monkeypatch.setenv("CHROMA_API_KEY", "ck-test-123abc")
        monkeypatch.delenv("CHROMA_TENANT", raising=False)
        monkeypatch.delenv("CHROMA_DATABASE", raising=False)
        client = huedb.CloudClient(cloud_host="127.0.0.1", cloud_port=server.port, enable_ssl=False)
        assert (client.tenant, client.database) == ("cloudy", "prod")  # from the key's identity
        col = client.create_collection("cloud-col", embedding_function=None)
        col.add(ids=["x"], embeddings=[[1.0, 2.0]])
        assert col.count() == 1
        client.close()
        monkeypatch.setenv("CHROMA_TENANT", "cloudy")
        monkeypatch.setenv("CHROMA_DATABASE", "prod")
        explicit = huedb.CloudClient(
            api_key="ck-test-123abc", cloud_host="127.0.0.1", cloud_port=server.port, enable_ssl=False
        )
        assert explicit.get_collection("cloud-col").count() == 1
        explicit.close()
        from huedb.errors import AuthorizationError

        with pytest.raises(AuthorizationError):
            huedb.CloudClient(
                api_key="ck-wrong-999",
                tenant="cloudy",
                database="prod",
                cloud_host="127.0.0.1",
                cloud_port=server.port,
                enable_ssl=False,
            )
    monkeypatch.delenv("CHROMA_API_KEY")
    with pytest.raises(ValueError, match="API key"):
        huedb.CloudClient()


def test_cloud_client_defaults_point_at_chroma_cloud_without_connecting(monkeypatch):
    from huedb.api.http_api import base_url
    from huedb.api.http_client import _http_settings

    s = _http_settings("api.trychroma.com", 443, True, None, Settings())
    assert base_url(s) == "https://api.trychroma.com:443/api/v2"
    assert base_url(Settings(chroma_server_host="http://example.test:9000")) == "http://example.test:9000/api/v2"
