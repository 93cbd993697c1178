"""Distance spaces and their exact formulas in numpy: the one source for the core and index plugins.

``l2`` is squared L2, ``ip`` is 1 - a.b, ``cosine`` is 1 - cos (as in Chroma and hnswlib).
"""

from __future__ import annotations

import numpy as np

from huedb.errors import InvalidArgumentError

SPACES: tuple[str, ...] = ("l2", "cosine", "ip")
DEFAULT_SPACE = "l2"
#: l2 distances below this fraction of |q|^2 + max|v|^2 are recomputed without cancellation
_CANCELLATION = 1e-3


def check_space(space: str) -> str:
    if space not in SPACES:
        raise InvalidArgumentError(f"unknown distance space {space!r}; expected one of {', '.join(SPACES)}")
    return space


def row_norms(x: np.ndarray) -> np.ndarray:
    """(n, 1) L2 norms of the rows, without np.linalg.norm's full-size temporary."""
    return np.sqrt(np.einsum("ij,ij->i", x, x))[:, None]


def normalize_rows(x: np.ndarray) -> np.ndarray:
    norms = row_norms(x)
    norms[norms == 0] = 1.0
    return x / norms


def dots(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(nq, n) dot products. One query's go through numpy's own loop (einsum), not BLAS:
    OpenBLAS runs even a matrix-vector product on all its threads, and on the busy 2-core
    machine 10,000 x 384 took 12-19 ms p50 that way against 0.3 ms in einsum (0.17 ms in
    BLAS on one thread). A batch of queries keeps BLAS, where its threads pay off."""
    if len(q) == 1:
        return np.einsum("ij,j->i", v, q[0])[None, :]
    return q @ v.T


def vector_norms(vectors: np.ndarray, space: str) -> np.ndarray | None:
    """What ``pairwise_distances`` reads of the vectors besides their dot products with the
    queries, to keep beside a set of vectors searched again and again: squared norms (l2),
    norms with 0 as 1 (cosine), nothing (ip). Each is one pass over the vectors, as long
    as the dot products themselves."""
    v = np.asarray(vectors, dtype=np.float32)
    if space == "ip":
        return None
    squared = np.einsum("ij,ij->i", v, v)  # einsum: no (n, d) temporary
    if space == "l2":
        return squared
    norms = np.sqrt(squared)
    norms[norms == 0] = 1.0  # a zero vector: cos 0, distance 1
    return norms


def pairwise_distances(
    queries: np.ndarray, vectors: np.ndarray, space: str, norms: np.ndarray | None = None
) -> np.ndarray:
    """(nq, n) distances: l2 = squared L2, ip = 1 - a.b, cosine = 1 - cos. ``norms``:
    ``vector_norms(vectors, space)`` when the caller keeps it (computed here otherwise)."""
    check_space(space)
    q = np.asarray(queries, dtype=np.float32)
    v = np.asarray(vectors, dtype=np.float32)
    if norms is None:
        norms = vector_norms(v, space)
    if space == "l2":
        assert norms is not None
        qq, vv = (q * q).sum(1)[:, None], norms
        d = qq - 2.0 * dots(q, v) + vv[None, :]
        np.maximum(d, 0.0, out=d)
        if len(vv):
            # |q|^2 - 2q.v + |v|^2 cancels for near-identical pairs (6e-5 for a vector and itself at
            # 815 dims): those few are recomputed as sum((q - v)^2), exact (0.0) for identical vectors.
            # The common path pays one min per row.
            tol = _CANCELLATION * (qq + vv.max())
            if (d.min(axis=1, keepdims=True) <= tol).any():
                rows, cols = np.nonzero(d <= tol)
                diff = q[rows] - v[cols]
                d[rows, cols] = np.einsum("ij,ij->i", diff, diff)
        return d
    if space == "ip":
        return 1.0 - dots(q, v)
    assert norms is not None
    # q^.v / |v| rather than q^.(v / |v|): no normalised (n, d) copy of the vectors per query
    return 1.0 - dots(normalize_rows(q), v) / norms[None, :]


def top_k(distances: np.ndarray, labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Smallest k per row, ties broken by label, padded with -1/inf to width k."""
    nq, n = distances.shape
    out_labels = np.full((nq, k), -1, dtype=np.int64)
    out_dist = np.full((nq, k), np.inf, dtype=np.float32)
    take = min(k, n)
    if take == 0:
        return out_labels, out_dist
    if take < n:
        part = np.argpartition(distances, take - 1, axis=1)[:, :take]
        _resolve_boundary_ties(distances, labels, part)
    else:
        part = np.broadcast_to(np.arange(n), (nq, n))
    part_d = np.take_along_axis(distances, part, axis=1)
    part_l = labels[part]
    # lexsort: primary distance, secondary label, so top-k is a prefix of top-(k+1)
    order = np.lexsort((part_l, part_d), axis=1)
    out_labels[:, :take] = np.take_along_axis(part_l, order, axis=1)
    out_dist[:, :take] = np.take_along_axis(part_d, order, axis=1)
    return out_labels, out_dist


def exact_search(
    queries: np.ndarray,
    vectors: np.ndarray,
    labels: np.ndarray,
    k: int,
    space: str,
    norms: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest labels per query, exactly (``norms``: see ``pairwise_distances``)."""
    if len(labels) == 0:
        return top_k(np.zeros((len(queries), 0), dtype=np.float32), labels, k)
    return top_k(pairwise_distances(queries, vectors, space, norms), np.asarray(labels, dtype=np.int64), k)


def _resolve_boundary_ties(distances: np.ndarray, labels: np.ndarray, part: np.ndarray) -> None:
    """argpartition picks arbitrarily among ties at the k-th distance; pick the lowest labels instead."""
    take = part.shape[1]
    kth = np.take_along_axis(distances, part, axis=1).max(axis=1)
    tied_rows = np.nonzero((distances <= kth[:, None]).sum(axis=1) > take)[0]
    for r in tied_rows:  # rare: only rows with exact ties at the boundary
        inside = np.nonzero(distances[r] < kth[r])[0]
        ties = np.nonzero(distances[r] == kth[r])[0]
        ties = ties[np.argsort(labels[ties], kind="stable")][: take - len(inside)]
        part[r] = np.concatenate([inside, ties])


def candidate_distances(queries: np.ndarray, candidates: np.ndarray, space: str) -> np.ndarray:
    """Exact distances of each query to its own candidates, shape (nq, c) from (nq, c, d)."""
    q = np.asarray(queries, dtype=np.float32)
    c = np.asarray(candidates, dtype=np.float32)
    if space == "l2":
        diff = c - q[:, None, :]
        return np.einsum("qcd,qcd->qc", diff, diff)
    if space == "ip":
        return 1.0 - np.einsum("qcd,qd->qc", c, q)
    if space == "cosine":
        qn = normalize_rows(q)
        norms = np.linalg.norm(c, axis=2)
        norms[norms == 0] = 1.0
        return 1.0 - np.einsum("qcd,qd->qc", c, qn) / norms
    raise InvalidArgumentError(f"unknown distance space {space!r}")
