"""Several processes on one PersistentClient path stay consistent.

Each process keeps its index segments loaded between commands (tests/mp_worker.py),
so a process's in-memory index goes stale whenever another process writes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import huedb

WORKER = Path(__file__).with_name("mp_worker.py")
DIM = 16


class Worker:
    """A huedb process on ``path`` that runs one command at a time."""

    def __init__(self, path: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER), str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def __call__(self, op: str, **kw: Any) -> Any:
        for key in ("embeddings",):
            if key in kw:
                kw[key] = np.asarray(kw[key], dtype=np.float32).tolist()
        self.proc.stdin.write(json.dumps({"op": op, **kw}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, f"worker died (exit code {self.proc.poll()})"
        reply = json.loads(line)
        if "error" in reply:
            raise AssertionError(f"worker {op} failed: {reply['error']}")
        return reply["ok"]

    def close(self) -> None:
        if self.proc.poll() is None:
            self("quit")
            self.proc.wait(timeout=60)
        assert self.proc.returncode == 0


@pytest.fixture
def workers(tmp_path):
    started: list[Worker] = []

    def start() -> Worker:
        w = Worker(tmp_path / "db")
        started.append(w)
        return w

    yield start
    for w in started:
        if w.proc.poll() is None:
            w.proc.kill()
            w.proc.wait()


def vectors(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)


def self_query_misses(col, ids: list[str], vecs: np.ndarray) -> list[str]:
    """Ids whose own vector does not find them first."""
    res = col.query(query_embeddings=vecs, n_results=1, include=[])
    return [i for i, got in zip(ids, res["ids"]) if got != [i]]


def test_write_from_a_process_with_a_stale_index_keeps_other_processes_records(workers, tmp_path):
    a, b = workers(), workers()
    base = vectors(20, 0)
    a("add", collection="shared", ids=[f"base{i}" for i in range(20)], embeddings=base)
    b("query", collection="shared", embeddings=base[:1], n_results=1)  # B's index is loaded now
    a_vecs = vectors(50, 1)
    a_ids = [f"a{i}" for i in range(50)]
    a("add", collection="shared", ids=a_ids, embeddings=a_vecs)
    b("add", collection="shared", ids=["b0"], embeddings=vectors(1, 2))  # B writes with a stale index
    # Both live processes find A's records by vector.
    for w in (a, b):
        res = w("query", collection="shared", embeddings=a_vecs, n_results=1)
        assert [r[0] for r in res["ids"]] == a_ids
    a.close()
    b.close()
    # So does a fresh process, from whatever index files the two left behind.
    client = huedb.PersistentClient(path=str(tmp_path / "db"))
    col = client.get_collection("shared")
    assert col.count() == 71
    assert self_query_misses(col, a_ids, a_vecs) == []
    client.close()


def test_deletes_from_another_process_never_come_back(workers, tmp_path):
    a, b = workers(), workers()
    vecs = vectors(60, 3)
    ids = [f"r{i}" for i in range(60)]
    a("add", collection="shared", ids=ids, embeddings=vecs)
    b("query", collection="shared", embeddings=vecs[:1], n_results=1)
    a("delete", collection="shared", ids=ids[:30])
    b("add", collection="shared", ids=["b0"], embeddings=vectors(1, 4))
    # B's index no longer holds A's deletions: a full page of live results comes back.
    res = b("query", collection="shared", embeddings=vecs[:30], n_results=5)
    for row in res["ids"]:
        assert len(row) == 5 and not set(row) & set(ids[:30])
    b.close()
    a.close()
    client = huedb.PersistentClient(path=str(tmp_path / "db"))
    col = client.get_collection("shared")
    res = col.query(query_embeddings=vecs[:30], n_results=31, include=[])
    for row in res["ids"]:
        assert len(row) == 31 and not set(row) & set(ids[:30])
    client.close()


def test_reader_sees_other_processes_writes_without_reopening(workers):
    a, reader = workers(), workers()
    first = vectors(10, 5)
    a("add", collection="shared", ids=[f"x{i}" for i in range(10)], embeddings=first)
    assert reader("count", collection="shared") == 10
    reader("query", collection="shared", embeddings=first[:1], n_results=1)
    more = vectors(10, 6)
    a("add", collection="shared", ids=[f"y{i}" for i in range(10)], embeddings=more)
    a("delete", collection="shared", ids=["x0"])
    res = reader("query", collection="shared", embeddings=more, n_results=1)
    assert [r[0] for r in res["ids"]] == [f"y{i}" for i in range(10)]
    res = reader("query", collection="shared", embeddings=first[:1], n_results=1)
    assert res["ids"][0] != ["x0"]


SOAK = Path(__file__).with_name("mp_soak.py")


def run_soak(path: Path, seconds: float) -> tuple:
    outs = {f"writer{n}": path.parent / f"writer{n}.json" for n in range(3)}
    outs["reader"] = path.parent / "reader.json"
    procs = {
        name: subprocess.Popen(
            [
                sys.executable,
                str(SOAK),
                str(path),
                "reader" if name == "reader" else "writer",
                name[-1] if name != "reader" else "0",
                str(seconds),
                str(out),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, out in outs.items()
    }
    for name, proc in procs.items():
        _, err = proc.communicate(timeout=seconds + 300)
        assert proc.returncode == 0, f"{name} failed:\n{err[-3000:]}"
    writers = [json.loads(outs[f"writer{n}"].read_text()) for n in range(3)]
    return writers, json.loads(outs["reader"].read_text())


def check_soak(path: Path, writers: list, reader: dict) -> None:
    # No query returned a record whose delete had committed before the query started.
    deleted_at = {i: t for w in writers for d in w["deleted"].values() for i, t in d.items()}
    late = [(i, start) for start, ids in reader["queries"] for i in ids if i in deleted_at and deleted_at[i] < start]
    assert late == [], f"queries returned deleted records: {late[:5]}"
    assert reader["queries"], "the reader ran no query"
    # Every live record is in its collection's index: a near-exhaustive self-query finds it.
    client = huedb.PersistentClient(path=str(path))
    live: dict = {}
    for w in writers:
        for name, records in w["live"].items():
            live.setdefault(name, {}).update(records)
    for name, records in live.items():
        col = client.get_collection(name)
        assert col.count() == len(records), name
        col.modify(configuration={"hnsw": {"ef_search": max(100, len(records))}})
        ids = sorted(records)
        res = col.query(query_embeddings=[records[i] for i in ids], n_results=1, include=[])
        missing = [i for i, got in zip(ids, res["ids"]) if got != [i]]
        assert missing == [], f"{name}: {len(missing)} live records not found by self-query, e.g. {missing[:5]}"
        gone = {i for w in writers for i in w["deleted"].get(name, {})}
        assert not gone & set(col.get(ids=sorted(gone))["ids"])
    client.close()


def test_short_soak_of_three_writers_and_a_reader(tmp_path):
    path = tmp_path / "db"
    writers, reader = run_soak(path, 6)
    check_soak(path, writers, reader)


@pytest.mark.slow
def test_soak_of_three_writers_and_a_reader_for_a_minute(tmp_path):
    path = tmp_path / "db"
    writers, reader = run_soak(path, 60)
    check_soak(path, writers, reader)
