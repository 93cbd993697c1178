"""Reads kept in memory per collection version: the SQLite backend's rid sets of where
filters (huedb.storage.sqlite.read_cache) and the engine's vectors of exact-search
candidates (huedb.engine.candidate_vectors). A repeated filter is served from memory, and
every write, in this process or another, shows in the next read."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import huedb
from huedb.distance import vector_norms
from huedb.stamped_cache import StampedCache


def _collection(path, n=300, dim=4):
    client = huedb.PersistentClient(str(path))
    col = client.create_collection("cached", embedding_function=None)
    rng = np.random.default_rng(3)
    col.add(
        ids=[f"r{i}" for i in range(n)],
        embeddings=rng.random((n, dim)).astype(np.float32).tolist(),
        metadatas=[{"k": i % 10, "s": f"v{i % 7}"} for i in range(n)],
    )
    return client, col


def _run_elsewhere(path, code: str) -> None:
    prelude = f"import huedb; c = huedb.PersistentClient({str(path)!r}).get_collection('cached');"
    subprocess.run([sys.executable, "-c", prelude + code], check=True, timeout=120)


# -- the generic cache ----------------------------------------------------------------


def test_stamped_cache_misses_on_another_stamp_and_keeps_arrays_read_only():
    cache = StampedCache(max_bytes=1000)
    a = np.arange(10, dtype=np.int64)
    cache.put("slot", ("c", 1), (a,))
    assert cache.get("slot", ("c", 1))[0] is a
    assert cache.get("slot", ("c", 2)) is None
    with pytest.raises(ValueError):
        a[0] = 5  # shared by every reader from now on


def test_stamped_cache_drops_least_recently_used_first_and_never_keeps_an_oversized_entry():
    cache = StampedCache(max_bytes=200)  # 25 int64s
    for name in "abc":
        cache.put(name, 1, (np.zeros(8, dtype=np.int64),))  # 64 bytes each
    assert cache.get("a", 1) is not None  # a is now the most recently used
    cache.put("d", 1, (np.zeros(8, dtype=np.int64),))
    assert cache.get("b", 1) is None and cache.get("a", 1) is not None
    assert cache.size == 192
    cache.put("big", 1, (np.zeros(26, dtype=np.int64),))
    assert cache.get("big", 1) is None and cache.size == 192
    loads = []
    got = cache.read("lazy", None, lambda: (loads.append(1) or np.ones(2),))  # no stamp: load, keep nothing
    assert loads == [1] and got[0].tolist() == [1.0, 1.0] and cache.get("lazy", None) is None


# -- rid sets of where filters ---------------------------------------------------------------


def test_a_repeated_filter_reads_its_rid_set_from_memory(tmp_path):
    client, col = _collection(tmp_path)
    api = client._server
    where = {"$and": [{"k": 3}, {"s": "v2"}]}
    expected = sorted(f"r{i}" for i in range(300) if i % 10 == 3 and i % 7 == 2)
    assert sorted(col.get(where=where)["ids"]) == expected
    held = api.storage._cache._arrays.size
    assert held > 0  # the two probes and their intersection
    with api.storage.read() as tx:
        cid = tx.collection_by_id(str(col.id)).storage_key
        sel = api.storage.selection(cid, None, where, None)
        first = tx.matching_rids(sel)
        second = tx.matching_rids(sel)
    assert second is first and not first.flags.writeable  # one array, shared, from memory
    assert sorted(col.get(where=where)["ids"]) == expected
    assert api.storage._cache._arrays.size == held  # nothing read again
    client.close()


def test_filters_on_true_and_on_1_are_kept_apart(tmp_path):
    client = huedb.PersistentClient(str(tmp_path))
    col = client.create_collection("flags", embedding_function=None)
    col.add(ids=["bool", "int", "float"], embeddings=[[1.0, 0.0]] * 3, metadatas=[{"b": True}, {"b": 1}, {"b": 1.5}])
    for _ in range(2):  # cold, then from memory
        assert col.get(where={"b": True})["ids"] == ["bool"]
        assert col.get(where={"b": 1})["ids"] == ["int"]
        assert col.get(where={"b": {"$gt": 1}})["ids"] == ["float"]
    client.close()


def test_cached_rid_sets_follow_writes_in_this_and_other_processes(tmp_path):
    client, col = _collection(tmp_path)
    where = {"k": 3}
    before = set(col.get(where=where)["ids"])
    assert len(before) == 30
    col.update(ids=["r3"], metadatas=[{"k": 4}])
    assert set(col.get(where=where)["ids"]) == before - {"r3"}
    col.delete(ids=["r13"])
    assert set(col.get(where=where)["ids"]) == before - {"r3", "r13"}
    _run_elsewhere(tmp_path, "c.add(ids=['new'], embeddings=[[0.5] * 4], metadatas=[{'k': 3}]); c.delete(ids=['r23'])")
    assert set(col.get(where=where)["ids"]) == (before - {"r3", "r13", "r23"}) | {"new"}
    assert col.count() == 300 - 2 + 1  # r13 and r23 gone, new added
    client.close()


def test_negations_and_or_filters_stay_exact_when_cached(tmp_path):
    client, col = _collection(tmp_path)
    cases = {
        "ne": ({"k": {"$ne": 3}}, lambda i: i % 10 != 3),
        "nin": ({"s": {"$nin": ["v1", "v2"]}}, lambda i: i % 7 not in (1, 2)),
        "or": ({"$or": [{"k": 1}, {"s": "v0"}]}, lambda i: i % 10 == 1 or i % 7 == 0),
        "range": ({"k": {"$gte": 8}}, lambda i: i % 10 >= 8),
    }
    for where, keep in cases.values():
        for _ in range(2):
            assert sorted(col.get(where=where)["ids"]) == sorted(f"r{i}" for i in range(300) if keep(i))
    col.update(ids=["r1"], metadatas=[{"k": 3, "s": "v1"}])
    assert "r1" not in col.get(where={"k": {"$ne": 3}})["ids"]
    assert "r1" not in col.get(where={"$or": [{"k": 1}, {"s": "v0"}]})["ids"]
    client.close()


# -- vectors of exact-search candidates ------------------------------------------------------


def test_a_repeated_exact_filtered_query_reads_its_candidates_vectors_from_memory(tmp_path):
    client, col = _collection(tmp_path)
    api = client._server
    q = [[0.1, 0.9, 0.3, 0.2]]
    first = col.query(query_embeddings=q, n_results=5, where={"k": 3}, include=["distances"])
    held = api.segments.candidates._cache.size
    # 30 vectors of 4 float32, their rids twice (asked, found), their squared norms (l2)
    assert held == 30 * 4 * 4 + 30 * 8 * 2 + 30 * 4
    again = col.query(query_embeddings=q, n_results=5, where={"k": 3}, include=["distances"])
    assert again == first and api.segments.candidates._cache.size == held
    client.close()


def test_cached_candidate_vectors_follow_writes_in_this_and_other_processes(tmp_path):
    client, col = _collection(tmp_path)
    q = [[1.0, 1.0, 1.0, 1.0]]

    def nearest():
        got = col.query(query_embeddings=q, n_results=1, where={"k": 3}, include=["distances"])
        return got["ids"][0][0], got["distances"][0][0]

    nearest()
    col.update(ids=["r3"], embeddings=[[1.0, 1.0, 1.0, 1.0]])
    assert nearest() == ("r3", pytest.approx(0.0, abs=1e-6))
    _run_elsewhere(tmp_path, "c.update(ids=['r13'], embeddings=[[1.0, 1.0, 1.0, 1.01]]); c.delete(ids=['r3'])")
    assert nearest() == ("r13", pytest.approx(0.0001, abs=1e-5))
    client.close()


def test_search_api_exact_knn_uses_the_same_candidates(tmp_path):
    from huedb import Knn, Search

    client, col = _collection(tmp_path)
    q = [0.1, 0.9, 0.3, 0.2]
    plain = col.query(query_embeddings=[q], n_results=4, where={"k": 3}, include=[])["ids"][0]
    for _ in range(2):
        found = col.search(Search().where({"k": 3}).rank(Knn(query=q, limit=4)).limit(4))["ids"][0]
        assert found == plain
    client.close()


def test_the_caches_are_bounded_by_settings_and_can_be_turned_off(tmp_path):
    off = huedb.Settings(read_cache_bytes=0, candidate_vectors_cache_bytes=0)
    client = huedb.PersistentClient(str(tmp_path), settings=off)
    col = client.create_collection("off", embedding_function=None)
    col.add(
        ids=["a", "b", "c"], embeddings=[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], metadatas=[{"k": 1}, {"k": 2}, {"k": 1}]
    )
    for _ in range(2):
        assert col.get(where={"k": 1})["ids"] == ["a", "c"]
        assert col.query(query_embeddings=[[1.0, 0.1]], n_results=1, where={"k": 1}, include=[])["ids"] == [["a"]]
    api = client._server
    assert api.storage._cache._arrays.size == 0 and api.segments.candidates._cache.size == 0
    client.close()
    with pytest.raises(ValueError, match="read_cache_bytes"):
        huedb.Settings(read_cache_bytes=-1)


@pytest.mark.parametrize("space", ["cosine", "ip", "l2"])
def test_cached_candidates_answer_exactly_in_every_space(tmp_path, space):
    client = huedb.PersistentClient(str(tmp_path))
    col = client.create_collection("spaces", embedding_function=None, configuration={"hnsw": {"space": space}})
    rng = np.random.default_rng(11)
    vectors = rng.normal(size=(200, 8)).astype(np.float32)
    col.add(ids=[f"r{i}" for i in range(200)], embeddings=vectors, metadatas=[{"k": i % 4} for i in range(200)])
    q = rng.normal(size=8).astype(np.float32)
    rows = np.arange(200)[np.arange(200) % 4 == 1]
    c = vectors[rows]
    if space == "l2":
        d = ((c - q) ** 2).sum(axis=1)
    elif space == "ip":
        d = 1.0 - c @ q
    else:
        d = 1.0 - (c @ q) / (np.linalg.norm(c, axis=1) * np.linalg.norm(q))
    best = rows[np.argsort(d)[:5]]
    for _ in range(3):  # cold, then from memory
        got = col.query(query_embeddings=[q], n_results=5, where={"k": 1}, include=["distances"])
        assert got["ids"][0] == [f"r{i}" for i in best]
        assert np.allclose(got["distances"][0], np.sort(d)[:5], atol=1e-5)
    client.close()


def test_under_concurrent_writes_every_cached_read_equals_its_snapshots_own(tmp_path):
    """Readers compare, inside one snapshot, the cached rid set and candidate vectors with
    what storage answers uncached, while a writer keeps changing metadata and vectors."""
    import threading

    from huedb.storage.sqlite import selection

    client, col = _collection(tmp_path, n=300)
    api = client._server
    stop = threading.Event()
    problems: list[str] = []
    checked = [0]

    def writer() -> None:
        rng = np.random.default_rng(1)
        while not stop.is_set():
            rows = rng.choice(300, 20, replace=False)
            col.update(
                ids=[f"r{i}" for i in rows],
                metadatas=[{"k": int(v)} for v in rng.integers(0, 10, 20)],
                embeddings=rng.random((20, 4)).astype(np.float32).tolist(),
            )

    def reader() -> None:
        while not stop.is_set() and not problems:
            with api.storage.read() as tx:
                model = tx.collection_by_id(str(col.id))
                sel = api.storage.selection(model.storage_key, None, {"$or": [{"k": 3}, {"k": 5}]}, None)
                cached = tx.matching_rids(sel)
                fresh = selection.matching_rids(tx.conn, sel)
                if not np.array_equal(cached, fresh):
                    problems.append(f"rid set at seq {model.version}")
                present, vectors, norms = api.segments.candidates.read(tx, model, cached, "l2")
                want_present, want_vectors = tx.vectors_by_rids(cached)
                if not (
                    np.array_equal(present, want_present)
                    and np.array_equal(vectors, want_vectors)
                    and np.array_equal(norms, vector_norms(want_vectors, "l2"))
                ):
                    problems.append(f"candidate vectors at seq {model.version}")
                checked[0] += 1

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    stop.wait(2.0)  # a duration for the race, not a timed assertion
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert not problems, problems
    assert checked[0] > 10 and col.count() == 300
    client.close()


def test_a_recreated_collection_never_sees_its_predecessors_cached_reads(tmp_path):
    """Same name, same filter, other data: the stamps hold the collection's id (and the
    slots its storage key), so nothing read for the deleted one is found for the new one."""
    client = huedb.PersistentClient(str(tmp_path))
    for round_, vector in enumerate(([1.0, 0.0], [0.0, 1.0])):
        col = client.create_collection("again", embedding_function=None)
        col.add(ids=[f"{round_}-a", f"{round_}-b"], embeddings=[vector, vector], metadatas=[{"k": 1}, {"k": 2}])
        assert col.get(where={"k": 1})["ids"] == [f"{round_}-a"]
        got = col.query(query_embeddings=[[1.0, 0.0]], n_results=1, where={"k": 1}, include=["embeddings"])
        assert got["ids"] == [[f"{round_}-a"]] and got["embeddings"][0][0].tolist() == vector
        client.delete_collection("again")
    client.close()
