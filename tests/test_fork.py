"""Collection.fork and fork_count, embedded and over HTTP: the fork has the same records,
configuration and EF, is independent afterwards, and reuses copied index files."""

from __future__ import annotations

import time

import numpy as np
import pytest

import huedb
from huedb import SparseVector
from huedb.errors import InvalidArgumentError, UniqueConstraintError


def test_fork_copies_everything_and_is_independent(client):
    col = client.create_collection("source", metadata={"team": "x"}, configuration={"hnsw": {"space": "cosine"}})
    rng = np.random.default_rng(3)
    vectors = rng.random((50, 8), dtype=np.float32)
    ids = [f"id{i}" for i in range(50)]
    col.add(
        ids=ids,
        embeddings=vectors,
        documents=[f"document number {i}" for i in range(50)],
        metadatas=[{"i": i, "sv": SparseVector([i % 5, 10 + i], [1.0, 0.5])} for i in range(50)],
    )
    col.delete(ids=["id0"])
    assert col.fork_count() == 0
    fork = col.fork("forked")
    assert fork.name == "forked" and fork.id != col.id
    assert fork.metadata == {"team": "x"} and fork.configuration_json["hnsw"]["space"] == "cosine"
    assert col.fork_count() == fork.fork_count() == 1
    want = col.get(include=["embeddings", "documents", "metadatas"])
    got = fork.get(include=["embeddings", "documents", "metadatas"])
    assert got["ids"] == want["ids"] and got["documents"] == want["documents"]
    assert got["metadatas"] == want["metadatas"]
    np.testing.assert_array_equal(got["embeddings"], want["embeddings"])
    q = vectors[:3]
    assert fork.query(query_embeddings=q, n_results=5)["ids"] == col.query(query_embeddings=q, n_results=5)["ids"]
    assert fork.get(where={"i": {"$lt": 3}})["ids"] == ["id1", "id2"]
    assert fork.get(where_document={"$contains": "number 7"})["ids"] == ["id7"]
    # independent afterwards
    fork.add(ids=["new"], embeddings=rng.random((1, 8), dtype=np.float32))
    fork.delete(ids=["id1"])
    col.update(ids=["id2"], documents=["changed in the source"], embeddings=vectors[2:3])
    assert col.count() == 49 and fork.count() == 49
    assert col.get(ids=["new", "id1"])["ids"] == ["id1"]
    assert fork.get(ids=["id2"], include=["documents"])["documents"] == ["document number 2"]
    assert fork.query(query_embeddings=vectors[1:2], n_results=1)["ids"][0][0] != "id1"
    assert col.query(query_embeddings=vectors[1:2], n_results=1)["ids"] == [["id1"]]
    second = fork.fork("forked-again")
    assert second.count() == 49 and col.fork_count() == 2 and second.fork_count() == 2
    client.delete_collection("source")
    assert fork.count() == 49 and second.query(query_embeddings=q[2:3], n_results=1)["ids"] == [["id2"]]
    with pytest.raises(UniqueConstraintError):
        fork.fork("forked-again")
    with pytest.raises(InvalidArgumentError):
        fork.fork("x")


def test_a_fork_reopens_from_its_copied_index_files(tmp_path):
    path = str(tmp_path / "db")
    client = huedb.PersistentClient(path=path)
    col = client.create_collection("src")
    vectors = np.random.default_rng(5).random((300, 16), dtype=np.float32)
    col.add(ids=[str(i) for i in range(300)], embeddings=vectors)
    fork = col.fork("dst")
    assert (tmp_path / "db" / str(fork.id)).is_dir()  # copied, not rebuilt
    fork.add(ids=["late"], embeddings=vectors[:1] + 10)
    client.close()
    client = huedb.PersistentClient(path=path)
    fork = client.get_collection("dst")
    assert fork.count() == 301
    got = fork.query(query_embeddings=vectors[10:12], n_results=1)["ids"]
    assert got == [["10"], ["11"]]
    assert fork.query(query_embeddings=vectors[:1] + 10, n_results=1)["ids"] == [["late"]]
    client.close()


@pytest.mark.slow
def test_fork_of_100k_by_384_takes_at_most_a_tenth_of_the_ingest(tmp_path):
    client = huedb.PersistentClient(path=str(tmp_path / "db"))
    col = client.create_collection("big")
    vectors = np.random.default_rng(0).random((100_000, 384), dtype=np.float32)
    start = time.perf_counter()
    for lo in range(0, 100_000, 5_000):
        col.add(ids=[str(i) for i in range(lo, lo + 5_000)], embeddings=vectors[lo : lo + 5_000])
    ingest = time.perf_counter() - start
    start = time.perf_counter()
    fork = col.fork("big-fork")
    forked = time.perf_counter() - start
    assert fork.count() == 100_000
    queries = vectors[:20]  # the graph is approximate: the fork answers exactly as its source
    assert (
        fork.query(query_embeddings=queries, n_results=3)["ids"]
        == col.query(query_embeddings=queries, n_results=3)["ids"]
    )
    assert forked <= 0.1 * ingest, f"fork took {forked:.2f}s, ingest {ingest:.2f}s"
    client.close()
