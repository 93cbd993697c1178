"""Crash safety: kill -9 a writer at random moments; every acknowledged batch
must survive and the database must open.

The writer (tests/crash_writer.py) prints "ACK n" only after add() of batch n
returned. All iterations share one database, so each run also recovers from
the previous kill. Batches that were in flight may be present or absent, but
never partially (a batch is all or nothing).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import huedb

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from crash_writer import BATCH_SIZE, batch  # noqa: E402


class Writer:
    """A crash_writer child whose stdout lines are collected by a thread."""

    def __init__(self, path: Path, start: int, stderr_path: Path) -> None:
        self.lines: list[str] = []
        self.ready = threading.Event()
        self._stderr = open(stderr_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "crash_writer.py"), str(path), str(start)],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.strip()
            self.lines.append(line)
            if line == "READY":
                self.ready.set()

    def kill(self) -> int:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        rc = self.proc.wait(timeout=60)
        self._thread.join(timeout=60)
        self._stderr.close()
        return rc

    def acked(self) -> set[int]:
        return {int(line.split()[1]) for line in self.lines if line.startswith("ACK ")}


def _verify(path: Path, acked: set[int]) -> set[int]:
    """Opens the database, checks every acknowledged batch and returns all batches present."""
    client = huedb.PersistentClient(path=str(path))
    try:
        names = [c.name for c in client.list_collections()]
        if "crash" not in names:
            # Killed before the collection was ever created.
            assert not acked
            return set()
        col = client.get_collection("crash")
        got = col.get(include=["embeddings", "documents", "metadatas"])
        by_batch: dict = {}
        for pos, rid in enumerate(got["ids"]):
            n = int(rid[1:].split("-")[0])
            by_batch.setdefault(n, []).append(pos)
        for n, positions in by_batch.items():
            assert len(positions) == BATCH_SIZE, f"batch {n} is partial: {len(positions)} of {BATCH_SIZE} records"
        assert acked <= set(by_batch), f"acknowledged batches lost: {sorted(acked - set(by_batch))}"
        for n, positions in by_batch.items():
            want = batch(n)
            index = {got["ids"][p]: p for p in positions}
            order = [index[i] for i in want["ids"]]
            np.testing.assert_array_equal(got["embeddings"][order], want["embeddings"])
            assert [got["documents"][p] for p in order] == want["documents"]
            assert [got["metadatas"][p] for p in order] == want["metadatas"]
        assert col.count() == BATCH_SIZE * len(by_batch)
        # The index agrees with SQLite: an acknowledged record is its own nearest neighbour.
        if acked:
            n = max(acked)
            res = col.query(query_embeddings=batch(n)["embeddings"][:2], n_results=1, include=["distances"])
            assert res["ids"] == [[f"b{n}-0"], [f"b{n}-1"]]
        return set(by_batch)
    finally:
        client.close()


def _crash_loop(tmp_path: Path, iterations: int, seed: int) -> None:
    rnd = random.Random(seed)
    path = tmp_path / "db"
    acked: set[int] = set()
    next_batch = 0
    for it in range(iterations):
        w = Writer(path, next_batch, tmp_path / f"stderr-{it}.txt")
        if it % 5 == 4:
            # Sometimes kill early: while the child imports, opens or recovers the database.
            time.sleep(rnd.uniform(0.0, 1.5))
        else:
            assert w.ready.wait(timeout=120), (tmp_path / f"stderr-{it}.txt").read_text()
            time.sleep(rnd.uniform(0.05, 0.6))
        rc = w.kill()
        assert rc == -signal.SIGKILL, f"writer exited by itself ({rc}): {(tmp_path / f'stderr-{it}.txt').read_text()}"
        acked |= w.acked()
        present = _verify(path, acked)
        next_batch = max(present | acked | {next_batch - 1}) + 1
    assert acked, "no batch was ever acknowledged: the kills came too early to test anything"


def test_kill_9_during_ingest_once(tmp_path):
    _crash_loop(tmp_path, iterations=2, seed=1)


@pytest.mark.slow
def test_kill_9_during_ingest_20_times(tmp_path):
    _crash_loop(tmp_path, iterations=20, seed=20)
