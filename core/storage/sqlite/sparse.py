"""The sparse inverted index in SQLite: postings of the sparse vectors held in metadata.

A metadata value ``{"#type": "sparse_vector", "indices": [...], "values": [...]}``
becomes one row of ``sparse(collection_id, key, term, rid, value)`` per index, and
one row of ``sparse_docs(collection_id, key, rid, nnz)`` per record and key (what
document counts and BM25 statistics read). Both are derived from the stored
metadata JSON inside SQLite, in the write transaction of the record, and rewritten
whenever the record's metadata changes.

Search is exact: the postings of the query's terms are read (through the backend's
``ReadCache``, stamped with the collection's version), the dot products accumulated
in numpy, and the best ``limit`` records kept.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

import numpy as np

from huedb.storage.sparse_query import query_terms
from huedb.storage.sqlite.read_cache import ReadCache

#: the metadata values that are sparse vectors: JSON objects (validation admits no other object)
_SPARSE_FROM_JSON = """
INSERT INTO sparse(collection_id, key, term, rid, value)
SELECT r.collection_id, j.key, i.value, r.rid, j.value ->> ('$.values[' || i.key || ']')
  FROM records r, json_each(r.metadata) j, json_each(j.value, '$.indices') i
 WHERE {rows} AND r.metadata IS NOT NULL AND j.type = 'object'
"""
_DOCS_FROM_JSON = """
INSERT INTO sparse_docs(collection_id, key, rid, nnz)
SELECT r.collection_id, j.key, r.rid, json_array_length(j.value, '$.indices')
  FROM records r, json_each(r.metadata) j
 WHERE {rows} AND r.metadata IS NOT NULL AND j.type = 'object'
"""
#: the JSON escape of NUL: SQLite's JSON functions (3.40) cut a string at it
_JSON_NUL = "\\u0000"


def derive(conn: sqlite3.Connection, rows: str, params: tuple[Any, ...]) -> None:
    """Postings for the records matching ``rows`` (over alias ``r``); metadata holding a
    NUL goes through Python, as for the filter rows (json_each cuts strings at a NUL)."""
    clean = f"{rows} AND instr(r.metadata, '{_JSON_NUL}') = 0 AND instr(r.metadata, '\"#type\"') > 0"
    conn.execute(_SPARSE_FROM_JSON.format(rows=clean), params)
    conn.execute(_DOCS_FROM_JSON.format(rows=clean), params)
    nul_rows = conn.execute(
        f"SELECT r.collection_id, r.rid, r.metadata FROM records r "
        f"WHERE {rows} AND instr(r.metadata, '{_JSON_NUL}') > 0 AND instr(r.metadata, '\"#type\"') > 0",
        params,
    ).fetchall()
    postings: list[tuple[Any, ...]] = []
    docs: list[tuple[Any, ...]] = []
    for cid, rid, text in nul_rows:
        for key, value in json.loads(text).items():
            if isinstance(value, dict):
                postings.extend((cid, key, t, rid, v) for t, v in zip(value["indices"], value["values"]))
                docs.append((cid, key, rid, len(value["indices"])))
    if postings or docs:
        conn.executemany("INSERT INTO sparse(collection_id, key, term, rid, value) VALUES (?, ?, ?, ?, ?)", postings)
        conn.executemany("INSERT INTO sparse_docs(collection_id, key, rid, nnz) VALUES (?, ?, ?, ?)", docs)


def remove(conn: sqlite3.Connection, rids_param: str) -> None:
    """Drops the postings of the rids in the JSON array ``rids_param``."""
    conn.execute("DELETE FROM sparse WHERE rid IN (SELECT value FROM json_each(?))", (rids_param,))
    conn.execute("DELETE FROM sparse_docs WHERE rid IN (SELECT value FROM json_each(?))", (rids_param,))


def knn(
    conn: sqlite3.Connection,
    cid: int,
    key: str,
    indices: np.ndarray,
    values: np.ndarray,
    limit: int,
    allowed: np.ndarray | None,
    cache: ReadCache | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(rids, float64 scores) of the ``limit`` records with the highest dot product with the
    query, best first (ties: lower rid first); records sharing no term are left out."""
    terms, weights = query_terms(indices, values)
    empty = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    if limit <= 0 or not len(terms) or (allowed is not None and not len(allowed)):
        return empty
    cache = cache or ReadCache(max_bytes=0)
    version = cache.version(conn, cid)
    lists: list[tuple[np.ndarray, np.ndarray]] = []  # per term: (rids ascending, contributions)
    for term, weight in zip(terms.tolist(), weights.tolist()):
        rids, vals = cache.postings(conn, cid, version, key, term)
        if allowed is not None and len(rids):
            keep = np.isin(rids, np.asarray(allowed, dtype=np.int64))
            rids, vals = rids[keep], vals[keep]
        if len(rids):
            lists.append((rids, vals * weight))
    if not lists:
        return empty
    pruned = _pruned(lists, limit)
    if pruned is not None:
        found, scores = pruned
    else:
        found, scores = _accumulate(np.concatenate([r for r, _ in lists]), np.concatenate([c for _, c in lists]))
    if len(found) > limit:
        # Everything scoring at least the limit-th best, so ties at the boundary keep the lowest rids.
        threshold = np.partition(scores, len(scores) - limit)[len(scores) - limit]
        candidates = np.nonzero(scores >= threshold)[0]
        found, scores = found[candidates], scores[candidates]
    order = np.lexsort((found, -scores))[:limit]
    return found[order], scores[order]


def _pruned(lists: list[tuple[np.ndarray, np.ndarray]], limit: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Exact top candidates without accumulating every posting of low-impact terms (MaxScore).

    A term's contributions are at most ``bound`` (its largest). The terms whose bounds add up to
    ``rest`` (the smallest bounds, e.g. a BM25 term in every document, whose IDF is ~0) are left
    out of the accumulation: a record found only through them scores at most ``rest``. When the
    ``limit``-th best partial score of the records the other terms find is above ``rest``, the
    answer is among those records; the left-out terms' contributions are then added to them
    (binary search in their sorted postings). None when that cannot be shown (the caller
    accumulates everything); only for non-negative contributions."""
    if len(lists) < 2 or any(float(c.min()) < 0 for _, c in lists):
        return None
    bounds = np.asarray([float(c.max()) for _, c in lists])
    order = np.argsort(bounds, kind="stable")
    rest, j = 0.0, 0
    while j < len(order) - 1 and rest + bounds[order[j]] <= 0.5 * bounds[order[j + 1]]:
        rest += bounds[order[j]]
        j += 1
    left_out, kept = [lists[i] for i in order[:j]], [lists[i] for i in order[j:]]
    if not left_out or sum(len(r) for r, _ in left_out) < sum(len(r) for r, _ in kept):
        return None  # nothing to save
    found, scores = _accumulate(np.concatenate([r for r, _ in kept]), np.concatenate([c for _, c in kept]))
    if len(found) < limit or not np.partition(scores, len(scores) - limit)[len(scores) - limit] > rest:
        return None
    for rids, contributions in left_out:
        pos = np.minimum(np.searchsorted(rids, found), len(rids) - 1)
        hit = rids[pos] == found
        scores[hit] += contributions[pos[hit]]
    return found, scores


def _accumulate(rids: np.ndarray, contributions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct rids ascending, the sum of their contributions)."""
    low, high = int(rids.min()), int(rids.max())
    span = high - low + 1
    if span <= 4 * len(rids) + 4096:  # dense enough: one pass of bincount, no sort
        offsets = rids - low
        sums = np.bincount(offsets, weights=contributions, minlength=span)
        present = np.zeros(span, dtype=bool)
        present[offsets] = True
        hit = np.flatnonzero(present)
        return hit + low, sums[hit]
    found, inverse = np.unique(rids, return_inverse=True)
    return found, np.bincount(inverse, weights=contributions, minlength=len(found))


def document_frequencies(
    conn: sqlite3.Connection,
    cid: int,
    key: str,
    indices: Sequence[int] | np.ndarray,
    cache: ReadCache | None = None,
) -> np.ndarray:
    """How many records of the collection hold each term under ``key`` (int64, one per index):
    the length of its postings (a record holds a term once)."""
    cache = cache or ReadCache(max_bytes=0)
    version = cache.version(conn, cid)
    terms = np.asarray(indices, dtype=np.int64).ravel().tolist()
    return np.asarray([len(cache.postings(conn, cid, version, key, t)[0]) for t in terms], dtype=np.int64)


def stats(conn: sqlite3.Connection, cid: int, key: str, cache: ReadCache | None = None) -> tuple[int, float]:
    """(records holding a sparse vector under ``key``, their mean number of nonzero terms)."""
    return (cache or ReadCache(max_bytes=0)).stats(conn, cid, key)


def sparse_keys(conn: sqlite3.Connection, cid: int, keys: Sequence[str]) -> list[str]:
    """Those of ``keys`` that hold a sparse vector in some record of the collection."""
    return [
        k
        for k in keys
        if conn.execute("SELECT 1 FROM sparse_docs WHERE collection_id=? AND key=? LIMIT 1", (cid, k)).fetchone()
    ]
