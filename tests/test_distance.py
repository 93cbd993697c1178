"""huedb.distance: the exact formulas every exact search uses, with and without the
vector_norms a caller keeps beside a fixed set of vectors."""

from __future__ import annotations

import numpy as np
import pytest

from huedb.distance import exact_search, pairwise_distances, vector_norms
from huedb.errors import InvalidArgumentError


def reference(q: np.ndarray, v: np.ndarray, space: str) -> np.ndarray:
    q64, v64 = q.astype(np.float64), v.astype(np.float64)
    if space == "l2":
        return ((q64[:, None, :] - v64[None, :, :]) ** 2).sum(-1)
    if space == "ip":
        return 1.0 - q64 @ v64.T
    qn = np.linalg.norm(q64, axis=1, keepdims=True)
    vn = np.linalg.norm(v64, axis=1, keepdims=True)
    vn[vn == 0] = 1.0
    return 1.0 - (q64 / qn) @ (v64 / vn).T


@pytest.mark.parametrize("space", ["l2", "cosine", "ip"])
@pytest.mark.parametrize("nq", [1, 3])
def test_distances_match_a_float64_reference_with_or_without_kept_norms(space, nq):
    rng = np.random.default_rng(3)
    v = rng.standard_normal((200, 16)).astype(np.float32)
    v[5] = 0.0  # a zero vector: cosine distance 1
    q = rng.standard_normal((nq, 16)).astype(np.float32)
    norms = vector_norms(v, space)
    assert (norms is None) == (space == "ip")
    want = reference(q, v, space)
    for got in (pairwise_distances(q, v, space), pairwise_distances(q, v, space, norms)):
        assert got.shape == (nq, 200) and got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    if space == "cosine":
        assert pairwise_distances(q, v, space, norms)[:, 5] == pytest.approx(1.0)
    labels, dists = exact_search(q, v, np.arange(200, dtype=np.int64) + 1000, 5, space, norms)
    assert labels.tolist() == (np.argsort(want, axis=1, kind="stable")[:, :5] + 1000).tolist()


def test_a_vector_and_itself_are_at_distance_zero_in_l2():
    v = np.random.default_rng(4).standard_normal((50, 815)).astype(np.float32) * 100
    d = pairwise_distances(v[:3], v, "l2", vector_norms(v, "l2"))
    assert d[[0, 1, 2], [0, 1, 2]].tolist() == [0.0, 0.0, 0.0]


def test_an_unknown_space_is_refused():
    with pytest.raises(InvalidArgumentError, match="unknown distance space 'dot'"):
        pairwise_distances(np.ones((1, 2), np.float32), np.ones((3, 2), np.float32), "dot")
