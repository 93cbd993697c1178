"""Filtered graph search by post-filtering: ask the graph, unfiltered, for the nearest
``FACTOR * k / share`` elements (``share``: the allowed records' share of the graph), keep
the allowed ones, and widen for the queries that kept fewer than k.

hnswlib's filtered walk calls a Python predicate for every element it visits, under the
GIL, and needs a Python set of the allowed labels built per query. On the bench's 10%
filter at 1M (a bench-config graph, 100 queries, busy machine) the walk took 14.7-15.5 ms
p50 and this 6.0-6.5 ms, recall 0.993 both (docs/benchmarks.md, "Profile at 1M").
A rare filter would need a long unfiltered list: past ``MAX_NEIGHBOURS`` the walk stays.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

#: how many times the expected number of neighbours needed for k allowed ones to ask for
FACTOR = 4
#: the longest unfiltered list asked for first; widening stops at WIDEN_LIMIT
MAX_NEIGHBOURS = 1024
WIDEN_LIMIT = 16_384
#: ef is this many times the list asked for, and at least the segment's ef over the allowed share
EF_FACTOR = 2

Search = Callable[[np.ndarray, int, int], "tuple[np.ndarray, np.ndarray] | None"]


def first_ask(k: int, allowed: int, live: int) -> int | None:
    """The unfiltered list length to ask for first, or None when the walk should run."""
    if allowed == 0 or live == 0:
        return None
    wanted = math.ceil(FACTOR * k * live / allowed)
    return wanted if wanted <= min(MAX_NEIGHBOURS, live) else None


def post_filtered(
    search: Search, queries: np.ndarray, k: int, allowed: np.ndarray, wanted: int, live: int, ef: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labels, distances, rows still short): the k nearest allowed labels per query, nearest
    first, from unfiltered searches of ``wanted`` neighbours and up; ``allowed`` is sorted.
    ``search(rows, n, ef)`` returns record ids and distances (or None when the graph cannot
    return n). Rows that kept fewer than k within the widest search come back in the third
    array for the caller's walk; their label rows hold -1."""
    nq = len(queries)
    # as many allowed elements in the candidate list as the walk's ef would hold
    ef_allowed = math.ceil(ef * live / len(allowed))
    labels = np.full((nq, k), -1, dtype=np.int64)
    dists = np.full((nq, k), np.inf, dtype=np.float32)
    todo = np.arange(nq)
    while len(todo):
        found = search(queries[todo], wanted, max(ef_allowed, EF_FACTOR * wanted))
        if found is None:
            break
        ids, d = found
        at = np.minimum(np.searchsorted(allowed, ids), len(allowed) - 1)
        hit = (allowed[at] == ids) & (ids >= 0)
        enough = hit.sum(axis=1) >= k
        if enough.any():
            # the first k hits of each row, in the graph's (nearest first) order
            first = np.argsort(~hit[enough], axis=1, kind="stable")[:, :k]
            labels[todo[enough]] = np.take_along_axis(ids[enough], first, axis=1)
            dists[todo[enough]] = np.take_along_axis(d[enough], first, axis=1)
        todo = todo[~enough]
        if wanted >= min(live, WIDEN_LIMIT):
            break
        wanted = min(live, WIDEN_LIMIT, wanted * 4)
    return labels, dists, todo
