"""Scores of a Search rank expression, as Chroma defines them (float32, lower is better).

Each sub-expression evaluates to a *domain*: scores for a set of records (its support) plus
a score for every other record (its default; None: other records are out). A Knn's support is
its result list (distance, or 0-based position with ``return_rank``) and its default the
Knn's ``default``; a ``$val`` is all default. Combining two domains:

- both have defaults: the union of supports, each side filling in its default;
- one has a default: the other's support, the defaulted side filling in;
- neither: the intersection of supports.

So a record missing from a Knn without a default is dropped from any combination with it.
Only the support of the whole expression is returned, sorted ascending by score, ties by
insertion order (rid); NaN last. ``$sum/$mul/$max/$min`` fold from 0, 1, float32 min and
float32 max; ``$max``/``$min`` ignore NaN (as Rust's f32::max/min do).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

F32 = np.float32
_FOLD: dict[str, tuple[Callable[[Any, Any], Any], float]] = {
    "$sum": (np.add, 0.0),
    "$mul": (np.multiply, 1.0),
    "$max": (np.fmax, float(np.finfo(np.float32).min)),
    "$min": (np.fmin, float(np.finfo(np.float32).max)),
}
_BINARY: dict[str, Callable[[Any, Any], Any]] = {"$sub": np.subtract, "$div": np.divide}
_UNARY: dict[str, Callable[[Any], Any]] = {"$abs": np.abs, "$exp": np.exp, "$log": np.log}


@dataclass
class Domain:
    rids: np.ndarray  # sorted int64
    scores: np.ndarray  # float32, aligned with rids
    default: Any  # np.float32 or None

    @staticmethod
    def flat(value: float) -> Domain:
        return Domain(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=F32), F32(value))

    def at(self, rids: np.ndarray) -> np.ndarray:
        """Scores of ``rids`` (the default where a rid is outside the support)."""
        if len(self.rids) == 0:
            return np.full(len(rids), self.default, dtype=F32)
        pos = np.minimum(np.searchsorted(self.rids, rids), len(self.rids) - 1)
        hit = self.rids[pos] == rids
        fill = F32(0) if self.default is None else self.default
        return np.where(hit, self.scores[pos], fill).astype(F32)


def merge(left: Domain, right: Domain, op: Callable[[Any, Any], Any]) -> Domain:
    if left.default is not None and right.default is not None:
        rids = np.union1d(left.rids, right.rids)
        default = F32(op(left.default, right.default))
    elif left.default is not None:
        rids, default = right.rids, None
    elif right.default is not None:
        rids, default = left.rids, None
    else:
        rids, default = np.intersect1d(left.rids, right.rids), None
    return Domain(rids, op(left.at(rids), right.at(rids)).astype(F32), default)


def knn_domain(rids: np.ndarray, measures: np.ndarray, default: float | None, return_rank: bool) -> Domain:
    """A Knn's domain from its result list (best first)."""
    values = np.arange(len(rids), dtype=F32) if return_rank else np.asarray(measures, dtype=F32)
    order = np.argsort(rids, kind="stable")
    return Domain(np.asarray(rids, dtype=np.int64)[order], values[order], None if default is None else F32(default))


def evaluate(node: tuple[Any, ...], knn: Callable[[Any], Domain]) -> Domain:
    """The domain of a rank node; ``knn(spec)`` runs one Knn (called in depth-first order)."""
    op = node[0]
    with np.errstate(all="ignore"):
        if op == "$val":
            return Domain.flat(node[1])
        if op == "$knn":
            return knn(node[1])
        if op in _FOLD:
            fn, start = _FOLD[op]
            out = Domain.flat(start)
            for child in node[1]:
                out = merge(out, evaluate(child, knn), fn)
            return out
        if op in _BINARY:
            return merge(evaluate(node[1], knn), evaluate(node[2], knn), _BINARY[op])
        child = evaluate(node[1], knn)
        fn1 = _UNARY[op]
        default = None if child.default is None else F32(fn1(child.default))
        return Domain(child.rids, fn1(child.scores).astype(F32), default)


def ranked(domain: Domain) -> tuple[np.ndarray, np.ndarray]:
    """(rids, scores) of the support, ascending by score, then rid; NaN last."""
    order = np.lexsort((domain.rids, domain.scores))
    return domain.rids[order], domain.scores[order]


def _value_key(value: Any) -> tuple[Any, ...]:
    """Order of metadata values in groups: missing, then booleans, numbers, strings, arrays."""
    if value is None:
        return (0,)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, (int, float)):
        return (2, value)
    if isinstance(value, str):
        return (3, value)
    return (4, repr(value))


def group(
    rids: np.ndarray,
    scores: np.ndarray,
    metadatas: list[dict[str, Any] | None],
    keys: list[str],
    aggregate: tuple[str, list[str], int],
) -> tuple[np.ndarray, np.ndarray]:
    """GroupBy: records grouped by their values of ``keys``; in each group, the ``k`` first by
    the aggregate's keys (``$min_k`` ascending, ``$max_k`` descending, ties keep score order);
    all kept records re-sorted by score, then rid."""
    op, sort_keys, k = aggregate

    def values(i: int, names: list[str]) -> tuple[Any, ...]:
        md = metadatas[i] or {}
        return tuple(_value_key(float(scores[i]) if n == "#score" else md.get(n)) for n in names)

    groups: dict[tuple[Any, ...], list[int]] = {}
    for i in range(len(rids)):
        groups.setdefault(values(i, keys), []).append(i)
    kept: list[int] = []
    for members in groups.values():
        kept += sorted(members, key=lambda i: values(i, sort_keys), reverse=op == "$max_k")[:k]
    chosen = np.asarray(sorted(kept), dtype=np.int64)  # input order is (score, rid) order
    return rids[chosen], scores[chosen]
