"""Recall of the approximate index plugins against exact search (20k x 128, seeded)."""

from __future__ import annotations

import numpy as np
import pytest

from huedb.distance import exact_search
from huedb.registry import Registry

N, DIM, NQ, K = 20_000, 128, 200, 10


def clustered(n: int, seed: int, clusters: int = 50, latent: int = 8) -> np.ndarray:
    """Clustered data of low intrinsic dimension, like real embeddings (the same projection for every seed)."""
    basis = np.random.default_rng(1234)
    proj = basis.normal(size=(latent, DIM)).astype(np.float32)
    centers = basis.normal(scale=3.0, size=(clusters, latent)).astype(np.float32)
    rng = np.random.default_rng(seed)
    z = centers[rng.integers(0, clusters, n)] + rng.normal(size=(n, latent)).astype(np.float32)
    return (z @ proj + 0.1 * rng.normal(size=(n, DIM))).astype(np.float32)


@pytest.fixture(scope="module")
def data():
    X = clustered(N, seed=0)
    Q = clustered(NQ, seed=1)
    labels = np.arange(N, dtype=np.int64) * 3 + 17
    return X, Q, labels


def build(name: str, space: str, data, config=None):
    X, _, labels = data
    seg = Registry().get("index_segment", name)(DIM, space, dict(config or {}), None)
    for i in range(0, N, 2000):  # batches, as collection.add would send them
        seg.add(labels[i : i + 2000], X[i : i + 2000], seq=i // 2000 + 1)
    return seg


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(found, truth)]))


@pytest.mark.parametrize(
    "name,space",
    [
        ("hnswlib", "l2"),
        ("annoy", "cosine"),
        pytest.param("hnswlib", "cosine", marks=pytest.mark.slow),
        pytest.param("annoy", "l2", marks=pytest.mark.slow),
    ],
)
def test_recall_at_10_with_default_config(data, name, space):
    X, Q, labels = data
    seg = build(name, space, data)
    found, dists = seg.query(Q, K)
    truth, true_d = exact_search(Q, X, labels, K, space)
    assert recall_at_k(found, truth) >= 0.95
    # distances are exact for the labels returned
    rows = (found - 17) // 3
    expected = np.array(
        [
            [
                np.sum((q - X[r]) ** 2) if space == "l2" else 1 - q @ X[r] / (np.linalg.norm(q) * np.linalg.norm(X[r]))
                for r in row
            ]
            for q, row in zip(Q[:5], rows[:5])
        ]
    )
    np.testing.assert_allclose(dists[:5], expected, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("name", ["exact", "annoy", pytest.param("hnswlib", marks=pytest.mark.slow)])
def test_filtered_recall_is_perfect_at_one_percent(data, name):
    X, Q, labels = data
    seg = build(name, "l2", data, {"hnswlib": {"batch_size": 100}}.get(name))
    allowed = np.sort(np.random.default_rng(5).choice(labels, N // 100, replace=False))
    found, _ = seg.query(Q, K, allowed=allowed)
    assert np.isin(found, allowed).all()
    rows = (allowed - 17) // 3
    truth, _ = exact_search(Q, X[rows], allowed, K, "l2")
    assert recall_at_k(found, truth) == 1.0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["hnswlib", "annoy"])
def test_filtered_recall_at_twenty_percent(data, name):
    X, Q, labels = data
    seg = build(name, "l2", data)
    allowed = np.sort(np.random.default_rng(6).choice(labels, N // 5, replace=False))
    found, _ = seg.query(Q, K, allowed=allowed)
    assert np.isin(found, allowed).all()
    rows = (allowed - 17) // 3
    truth, _ = exact_search(Q, X[rows], allowed, K, "l2")
    assert recall_at_k(found, truth) >= 0.95
