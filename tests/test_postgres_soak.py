"""Several ``huedb run`` processes on one PostgreSQL: 8 clients over two servers mixing
add, upsert, delete and query for 60 s, and kill -9 of one server in the middle of a write."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from postgres_fixtures import PgServerProcess

pytestmark = pytest.mark.postgres

DIM = 8
SOAK_SECONDS = 60


class Worker:
    """One client: writes only its own records (metadata owner = n) through its server,
    and checks every acknowledged write through both servers at once."""

    def __init__(self, n: int, mine: Any, other: Any, seconds: float) -> None:
        self.n, self.mine, self.other, self.seconds = n, mine, other, seconds
        self.live: dict[str, np.ndarray] = {}
        self.gone: set[str] = set()
        self.ops: Counter[str] = Counter()
        self.errors: list[BaseException] = []

    def _visible(self, ids: list[str]) -> None:
        for col in (self.mine, self.other):
            got = col.get(ids=ids, include=["embeddings"])
            assert sorted(got["ids"]) == sorted(ids), (self.n, ids, got["ids"])
            for i, vec in zip(got["ids"], got["embeddings"]):
                np.testing.assert_allclose(vec, self.live[i], rtol=1e-6)

    def _sample(self, rng: np.random.Generator, size: int) -> list[str]:
        return [str(i) for i in rng.choice(sorted(self.live), min(size, len(self.live)), replace=False)]

    def run(self) -> None:
        rng = np.random.default_rng(self.n)
        counter = 0
        deadline = time.monotonic() + self.seconds
        try:
            while time.monotonic() < deadline:
                op = str(rng.choice(["add", "upsert", "delete", "query"]))
                size = int(rng.integers(1, 20))
                if op == "add" or len(self.live) < 5:
                    op = "add"
                    ids = [f"c{self.n}-{counter + i}" for i in range(size)]
                    counter += size
                    vecs = rng.normal(size=(size, DIM)).astype(np.float32)
                    self.mine.add(ids=ids, embeddings=vecs, metadatas=[{"owner": self.n}] * size)
                    self.live.update(zip(ids, vecs))
                    self._visible(ids)
                elif op == "upsert":
                    ids = [*self._sample(rng, size), f"c{self.n}-{counter}"]  # updates and one new record
                    counter += 1
                    vecs = rng.normal(size=(len(ids), DIM)).astype(np.float32)
                    self.mine.upsert(ids=ids, embeddings=vecs, metadatas=[{"owner": self.n}] * len(ids))
                    self.live.update(zip(ids, vecs))
                    self._visible(ids)
                elif op == "delete":
                    ids = self._sample(rng, size)
                    self.mine.delete(ids=ids)
                    for i in ids:
                        del self.live[i]
                    self.gone.update(ids)
                    for col in (self.mine, self.other):
                        assert col.get(ids=ids)["ids"] == [], (self.n, ids)
                else:
                    probe = self._sample(rng, 1)[0]
                    col = self.mine if rng.random() < 0.5 else self.other
                    got = col.query(query_embeddings=[self.live[probe]], n_results=5, where={"owner": self.n})
                    assert probe in got["ids"][0] and set(got["ids"][0]) <= set(self.live), (self.n, probe, got)
                self.ops[op] += 1
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.errors.append(e)


@pytest.mark.slow
def test_two_servers_eight_clients_sixty_seconds(postgres_database: str, tmp_path: Path) -> None:
    servers = [PgServerProcess(postgres_database, tmp_path).start() for _ in range(2)]
    try:
        servers[0].client().create_collection("soak", embedding_function=None)
        workers = []
        for n in range(8):
            mine, other = servers[n % 2], servers[(n + 1) % 2]
            workers.append(
                Worker(
                    n,
                    mine.client().get_collection("soak", embedding_function=None),
                    other.client().get_collection("soak", embedding_function=None),
                    SOAK_SECONDS,
                )
            )
        threads = [threading.Thread(target=w.run) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [e for w in workers for e in w.errors] == []
        for w in workers:
            assert set(w.ops) == {"add", "upsert", "delete", "query"}, w.ops
        # 0 lost, 0 resurrected: each owner's records on both servers are exactly its live set
        cols = [s.client().get_collection("soak", embedding_function=None) for s in servers]
        for w in workers:
            for col in cols:
                got = col.get(where={"owner": w.n}, include=["embeddings"])
                assert set(got["ids"]) == set(w.live) and not set(got["ids"]) & w.gone
                for i, vec in zip(got["ids"], got["embeddings"]):
                    np.testing.assert_allclose(vec, w.live[i], rtol=1e-6)
        total = sum(len(w.live) for w in workers)
        assert cols[0].count() == cols[1].count() == total
    finally:
        for s in servers:
            s.stop()


def _blocked_backend(admin: Any, database: str) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'", (database,)
        ).fetchone()
        if row:
            return int(row[0])
        time.sleep(0.05)
    raise AssertionError("the write never reached the blocking row")


def test_kill_9_of_one_server_mid_write(postgres_database: str, postgres_url: str, tmp_path: Path) -> None:
    """Acknowledged writes survive, the write in flight leaves nothing, and the other server carries on."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    database = conninfo_to_dict(postgres_database)["dbname"]
    doomed, survivor = (PgServerProcess(postgres_database, tmp_path).start() for _ in range(2))
    try:
        col_a = doomed.client().create_collection("kill", embedding_function=None)
        col_b = survivor.client().get_collection("kill", embedding_function=None)
        rng = np.random.default_rng(9)
        acked: dict[str, np.ndarray] = {}

        def write(col: Any, prefix: str, batch: int) -> None:
            ids = [f"{prefix}-{batch}-{i}" for i in range(50)]
            vecs = rng.normal(size=(50, DIM)).astype(np.float32)
            col.add(ids=ids, embeddings=vecs)
            acked.update(zip(ids, vecs))  # acknowledged

        for batch in range(4):
            write(col_a, "a", batch)
            write(col_b, "b", batch)

        # The next write through the doomed server is held mid-batch by an uncommitted row with
        # one of its ids; the server is killed while PostgreSQL has that write open.
        in_flight = [f"a-4-{i}" for i in range(50)]
        errors: list[BaseException] = []

        def doomed_write() -> None:
            try:
                col_a.add(ids=in_flight, embeddings=rng.normal(size=(50, DIM)).astype(np.float32))
            except BaseException as e:  # noqa: BLE001 - expected: the server dies
                errors.append(e)

        with psycopg.connect(postgres_database) as blocker, psycopg.connect(postgres_url, autocommit=True) as admin:
            blocker.execute(
                "INSERT INTO records(collection_id, rid, id, version, embedding) SELECT cid, "
                "nextval('records_rid_seq'), 'a-4-25', 0, '[0,0,0,0,0,0,0,0]' FROM collections WHERE name = 'kill'"
            )
            writer = threading.Thread(target=doomed_write)
            writer.start()
            _blocked_backend(admin, database)
            os.kill(doomed.proc.pid, signal.SIGKILL)
            assert doomed.proc.wait(30) == -signal.SIGKILL
            writer.join(60)
            blocker.rollback()
        assert len(errors) == 1  # the client saw the server vanish; the write was never acknowledged

        # the survivor carries on, and holds every acknowledged write and nothing of the one in flight
        for batch in range(4, 8):
            write(col_b, "b", batch)
        got = col_b.get(include=["embeddings"])
        assert set(got["ids"]) == set(acked)
        for i, vec in zip(got["ids"], got["embeddings"]):
            np.testing.assert_allclose(vec, acked[i], rtol=1e-6)
        assert col_b.get(ids=in_flight)["ids"] == []
        probe = acked["a-2-7"]
        assert col_b.query(query_embeddings=[probe], n_results=1)["ids"] == [["a-2-7"]]
        # a restarted server on the same database sees the same
        restarted = PgServerProcess(postgres_database, tmp_path).start()
        try:
            assert restarted.client().get_collection("kill", embedding_function=None).count() == len(acked)
        finally:
            restarted.stop()
    finally:
        doomed.stop()
        survivor.stop()
