"""Issue 17: an ingest holds at most one batch of caller data beyond the index itself.

tracemalloc sees every Python object and numpy array huedb makes inside ``add()`` (the
validated request, its rows' JSON, copies of vectors); hnswlib's graph and SQLite's pages
are C allocations it does not see, which is the point: they are the index and the store.
The bench reports the RSS side (docs/benchmarks.md, "Ingest memory")."""

from __future__ import annotations

import tracemalloc

import numpy as np

import huedb

BATCH, DIM = 5_000, 384


def _batch(rng: np.random.Generator, start: int) -> dict:
    rows = range(start, start + BATCH)
    return {
        "ids": [f"id{i}" for i in rows],
        "embeddings": rng.normal(size=(BATCH, DIM)).astype(np.float32),
        "metadatas": [{"k": i % 10, "s": f"v{i % 7}", "f": i / 3} for i in rows],
        "documents": [f"document number {i} about topic {i % 13}" for i in rows],
    }


def test_an_add_holds_less_than_one_batch_of_caller_data_beyond_it(tmp_path) -> None:
    rng = np.random.default_rng(0)
    client = huedb.PersistentClient(path=str(tmp_path))
    col = client.create_collection("ingest_memory", embedding_function=None)
    for start in range(0, 4 * BATCH, BATCH):  # the graph exists and persists fall inside later adds
        col.add(**_batch(rng, start))
    peaks = []
    for start in range(4 * BATCH, 9 * BATCH, BATCH):
        kwargs = _batch(rng, start)
        tracemalloc.start()
        try:
            col.add(**kwargs)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    one_batch = BATCH * DIM * 4
    assert max(peaks) < one_batch, [round(p / 2**20, 2) for p in peaks]
    assert col.count() == 9 * BATCH
