"""Graphs persisted without their vectors (huedb_plugins.index.hnsw_files) load back as the
very graph hnswlib saved, and SQLite's reads of vectors (huedb.storage.sqlite.vectors) returns
every stored vector of a rid range, in rid order, whatever gaps the range has."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import hnswlib
import numpy as np
import pytest

from huedb.storage.sqlite import vectors as rec
from huedb_plugins.index import hnsw_files

DIM = 16


def _state(index: hnswlib.Index) -> dict:
    state = dict(index.__getstate__()[0])
    state.pop("seed")  # hnswlib's file loader leaves it unset
    state.pop("ef")
    state.pop("num_threads")
    lookup = dict(zip(state.pop("label_lookup_external").tolist(), state.pop("label_lookup_internal").tolist()))
    return {**state, "lookup": lookup}


def _assert_same(a: hnswlib.Index, b: hnswlib.Index) -> None:
    sa, sb = _state(a), _state(b)
    assert sa.keys() == sb.keys()
    for key in sa:
        if isinstance(sa[key], np.ndarray):
            assert sa[key].dtype == sb[key].dtype and np.array_equal(sa[key], sb[key]), key
        else:
            assert sa[key] == sb[key], key


def _split_graph(tmp_path: Path, n: int, seed: int) -> tuple[hnswlib.Index, np.ndarray, Path, Path]:
    """(an l2 graph of n random vectors built on one thread, the vectors, its links and kept files)."""
    X = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    index = hnswlib.Index(space="l2", dim=DIM)
    index.init_index(max_elements=n, M=4)
    index.add_items(X, np.arange(n), num_threads=1)  # one thread: the same graph every run
    links, kept = tmp_path / "g.links", tmp_path / "g.kept"
    hnsw_files.split(index, DIM, np.arange(n), tmp_path / "g.full", links, kept)
    return index, X, links, kept


def _fetch_all(X: np.ndarray):
    return lambda wanted: (X[wanted], np.ones(len(wanted), dtype=bool))


@pytest.mark.parametrize("space", ["l2", "cosine", "ip"])
@pytest.mark.parametrize("m", [2, 16])
def test_joined_graph_is_the_saved_graph_bit_for_bit(tmp_path: Path, space: str, m: int) -> None:
    rng = np.random.default_rng(7)
    n, capacity = 3000, 4200
    X = rng.normal(size=(n, DIM)).astype(np.float32)
    labels = np.arange(n, dtype=np.int64) * 3 + 5  # sparse labels, as record ids are
    index = hnswlib.Index(space=space, dim=DIM)
    index.init_index(max_elements=capacity, M=m, ef_construction=50)
    index.add_items(X, labels)
    for label in labels[::11].tolist():
        index.mark_deleted(label)
    live = labels[rng.random(n) < 0.9]  # the rest are "kept": their vectors stay in graph.kept
    links, kept = tmp_path / "g.links", tmp_path / "g.kept"
    hnsw_files.split(index, DIM, live, tmp_path / "g.full", links, kept)

    by_label = dict(zip(labels.tolist(), X))
    asked: list[int] = []

    def fetch(wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        asked.extend(wanted.tolist())
        return np.stack([by_label[w] for w in wanted.tolist()]), np.ones(len(wanted), dtype=bool)

    joined = hnsw_files.join(links, kept, DIM, space, fetch)
    assert sorted(asked) == sorted(live.tolist())  # storage is asked for live vectors only
    saved = tmp_path / "hnswlib.bin"
    index.save_index(str(saved))
    loaded = hnswlib.Index(space=space, dim=DIM)
    loaded.load_index(str(saved))
    _assert_same(joined, loaded)
    assert joined.get_max_elements() == capacity
    q = rng.normal(size=(5, DIM)).astype(np.float32)
    for got, want in zip(joined.knn_query(q, k=10), loaded.knn_query(q, k=10)):
        np.testing.assert_array_equal(got, want)
    joined.add_items(rng.normal(size=(10, DIM)).astype(np.float32), np.arange(10) + 10**6)  # still writable


def test_a_truncated_or_padded_links_file_is_corrupt(tmp_path: Path) -> None:
    _, X, links, kept = _split_graph(tmp_path, 500, seed=1)
    whole = links.read_bytes()
    fetch = _fetch_all(X)
    for damaged in (whole[:-4], whole + b"\0\0\0\0", whole[: hnsw_files.HEADER.size + 10]):
        links.write_bytes(damaged)
        with pytest.raises(hnsw_files.CorruptIndexError):
            hnsw_files.join(links, kept, DIM, "l2", fetch)


def _vectors_db(rids: list[int], dim: int = DIM) -> tuple[sqlite3.Connection, dict[int, np.ndarray]]:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE vectors(rid INTEGER PRIMARY KEY, embedding BLOB NOT NULL)")
    rng = np.random.default_rng(len(rids))
    stored = {rid: rng.normal(size=dim).astype(np.float32) for rid in rids}
    conn.executemany("INSERT INTO vectors VALUES (?, ?)", [(r, v.tobytes()) for r, v in stored.items()])
    return conn, stored


def test_vector_range_reads_every_row_of_the_range_in_rid_order() -> None:
    rids = [r for r in range(1, 5000) if r % 7 and not 2000 <= r < 2100 + rec.RANGE_ROWS]  # gaps, an empty chunk
    conn, stored = _vectors_db(rids)
    found, vectors = rec.vector_range(conn, 3, 4500)
    want = [r for r in rids if 3 <= r <= 4500]
    assert found.tolist() == want
    np.testing.assert_array_equal(vectors, np.stack([stored[r] for r in want]))
    small, one = rec.vector_range(conn, 100, 100 + rec.RANGE_ROWS - 1)  # one statement: a view on its blob
    assert small.tolist() == [r for r in rids if 100 <= r < 100 + rec.RANGE_ROWS] and not one.flags.writeable
    np.testing.assert_array_equal(one, np.stack([stored[r] for r in small.tolist()]))
    # vectors_by_rids' dense path keeps only the rids asked for
    asked = np.array([r for r in range(3, 4600) if r % 5], dtype=np.int64)  # dense, some not stored
    present, got = rec.vectors_by_rids(conn, asked)
    keep = sorted(r for r in asked.tolist() if r in stored)
    assert present.tolist() == keep
    np.testing.assert_array_equal(got, np.stack([stored[r] for r in keep]))
    # scattered rids (the list path), more than one statement's worth, unsorted and repeated
    scattered = np.array([r * 3 for r in range(rec.LIST_ROWS + 900)][::-1] + [21, 21], dtype=np.int64)
    present, got = rec.vectors_by_rids(conn, scattered)
    keep = sorted({r for r in scattered.tolist() if r in stored})
    assert present.tolist() == keep
    np.testing.assert_array_equal(got, np.stack([stored[r] for r in keep]))


def test_vector_range_of_no_rows_and_of_mixed_sizes() -> None:
    conn, _ = _vectors_db([10, 11, 12])
    found, vectors = rec.vector_range(conn, 100, 5000)
    assert len(found) == 0 and len(vectors) == 0
    conn.execute("INSERT INTO vectors VALUES (13, ?)", (np.ones(DIM + 1, dtype=np.float32).tobytes(),))
    with pytest.raises(ValueError):  # rows of two sizes cannot form one array, as before
        rec.vector_range(conn, 10, 13)
    with pytest.raises(ValueError):
        rec.vectors_by_rids(conn, np.array([10, 13, 5000], dtype=np.int64))
    assert rec.vectors_by_rids(conn, np.array([7000, 9000], dtype=np.int64))[0].tolist() == []


def test_cosine_graphs_of_a_dimension_hnswlib_normalises_otherwise_keep_their_vectors(tmp_path: Path) -> None:
    """This hnswlib build sums the squares of some dimensions in another order than a plain
    float32 loop: such cosine graphs are persisted whole, and answer after a reopen as before."""
    import huedb

    assert hnsw_files.strippable("l2", 12) and not hnsw_files.strippable("cosine", 12)
    with pytest.raises(hnsw_files.CorruptIndexError):
        hnsw_files.join(tmp_path / "none.links", tmp_path / "none.kept", 12, "cosine", lambda w: (w, w))
    X = np.random.default_rng(5).normal(size=(800, 12)).astype(np.float32)
    c = huedb.PersistentClient(path=str(tmp_path / "db"))
    col = c.create_collection("c12", embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
    col.add(ids=[str(i) for i in range(800)], embeddings=X)
    before = col.query(query_embeddings=X[:20], n_results=10, include=["distances"])
    c.close()
    assert list((tmp_path / "db").rglob("hnswlib.*.graph.bin")) and not list((tmp_path / "db").rglob("*.links"))
    c = huedb.PersistentClient(path=str(tmp_path / "db"))
    after = c.get_collection("c12").query(query_embeddings=X[:20], n_results=10, include=["distances"])
    assert after == before
    c.close()


def test_join_checks_the_digests_of_the_bytes_it_read(tmp_path: Path) -> None:
    import hashlib

    _, X, links, kept = _split_graph(tmp_path, 300, seed=2)
    digests = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (links, kept)}
    fetch = _fetch_all(X)

    assert hnsw_files.join(links, kept, DIM, "l2", fetch, sha256=digests).get_current_count() == 300
    for path, at in ((links, hnsw_files.HEADER.size + 5), (kept, kept.stat().st_size - 3), (links, 2)):
        whole = path.read_bytes()
        path.write_bytes(whole[:at] + bytes([whole[at] ^ 0x40]) + whole[at + 1 :])  # same size, one bit off
        with pytest.raises(hnsw_files.CorruptIndexError, match="SHA-256"):
            hnsw_files.join(links, kept, DIM, "l2", fetch, sha256=digests)
        path.write_bytes(whole)


def test_elements_whose_vectors_storage_lost_take_a_neighbours_and_no_joined_file_stays(tmp_path: Path) -> None:
    n = 700
    _, X, links, kept = _split_graph(tmp_path, n, seed=3)
    lost = set(range(0, n, 7))

    def fetch(wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ok = np.array([w not in lost for w in wanted.tolist()])
        return np.where(ok[:, None], X[wanted], np.nan), ok

    joined = hnsw_files.join(links, kept, DIM, "l2", fetch)
    with open(links, "rb") as f:
        layout = hnsw_files.Layout(f.read(hnsw_files.HEADER.size), DIM)
        short = np.frombuffer(f.read(n * layout.short), dtype=np.uint8).reshape(n, layout.short)
    got = np.asarray(joined.get_items(np.arange(n), return_type="numpy"))
    for row in range(n):  # labels are the element ids here
        count = int(short[row, :4].view("<u4")[0] & 0xFFFF)
        donor = next(x for x in short[row, 4 : 4 + 4 * count].view("<u4").tolist() if x not in lost)
        np.testing.assert_array_equal(got[row], X[donor] if row in lost else X[row])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.kept", "g.links"]

    def failing(wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise sqlite3.OperationalError("disk I/O error")

    with pytest.raises(sqlite3.OperationalError):
        hnsw_files.join(links, kept, DIM, "l2", failing)
    links.write_bytes(links.read_bytes()[: hnsw_files.HEADER.size] + bytes(n * layout.short + 4 * n))
    with pytest.raises(hnsw_files.CorruptIndexError, match="no neighbour"):  # found once the file is written
        hnsw_files.join(links, kept, DIM, "l2", fetch)  # no element has links now: a lost one has no donor
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.kept", "g.links"]  # the joined file went too


def test_a_join_without_room_on_disk_loads_through_memory(tmp_path: Path, monkeypatch) -> None:
    """A full disk must not make the collection unreadable: the joined file goes to a memfd."""
    import shutil

    index, X, links, kept = _split_graph(tmp_path, 200, seed=4)
    # a full disk cannot be made here: the file system reports 1 KB free
    monkeypatch.setattr(hnsw_files.shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10**9, 10**9, 1000))
    opened = []
    real_memfd = os.memfd_create
    monkeypatch.setattr(hnsw_files.os, "memfd_create", lambda name: opened.append(real_memfd(name)) or opened[-1])
    joined = hnsw_files.join(links, kept, DIM, "l2", _fetch_all(X))
    assert len(opened) == 1
    with pytest.raises(OSError):
        os.fstat(opened[0])  # closed after the load
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.kept", "g.links"]  # nothing written to disk
    assert np.array_equal(joined.get_items(np.arange(200), return_type="numpy"), X)
    q = X[:5] + 0.01
    assert np.array_equal(joined.knn_query(q, k=5)[0], index.knn_query(q, k=5)[0])


_REOPEN_SCRIPT = """
import json, sys
import numpy as np
import huedb

def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key + ":"))

path, n = sys.argv[1], int(sys.argv[2])
q = np.ones((1, 384), dtype=np.float32)
if sys.argv[3] == "write":
    c = huedb.PersistentClient(path=path)
    X = np.random.default_rng(0).normal(size=(n, 384)).astype(np.float32)
    col = c.create_collection("big", embedding_function=None, configuration={"hnsw": {"ef_construction": 8}})
    for s in range(0, n, 5000):
        col.add(ids=[str(i) for i in range(s, min(n, s + 5000))], embeddings=X[s : s + 5000])
    c.create_collection("warm", embedding_function=None).add(ids=["a", "b"], embeddings=X[:2])
    c.close()
else:
    c = huedb.PersistentClient(path=path)
    c.get_collection("warm").query(query_embeddings=q, n_results=1)  # imports and caches: not the reopen's
    big = c.get_collection("big")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS
    before = status("VmRSS")
    big.query(query_embeddings=q, n_results=1)  # loads the graph
    print(json.dumps({"before": before, "peak": status("VmHWM")}))
"""


def test_a_reopen_holds_the_graph_once(tmp_path: Path) -> None:
    """Loading a graph persisted without its vectors adds about one graph to the process's
    peak RSS (hnswlib's copy), not two: the joined file is the kernel's page cache."""
    n = 30_000
    run = [sys.executable, "-c", _REOPEN_SCRIPT, str(tmp_path / "db"), str(n)]
    subprocess.run([*run, "write"], check=True)
    (links,) = (tmp_path / "db").rglob("hnswlib.*.graph.links")  # the graph leaves its vectors to SQLite
    with open(links, "rb") as f:
        layout = hnsw_files.Layout(f.read(hnsw_files.HEADER.size), 384)
    graph = layout.count * layout.row  # hnswlib's level-0 block: links, vector and label per element
    assert layout.count == n and graph > 45 * 2**20
    out = subprocess.run([*run, "read"], check=True, capture_output=True, text=True).stdout
    rss = json.loads(out.splitlines()[-1])
    added = rss["peak"] - rss["before"]
    assert 0.9 * graph < added < 1.5 * graph, (added / graph, rss)  # the pickle-state join: 2.2
    assert not list((tmp_path / "db").rglob("*.tmp"))  # the joined file is gone
