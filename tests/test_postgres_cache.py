"""The PostgreSQL backend's collection cache: a query trusts the collection row its process
read last and checks it in the same statement as its search, so what another process (here:
another System on the same database, with its own pool and cache) changes is always seen."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.postgres

DIM = 8


def _client(url: str) -> Any:
    import huedb
    from huedb.config import Settings

    return huedb.Client(Settings(storage_backend="postgres", postgres_url=url, allow_reset=True))


@pytest.fixture
def two(postgres_database: str) -> Any:
    """Two clients on one database that share nothing in this process (as two processes)."""
    from psycopg.conninfo import make_conninfo

    a = _client(postgres_database)
    b = _client(make_conninfo(postgres_database, application_name="other"))  # another URL: another System
    assert a._server.storage is not b._server.storage
    yield a, b
    a.close()
    b.close()


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)


def _fill(col: Any, n: int, start: int = 0) -> np.ndarray:
    vectors = _vectors(n, seed=start)
    col.add(ids=[f"r{start + i}" for i in range(n)], embeddings=vectors, documents=[f"d{i}" for i in range(n)])
    return vectors


@pytest.mark.parametrize("n", [50, 2500])  # exact search, and the HNSW index
def test_a_collection_deleted_by_another_process_is_gone(two: Any, n: int) -> None:
    import huedb

    a, b = two
    col = a.create_collection("col", embedding_function=None)
    vectors = _fill(col, n)
    assert col.query(query_embeddings=vectors[:1], n_results=3)["ids"][0][0] == "r0"  # cached now
    b.delete_collection("col")
    with pytest.raises(huedb.errors.NotFoundError):
        col.query(query_embeddings=vectors[:1], n_results=3)
    # a new collection of the same name is another collection
    fresh = b.create_collection("col", embedding_function=None)
    _fill(fresh, 5, start=100)
    assert a.get_collection("col").query(query_embeddings=_vectors(1, 100), n_results=1)["ids"] == [["r100"]]


def test_records_another_process_adds_are_found_at_once(two: Any) -> None:
    a, b = two
    col = a.create_collection("col", embedding_function=None)
    empty = col.query(query_embeddings=_vectors(1), n_results=3)  # cached without a dimension
    assert empty["ids"] == [[]]
    other = b.get_collection("col")
    for round_, n in enumerate((10, 2600, 5)):  # exact, then past the index threshold, then into the index
        vectors = _fill(other, n, start=10_000 * (round_ + 1))
        got = col.query(query_embeddings=vectors[:1], n_results=1, include=["documents", "distances"])
        assert got["ids"] == [[f"r{10_000 * (round_ + 1)}"]] and got["distances"][0][0] == pytest.approx(0, abs=1e-5)
    assert col.count() == 2615
    other.delete(ids=["r20000"])
    assert col.query(query_embeddings=_vectors(1, 20000), n_results=1)["ids"][0] != ["r20000"]


def test_changes_to_the_collection_by_another_process_refresh_the_cache(two: Any) -> None:
    import huedb

    a, b = two
    col = a.create_collection("col", metadata={"v": 1}, embedding_function=None)
    vectors = _fill(col, 20)
    col.query(query_embeddings=vectors[:1], n_results=1)
    cache = a._server.storage._cache
    assert cache.get(col.id)[0].name == "col"
    b.get_collection("col").modify(name="renamed", metadata={"v": 2}, configuration={"hnsw": {"ef_search": 50}})
    assert col.query(query_embeddings=vectors[:1], n_results=1)["ids"] == [["r0"]]
    model = cache.get(col.id)[0]
    assert (model.name, model.metadata, model.configuration_json["hnsw"]["ef_search"]) == ("renamed", {"v": 2}, 50)
    # the wrong dimension is refused by the current row, not a stale one
    with pytest.raises(huedb.errors.InvalidArgumentError, match="dimension of 8"):
        col.query(query_embeddings=[[1.0, 2.0]], n_results=1)


def test_an_unfiltered_query_sends_one_statement(
    two: Any, monkeypatch: pytest.MonkeyPatch, postgres_database: str
) -> None:
    import psycopg

    a, _ = two
    col = a.create_collection("col", embedding_function=None)
    vectors = _fill(col, 2500)
    col.query(query_embeddings=vectors[:1], n_results=5)  # builds the index, caches the row
    col.query(query_embeddings=vectors[:1], n_results=5)  # sets the pooled connection's search settings
    sent: list[str] = []
    execute = psycopg.Cursor.execute

    def counting(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(str(query))
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counting)
    for q in vectors[1:4]:
        got = col.query(query_embeddings=[q], n_results=5, include=["documents", "metadatas", "distances"])
        assert got["documents"][0][0] is not None
    assert len(sent) == 3, sent
    # this process's own write leaves the cache current: its next query is still one statement
    monkeypatch.setattr(psycopg.Cursor, "execute", execute)
    col.upsert(ids=["r1"], embeddings=vectors[2:3])
    monkeypatch.setattr(psycopg.Cursor, "execute", counting)
    sent.clear()
    assert set(col.query(query_embeddings=vectors[2:3], n_results=2)["ids"][0]) == {"r1", "r2"}
    assert len(sent) == 1, sent
    # embeddings need a second statement: it runs in a transaction checked against the first's row
    sent.clear()
    got = col.query(query_embeddings=vectors[4:5], n_results=2, include=["embeddings"])
    np.testing.assert_allclose(got["embeddings"][0][0], vectors[4], rtol=1e-6)
    assert any(s.startswith("BEGIN") for s in sent) and "COMMIT" in sent


def test_a_write_between_two_statements_of_a_cached_read_makes_it_stale(postgres_database: str) -> None:
    """The storage seam directly: the search ran (its own snapshot), then another process
    wrote, then the read needs a second statement: StaleRead, and the engine reads again."""
    from huedb.storage.postgres import PostgresBackend
    from huedb.storage.protocol import StaleRead

    a = _client(postgres_database)
    try:
        col = a.create_collection("col", embedding_function=None)
        vectors = _fill(col, 30)
        col.query(query_embeddings=vectors[:1], n_results=1)
        backend = a._server.storage
        other = PostgresBackend(postgres_database)
        try:
            with pytest.raises(StaleRead):
                with backend.read_cached() as tx:
                    model = tx.collection_by_id(col.id)
                    labels, _ = tx.vector_search(model.storage_key, vectors[:1], 1, None, "l2")
                    with other.write() as w:  # another process deletes the hit
                        seq, dim = w.collection_state(model.storage_key)
                        w.delete_records(model.storage_key, seq + 1, labels[0])
                        w.set_collection_state(model.storage_key, seq + 1, dim)
                    tx.records_by_rids(labels[0], ["embeddings"])
            # the engine's retry reads the current state
            assert col.query(query_embeddings=vectors[:1], n_results=1)["ids"][0] != ["r0"]
        finally:
            other.close()
    finally:
        a.close()


def test_a_filtered_query_after_another_process_wrote_reads_again(two: Any) -> None:
    a, b = two
    col = a.create_collection("col", embedding_function=None)
    vectors = _vectors(40)
    col.add(ids=[f"r{i}" for i in range(40)], embeddings=vectors, metadatas=[{"g": i % 2} for i in range(40)])
    assert col.query(query_embeddings=vectors[:1], n_results=1, where={"g": 0})["ids"] == [["r0"]]
    b.get_collection("col").delete(ids=["r0"])  # the cached row is stale now; the check is pipelined with BEGIN
    got = col.query(query_embeddings=vectors[:1], n_results=2, where={"g": 0}, include=["metadatas"])
    assert got["ids"][0][0] != "r0" and all(m == {"g": 0} for m in got["metadatas"][0])


def test_a_query_after_postgres_dropped_every_connection_works(postgres_database: str) -> None:
    import psycopg

    a = _client(postgres_database)
    try:
        col = a.create_collection("col", embedding_function=None)
        vectors = _fill(col, 30)
        col.query(query_embeddings=vectors[:1], n_results=1)
        with psycopg.connect(postgres_database, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        # the cached read fails on its dead connection and is run again by read(), which replaces it
        assert col.query(query_embeddings=vectors[:1], n_results=1)["ids"] == [["r0"]]
    finally:
        a.close()
