"""hnswlib under churn: updated records move to fresh graph elements, the graph is
compacted when deleted elements outnumber live ones, and both survive a reload."""

from __future__ import annotations

import numpy as np
import pytest

from huedb.distance import exact_search
from huedb_plugins.index.hnswlib_segment import COMPACT_MIN_DEAD, MOVED_BASE, HnswlibSegment

DIM = 16
CONFIG = {"batch_size": 50, "num_threads": 1}


def vecs(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)


@pytest.mark.parametrize("space", ["l2", "cosine", "ip"])
def test_updated_records_are_found_by_their_new_vector_after_reload(tmp_path, space):
    labels = np.arange(400, dtype=np.int64) * 5 + 3
    seg = HnswlibSegment(DIM, space, dict(CONFIG), tmp_path)
    current = vecs(400, 0)
    seg.add(labels, current, seq=1)
    moved = labels[::4]
    new = vecs(len(moved), 1)
    current[::4] = new
    truth, _ = exact_search(new, current, labels, 1, space)  # in ip a vector need not be its own nearest
    seg.add(moved, new, seq=2)
    seg.add(np.zeros(0, np.int64), np.zeros((0, DIM), np.float32), seq=3)
    seg._flush()  # the updates reach the graph as new elements
    assert seg._index.element_count == 400 + len(moved)
    seg.persist()
    back = HnswlibSegment.load(DIM, space, dict(CONFIG), tmp_path)
    for s in (seg, back):
        found, _ = s.query(new, 1)
        assert found[:, 0].tolist() == truth[:, 0].tolist()  # record ids, never internal graph labels
        assert (found < MOVED_BASE).all()
        np.testing.assert_allclose(s.get_vectors(moved), new, rtol=1e-5, atol=1e-6)
        # A filter on record ids works for moved records too.
        found, _ = s.query(new[:3], 3, allowed=np.sort(moved[:3]))
        assert sorted(found[0].tolist()) == sorted(moved[:3].tolist())
    # Deleting a moved record removes it; updating it again moves it again.
    back.delete(moved[:1], seq=4)
    back.add(moved[1:2], vecs(1, 2), seq=5)
    back._flush()
    found, _ = back.query(new[:1], 5)
    assert moved[0] not in found[0]
    found, _ = back.query(vecs(1, 2), 400)
    assert moved[1] in found[0] and moved[0] not in found[0]


def test_endless_upserts_keep_the_graph_bounded_and_exact_answers_right():
    live = 300
    labels = np.arange(live, dtype=np.int64)
    seg = HnswlibSegment(DIM, "l2", dict(CONFIG), None)
    current = vecs(live, 0)
    seg.add(labels, current, seq=1)
    for round_ in range(20):  # 20 x 300 updates: 6,000 dead elements without compaction
        current = vecs(live, round_ + 10)
        seg.add(labels, current, seq=round_ + 2)
        assert seg._index.element_count <= 2 * live + COMPACT_MIN_DEAD + CONFIG["batch_size"]
    q = vecs(30, 99)
    found, dists = seg.query(q, 5)
    truth, true_d = exact_search(q, current, labels, 5, "l2")
    assert np.mean([len(set(a) & set(b)) / 5 for a, b in zip(found, truth)]) >= 0.95
    np.testing.assert_allclose(seg.get_vectors(labels), current, rtol=1e-5, atol=1e-6)


def test_a_whole_batch_goes_straight_into_the_graph_and_a_small_one_waits_in_the_buffer(tmp_path):
    seg = HnswlibSegment(DIM, "l2", dict(CONFIG), tmp_path)
    big = vecs(120, 7)
    seg.add(np.arange(120, dtype=np.int64), big, seq=1)  # >= batch_size, empty buffer: no buffer copy
    assert len(seg._buffer) == 0 and seg._index.element_count == 120
    seg.add(np.arange(120, 130, dtype=np.int64), vecs(10, 8), seq=2)  # < batch_size: buffered
    assert len(seg._buffer) == 10
    seg.add(np.arange(130, 200, dtype=np.int64), vecs(70, 9), seq=3)  # buffer not empty: joins it, then flushes
    assert len(seg._buffer) == 0 and seg._index.element_count == 200
    found, dist = seg.query(big[:5], 1)
    assert found[:, 0].tolist() == [0, 1, 2, 3, 4] and np.allclose(dist[:, 0], 0.0)
    np.testing.assert_array_equal(seg.get_vectors(np.arange(5)), big[:5])
