"""``huedb copy``: path to path, to and from a server, idempotent, resumable; the Chroma
persist directory source without chromadb says what to install (the migration itself is
tests/test_cli_migrate.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import huedb
from huedb.cli import build_cli

HUEDB = str(Path(sys.executable).with_name("huedb"))
N = 2500


def make_src(path: Path) -> None:
    client = huedb.PersistentClient(path=str(path))
    a = client.create_collection(
        "col_a", embedding_function=None, configuration={"hnsw": {"space": "ip"}}, metadata={"m": 1}
    )
    rng = np.random.default_rng(3)
    a.add(
        ids=[f"a{i}" for i in range(N)],
        embeddings=rng.normal(size=(N, 8)).astype(np.float32),
        documents=[f"text {i}" for i in range(N)],
        metadatas=[{"i": i} for i in range(N)],
    )
    b = client.create_collection(
        "col_b", configuration={"embedding_function": {"type": "known", "name": "default", "config": {}}}
    )
    b.add(ids=["b1", "b2"], embeddings=[[0.1] * 384, [0.2] * 384], uris=["u1", None])


def records(col):
    got = col.get(include=["embeddings", "documents", "metadatas", "uris"])
    order = np.argsort(got["ids"])
    return (
        [got["ids"][i] for i in order],
        np.asarray(got["embeddings"])[order],
        [got["documents"][i] for i in order],
        [got["metadatas"][i] for i in order],
        [got["uris"][i] for i in order],
    )


def same(c1, c2) -> None:
    r1, r2 = records(c1), records(c2)
    assert r1[0] == r2[0] and np.array_equal(r1[1], r2[1]) and r1[2:] == r2[2:]


def test_copy_all_path_to_path(tmp_path):
    make_src(tmp_path / "src")
    r = CliRunner().invoke(
        build_cli(), ["copy", "--all", "--from-path", str(tmp_path / "src"), "--to-path", str(tmp_path / "dst")]
    )
    assert r.exit_code == 0, r.output
    assert f"Copied {N} records of 'col_a'" in r.output and "Copied 2 records of 'col_b'" in r.output
    src, dst = huedb.PersistentClient(path=str(tmp_path / "src")), huedb.PersistentClient(path=str(tmp_path / "dst"))
    for name in ("col_a", "col_b"):
        same(src.get_collection(name), dst.get_collection(name))
    a = dst.get_collection("col_a")
    assert a.metadata == {"m": 1} and a.configuration_json["hnsw"]["space"] == "ip"
    assert a.configuration_json["embedding_function"] == {"type": "legacy"}  # no EF, kept as is
    assert dst.get_collection("col_b").configuration_json["embedding_function"] == {
        "type": "known",
        "name": "default",
        "config": {},
    }


def test_copy_named_collections_chroma_spelling_and_rerun_is_idempotent(tmp_path):
    make_src(tmp_path / "src")
    args = ["copy", "--from-path", str(tmp_path / "src"), "--to-path", str(tmp_path / "dst"), "collections", "col_b"]
    for _ in range(2):
        r = CliRunner().invoke(build_cli(), args)
        assert r.exit_code == 0, r.output
    dst = huedb.PersistentClient(path=str(tmp_path / "dst"))
    assert [c.name for c in dst.list_collections()] == ["col_b"] and dst.get_collection("col_b").count() == 2


def test_an_interrupted_copy_resumes_without_duplicates(tmp_path, monkeypatch):
    make_src(tmp_path / "src")
    from huedb.cli import copy as copy_module

    real = copy_module.write_batch
    calls = {"n": 0}

    def flaky(col, batch):
        calls["n"] += 1
        if calls["n"] == 3:
            raise ConnectionError("network went away")
        real(col, batch)

    monkeypatch.setattr(copy_module, "write_batch", flaky)
    args = [
        "copy",
        "col_a",
        "--from-path",
        str(tmp_path / "src"),
        "--to-path",
        str(tmp_path / "dst"),
        "--batch-size",
        "500",
    ]
    r = CliRunner().invoke(build_cli(), args)
    assert r.exit_code == 1 and "ConnectionError: network went away" in r.output
    dst = huedb.PersistentClient(path=str(tmp_path / "dst")).get_collection("col_a")
    assert dst.count() == 1000  # two batches landed
    monkeypatch.setattr(copy_module, "write_batch", real)
    r = CliRunner().invoke(build_cli(), args)
    assert r.exit_code == 0, r.output
    same(huedb.PersistentClient(path=str(tmp_path / "src")).get_collection("col_a"), dst)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--all", "col_a", "--from-path", "x", "--to-path", "y"], "not both"),
        (["col_a", "--to-path", "y"], "say where to copy from"),
        (["col_a", "--from-path", "x"], "say where to copy to"),
        (["col_a", "--from-path", "x", "--from-host", "h", "--to-path", "y"], "conflicts"),
    ],
)
def test_bad_copy_arguments(args, message):
    r = CliRunner().invoke(build_cli(), ["copy", *args])
    assert r.exit_code == 2 and message in r.output and len(r.output.strip().splitlines()) == 1


def test_chroma_dir_without_chromadb_says_what_to_install(tmp_path, monkeypatch):
    (tmp_path / "chroma.sqlite3").write_bytes(b"")
    monkeypatch.delenv("HUEDB_CHROMA_PYTHON", raising=False)
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "chromadb" else real(name, *a))
    r = CliRunner().invoke(
        build_cli(), ["copy", "--all", "--from-chroma-dir", str(tmp_path), "--to-path", str(tmp_path / "new")]
    )
    assert r.exit_code == 2 and "pip install chromadb==1.5.9" in r.output and "--chroma-python" in r.output
    r = CliRunner().invoke(
        build_cli(), ["copy", "--all", "--from-chroma-dir", str(tmp_path / "nothing"), "--to-path", "x"]
    )
    assert r.exit_code == 2 and "no Chroma database" in r.output
    # a Python without chromadb
    out = subprocess.run(
        [
            HUEDB,
            "copy",
            "--all",
            "--from-chroma-dir",
            str(tmp_path),
            "--to-path",
            str(tmp_path / "new"),
            "--chroma-python",
            sys.executable,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if out.returncode == 2:
        assert "has no chromadb" in out.stderr and "pip install chromadb==1.5.9" in out.stderr
    else:  # chromadb is importable here after all: then the empty file is not a database
        assert out.returncode == 1 and "reading the Chroma directory" in out.stderr


# -- against a server ----------------------------------------------------------------------------


def test_copy_to_a_server_and_back_as_binaries(tmp_path, huedb_run_port):
    make_src(tmp_path / "src")
    up = subprocess.run(
        [
            HUEDB,
            "copy",
            "--all",
            "--from-path",
            str(tmp_path / "src"),
            "--to-host",
            "127.0.0.1",
            "--to-port",
            str(huedb_run_port),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert up.returncode == 0, up.stderr
    assert "Copying col_a" in up.stderr  # progress bar
    down = subprocess.run(
        [
            HUEDB,
            "copy",
            "col_a",
            "--from-host",
            "127.0.0.1",
            "--from-port",
            str(huedb_run_port),
            "--to-path",
            str(tmp_path / "back"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert down.returncode == 0, down.stderr
    same(
        huedb.PersistentClient(path=str(tmp_path / "src")).get_collection("col_a"),
        huedb.PersistentClient(path=str(tmp_path / "back")).get_collection("col_a"),
    )
    remote = huedb.HttpClient(host="127.0.0.1", port=huedb_run_port)
    assert remote.get_collection("col_b").configuration_json["embedding_function"]["name"] == "default"


@pytest.mark.postgres
def test_copy_sqlite_to_postgres_and_back(tmp_path, postgres_database):
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    make_src(tmp_path / "src")
    # a password in the URL is never echoed (PostgreSQL here trusts the socket and ignores it)
    url = make_conninfo(**{**conninfo_to_dict(postgres_database), "password": "Pw-Never-Shown"})
    up = CliRunner().invoke(
        build_cli(), ["copy", "--all", "--from-path", str(tmp_path / "src"), "--to-postgres-url", url]
    )
    assert up.exit_code == 0, up.output
    assert f"Copied {N} records of 'col_a' to PostgreSQL at" in up.output and "Pw-Never-Shown" not in up.output
    down = CliRunner().invoke(
        build_cli(), ["copy", "--all", "--from-postgres-url", url, "--to-path", str(tmp_path / "back")]
    )
    assert down.exit_code == 0, down.output
    src, back = huedb.PersistentClient(path=str(tmp_path / "src")), huedb.PersistentClient(path=str(tmp_path / "back"))
    pg = huedb.Client(huedb.Settings(storage_backend="postgres", postgres_url=postgres_database))
    try:
        for name in ("col_a", "col_b"):
            same(src.get_collection(name), pg.get_collection(name))
            same(src.get_collection(name), back.get_collection(name))
        for client in (pg, back):
            a = client.get_collection("col_a")
            assert a.metadata == {"m": 1} and a.configuration_json["hnsw"]["space"] == "ip"
            assert client.get_collection("col_b").configuration_json["embedding_function"]["name"] == "default"
        # queries answer the same on both backends (ip space: the nearest is the largest dot product)
        probe = np.asarray(src.get_collection("col_a").get(ids=["a17"], include=["embeddings"])["embeddings"])
        want = src.get_collection("col_a").query(query_embeddings=probe, n_results=3)["ids"]
        assert pg.get_collection("col_a").query(query_embeddings=probe, n_results=3)["ids"] == want
    finally:
        pg.close()
    conflict = CliRunner().invoke(
        build_cli(), ["copy", "--all", "--from-postgres-url", url, "--from-path", "x", "--to-path", "y"]
    )
    assert conflict.exit_code != 0 and "'--from-postgres-url' conflicts" in conflict.output


def test_copy_keeps_the_index_schema(tmp_path):
    from huedb import IntInvertedIndexConfig, Schema, SparseVectorIndexConfig
    from huedb.errors import InvalidArgumentError
    from huedb.utils.embedding_functions import ChromaBm25EmbeddingFunction

    schema = (
        Schema()
        .delete_index(IntInvertedIndexConfig(), key="year")
        .create_index(
            SparseVectorIndexConfig(
                source_key="#document", embedding_function=ChromaBm25EmbeddingFunction(), bm25=True
            ),
            key="bm25",
        )
    )
    src = huedb.PersistentClient(path=str(tmp_path / "src"))
    col = src.create_collection("with_schema", schema=schema, configuration={"index": {"name": "exact"}})
    col.add(ids=["a"], embeddings=[[1.0, 0.0]], documents=["zebra"], metadatas=[{"year": 1}])
    col.add(ids=["gone"], embeddings=[[1.0, 1.0]], metadatas=[{"only_gone": 2.5}])
    col.delete(ids=["gone"])  # its key stays listed, in the copy too
    r = CliRunner().invoke(
        build_cli(), ["copy", "--all", "--from-path", str(tmp_path / "src"), "--to-path", str(tmp_path / "dst")]
    )
    assert r.exit_code == 0, r.output
    dst = huedb.PersistentClient(path=str(tmp_path / "dst")).get_collection("with_schema")
    assert dst.schema == src.get_collection("with_schema").schema
    assert dst.schema.keys["only_gone"].float_value.float_inverted_index.enabled is True
    assert dst.configuration_json["hnsw"] == col.configuration_json["hnsw"]
    with pytest.raises(InvalidArgumentError, match="'year' with type 'Int'"):
        dst.get(where={"year": 1})
    dst.add(ids=["b"], embeddings=[[0.0, 1.0]], documents=["zebra zebra"])  # the copy fills bm25 too
    hits = dst.search(huedb.Search().rank(huedb.Knn(query="zebra", key="bm25")))
    assert hits["ids"] == [["b", "a"]]
