"""Migration: a persist directory written by the real chromadb 1.5.9 (in its own venv, run
as a subprocess) is copied into huedb with `huedb copy --all --from-chroma-dir`; every
record (ids, float32 embeddings bit for bit, documents, metadata, URIs), the collection
metadata and configuration, the persisted EF and a query result must match Chroma's.

The chromadb venv: $HUEDB_TEST_CHROMA_PYTHON, else /tmp/chroma-venv, else one is built
here (pip install chromadb==1.5.9). .ci/chroma_migration.sh builds it and runs this file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import huedb
from huedb.cli import build_cli

pytestmark = pytest.mark.slow
HUEDB = str(Path(sys.executable).with_name("huedb"))
CHROMA_VERSION = "1.5.9"

WRITE = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import chromadb
    from chromadb.config import Settings
    from chromadb.utils.embedding_functions import DefaultEmbeddingFunction

    path, out = sys.argv[1], sys.argv[2]
    assert chromadb.__version__ == "%s", chromadb.__version__
    client = chromadb.PersistentClient(path=path, settings=Settings(anonymized_telemetry=False))
    rng = np.random.default_rng(11)
    # 1: cosine, 1,500 records (past sync_threshold, so most live in the HNSW files), then a delete and an update
    cos = client.create_collection("cos_docs", embedding_function=None, metadata={"owner": "team-a", "v": 2},
                                   configuration={"hnsw": {"space": "cosine", "ef_search": 120, "max_neighbors": 24}})
    emb = rng.normal(size=(1500, 16)).astype(np.float32)
    cos.add(ids=[f"d{i}" for i in range(1500)], embeddings=emb,
            documents=[f"document {i}" if i %% 4 else None for i in range(1500)],
            metadatas=[{"i": i, "f": i / 7, "even": i %% 2 == 0, "tag": "t%%d" %% (i %% 5)} if i %% 6 else None for i in range(1500)],
            uris=[f"s3://bucket/{i}" if i %% 3 == 0 else None for i in range(1500)])
    cos.delete(ids=["d3", "d4"])
    cos.update(ids=["d5"], embeddings=[[0.25] * 16], metadatas=[{"updated": True}])
    cos.upsert(ids=["new1"], embeddings=[[1.0] * 16], documents=["added last"])
    # 2: l2 with the default EF persisted (embeddings given, so no model is needed)
    l2 = client.create_collection("with_default_ef", embedding_function=DefaultEmbeddingFunction())
    l2.add(ids=["a", "b", "c"], embeddings=rng.normal(size=(3, 384)).astype(np.float32).tolist(), documents=["x", "y", "z"])
    # 3: empty, with legacy hnsw metadata
    client.create_collection("empty_one", embedding_function=None, metadata={"hnsw:space": "ip"})
    expected = {}
    for col in client.list_collections():
        got = col.get(include=["embeddings", "documents", "metadatas", "uris"])
        q = col.query(query_embeddings=[emb[10].tolist() if col.name == "cos_docs" else [0.1] * (384 if col.name == "with_default_ef" else 16)],
                      n_results=min(5, max(col.count(), 1)), include=["distances"]) if col.count() else None
        expected[col.name] = {
            "metadata": col.metadata,
            "configuration": col.configuration_json,
            "ids": got["ids"],
            "embeddings": [np.asarray(e, dtype=np.float32).tobytes().hex() for e in got["embeddings"]],
            "documents": got["documents"], "metadatas": got["metadatas"], "uris": got["uris"],
            "query": None if q is None else q["ids"][0],
        }
    json.dump(expected, open(out, "w"))
    """  # noqa: E501, UP031 - a script for chromadb's venv: long lines are its data; % spares escaping its braces
    % CHROMA_VERSION
)


@pytest.fixture(scope="module")
def chroma_python(tmp_path_factory) -> str:
    given = os.environ.get("HUEDB_TEST_CHROMA_PYTHON")
    if given:
        return given
    if Path("/tmp/chroma-venv/bin/python").exists():
        return "/tmp/chroma-venv/bin/python"
    env_dir = tmp_path_factory.mktemp("chroma-venv")
    venv.create(env_dir, with_pip=True)
    py = str(env_dir / "bin" / "python")
    subprocess.run([py, "-m", "pip", "install", "-q", f"chromadb=={CHROMA_VERSION}"], check=True, timeout=1800)
    return py


@pytest.fixture(scope="module")
def chroma_dir(chroma_python, tmp_path_factory):
    root = tmp_path_factory.mktemp("chroma")
    out = root / "expected.json"
    script = root / "write.py"
    script.write_text(WRITE)
    proc = subprocess.run(
        [chroma_python, str(script), str(root / "persist"), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=root,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root / "persist", json.loads(out.read_text())


def check(dst: Path, expected) -> None:
    client = huedb.PersistentClient(path=str(dst))
    assert sorted(c.name for c in client.list_collections()) == sorted(expected)
    for name, exp in expected.items():
        col = client.get_collection(name)
        assert col.metadata == exp["metadata"], name
        conf, exp_conf = col.configuration_json, exp["configuration"]
        for key in ("space", "ef_search", "ef_construction", "max_neighbors"):
            assert conf["hnsw"][key] == exp_conf["hnsw"][key], (name, key)
        assert conf["embedding_function"] == exp_conf["embedding_function"], name
        got = col.get(ids=exp["ids"], include=["embeddings", "documents", "metadatas", "uris"]) if exp["ids"] else None
        assert col.count() == len(exp["ids"])
        if got is None:
            continue
        assert got["ids"] == exp["ids"]
        mine = [np.asarray(e, dtype=np.float32).tobytes().hex() for e in got["embeddings"]]
        assert mine == exp["embeddings"], f"{name}: embeddings differ"
        assert got["documents"] == exp["documents"] and got["uris"] == exp["uris"]
        # Chroma answers {} for a record with no metadata keys (when it has a document or
        # URI); huedb answers None for no metadata, whatever else the record holds.
        assert got["metadatas"] == [m or None for m in exp["metadatas"]]
        assert sum(1 for m in got["metadatas"] if m) == sum(1 for m in exp["metadatas"] if m) > 0 or name != "cos_docs"
        if exp["query"]:
            q = np.frombuffer(bytes.fromhex(exp["embeddings"][exp["ids"].index(exp["query"][0])]), dtype=np.float32)
            res = col.query(query_embeddings=[q], n_results=len(exp["query"]))
            assert res["ids"][0][0] == exp["query"][0]
            assert set(res["ids"][0]) == set(exp["query"]), name


def test_migrate_a_chromadb_1_5_9_directory_as_a_binary(chroma_dir, chroma_python, tmp_path):
    persist, expected = chroma_dir
    assert {"cos_docs", "with_default_ef", "empty_one"} == set(expected)
    assert len(expected["cos_docs"]["ids"]) == 1499
    out = subprocess.run(
        [
            HUEDB,
            "copy",
            "--all",
            "--from-chroma-dir",
            str(persist),
            "--to-path",
            str(tmp_path / "huedb"),
            "--chroma-python",
            chroma_python,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    assert "Copied 1499 records of 'cos_docs'" in out.stdout and "Copying cos_docs" in out.stderr
    check(tmp_path / "huedb", expected)
    # copying again (a resumed or repeated migration) changes nothing
    again = subprocess.run(
        [
            HUEDB,
            "copy",
            "--all",
            "--from-chroma-dir",
            str(persist),
            "--to-path",
            str(tmp_path / "huedb"),
            "--chroma-python",
            chroma_python,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr
    check(tmp_path / "huedb", expected)


def test_migrate_named_collections_in_process(chroma_dir, chroma_python, tmp_path, monkeypatch):
    persist, expected = chroma_dir
    monkeypatch.setenv("HUEDB_CHROMA_PYTHON", chroma_python)
    r = CliRunner().invoke(
        build_cli(),
        ["copy", "--from-chroma-dir", str(persist), "--to-path", str(tmp_path / "h"), "collections", "with_default_ef"],
    )
    assert r.exit_code == 0, r.output
    check(tmp_path / "h", {"with_default_ef": expected["with_default_ef"]})


def test_doctor_sees_the_chroma_directory(chroma_dir):
    persist, _ = chroma_dir
    r = CliRunner().invoke(build_cli(), ["doctor", "--path", str(persist), "--json", "--skip-model"])
    report = json.loads(r.output)
    chroma = [c for c in report["checks"] if c["check"] == "chroma directory"]
    assert chroma and sorted(chroma[0]["collections"]) == ["cos_docs", "empty_one", "with_default_ef"]
    assert "--from-chroma-dir" in chroma[0]["detail"]
