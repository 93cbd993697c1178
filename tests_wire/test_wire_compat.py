"""Wire compatibility: the real `chromadb` thin client (chromadb-client from PyPI) against a huedb server.

Run with the venv that has chromadb-client (see .ci/wire_compat.sh); the server runs
as a subprocess from huedb's venv: HUEDB_SERVER_PYTHON (default /work/main/.venv/bin/python).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from pathlib import Path

import chromadb
import httpx
import numpy as np
import pytest
from chromadb.config import Settings
from chromadb.errors import ChromaError, InvalidArgumentError, NotFoundError

REPO = Path(__file__).resolve().parents[1]
SERVER_PYTHON = os.environ.get("HUEDB_SERVER_PYTHON", str(REPO / ".venv" / "bin" / "python"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    path = tmp_path_factory.mktemp("wire")
    port = _free_port()
    log = open(path / "server.log", "wb")
    env = {**os.environ, "ALLOW_RESET": "TRUE"}
    proc = subprocess.Popen(
        [
            SERVER_PYTHON,
            "-m",
            "huedb.server.run",
            "--path",
            str(path / "data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=str(REPO),
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("huedb server did not start:\n" + (path / "server.log").read_text())
        time.sleep(0.1)
    yield port
    proc.terminate()
    proc.wait(30)
    log.close()


@pytest.fixture
def client(server):
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
    return chromadb.HttpClient(host="127.0.0.1", port=server, tenant=tenant, database=database)


def test_heartbeat_and_version(client):
    assert client.heartbeat() > 0
    assert isinstance(client.get_version(), str)
    assert client.get_max_batch_size() >= 3000


def test_tenants_and_databases_via_admin_client(server):
    admin = chromadb.AdminClient(
        Settings(
            chroma_server_host="127.0.0.1",
            chroma_server_http_port=server,
            chroma_api_impl="chromadb.api.fastapi.FastAPI",
        )
    )
    tenant = f"adm-{uuid.uuid4().hex[:8]}"
    admin.create_tenant(tenant)
    assert admin.get_tenant(tenant)["name"] == tenant
    admin.create_database("alpha", tenant)
    admin.create_database("beta", tenant)
    assert [d["name"] for d in admin.list_databases(tenant=tenant)] == ["alpha", "beta"]
    assert admin.get_database("alpha", tenant)["name"] == "alpha"
    admin.delete_database("beta", tenant)
    assert [d["name"] for d in admin.list_databases(tenant=tenant)] == ["alpha"]
    with pytest.raises(NotFoundError):
        admin.get_database("beta", tenant)


def test_collections_crud(client):
    col = client.create_collection("wire-docs", metadata={"topic": "wire"}, embedding_function=None)
    assert col.name == "wire-docs" and col.metadata == {"topic": "wire"}
    assert client.get_collection("wire-docs", embedding_function=None).id == col.id
    same = client.get_or_create_collection("wire-docs", embedding_function=None)
    assert same.id == col.id
    client.create_collection("wire-other", embedding_function=None)
    assert client.count_collections() == 2
    assert sorted(c.name for c in client.list_collections()) == ["wire-docs", "wire-other"]
    assert len(client.list_collections(limit=1, offset=1)) == 1
    col.modify(name="wire-renamed", metadata={"topic": "changed"})
    got = client.get_collection("wire-renamed", embedding_function=None)
    assert got.metadata == {"topic": "changed"}
    client.delete_collection("wire-renamed")
    with pytest.raises(NotFoundError):
        client.get_collection("wire-renamed", embedding_function=None)
    with pytest.raises(Exception, match="already exists"):  # duplicate name: the class depends on the client
        client.create_collection("wire-other", embedding_function=None)


def test_records_with_filters_and_include(client):
    col = client.create_collection("recs", embedding_function=None)
    vecs = np.random.default_rng(3).random((5, 4), dtype=np.float32)
    ids = [f"r{i}" for i in range(5)]
    col.add(
        ids=ids,
        embeddings=vecs,
        documents=[f"doc {i}" for i in range(5)],
        metadatas=[{"i": i, "even": i % 2 == 0, "tag": "x" if i < 3 else "y"} for i in range(5)],
    )
    assert col.count() == 5
    got = col.get(ids=["r1", "r3"], include=["embeddings", "documents", "metadatas"])
    assert got["ids"] == ["r1", "r3"]
    assert np.array_equal(np.asarray(got["embeddings"], dtype=np.float32), vecs[[1, 3]])
    assert got["documents"] == ["doc 1", "doc 3"] and got["metadatas"][0]["i"] == 1
    assert sorted(col.get(where={"even": True})["ids"]) == ["r0", "r2", "r4"]
    assert sorted(col.get(where={"$and": [{"tag": "x"}, {"i": {"$gte": 1}}]})["ids"]) == ["r1", "r2"]
    assert col.get(where_document={"$contains": "doc 4"})["ids"] == ["r4"]
    assert col.get(limit=2, offset=1)["ids"] == ["r1", "r2"]
    res = col.query(
        query_embeddings=[vecs[2].tolist()], n_results=2, include=["distances", "documents", "metadatas", "embeddings"]
    )
    assert res["ids"][0][0] == "r2" and res["distances"][0][0] == pytest.approx(0.0, abs=1e-5)
    assert res["documents"][0][0] == "doc 2"
    res = col.query(query_embeddings=[vecs[0].tolist()], n_results=5, where={"tag": "y"})
    assert sorted(res["ids"][0]) == ["r3", "r4"]
    col.update(ids=["r0"], metadatas=[{"i": 100, "even": True, "tag": "z"}], embeddings=[vecs[4].tolist()])
    assert col.get(ids=["r0"])["metadatas"] == [{"i": 100, "even": True, "tag": "z"}]
    assert col.get(where={"i": {"$gt": 99}})["ids"] == ["r0"]
    col.upsert(ids=["r0", "r9"], embeddings=[vecs[0].tolist(), vecs[1].tolist()], documents=["again", "new"])
    assert col.count() == 6 and col.get(ids=["r9"])["documents"] == ["new"]
    col.delete(ids=["r9"])
    col.delete(where={"tag": "y"})
    assert sorted(col.get()["ids"]) == ["r0", "r1", "r2"]
    peek = col.peek(1)
    assert len(peek["ids"]) == 1


def test_errors_map_to_chromadb_exceptions(client):
    with pytest.raises(NotFoundError):
        client.get_collection("nope-nope", embedding_function=None)
    col = client.create_collection("errs", embedding_function=None)
    col.add(ids=["a"], embeddings=[[1.0, 2.0]])
    with pytest.raises(InvalidArgumentError, match="dimension"):
        col.add(ids=["b"], embeddings=[[1.0, 2.0, 3.0]])
    with pytest.raises(InvalidArgumentError, match="dimension"):
        col.query(query_embeddings=[[1.0, 2.0, 3.0]])
    # a filter that chromadb's client-side validation lets through but the server rejects
    with pytest.raises(InvalidArgumentError, match=r"\$gt"):
        col.get(where={"a": {"$gt": True}})
    with pytest.raises(InvalidArgumentError, match=r"\$gt"):
        col.query(query_embeddings=[[1.0, 2.0]], where={"a": {"$gt": True}})


def test_501_is_a_chroma_error(client):
    # Chroma's server answers a 501 as {"error": "ChromaError"}; chromadb's client raises ChromaError
    # for it (an unknown error name would surface as a bare Exception).
    col = client.create_collection("no-functions", embedding_function=None)
    with pytest.raises(ChromaError, match="not supported"):
        col.get_attached_function("fn")


def test_3000_x_64_float32_batch_round_trips_exactly(client):
    col = client.create_collection("bulk", embedding_function=None)
    vecs = np.random.default_rng(11).standard_normal((3000, 64)).astype(np.float32)
    ids = [f"b{i}" for i in range(3000)]
    col.add(ids=ids, embeddings=vecs)
    assert col.count() == 3000
    got = col.get(ids=ids, include=["embeddings"])
    assert got["ids"] == ids
    back = np.asarray(got["embeddings"], dtype=np.float32)
    assert back.shape == (3000, 64) and np.array_equal(back, vecs)
    res = col.query(query_embeddings=vecs[:3], n_results=1)
    assert [r[0] for r in res["ids"]] == ["b0", "b1", "b2"]
