"""PostgreSQL: a filter with up to FILTERED_EXACT_MAX candidates is searched exactly (recall 1.0),
beyond the shared exact_search_limit, because pgvector's filtered index scan can miss a neighbour."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.postgres


def _filled(client, name: str, n: int, dim: int, seed: int):
    """(a collection of n random vectors with metadata {"k": i % 10}, the vectors)."""
    vectors = np.random.default_rng(seed).random((n, dim), dtype=np.float32)
    col = client.create_collection(name, embedding_function=None)
    for start in range(0, n, 5_000):
        stop = start + 5_000
        col.add(
            ids=[str(i) for i in range(start, stop)],
            embeddings=vectors[start:stop],
            metadatas=[{"k": i % 10} for i in range(start, stop)],
        )
    return col, vectors


def test_filtered_searches_up_to_the_limit_are_exact():
    from huedb.storage.postgres.search import FILTERED_EXACT_MAX, searched_exactly

    total = 50_000
    assert searched_exactly(10, np.arange(5_000), total)  # the bench's 10% filter at 50k
    assert searched_exactly(10, np.arange(FILTERED_EXACT_MAX), total)
    assert not searched_exactly(10, np.arange(FILTERED_EXACT_MAX + 1), total)
    assert not searched_exactly(10, None, total)  # unfiltered: the HNSW index
    assert searched_exactly(10, None, 1_500)  # a small collection: exact


def test_a_10_percent_filter_finds_the_exact_neighbours(postgres_database):
    import huedb

    client = huedb.Client(huedb.Settings(storage_backend="postgres", postgres_url=postgres_database))
    try:
        n, dim = 25_000, 8  # a 10% filter: 2,500 candidates, above exact_search_limit (2,000)
        col, vectors = _filled(client, "exact_filter", n, dim, seed=3)
        queries = np.random.default_rng(4).random((20, dim), dtype=np.float32)
        got = col.query(query_embeddings=queries, n_results=10, where={"k": 3}, include=[])["ids"]
        candidates = np.arange(3, n, 10)
        d = ((queries[:, None, :] - vectors[candidates][None, :, :]) ** 2).sum(-1)
        want = [[str(candidates[j]) for j in np.argsort(row, kind="stable")[:10]] for row in d]
        assert [sorted(g) for g in got] == [sorted(w) for w in want]
    finally:
        client.close()


def test_a_filter_above_the_exact_limit_uses_the_iterative_scan_and_finds_the_neighbours(postgres_database):
    """Above FILTERED_EXACT_MAX candidates pgvector's iterative index scan (strict_order) walks the
    HNSW index until k allowed rows come back: every result passes the filter, none is missing."""
    import huedb
    from huedb.storage.postgres.search import FILTERED_EXACT_MAX, searched_exactly

    client = huedb.Client(huedb.Settings(storage_backend="postgres", postgres_url=postgres_database))
    try:
        n, dim = 40_000, 8
        col, vectors = _filled(client, "iterative_filter", n, dim, seed=5)
        candidates = np.flatnonzero(np.arange(n) % 10 < 6)  # 24,000: searched through the index
        assert len(candidates) > FILTERED_EXACT_MAX and not searched_exactly(10, candidates, n)
        queries = np.random.default_rng(6).random((20, dim), dtype=np.float32)
        got = col.query(query_embeddings=queries, n_results=10, where={"k": {"$lt": 6}}, include=[])["ids"]
        d = ((queries[:, None, :] - vectors[candidates][None, :, :]) ** 2).sum(-1)
        want = [[str(candidates[j]) for j in np.argsort(row, kind="stable")[:10]] for row in d]
        assert all(int(i) % 10 < 6 for row in got for i in row)
        assert [sorted(g) for g in got] == [sorted(w) for w in want]
    finally:
        client.close()
