"""The read paths that issue 17's 1M profile reshaped: each gives what the path it
replaced gave (docs/benchmarks.md, "get $and, exact and filtered search at 1M")."""

from __future__ import annotations

import numpy as np
import pytest

from huedb.distance import SPACES, pairwise_distances


@pytest.mark.parametrize("space", SPACES)
def test_one_query_distances_match_the_batch_and_float64(space):
    # One query takes the matrix-vector product; a batch the matrix product. Both must
    # give the float64 reference's distances.
    rng = np.random.default_rng(7)
    v = rng.normal(size=(2_000, 96)).astype(np.float32)
    q = rng.normal(size=(4, 96)).astype(np.float32)
    q64, v64 = q.astype(np.float64), v.astype(np.float64)
    if space == "l2":
        ref = ((q64[:, None, :] - v64[None, :, :]) ** 2).sum(-1)
    elif space == "ip":
        ref = 1.0 - q64 @ v64.T
    else:
        ref = 1.0 - (q64 / np.linalg.norm(q64, axis=1, keepdims=True)) @ (v64 / np.linalg.norm(v64, axis=1)[:, None]).T
    batch = pairwise_distances(q, v, space)
    singles = np.vstack([pairwise_distances(q[i : i + 1], v, space) for i in range(len(q))])
    assert batch.shape == singles.shape == (4, 2_000)
    assert batch.dtype == singles.dtype == np.float32
    scale = max(1.0, float(np.abs(ref).max()))
    np.testing.assert_allclose(singles, ref, atol=1e-4 * scale)
    np.testing.assert_allclose(batch, ref, atol=1e-4 * scale)
    assert pairwise_distances(q[:1], v[:0], space).shape == (1, 0)
