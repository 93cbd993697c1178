"""The real chromadb-client 1.5.9, sync and async, through a user's scenario against `huedb run`.

Covers what issue 12 asks of the wire: modify with a configuration, embedding functions
persisted by the server (created with an EF, reopened by a fresh client without one), and
every error class a client sees: NotFound, duplicates, invalid arguments, dimension
mismatch, auth (401 and 403), and reset when it is disabled. The OpenAI EF talks to the
fake in tests/fakes/ (stdlib and numpy only, so it imports in this venv too).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import chromadb
import chromadb.errors as errors
import httpx
import pytest
from chromadb.config import Settings
from chromadb.utils.embedding_functions import OpenAIEmbeddingFunction

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from fakes.openai_server import FakeOpenAI  # noqa: E402

SERVER_PYTHON = os.environ.get("HUEDB_SERVER_PYTHON", str(REPO / ".venv" / "bin" / "python"))
KEY = "sk-test"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(path: Path, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    path.mkdir(parents=True, exist_ok=True)
    log = open(path / "server.log", "wb")
    cmd = [SERVER_PYTHON, "-m", "huedb.server.run", "--path", str(path / "data"), "--host", "127.0.0.1"]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **env},
        cwd=str(REPO),
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code in (200, 401, 403):
                return proc, port
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("huedb server did not start:\n" + (path / "server.log").read_text())
        time.sleep(0.1)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def fake_openai():
    with FakeOpenAI(valid_keys=[KEY]) as fake:
        yield fake


@pytest.fixture(scope="module")
def server(tmp_path_factory, fake_openai):
    # The server rebuilds persisted EFs only when it has to; the key env var is the client's.
    proc, port = _start(tmp_path_factory.mktemp("scenario"), {"ALLOW_RESET": "FALSE"})
    yield port
    _stop(proc)


@pytest.fixture
def scoped(server):
    admin = chromadb.AdminClient(
        Settings(
            chroma_server_host="127.0.0.1",
            chroma_server_http_port=server,
            chroma_api_impl="chromadb.api.fastapi.FastAPI",
        )
    )
    tenant, database = f"t-{uuid.uuid4().hex[:8]}", f"d-{uuid.uuid4().hex[:8]}"
    admin.create_tenant(tenant)
    admin.create_database(database, tenant)
    return {"host": "127.0.0.1", "port": server, "tenant": tenant, "database": database, "admin": admin}


def _client(scoped) -> chromadb.api.ClientAPI:
    return chromadb.HttpClient(
        host=scoped["host"], port=scoped["port"], tenant=scoped["tenant"], database=scoped["database"]
    )


# -- modify with configuration ------------------------------------------------------------


def test_modify_with_configuration_round_trips(scoped):
    client = _client(scoped)
    col = client.create_collection(
        "tuned", embedding_function=None, configuration={"hnsw": {"space": "cosine", "ef_search": 20}}
    )
    assert col.configuration["hnsw"]["space"] == "cosine"
    col.modify(configuration={"hnsw": {"ef_search": 77}})
    assert col.configuration["hnsw"]["ef_search"] == 77
    again = _client(scoped).get_collection("tuned", embedding_function=None)
    assert again.configuration["hnsw"]["ef_search"] == 77
    assert again.configuration["hnsw"]["space"] == "cosine"
    # the space is fixed at creation: changing it is an invalid argument, as on Chroma
    with pytest.raises((errors.InvalidArgumentError, ValueError)):
        col.modify(configuration={"hnsw": {"space": "l2"}})


def test_async_modify_with_configuration(scoped):
    async def scenario():
        client = await chromadb.AsyncHttpClient(
            host=scoped["host"], port=scoped["port"], tenant=scoped["tenant"], database=scoped["database"]
        )
        col = await client.create_collection("async-tuned", embedding_function=None)
        await col.modify(configuration={"hnsw": {"ef_search": 33}})
        got = await client.get_collection("async-tuned", embedding_function=None)
        assert got.configuration["hnsw"]["ef_search"] == 33

    asyncio.run(scenario())


# -- persisted embedding functions --------------------------------------------------------


def test_persisted_ef_is_rebuilt_by_a_fresh_client(scoped, fake_openai, monkeypatch):
    monkeypatch.setenv("MY_WIRE_OPENAI_KEY", KEY)
    ef = OpenAIEmbeddingFunction(
        api_key_env_var="MY_WIRE_OPENAI_KEY", model_name="text-embedding-3-small", api_base=fake_openai.url + "/v1"
    )
    col = _client(scoped).create_collection("with-ef", embedding_function=ef)
    # one document per call: the fake answers in reverse order (as a real server may), and
    # chromadb's OpenAIEmbeddingFunction, unlike huedb's, does not sort the answer by index
    col.add(ids=["a"], documents=["apples and pears"])
    col.add(ids=["b"], documents=["the tax return"])
    sent = len(fake_openai.requests)
    assert sent >= 1

    reopened = _client(scoped).get_collection("with-ef")  # no embedding_function
    cfg = reopened.configuration["embedding_function"]
    assert cfg.name() == "openai"
    assert cfg.get_config()["api_key_env_var"] == "MY_WIRE_OPENAI_KEY"
    assert cfg.get_config()["model_name"] == "text-embedding-3-small"
    res = reopened.query(query_texts=["the tax return"], n_results=1)
    assert res["ids"] == [["b"]]
    assert len(fake_openai.requests) > sent  # the reopened collection embedded through the persisted EF

    # a different EF than the persisted one is refused by the client, as against Chroma
    with pytest.raises(ValueError, match="[Ee]mbedding function"):
        _client(scoped).get_collection("with-ef", embedding_function=_FixedEF())


class _FixedEF(chromadb.EmbeddingFunction):
    def __init__(self) -> None:
        pass

    def __call__(self, input):
        return [[0.0, 1.0] for _ in input]

    @staticmethod
    def name() -> str:
        return "fixed-wire-test"

    def get_config(self):
        return {}

    @staticmethod
    def build_from_config(config):
        return _FixedEF()


# -- every error class a client sees ------------------------------------------------------


def test_error_classes_sync(scoped):
    client = _client(scoped)
    with pytest.raises(errors.NotFoundError):
        client.get_collection("missing-one", embedding_function=None)
    with pytest.raises(errors.NotFoundError):
        client.delete_collection("missing-one")
    col = client.create_collection("errs", embedding_function=None)
    with pytest.raises((errors.UniqueConstraintError, errors.InternalError), match="already exists"):
        client.create_collection("errs", embedding_function=None)
    with pytest.raises((errors.UniqueConstraintError, errors.InternalError), match="already exists"):
        scoped["admin"].create_tenant(scoped["tenant"])
    with pytest.raises((errors.UniqueConstraintError, errors.InternalError), match="already exists"):
        scoped["admin"].create_database(scoped["database"], scoped["tenant"])
    with pytest.raises(errors.NotFoundError):
        scoped["admin"].get_tenant(f"no-{uuid.uuid4().hex[:8]}")
    col.add(ids=["a"], embeddings=[[1.0, 2.0]])
    with pytest.raises(errors.InvalidArgumentError, match="dimension"):
        col.add(ids=["b"], embeddings=[[1.0, 2.0, 3.0]])
    with pytest.raises(errors.InvalidArgumentError, match="dimension"):
        col.query(query_embeddings=[[1.0, 2.0, 3.0]], n_results=1)
    with pytest.raises(errors.InvalidArgumentError):
        client.create_collection("x", embedding_function=None)  # name too short
    with pytest.raises(errors.InvalidArgumentError, match=r"\$gt"):
        col.get(where={"a": {"$gt": True}})
    with pytest.raises(errors.InvalidArgumentError):
        client.create_collection("bad-space", embedding_function=None, configuration={"hnsw": {"space": "nope"}})
    with pytest.raises(errors.AuthorizationError):  # ALLOW_RESET is off on this server
        client.reset()
    assert col.count() == 1  # every refused write changed nothing


def test_error_classes_async(scoped):
    async def scenario():
        client = await chromadb.AsyncHttpClient(
            host=scoped["host"], port=scoped["port"], tenant=scoped["tenant"], database=scoped["database"]
        )
        assert await client.heartbeat() > 0
        with pytest.raises(errors.NotFoundError):
            await client.get_collection("missing-async")
        col = await client.create_collection("async-errs", embedding_function=None)
        with pytest.raises((errors.UniqueConstraintError, errors.InternalError), match="already exists"):
            await client.create_collection("async-errs", embedding_function=None)
        await col.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]], metadatas=[{"k": 1}, {"k": 2}])
        with pytest.raises(errors.InvalidArgumentError, match="dimension"):
            await col.add(ids=["c"], embeddings=[[1.0, 2.0, 3.0]])
        with pytest.raises(errors.InvalidArgumentError):
            await col.get(where={"k": {"$gt": True}})  # passes the client, refused by the server
        res = await col.query(query_embeddings=[[1.0, 0.1]], n_results=1, where={"k": {"$gte": 1}})
        assert res["ids"] == [["a"]]
        await col.delete(ids=["a"])
        assert await col.count() == 1
        await client.delete_collection("async-errs")
        with pytest.raises(errors.NotFoundError):
            await client.get_collection("async-errs")

    asyncio.run(scenario())


@pytest.fixture(scope="module")
def token_server(tmp_path_factory):
    env = {
        "CHROMA_SERVER_AUTHN_PROVIDER": "chromadb.auth.token_authn.TokenAuthenticationServerProvider",
        "CHROMA_SERVER_AUTHN_CREDENTIALS": "wire-secret",
    }
    proc, port = _start(tmp_path_factory.mktemp("auth"), env)
    yield port
    _stop(proc)


def _token_client(port: int, token: str) -> chromadb.api.ClientAPI:
    return chromadb.HttpClient(
        host="127.0.0.1",
        port=port,
        settings=Settings(
            chroma_client_auth_provider="chromadb.auth.token_authn.TokenAuthClientProvider",
            chroma_client_auth_credentials=token,
        ),
    )


def test_auth_errors(token_server):
    ok = _token_client(token_server, "wire-secret")
    ok.get_or_create_collection("guarded", embedding_function=None)
    assert [c.name for c in ok.list_collections()] == ["guarded"]
    with pytest.raises((errors.ChromaAuthError, errors.AuthorizationError)):
        _token_client(token_server, "wrong-secret").list_collections()
    with pytest.raises((errors.ChromaAuthError, errors.AuthorizationError)):
        chromadb.HttpClient(host="127.0.0.1", port=token_server).list_collections()
