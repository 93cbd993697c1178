"""Vector reads from SQLite's ``vectors`` table, for index loads and exact search.

Rows come back a statement at a time as one blob (the embeddings concatenated inside
SQLite by ``group_concat``) with their rids as one text: no Python object per row, which
was most of the time an index took to load its graph. The rid list says which rows the
blob holds and in which order, so nothing rests on the order SQLite aggregates in.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import numpy as np

from huedb.storage.sqlite.selection import ids_param


def vectors_by_rids(conn: sqlite3.Connection, rids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rids still present, their vectors), sorted by rid: only the two columns exact search needs."""
    rids = np.asarray(rids, dtype=np.int64)
    if len(rids) == 0:
        return rids, embeddings_from_blobs([], None)
    lo, hi = int(rids.min()), int(rids.max())
    if hi - lo < 2 * len(rids):
        # Dense rids (an index loading its graph): range scans of the rowid, no id list.
        found, vectors = vector_range(conn, lo, hi)
        keep = np.isin(found, rids)
        return (found, vectors) if keep.all() else (found[keep], vectors[keep])
    return _vector_list(conn, np.unique(rids))


#: rids per statement of _vector_list
LIST_ROWS = 4096
_LIST_SQL = (
    "SELECT group_concat(rid), CAST(group_concat(embedding, x'') AS BLOB), min(length(embedding)), "
    "max(length(embedding)) FROM vectors WHERE rid IN (SELECT value FROM json_each(?))"
)


def _vector_list(conn: sqlite3.Connection, rids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rids present, vectors) of sorted unique scattered rids, read as ``vector_range``
    reads a range: a blob and a rid list per statement, ``LIST_ROWS`` rids at a time."""
    found_parts: list[np.ndarray] = []
    vector_parts: list[np.ndarray] = []
    for start in range(0, len(rids), LIST_ROWS):
        param = ids_param(rids[start : start + LIST_ROWS].tolist())
        rid_text, blob, shortest, longest = conn.execute(_LIST_SQL, (param,)).fetchone()
        if rid_text is None:
            continue
        found = np.fromstring(rid_text, dtype=np.int64, sep=",")
        if shortest != longest or blob is None or len(blob) != len(found) * shortest or shortest % 4:
            rows = conn.execute(  # vectors of mixed sizes: a row at a time
                "SELECT rid, embedding FROM vectors WHERE rid IN (SELECT value FROM json_each(?)) ORDER BY rid",
                (ids_param(rids.tolist()),),
            ).fetchall()
            found = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            return found, embeddings_from_blobs([r[1] for r in rows], None)
        found_parts.append(found)
        vector_parts.append(np.frombuffer(blob, dtype=np.float32).reshape(len(found), -1))
    if not found_parts:
        return np.zeros(0, dtype=np.int64), embeddings_from_blobs([], None)
    found = np.concatenate(found_parts)
    return _in_rid_order(found, vector_parts[0] if len(vector_parts) == 1 else np.concatenate(vector_parts))


def _in_rid_order(rids: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``rids`` and their ``vectors`` sorted by rid (as they are unless SQLite aggregated out of order)."""
    if len(rids) > 1 and not (rids[1:] > rids[:-1]).all():
        order = np.argsort(rids, kind="stable")
        return rids[order], vectors[order]
    return rids, vectors


#: rows per statement of vector_range: its aggregate buffer stays small enough for the CPU cache
RANGE_ROWS = 512
_RANGE_SQL = (
    "SELECT group_concat(rid), CAST(group_concat(embedding, x'') AS BLOB), min(length(embedding)), "
    "max(length(embedding)) FROM vectors WHERE rid BETWEEN ? AND ?"
)


def vector_range(conn: sqlite3.Connection, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """(rids, vectors) of the vectors with ``lo <= rid <= hi``, sorted by rid (read-only
    vectors when the range takes one statement: they are the statement's blob).

    Each statement returns a run of rows as one blob (the embeddings concatenated inside
    SQLite) and their rids as one text, so no Python object is made per row: this is
    most of the time an index takes to load its graph. The rid list says which rows the
    blob holds and in which order, so nothing rests on the order SQLite aggregates in."""
    out: np.ndarray | None = None
    rid_parts: list[np.ndarray] = []
    at = 0
    for start in range(lo, hi + 1, RANGE_ROWS):
        rid_text, blob, shortest, longest = conn.execute(
            _RANGE_SQL, (start, min(hi, start + RANGE_ROWS - 1))
        ).fetchone()
        if rid_text is None:
            continue
        found = np.fromstring(rid_text, dtype=np.int64, sep=",")  # the blob length checks the count
        if shortest != longest or blob is None or len(blob) != len(found) * shortest or shortest % 4:
            return _vector_rows(conn, lo, hi)  # vectors of mixed sizes: a row at a time
        if hi - lo < RANGE_ROWS and (len(found) < 2 or (found[1:] > found[:-1]).all()):
            return found, np.frombuffer(blob, dtype=np.float32).reshape(len(found), -1)  # one statement: no copy
        if out is None:
            out = np.empty((hi - lo + 1, shortest // 4), dtype=np.float32)
        elif out.shape[1] * 4 != shortest:
            return _vector_rows(conn, lo, hi)
        out[at : at + len(found)] = np.frombuffer(blob, dtype=np.float32).reshape(len(found), -1)
        rid_parts.append(found)
        at += len(found)
    if out is None:
        return np.zeros(0, dtype=np.int64), embeddings_from_blobs([], None)
    return _in_rid_order(np.concatenate(rid_parts), out[:at])


def _vector_rows(conn: sqlite3.Connection, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    rows = conn.execute(
        "SELECT rid, embedding FROM vectors WHERE rid BETWEEN ? AND ? ORDER BY rid", (lo, hi)
    ).fetchall()
    found = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    return found, embeddings_from_blobs([r[1] for r in rows], None)


def embeddings_from_blobs(blobs: Sequence[bytes], dimension: int | None) -> np.ndarray:
    if not blobs:
        return np.zeros((0, dimension or 0), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), -1).copy()
