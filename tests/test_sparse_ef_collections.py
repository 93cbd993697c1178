"""Sparse embedding functions persisted through a collection's schema: created with the EF in
one process, reopened in another, where the EF is rebuilt from its stored name and config (no
secret stored) and fills and queries the sparse index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import huedb
from fakes import providers as fakes
from huedb import K, Knn, Schema, Search, SparseVectorIndexConfig
from huedb_plugins.embedding import http_provider
from huedb_plugins.embedding.bm25_ef import Bm25EmbeddingFunction
from huedb_plugins.embedding.chroma_cloud_splade_ef import ChromaCloudSpladeEmbeddingFunction

KEY = "test-key"
REOPEN = textwrap.dedent("""
    import json, sys
    import huedb
    from huedb import Knn, Search
    col = huedb.PersistentClient(path=sys.argv[1]).get_collection("sparse", embedding_function=None)
    col.add(ids=["later"], embeddings=[[0.5, 0.5]], documents=["zebra crossing later"])
    stored = col.get(ids=["later"], include=["metadatas"])["metadatas"][0]["sv"]
    hits = col.search(Search().rank(Knn(query="zebra", key="sv", limit=5))).rows()[0]
    print(json.dumps({"filled": len(stored.indices) > 0, "hits": sorted(r["id"] for r in hits)}))
""")


def _create(path: Path, ef) -> None:
    schema = Schema().create_index(SparseVectorIndexConfig(source_key=K.DOCUMENT, embedding_function=ef), key="sv")
    col = huedb.PersistentClient(path=str(path)).create_collection("sparse", schema=schema, embedding_function=None)
    col.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]], documents=["a zebra here", "nothing to see"])
    assert col.search(Search().rank(Knn(query="zebra", key="sv", limit=5))).rows()[0][0]["id"] == "a"


def _reopen(path: Path, env: dict[str, str]) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", REOPEN, str(path)], env=env, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _stored_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.rglob("*") if p.is_file())


def test_bm25_is_rebuilt_from_the_schema_in_a_new_process(tmp_path):
    _create(tmp_path / "db", Bm25EmbeddingFunction())
    got = _reopen(tmp_path / "db", dict(os.environ))
    assert got == {"filled": True, "hits": ["a", "later"]}


@pytest.fixture
def splade(monkeypatch):
    monkeypatch.setattr(http_provider, "RETRY_INITIAL_WAIT", 0.01)
    for var in ("CHROMA_API_KEY", "CHROMA_EMBED_URL", "HUEDB_CHROMA_CLOUD_SPLADE_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CHROMA_API_KEY", KEY)
    with fakes.FakeChromaSplade() as fake:
        yield fake


def test_chroma_cloud_splade_is_rebuilt_without_its_secret(tmp_path, splade, monkeypatch):
    monkeypatch.delenv("CHROMA_API_KEY")  # the creator passes its key and endpoint directly
    _create(tmp_path / "db", ChromaCloudSpladeEmbeddingFunction(base_url=splade.url, api_key=KEY))
    assert KEY.encode() not in _stored_bytes(tmp_path / "db")
    assert splade.url.encode() not in _stored_bytes(tmp_path / "db")
    env = {k: v for k, v in os.environ.items() if k != "HUEDB_CHROMA_CLOUD_SPLADE_BASE_URL"}
    env.update(CHROMA_API_KEY=KEY, CHROMA_EMBED_URL=splade.url)
    got = _reopen(tmp_path / "db", env)
    assert got["filled"] and "later" in got["hits"] and "a" in got["hits"]
    assert splade.embedding_requests[-1].headers["x-chroma-token"] == KEY  # the reader's own key (env)


def test_get_or_create_keeps_the_given_instance_only_for_its_own_schema(tmp_path, splade, monkeypatch):
    monkeypatch.delenv("CHROMA_API_KEY")
    client = huedb.PersistentClient(path=str(tmp_path / "db"))
    ef = ChromaCloudSpladeEmbeddingFunction(base_url=splade.url, api_key=KEY)
    schema = Schema().create_index(SparseVectorIndexConfig(source_key=K.DOCUMENT, embedding_function=ef), key="sv")
    col = client.get_or_create_collection("goc", schema=schema, embedding_function=None)  # created
    col.add(ids=["a"], embeddings=[[1.0, 0.0]], documents=["zebra"])  # filled by the given instance
    assert col.get(include=["metadatas"])["metadatas"][0]["sv"].indices
    other = ChromaCloudSpladeEmbeddingFunction(base_url=splade.url, api_key=KEY, include_tokens=True)
    other_schema = Schema().create_index(
        SparseVectorIndexConfig(source_key=K.DOCUMENT, embedding_function=other), key="sv"
    )
    again = client.get_or_create_collection("goc", schema=other_schema, embedding_function=None)
    assert not again.__dict__.get("_sparse_efs")  # a different EF than the stored one is not used for it
