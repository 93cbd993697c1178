"""The sparse inverted index in SQLite: postings of the sparse vectors held in metadata.

A metadata value ``{"#type": "sparse_vector", "indices": [...], "values": [...]}``
becomes one row of ``sparse(collection_id, key, term, rid, value)`` per index, and
one row of ``sparse_docs(collection_id, key, rid, nnz)`` per record and key (what
document counts and BM25 statistics read). Both are derived from the stored
metadata JSON inside SQLite, in the write transaction of the record, and rewritten
whenever the record's metadata changes.

Search is exact: the postings of the query's terms are read, the dot products
accumulated in numpy, and the best ``limit`` records kept.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

import numpy as np

from huedb.errors import InvalidArgumentError

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


def _query_terms(indices: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    terms = np.asarray(indices, dtype=np.int64).ravel()
    weights = np.asarray(values, dtype=np.float64).ravel()
    if len(terms) != len(weights):
        raise InvalidArgumentError(
            f"A sparse query needs as many values as indices, got {len(terms)} indices and {len(weights)} values"
        )
    if len(terms) and len(np.unique(terms)) != len(terms):
        raise InvalidArgumentError("A sparse query's indices must be unique")
    return terms, weights


def knn(
    conn: sqlite3.Connection,
    cid: int,
    key: str,
    indices: np.ndarray,
    values: np.ndarray,
    limit: int,
    allowed: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(rids, float64 scores) of the ``limit`` records with the highest dot product with the
    query, best first (ties: lower rid first); records sharing no term are left out."""
    terms, weights = _query_terms(indices, values)
    empty = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    if limit <= 0 or not len(terms) or (allowed is not None and not len(allowed)):
        return empty
    rid_parts: list[np.ndarray] = []
    score_parts: list[np.ndarray] = []
    for term, weight in zip(terms.tolist(), weights.tolist()):
        rows = conn.execute(
            "SELECT rid, value FROM sparse WHERE collection_id=? AND key=? AND term=?", (cid, key, term)
        ).fetchall()
        if rows:
            rid_parts.append(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))
            score_parts.append(np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows)) * weight)
    if not rid_parts:
        return empty
    rids = np.concatenate(rid_parts)
    contributions = np.concatenate(score_parts)
    if allowed is not None:
        keep = np.isin(rids, np.asarray(allowed, dtype=np.int64))
        rids, contributions = rids[keep], contributions[keep]
        if not len(rids):
            return empty
    found, inverse = np.unique(rids, return_inverse=True)
    scores = np.bincount(inverse, weights=contributions, minlength=len(found))
    if len(found) > limit:
        # Everything scoring at least the limit-th best, so ties at the boundary keep the lowest rids.
        threshold = np.partition(scores, len(scores) - limit)[len(scores) - limit]
        candidates = np.nonzero(scores >= threshold)[0]
        found, scores = found[candidates], scores[candidates]
    order = np.lexsort((found, -scores))[:limit]
    return found[order], scores[order]


def document_frequencies(
    conn: sqlite3.Connection, cid: int, key: str, indices: Sequence[int] | np.ndarray
) -> np.ndarray:
    """How many records of the collection hold each term under ``key`` (int64, one per index)."""
    terms = np.asarray(indices, dtype=np.int64).ravel().tolist()
    return np.fromiter(
        (
            conn.execute(
                "SELECT count(*) FROM sparse WHERE collection_id=? AND key=? AND term=?", (cid, key, t)
            ).fetchone()[0]
            for t in terms
        ),
        dtype=np.int64,
        count=len(terms),
    )


def stats(conn: sqlite3.Connection, cid: int, key: str) -> tuple[int, float]:
    """(records holding a sparse vector under ``key``, their mean number of nonzero terms)."""
    count, total = conn.execute(
        "SELECT count(*), total(nnz) FROM sparse_docs WHERE collection_id=? AND key=?", (cid, key)
    ).fetchone()
    return int(count), (float(total) / count if count else 0.0)


def sparse_keys(conn: sqlite3.Connection, cid: int, keys: Sequence[str]) -> list[str]:
    """Those of ``keys`` that hold a sparse vector in some record of the collection."""
    return [
        k
        for k in keys
        if conn.execute("SELECT 1 FROM sparse_docs WHERE collection_id=? AND key=? LIMIT 1", (cid, k)).fetchone()
    ]
