"""Disk layout (issue 17): each vector is stored once, in SQLite; persisted hnswlib graphs
leave out the vectors SQLite holds and take them back on load. New files use 8 KiB pages;
databases written before open and keep working, and ``huedb vacuum`` repacks them."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

import huedb
from huedb.storage.sqlite.connection import PAGE_SIZE

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
from make_v2_database import expected  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "v2_database.tar.gz"
DIM = 16


def _graph_files(root: Path, suffix: str) -> list[Path]:
    return sorted(p for p in root.rglob(f"hnswlib.*{suffix}"))


def _page_size(root: Path) -> int:
    conn = sqlite3.connect(root / "huedb.sqlite3")
    try:
        return conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()


def _old_database(tmp_path: Path) -> Path:
    with tarfile.open(FIXTURE) as tar:
        tar.extractall(tmp_path, filter="data")
    return tmp_path / "db"


def _check(col, space: str, X: np.ndarray, rows: dict) -> None:
    got = col.get(include=["embeddings", "documents", "metadatas"])
    assert sorted(got["ids"]) == sorted(rows)
    for rid, emb, doc, md in zip(got["ids"], got["embeddings"], got["documents"], got["metadatas"]):
        np.testing.assert_array_equal(emb, rows[rid][0])
        assert (doc, md) == rows[rid][1:]
    ids = sorted(rows)
    V = np.stack([rows[i][0] for i in ids]).astype(np.float64)
    Q = np.random.default_rng(3).normal(size=(4, DIM)).astype(np.float32)
    res = col.query(query_embeddings=Q, n_results=5, include=["distances"])
    for q, dists in zip(Q.astype(np.float64), res["distances"]):
        if space == "l2":
            exact = ((V - q) ** 2).sum(1)
        else:
            exact = 1 - (V @ q) / (np.linalg.norm(V, axis=1) * np.linalg.norm(q))
        np.testing.assert_allclose(dists, np.sort(exact)[:5], rtol=1e-4, atol=1e-4)
    hits = col.get(where_document={"$contains": "topic 7"}, where={"k": {"$gte": 0}}, include=[])["ids"]
    assert sorted(hits) == sorted(i for i, row in rows.items() if "topic 7" in row[1])


def test_a_database_written_before_issue_17_opens_and_keeps_working(tmp_path):
    root = _old_database(tmp_path)
    assert _page_size(root) == 4096 and len(_graph_files(root, ".graph.bin")) == 2  # as written back then
    want = expected()
    c = huedb.PersistentClient(path=str(root))
    for name, (space, X, rows) in want.items():
        _check(c.get_collection(name), space, X, rows)
        assert c.get_collection(name).schema.serialize_to_json()["keys"]["k"] == {
            "int": {"int_inverted_index": {"enabled": True, "config": {}}}
        }
        # New writes go on as before; the next persist writes the graph without vectors.
        col = c.get_collection(name)
        extra = np.random.default_rng(7).normal(size=(60, DIM)).astype(np.float32)
        col.add(ids=[f"n{i}" for i in range(60)], embeddings=extra, documents=["new"] * 60, metadatas=[{"k": 1}] * 60)
        rows.update({f"n{i}": (extra[i], "new", {"k": 1}) for i in range(60)})
    c.close()
    assert _graph_files(root, ".graph.bin") == [] and len(_graph_files(root, ".graph.links")) == 2
    # Schema 3: the vectors moved from records.embedding into their own table; 4: the
    # metadata keys of the data are listed in the schema.
    conn = sqlite3.connect(root / "huedb.sqlite3")
    assert conn.execute("SELECT value FROM huedb_meta WHERE key='schema_version'").fetchone() == ("4",)
    assert "embedding" not in [r[1] for r in conn.execute("PRAGMA table_info(records)")]
    assert (
        conn.execute("SELECT count(*) FROM vectors").fetchone()
        == conn.execute("SELECT count(*) FROM records").fetchone()
    )
    conn.close()  # vacuum below leaves WAL only when no other connection has the file open
    c = huedb.PersistentClient(path=str(root))
    for name, (space, X, rows) in want.items():
        _check(c.get_collection(name), space, X, rows)
    c.close()
    # vacuum repacks the old 4 KiB pages into 8 KiB ones; everything is still there.
    proc = subprocess.run(
        [sys.executable, "-m", "huedb.cli", "vacuum", "--path", str(root)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert _page_size(root) == PAGE_SIZE
    c = huedb.PersistentClient(path=str(root))
    for name, (space, X, rows) in want.items():
        _check(c.get_collection(name), space, X, rows)
    c.close()


def test_new_database_uses_8k_pages_and_stores_each_vector_once(tmp_path):
    root = tmp_path / "once"
    X = np.random.default_rng(1).normal(size=(400, DIM)).astype(np.float32)
    c = huedb.PersistentClient(path=str(root))
    col = c.create_collection("once", embedding_function=None, configuration={"hnsw": {"batch_size": 50}})
    col.add(ids=[str(i) for i in range(400)], embeddings=X)
    c.close()
    assert _page_size(root) == PAGE_SIZE
    (links,) = _graph_files(root, ".graph.links")
    (kept,) = _graph_files(root, ".graph.kept")
    for i in range(0, 400, 37):
        needle = X[i].tobytes()
        assert needle not in links.read_bytes() and needle not in kept.read_bytes()
        assert needle in (root / "huedb.sqlite3").read_bytes()


@pytest.mark.parametrize("space", ["l2", "cosine", "ip"])
def test_graph_joined_from_storage_answers_exactly_as_before_closing(tmp_path, space):
    root = tmp_path / space
    X = np.random.default_rng(2).normal(size=(1500, DIM)).astype(np.float32)
    c = huedb.PersistentClient(path=str(root))
    col = c.create_collection("joined", embedding_function=None, configuration={"hnsw": {"space": space}})
    col.add(ids=[str(i) for i in range(1500)], embeddings=X)
    col.update(ids=["3", "4"], embeddings=X[:2] * 2)  # moved labels
    col.delete(ids=["5"])
    before = col.query(query_embeddings=X[:30], n_results=10, include=["distances"])
    c.close()
    c = huedb.PersistentClient(path=str(root))
    after = c.get_collection("joined").query(query_embeddings=X[:30], n_results=10, include=["distances"])
    assert after["ids"] == before["ids"]
    assert after["distances"] == before["distances"]  # bit for bit: the joined graph is the same graph
    c.close()


def test_records_deleted_after_the_last_persist_are_caught_up(tmp_path):
    """Records deleted after the graph was persisted have no vector left in SQLite: their
    elements take a neighbour's vector for routing and are marked deleted by catch-up."""
    root = tmp_path / "late-deletes"
    X = np.random.default_rng(4).normal(size=(1200, DIM)).astype(np.float32)
    c = huedb.PersistentClient(path=str(root))
    col = c.create_collection("late", embedding_function=None, configuration={"hnsw": {"batch_size": 100}})
    col.add(ids=[str(i) for i in range(1200)], embeddings=X)
    c.close()
    saved = root.with_name("saved")
    shutil.copytree(root, saved)
    c = huedb.PersistentClient(path=str(root))
    c.get_collection("late").delete(ids=[str(i) for i in range(0, 1200, 3)])
    c.close()
    # Put the older index files back: the graph holds elements whose records are gone.
    for index_dir in (p for p in root.iterdir() if p.is_dir()):
        shutil.rmtree(index_dir)
        shutil.copytree(saved / index_dir.name, index_dir)
    c = huedb.PersistentClient(path=str(root))
    col = c.get_collection("late")
    live = [i for i in range(1200) if i % 3]
    assert col.count() == len(live)
    res = col.query(query_embeddings=X[:50], n_results=5, include=[])
    V = X[live].astype(np.float64)
    for q, ids in zip(X[:50].astype(np.float64), res["ids"]):
        exact = [str(live[j]) for j in np.argsort(((V - q) ** 2).sum(1))[:5]]
        assert all(int(i) % 3 for i in ids)
        assert len(set(ids) & set(exact)) >= 4
    c.close()
