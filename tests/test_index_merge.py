"""merge_topk: the row-wise k best of index results, ordered by (distance, label), padding
(-1, inf) last, whichever path it takes (one full result without ties is returned as is)."""

from __future__ import annotations

import numpy as np
import pytest

from huedb_plugins.index.common import empty_result, merge_topk


def reference(parts: list[tuple[np.ndarray, np.ndarray]], k: int, nq: int) -> tuple[list, list]:
    labels, dists = [], []
    for row in range(nq):
        pairs = sorted(
            (float(d), int(lab)) for p in parts for lab, d in zip(p[0][row].tolist(), p[1][row].tolist()) if lab >= 0
        )[:k]
        pairs += [(float("inf"), -1)] * (k - len(pairs))
        labels.append([lab for _, lab in pairs])
        dists.append([d for d, _ in pairs])
    return labels, dists


def result(labels: list[list[int]], dists: list[list[float]]) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(labels, dtype=np.int64), np.asarray(dists, dtype=np.float32)


@pytest.mark.parametrize(
    "parts",
    [
        [result([[4, 2, 9]], [[0.1, 0.2, 0.3]])],  # one full result, no ties: returned as is
        [result([[4, 2, 9]], [[0.1, 0.1, 0.3]])],  # a tie: ordered by label
        [result([[4, -1, -1]], [[0.1, np.inf, np.inf]])],  # padding
        [empty_result(1, 3), result([[7, 3, 5]], [[0.5, 0.6, 0.7]])],  # an empty buffer's result
        [result([[1, 2, 3]], [[0.3, 0.4, 0.9]]), result([[8, 9]], [[0.35, 0.0]])],  # two parts
        [result([[1, 2, 3], [4, 5, 6]], [[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]])],  # a row out of order
        [empty_result(2, 3)],
    ],
)
def test_merge_matches_the_reference_order(parts):
    nq, k = len(parts[0][0]), 3
    labels, dists = merge_topk(parts, k, nq)
    want_labels, want_dists = reference(parts, k, nq)
    assert labels.tolist() == want_labels
    assert dists.tolist() == want_dists
    assert labels.dtype == np.int64 and dists.dtype == np.float32 and labels.shape == (nq, k)


def test_random_results_merge_as_the_reference():
    rng = np.random.default_rng(7)
    for _ in range(200):
        nq, k = int(rng.integers(1, 4)), int(rng.integers(1, 6))
        parts = []
        for _ in range(int(rng.integers(1, 4))):
            width = int(rng.integers(0, k + 2))
            labels = rng.integers(-1, 50, size=(nq, width))
            dists = np.where(labels < 0, np.inf, rng.integers(0, 6, size=(nq, width)) / 4.0)  # ties happen
            parts.append(result(labels.tolist(), dists.tolist()))
        labels, dists = merge_topk(parts, k, nq)
        want_labels, want_dists = reference(parts, k, nq)
        assert labels.tolist() == want_labels
        assert dists.tolist() == want_dists
