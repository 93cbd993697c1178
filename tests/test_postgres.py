"""The PostgreSQL backend through the engine: in-database vector search, and two
``huedb run`` servers on one database (consistent by construction)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import Any

import numpy as np
import pytest

from server_fixtures import REPO, free_port, wait_for_heartbeat

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_client(postgres_database: str) -> Any:
    import huedb
    from huedb.config import Settings

    client = huedb.Client(Settings(storage_backend="postgres", postgres_url=postgres_database, allow_reset=True))
    yield client
    client.close()


def test_queries_use_pgvector_and_match_exact_search(pg_client: Any, postgres_database: str) -> None:
    import psycopg

    from huedb.engine.systems import open_systems

    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(3000, 8)).astype(np.float32)
    col = pg_client.create_collection("vectors", configuration={"hnsw": {"space": "l2"}}, embedding_function=None)
    col.add(
        ids=[f"r{i}" for i in range(3000)],
        embeddings=vectors,
        metadatas=[{"group": i % 10} for i in range(3000)],
        documents=[f"text {i}" for i in range(3000)],
    )
    hnsw = "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'records_hnsw_%'"
    with psycopg.connect(postgres_database) as conn:
        assert conn.execute(hnsw).fetchall() == []  # writes leave the index to the first search (a bulk build)
    got = col.query(query_embeddings=vectors[:5], n_results=5, include=["distances"])
    exact = ((vectors[:5, None, :] - vectors[None, :, :]) ** 2).sum(-1)
    want = np.argsort(exact, axis=1)[:, :5]
    hits = sum(len(set(g) & {f"r{j}" for j in w}) for g, w in zip(got["ids"], want))
    assert hits >= 24  # HNSW recall on 25 neighbours
    assert got["ids"][0][0] == "r0" and got["distances"][0][0] == pytest.approx(0.0, abs=1e-5)
    # l2 distances are squared, as in Chroma
    assert got["distances"][1][1] == pytest.approx(float(np.sort(exact[1])[1]), rel=1e-4)
    # a filter with many candidates goes to pgvector too, and keeps only allowed records
    filtered = col.query(query_embeddings=vectors[:1], n_results=10, where={"group": {"$in": [1, 2, 3, 4, 5, 6]}})
    assert len(filtered["ids"][0]) == 10
    assert all(int(i[1:]) % 10 in (1, 2, 3, 4, 5, 6) for i in filtered["ids"][0])
    # no process-local index: the engine has no segment, and the collection has its HNSW index in PostgreSQL
    system = next(s for s in open_systems().values() if s.storage is pg_client._server.storage)
    assert system.segments._segments == {}
    with psycopg.connect(postgres_database) as conn:
        names = [r[0] for r in conn.execute(hnsw)]
        assert len(names) == 1
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                f"EXPLAIN SELECT rid FROM records WHERE collection_id = {col._model.storage_key} "
                "ORDER BY embedding::vector(8) <-> '[0,0,0,0,0,0,0,0]' LIMIT 5"
            )
        )
        assert names[0] in plan


def test_regex_runs_in_re2_and_filters_compose(pg_client: Any) -> None:
    col = pg_client.create_collection("texts", embedding_function=None)
    docs = ["a" * 30 + "!", "a" * 31, "hello world", None]
    col.add(ids=["p", "q", "h", "n"], embeddings=np.eye(4, dtype=np.float32), documents=docs)
    # (a+)+$ is catastrophic for a backtracking engine on "aaa...!": RE2 answers it in linear time
    assert col.get(where_document={"$regex": "(a+)+$"})["ids"] == ["q"]
    assert col.get(where_document={"$or": [{"$contains": "wor"}, {"$regex": "^a{31}$"}]})["ids"] == ["q", "h"]
    assert col.get(where_document={"$not_regex": "^a"})["ids"] == ["h", "n"]
    assert col.get(where_document={"$contains": "a%"})["ids"] == []  # LIKE wildcards are escaped


def _start_server(url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "HUEDB_LOG_LEVEL": "warning"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "huedb.server.run", "--postgres-url", url, "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    wait_for_heartbeat(base, proc=proc)
    return proc, base


def test_two_servers_on_one_database_see_each_others_writes(postgres_database: str) -> None:
    import huedb

    servers = [_start_server(postgres_database) for _ in range(2)]
    try:
        clients = [huedb.HttpClient(host="127.0.0.1", port=int(base.rsplit(":", 1)[1])) for _, base in servers]
        first = clients[0].create_collection("shared", embedding_function=None)
        second = clients[1].get_collection("shared", embedding_function=None)
        errors: list[BaseException] = []
        rng = np.random.default_rng(5)

        def writer(col: Any, prefix: str) -> None:
            try:
                for batch in range(10):
                    ids = [f"{prefix}-{batch}-{i}" for i in range(20)]
                    col.upsert(ids=ids, embeddings=rng.normal(size=(20, 8)).astype(np.float32).tolist())
                    # acknowledged: visible through the other server at once
                    other = second if col is first else first
                    assert other.get(ids=ids)["ids"] == ids
                col.delete(ids=[f"{prefix}-0-{i}" for i in range(20)])
            except BaseException as e:  # noqa: BLE001 - reported by the main thread
                errors.append(e)

        threads = [threading.Thread(target=writer, args=(c, f"w{n}")) for n, c in enumerate((first, second))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert first.count() == second.count() == 2 * 9 * 20
        probe = np.asarray(first.get(ids=["w1-5-3"], include=["embeddings"])["embeddings"])
        for col in (first, second):
            assert col.query(query_embeddings=probe, n_results=1)["ids"] == [["w1-5-3"]]
            assert col.get(ids=["w0-0-1", "w1-0-1"])["ids"] == []  # deleted through either server
        assert str(first.id) == str(second.id)
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(timeout=30)


def test_everything_persists_after_every_client_closes(postgres_database: str) -> None:
    import huedb
    from huedb.config import Settings
    from huedb.engine.systems import open_systems

    settings = Settings(storage_backend="postgres", postgres_url=postgres_database)
    first = huedb.Client(settings)
    col = first.create_collection("kept", metadata={"owner": "me"}, embedding_function=None)
    col.add(
        ids=["a", "b", "c"],
        embeddings=[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
        documents=["alpha", "beta", None],
        metadatas=[{"n": 1}, {"n": 2}, None],
        uris=["u://a", None, None],
    )
    col.delete(ids=["c"])
    first.close()
    assert f"postgres:{postgres_database}" not in open_systems()  # nothing of it left in this process

    second = huedb.Client(settings)
    again = second.get_collection("kept", embedding_function=None)
    assert again.metadata == {"owner": "me"}
    got = again.get(include=["documents", "metadatas", "uris", "embeddings"])
    assert got["ids"] == ["a", "b"] and got["documents"] == ["alpha", "beta"]
    assert got["metadatas"] == [{"n": 1}, {"n": 2}] and got["uris"] == ["u://a", None]
    assert np.asarray(got["embeddings"]).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert again.query(query_embeddings=[[0.0, 0.9]], n_results=1, where={"n": {"$gte": 1}})["ids"] == [["b"]]
    assert again.get(where_document={"$contains": "lph"})["ids"] == ["a"]
    second.close()


def test_schema_1_databases_are_migrated_on_start(postgres_database: str) -> None:
    import psycopg

    import huedb
    from huedb.config import Settings

    settings = Settings(storage_backend="postgres", postgres_url=postgres_database)
    client = huedb.Client(settings)
    col = client.create_collection("old", embedding_function=None)
    col.add(ids=[f"r{i}" for i in range(30)], embeddings=[[float(i), 1.0] for i in range(30)])
    col.delete(ids=["r3"])
    client.close()
    with psycopg.connect(postgres_database) as conn:  # back to schema version 1: no record counts
        conn.execute("ALTER TABLE collections DROP COLUMN record_count")
        conn.execute("UPDATE huedb_meta SET value = '1' WHERE key = 'schema_version'")
    client = huedb.Client(settings)
    try:
        again = client.get_collection("old", embedding_function=None)
        assert again.count() == 29  # counted once by the migration, then kept by writes
        again.add(ids=["new"], embeddings=[[0.5, 0.5]])
        assert again.count() == 30
        with psycopg.connect(postgres_database) as conn:
            assert conn.execute("SELECT value FROM huedb_meta WHERE key = 'schema_version'").fetchone()[0] == "3"
    finally:
        client.close()


def test_filtered_queries_with_few_candidates_are_exact_even_with_an_index(pg_client: Any) -> None:
    rng = np.random.default_rng(11)
    n, dim = 6000, 64
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    col = pg_client.create_collection("exact", configuration={"hnsw": {"space": "l2"}}, embedding_function=None)
    for s in range(0, n, 2000):
        col.add(
            ids=[f"r{i}" for i in range(s, s + 2000)],
            embeddings=vectors[s : s + 2000],
            metadatas=[{"g": i % 10} for i in range(s, s + 2000)],
        )
    col.query(query_embeddings=vectors[:1], n_results=10)  # builds the HNSW index
    queries = rng.normal(size=(20, dim)).astype(np.float32)
    allowed = np.arange(n)[np.arange(n) % 10 == 4]  # 600 candidates: at most exact_search_limit
    got = col.query(query_embeddings=queries, n_results=10, where={"g": 4}, include=["distances"])
    exact = ((queries[:, None, :] - vectors[None, allowed, :]) ** 2).sum(-1)
    for row, dists, want in zip(got["ids"], got["distances"], np.argsort(exact, axis=1)[:, :10]):
        assert row == [f"r{allowed[j]}" for j in want]  # recall 1.0, in order
        assert dists == pytest.approx(sorted(dists), rel=1e-6)
