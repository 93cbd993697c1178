"""Storage: SQLite in WAL mode as the system of record, secure deletes, vacuum,
and index segments that heal when missing, stale or corrupt.

The tests find files by content, not by name: a file starting with the SQLite
header is a database (its -wal/-shm/-journal siblings belong to it); every
other file under the path is derived index data.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np

import huedb

SQLITE_HEADER = b"SQLite format 3\x00"


def _all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _sqlite_files(root: Path) -> list[Path]:
    out = []
    for p in _all_files(root):
        with open(p, "rb") as f:
            if f.read(16) == SQLITE_HEADER:
                out.append(p)
    return out


def _index_files(root: Path) -> list[Path]:
    dbs = _sqlite_files(root)
    owned = {str(db) + suffix for db in dbs for suffix in ("", "-wal", "-shm", "-journal")}
    return [p for p in _all_files(root) if str(p) not in owned]


def _tree_size(root: Path) -> int:
    return sum(p.stat().st_size for p in _all_files(root))


def _files_containing(root: Path, needle: bytes) -> list[str]:
    return [str(p) for p in _all_files(root) if needle in p.read_bytes()]


# --- WAL ------------------------------------------------------------------------------


def test_sqlite_database_is_in_wal_mode(tmp_path):
    root = tmp_path / "wal"
    c = huedb.PersistentClient(path=str(root))
    c.create_collection("walcol", embedding_function=None).add(ids=["a"], embeddings=[[1.0]])
    dbs = _sqlite_files(root)
    assert dbs, f"no SQLite database under {root}: {_all_files(root)}"
    c.close()
    for db in dbs:
        # Header bytes 18/19 are the read/write format versions: 2 means WAL.
        header = db.read_bytes()[:20]
        assert header[18] == 2 and header[19] == 2, db
        con = sqlite3.connect(str(db))
        try:
            assert con.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
        finally:
            con.close()


# --- deletes leave nothing on disk -----------------------------------------------------


def _marker_records(marker: str, dim: int = 16):
    vec = np.random.default_rng(abs(hash(marker)) % 2**32).uniform(1000.0, 2000.0, size=dim).astype(np.float32)
    return vec


def _vector_needles(vec: np.ndarray) -> list[bytes]:
    return [vec.astype(np.float32).tobytes(), vec.astype(np.float64).tobytes()]


def test_deleted_records_leave_no_text_or_vectors_on_disk(tmp_path):
    root = tmp_path / "secure"
    marker = f"MARKER-{uuid.uuid4().hex}"
    meta_marker = f"META-{uuid.uuid4().hex}"
    vec = _marker_records(marker)
    c = huedb.PersistentClient(path=str(root))
    col = c.create_collection("secure", embedding_function=None)
    filler = np.random.default_rng(0).normal(size=(200, 16)).astype(np.float32)
    col.add(ids=[f"f{i}" for i in range(200)], embeddings=filler, documents=[f"filler {i}" for i in range(200)])
    col.add(ids=["secret"], embeddings=[vec], documents=[f"top {marker} secret"], metadatas=[{"tag": meta_marker}])
    col.query(query_embeddings=[vec], n_results=3)
    c.close()
    # Sanity check: the marker really is on disk before the delete.
    assert _files_containing(root, marker.encode())

    c = huedb.PersistentClient(path=str(root))
    col = c.get_collection("secure")
    col.delete(ids=["secret"])
    assert col.get(ids=["secret"])["ids"] == []
    col.query(query_embeddings=[vec], n_results=3)
    c.close()
    assert _files_containing(root, marker.encode()) == []
    assert _files_containing(root, meta_marker.encode()) == []
    for needle in _vector_needles(vec):
        assert _files_containing(root, needle) == []
    # The rest is intact.
    c = huedb.PersistentClient(path=str(root))
    assert c.get_collection("secure").count() == 200
    c.close()


def test_updated_document_leaves_no_old_text_on_disk(tmp_path):
    root = tmp_path / "secure-upd"
    marker = f"OLDTEXT-{uuid.uuid4().hex}"
    c = huedb.PersistentClient(path=str(root))
    col = c.create_collection("upd", embedding_function=None)
    col.add(ids=["a"], embeddings=[[1.0, 2.0]], documents=[f"before {marker}"])
    col.update(ids=["a"], embeddings=[[1.0, 2.0]], documents=["after"])
    c.close()
    assert _files_containing(root, marker.encode()) == []


def test_deleted_collection_leaves_no_text_or_vectors_on_disk(tmp_path):
    root = tmp_path / "secure-coll"
    marker = f"COLLMARK-{uuid.uuid4().hex}"
    vec = _marker_records(marker)
    c = huedb.PersistentClient(path=str(root))
    keep = c.create_collection("keeper", embedding_function=None)
    keep.add(ids=["k"], embeddings=[[1.0] * 16], documents=["kept"])
    col = c.create_collection("doomed", embedding_function=None, metadata={"m": marker})
    col.add(
        ids=[f"d{i}" for i in range(50)],
        embeddings=np.tile(vec, (50, 1)),
        documents=[f"{marker} {i}" for i in range(50)],
    )
    col.query(query_embeddings=[vec], n_results=3)
    c.close()
    c = huedb.PersistentClient(path=str(root))
    c.delete_collection("doomed")
    c.close()
    assert _files_containing(root, marker.encode()) == []
    for needle in _vector_needles(vec):
        assert _files_containing(root, needle) == []
    c = huedb.PersistentClient(path=str(root))
    assert [x.name for x in c.list_collections()] == ["keeper"]
    assert c.get_collection("keeper").get()["documents"] == ["kept"]
    c.close()


# --- vacuum ------------------------------------------------------------------------------


def test_vacuum_cli_reclaims_space(tmp_path):
    root = tmp_path / "vac"
    c = huedb.PersistentClient(path=str(root))
    col = c.create_collection("big", embedding_function=None)
    rng = np.random.default_rng(0)
    text = "lorem ipsum dolor sit amet " * 40
    for b in range(4):
        ids = [f"b{b}-{i}" for i in range(500)]
        col.add(
            ids=ids, embeddings=rng.normal(size=(500, 32)).astype(np.float32), documents=[f"{text} {i}" for i in ids]
        )
    col.add(ids=["survivor"], embeddings=[[0.5] * 32], documents=["still here"], metadatas=[{"k": 1}])
    c.close()
    peak = _tree_size(root)

    c = huedb.PersistentClient(path=str(root))
    col = c.get_collection("big")
    for b in range(4):
        col.delete(ids=[f"b{b}-{i}" for i in range(500)])
    c.close()

    proc = subprocess.run(
        [sys.executable, "-m", "huedb.cli", "vacuum", "--path", str(root)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    after = _tree_size(root)
    assert after < peak * 0.5, (peak, after)

    c = huedb.PersistentClient(path=str(root))
    col = c.get_collection("big")
    got = col.get(include=["documents", "metadatas", "embeddings"])
    assert got["ids"] == ["survivor"]
    assert got["documents"] == ["still here"]
    assert got["metadatas"] == [{"k": 1}]
    assert got["embeddings"].tolist() == [[0.5] * 32]
    assert col.query(query_embeddings=[[0.5] * 32], n_results=5)["ids"] == [["survivor"]]
    c.close()


def test_vacuum_cli_requires_path():
    proc = subprocess.run([sys.executable, "-m", "huedb.cli", "vacuum"], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "--path" in proc.stderr


# --- index healing -------------------------------------------------------------------

DIM = 8


def _populate(root: Path, n: int, start: int = 0, space: str = "l2"):
    c = huedb.PersistentClient(path=str(root))
    # These tests check that no record is lost, so the index must answer exactly: one build
    # thread (a deterministic graph) and ef_search above the record count (an exhaustive search).
    hnsw = {"space": space, "num_threads": 1, "ef_search": 500}
    col = c.get_or_create_collection("heal", configuration={"hnsw": hnsw}, embedding_function=None)
    X = np.random.default_rng(start).normal(size=(n, DIM)).astype(np.float32)
    ids = [f"r{start + i}" for i in range(n)]
    col.add(ids=ids, embeddings=X, documents=[f"doc {i}" for i in ids], metadatas=[{"n": start + i} for i in range(n)])
    # Query so that any lazily built index exists on disk.
    col.query(query_embeddings=X[:2], n_results=3)
    c.close()
    return dict(zip(ids, X))


def _check_all_there(root: Path, expected: dict):
    c = huedb.PersistentClient(path=str(root))
    col = c.get_collection("heal")
    assert col.count() == len(expected)
    got = col.get(include=["embeddings", "documents"])
    assert sorted(got["ids"]) == sorted(expected)
    for rid, emb, doc in zip(got["ids"], got["embeddings"], got["documents"]):
        np.testing.assert_array_equal(emb, expected[rid])
        assert doc == f"doc {rid}"
    ids = list(expected)
    X = np.stack([expected[i] for i in ids])
    Q = np.random.default_rng(99).normal(size=(5, DIM)).astype(np.float32)
    k = min(10, len(ids))
    res = col.query(query_embeddings=Q, n_results=k, include=["distances"])
    D = ((Q[:, None, :].astype(np.float64) - X[None]) ** 2).sum(-1)
    for q in range(len(Q)):
        np.testing.assert_allclose(res["distances"][q], np.sort(D[q])[:k], rtol=1e-4, atol=1e-4)
        assert set(res["ids"][q]) <= set(ids)
    c.close()


def test_reopen_with_index_files_deleted(tmp_path):
    root = tmp_path / "heal-missing"
    expected = _populate(root, 300)
    for p in _index_files(root):
        p.unlink()
    for d in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
        if not any(d.iterdir()):
            d.rmdir()
    _check_all_there(root, expected)


def test_reopen_with_index_directory_replaced_by_a_plain_file(tmp_path):
    root = tmp_path / "heal-notdir"
    expected = _populate(root, 300)
    (index_dir,) = [d for d in root.iterdir() if d.is_dir()]
    shutil.rmtree(index_dir)
    index_dir.write_bytes(b"not a directory")
    _check_all_there(root, expected)
    assert index_dir.is_dir()


def test_deleted_vectors_leave_the_index_files_at_vacuum(tmp_path):
    """hnswlib keeps a deleted element's vector in its graph (searches route through it)
    until the graph is compacted or vacuum rebuilds the index: see docs/index-plugins.md."""
    root = tmp_path / "vacuum-vectors"
    c = huedb.PersistentClient(path=str(root))
    col = c.create_collection("gone", embedding_function=None, configuration={"hnsw": {"batch_size": 100}})
    X = np.random.default_rng(5).normal(size=(500, DIM)).astype(np.float32)
    col.add(ids=[f"r{i}" for i in range(500)], embeddings=X)  # all flushed into the graph
    col.delete(ids=[f"r{i}" for i in range(0, 500, 50)])
    col.query(query_embeddings=X[:1], n_results=1)
    c.close()
    # Before vacuum the graph file still holds them (the test would prove nothing otherwise).
    assert any(_files_containing(root, X[50].astype(np.float32).tobytes()))
    proc = subprocess.run(
        [sys.executable, "-m", "huedb.cli", "vacuum", "--path", str(root)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    for i in range(0, 500, 50):
        for needle in _vector_needles(X[i]):
            assert [f for f in _files_containing(root, needle) if Path(f) in _index_files(root)] == []
    c = huedb.PersistentClient(path=str(root))
    col = c.get_collection("gone")
    assert col.count() == 490
    res = col.query(query_embeddings=X[1:2], n_results=1, include=[])
    assert res["ids"] == [["r1"]]
    c.close()


def test_reopen_with_index_files_truncated(tmp_path):
    root = tmp_path / "heal-trunc"
    expected = _populate(root, 300)
    for p in _index_files(root):
        with open(p, "r+b") as f:
            f.truncate(p.stat().st_size // 3)
    _check_all_there(root, expected)


def test_reopen_with_index_files_garbage(tmp_path):
    root = tmp_path / "heal-garbage"
    expected = _populate(root, 300)
    rng = np.random.default_rng(5)
    for p in _index_files(root):
        size = max(p.stat().st_size, 64)
        p.write_bytes(rng.integers(0, 256, size=size, dtype=np.uint8).tobytes())
    _check_all_there(root, expected)


def test_reopen_with_index_older_than_deletion_log_is_rebuilt(tmp_path, caplog):
    root = tmp_path / "heal-stale"
    expected = _populate(root, 200)
    snapshot = tmp_path / "index-snapshot"
    saved = {p.relative_to(root): snapshot / p.relative_to(root) for p in _index_files(root)}
    for rel, dst in saved.items():
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, dst)
    # Later writes: more records, a delete and an update.
    expected.update(_populate(root, 100, start=200))
    c = huedb.PersistentClient(path=str(root))
    col = c.get_collection("heal")
    col.delete(ids=["r0", "r1", "r250"])
    new_vec = np.full(DIM, 3.0, dtype=np.float32)
    col.update(ids=["r2"], embeddings=[new_vec])
    c.close()
    for rid in ("r0", "r1", "r250"):
        del expected[rid]
    expected["r2"] = new_vec
    # Put the old index files back: the segment is now behind SQLite.
    for rel, src in saved.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, root / rel)
    # The deletes were applied and the log pruned, so the old files cannot be caught up.
    with caplog.at_level("WARNING", logger="huedb"):
        _check_all_there(root, expected)
    assert "older (seq 1) than the deletion log" in caplog.text
    c = huedb.PersistentClient(path=str(root))
    res = c.get_collection("heal").query(query_embeddings=[new_vec], n_results=1)
    assert res["ids"] == [["r2"]]
    c.close()


def test_stale_index_within_deletion_log_is_caught_up_not_rebuilt(tmp_path, caplog):
    root = tmp_path / "heal-catch-up"
    expected = _populate(root, 200)  # rids 1..200, index persisted at seq 1
    saved = {p.relative_to(root): p.read_bytes() for p in _index_files(root)}
    expected.update(_populate(root, 100, start=200))  # rids 201..300, seq 2
    c = huedb.PersistentClient(path=str(root))
    c.get_collection("heal").delete(ids=["r0", "r250"])  # seq 3
    c.close()
    for rid in ("r0", "r250"):
        del expected[rid]
    # The state after a crash between the SQLite commits and any index persist:
    # old index files, and a deletion log that was never pruned.
    for rel, data in saved.items():
        (root / rel).write_bytes(data)
    with sqlite3.connect(root / "huedb.sqlite3") as db:
        db.execute("DELETE FROM deletions_pruned")
        db.executemany("INSERT INTO deletions(collection_id, seq, rid) VALUES (1, 3, ?)", [(1,), (251,)])
    db.close()
    with caplog.at_level("WARNING", logger="huedb"):
        _check_all_there(root, expected)
    assert "rebuilding" not in caplog.text


def test_reopen_after_collection_recreated_under_same_name(tmp_path):
    root = tmp_path / "heal-recreate"
    _populate(root, 50)
    c = huedb.PersistentClient(path=str(root))
    c.delete_collection("heal")
    c.close()
    expected = _populate(root, 20, start=1000)
    _check_all_there(root, expected)


def test_index_files_stay_under_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "contained"
    _populate(root, 50)
    assert sorted(os.listdir(tmp_path)) == ["contained"]


def test_files_from_before_batched_fts_inserts_lose_the_insert_trigger(tmp_path):
    # Stores created before documents were indexed per batch had a per-row trigger;
    # keeping it would index every new document twice.
    huedb.PersistentClient(path=str(tmp_path)).close()
    db = sqlite3.connect(tmp_path / "huedb.sqlite3")
    db.execute(
        "CREATE TRIGGER records_fts_insert AFTER INSERT ON records WHEN new.document IS NOT NULL BEGIN "
        "INSERT INTO docs_fts(rowid, document) VALUES (new.rid, new.document); END"
    )
    db.commit()
    db.close()
    c = huedb.PersistentClient(path=str(tmp_path))
    col = c.create_collection("docs", embedding_function=None)
    col.add(ids=["a", "b"], embeddings=[[1.0, 2.0], [3.0, 4.0]], documents=["hello world", "other"])
    col.delete(ids=["b"])
    assert col.get(where_document={"$contains": "hello"})["ids"] == ["a"]
    c.close()
    db = sqlite3.connect(tmp_path / "huedb.sqlite3")
    assert db.execute("SELECT count(*) FROM sqlite_master WHERE name='records_fts_insert'").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM docs_fts_docsize").fetchone() == (1,)
    db.close()


def test_index_state_reports_fresh_stale_missing_and_rebuild(tmp_path):
    """What `huedb doctor` shows per collection, read from the index manifest without loading it."""
    from huedb.config import Settings
    from huedb.engine import LocalAPI
    from huedb.storage import NewRecords

    root = tmp_path / "states"
    expected = _populate(root, 300)
    api = LocalAPI(Settings(is_persistent=True, persist_directory=str(root)))
    model = api.get_collection("heal")
    state = api.index_state(model.id)
    assert state["state"] == "fresh" and state["applied_seq"] == state["collection_seq"] and state["files"]
    # Two writes that reach storage but not the index (as another process's would).
    for seq in (state["collection_seq"] + 1, state["collection_seq"] + 2):
        with api.storage.write() as tx:
            vec = np.random.default_rng(seq).normal(size=(1, DIM)).astype(np.float32)
            tx.insert_records(model.storage_key, seq, NewRecords([f"late{seq}"], vec))
            tx.set_collection_state(model.storage_key, seq, DIM)
    assert api.index_state(model.id)["state"] == "stale"
    assert "2 writes behind" in api.index_state(model.id)["detail"]
    (manifest,) = [p for p in _index_files(root) if p.name.endswith(".manifest.json")]
    manifest.write_text("{ not json")
    assert api.index_state(model.id)["state"] == "rebuild"
    shutil.rmtree(manifest.parent)
    assert api.index_state(model.id)["state"] == "missing"
    api.close()
    assert len(expected) == 300


def test_vacuum_reports_progress_for_storage_then_each_index(tmp_path):
    root = tmp_path / "progress"
    _populate(root, 50)
    c = huedb.PersistentClient(path=str(root))
    c.create_collection("second", embedding_function=None).add(ids=["x"], embeddings=np.ones((1, DIM)))
    steps = []
    c._vacuum(progress=lambda done, total, what: steps.append((done, total, what)))
    c.close()
    assert steps == [
        (1, 3, "storage compacted"),
        (2, 3, "index of 'heal' rebuilt"),
        (3, 3, "index of 'second' rebuilt"),
    ]
