"""Record reads and writes in SQLite, batched.

Batches of ids travel as one JSON parameter (``json_each``), so there is no
limit on batch size and no per-record round trip. Metadata filter rows are
derived from the stored metadata JSON inside SQLite.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from itertools import repeat
from typing import Any

import numpy as np

from huedb.storage.protocol import Records
from huedb.storage.sqlite import sparse
from huedb.storage.sqlite.catalog import limit_offset
from huedb.storage.sqlite.columns import records_by_rid_list, records_from_rows
from huedb.storage.sqlite.filters import (
    INT64_MAX,
    NUL_DOCUMENT_KEY,
    VT_BOOL,
    VT_MARK,
    VT_NUM,
    VT_STR,
)
from huedb.storage.sqlite.read_cache import ReadCache
from huedb.storage.sqlite.selection import (  # noqa: F401 - re-exported: the backend and tests use them here
    _JSON_NUL,
    Selection,
    _where_sql,
    candidates,
    id_in,
    ids_param,
    intersect_sorted,
    matching_rids,
    rid_array,
    select,
)
from huedb.storage.sqlite.vectors import embeddings_from_blobs, vectors_by_rids  # noqa: F401 - re-exported

_META_FROM_JSON = """
INSERT INTO meta(collection_id, rid, key, vtype, is_list, value)
SELECT r.collection_id, r.rid, j.key,
       CASE j.type WHEN 'text' THEN 1 WHEN 'true' THEN 2 WHEN 'false' THEN 2 ELSE 0 END, 0, j.value
  FROM records r, json_each(r.metadata) j
 WHERE {rows} AND r.metadata IS NOT NULL AND j.type NOT IN ('array', 'object', 'null')
UNION ALL
SELECT r.collection_id, r.rid, j.key,
       CASE e.type WHEN 'text' THEN 1 WHEN 'true' THEN 2 WHEN 'false' THEN 2 ELSE 0 END, 1, e.value
  FROM records r, json_each(r.metadata) j, json_each(j.value) e
 WHERE {rows} AND r.metadata IS NOT NULL AND j.type = 'array'
"""


_ENCODER = json.JSONEncoder(ensure_ascii=False)  # one encoder: json.dumps(**kw) builds one per call


def dumps_metadata(md: dict[str, Any] | None) -> str | None:
    return _ENCODER.encode(md) if md else None


def existing(conn: sqlite3.Connection, cid: int, ids: Sequence[str]) -> dict[str, int]:
    """id -> rid for the ids that exist in the collection."""
    member, params = id_in("id", ids)
    rows = conn.execute(f"SELECT id, rid FROM records WHERE collection_id=? AND {member}", (cid, *params))
    return dict(rows.fetchall())


def count(conn: sqlite3.Connection, cid: int) -> int:
    return conn.execute("SELECT count(*) FROM records WHERE collection_id=?", (cid,)).fetchone()[0]


def next_rid(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name='records'").fetchone()
    return (row[0] if row else 0) + 1


def insert(
    conn: sqlite3.Connection,
    cid: int,
    seq: int,
    ids: Sequence[str],
    embeddings: np.ndarray,
    documents: Sequence[str | None] | None,
    uris: Sequence[str | None] | None,
    metadatas: Sequence[dict[str, Any] | None] | None,
) -> np.ndarray:
    """Inserts new records under the write transaction; returns their rids (contiguous)."""
    n = len(ids)
    first = next_rid(conn)
    rids = np.arange(first, first + n, dtype=np.int64)
    blobs = [memoryview(row) for row in np.ascontiguousarray(embeddings, dtype=np.float32)]  # no copies
    docs = documents if documents is not None else repeat(None, n)
    uri_col = uris if uris is not None else repeat(None, n)
    metas = [dumps_metadata(m) for m in metadatas] if metadatas is not None else repeat(None, n)
    rid_list = rids.tolist()
    conn.executemany(
        "INSERT INTO records(rid, collection_id, id, version, document, uri, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)",
        zip(rid_list, repeat(cid, n), ids, repeat(seq, n), docs, uri_col, metas),
    )
    conn.executemany("INSERT INTO vectors(rid, embedding) VALUES (?, ?)", zip(rid_list, blobs))
    last = first + n - 1
    if documents is not None:
        conn.execute(
            "INSERT INTO docs_fts(rowid, document) SELECT rid, document FROM records "
            "WHERE rid BETWEEN ? AND ? AND document IS NOT NULL",
            (first, last),
        )
        if any(d is not None and "\x00" in d for d in documents):
            _mark_nul_documents(conn, "r.rid BETWEEN ? AND ?", (first, last))
    if metadatas is not None:
        _derive_meta(conn, "r.rid BETWEEN ? AND ?", (first, last))
        sparse.derive(conn, "r.rid BETWEEN ? AND ?", (first, last))
    return rids


def _derive_meta(conn: sqlite3.Connection, rows: str, params: tuple[Any, ...]) -> None:
    """Filter rows (table ``meta``) for the records matching ``rows`` (over alias ``r``).

    SQLite's json_each derives them in bulk; metadata holding a NUL (in a key or a
    string) goes through Python instead, because json_each cuts strings at a NUL."""
    clean = f"{rows} AND instr(r.metadata, '{_JSON_NUL}') = 0"
    conn.execute(_META_FROM_JSON.format(rows=clean), params * 2)
    nul_rows = conn.execute(
        f"SELECT r.collection_id, r.rid, r.metadata FROM records r "
        f"WHERE {rows} AND instr(r.metadata, '{_JSON_NUL}') > 0",
        params,
    ).fetchall()
    if nul_rows:
        conn.executemany(
            "INSERT INTO meta(collection_id, rid, key, vtype, is_list, value) VALUES (?, ?, ?, ?, ?, ?)",
            [row for cid, rid, text in nul_rows for row in _meta_rows(cid, rid, json.loads(text))],
        )


def _meta_rows(cid: int, rid: int, md: dict[str, Any]) -> list[tuple]:
    """The rows _META_FROM_JSON derives, built in Python (same vtype and value rules)."""
    out: list[tuple] = []
    for key, value in md.items():
        if value is None or isinstance(value, dict):
            continue
        items, is_list = (value, 1) if isinstance(value, list) else ([value], 0)
        for item in items:
            if isinstance(item, bool):
                out.append((cid, rid, key, VT_BOOL, is_list, int(item)))
            elif isinstance(item, str):
                out.append((cid, rid, key, VT_STR, is_list, item))
            elif isinstance(item, (int, float)):
                # json_each gives integers beyond int64 as reals
                num = float(item) if isinstance(item, int) and abs(item) > INT64_MAX else item
                out.append((cid, rid, key, VT_NUM, is_list, num))
    return out


def _mark_nul_documents(conn: sqlite3.Connection, rows: str, params: tuple[Any, ...]) -> None:
    """Marks records whose document holds a NUL: the trigram index sees such a document
    only up to the NUL, so $contains adds the marked records to its candidates."""
    conn.execute(
        f"INSERT INTO meta(collection_id, rid, key, vtype, is_list, value) "
        f"SELECT r.collection_id, r.rid, ?, ?, 0, 1 FROM records r "
        f"WHERE {rows} AND instr(r.document, char(0)) > 0",
        (NUL_DOCUMENT_KEY, VT_MARK, *params),
    )


def update(
    conn: sqlite3.Connection,
    seq: int,
    rids: Sequence[int],
    embeddings: np.ndarray | None,
    documents: Sequence[str | None] | None,
    uris: Sequence[str | None] | None,
    metadatas: Sequence[dict[str, Any] | None] | None,
    clear: Sequence[str] = (),
) -> None:
    """Updates existing records: given fields replace, metadata merges (None values delete keys).

    A field named in ``clear`` ("documents", "uris") becomes NULL where no new value is given.
    """
    n = len(rids)
    conn.executemany("UPDATE records SET version=? WHERE rid=?", zip(repeat(seq, n), rids))
    if embeddings is not None:
        conn.executemany("UPDATE vectors SET embedding=? WHERE rid=?", zip([r.tobytes() for r in embeddings], rids))
    # As in chromadb, a None document or URI in an update leaves the stored one unchanged.
    if documents is not None:
        conn.executemany(
            "UPDATE records SET document=? WHERE rid=?", [(d, r) for d, r in zip(documents, rids) if d is not None]
        )
    if uris is not None:
        conn.executemany("UPDATE records SET uri=? WHERE rid=?", [(u, r) for u, r in zip(uris, rids) if u is not None])
    for field, column, given in (("documents", "document", documents), ("uris", "uri", uris)):
        if field in clear:
            values = given if given is not None else repeat(None, n)
            conn.executemany(
                f"UPDATE records SET {column}=NULL WHERE rid=?", [(r,) for v, r in zip(values, rids) if v is None]
            )
    if metadatas is not None:
        patches = [(m, rid) for m, rid in zip(metadatas, rids) if m is not None]
        _merge_metadata(conn, patches)
        param = ids_param([rid for _, rid in patches])
        conn.execute("DELETE FROM meta WHERE rid IN (SELECT value FROM json_each(?)) AND vtype != ?", (param, VT_MARK))
        _derive_meta(conn, "r.rid IN (SELECT value FROM json_each(?))", (param,))
        sparse.remove(conn, param)
        sparse.derive(conn, "r.rid IN (SELECT value FROM json_each(?))", (param,))
    if documents is not None or clear:
        # Re-mark the rewritten documents that hold a NUL (see _mark_nul_documents).
        param = ids_param(list(rids))
        conn.execute("DELETE FROM meta WHERE rid IN (SELECT value FROM json_each(?)) AND vtype = ?", (param, VT_MARK))
        _mark_nul_documents(conn, "r.rid IN (SELECT value FROM json_each(?))", (param,))


def _merge_metadata(conn: sqlite3.Connection, patches: Sequence[tuple[dict[str, Any], int]]) -> None:
    """Merges metadata patches (None values delete keys): in SQLite by RFC 7396 merge
    patch, or in Python where a NUL is involved (SQLite's JSON functions cut strings at it)."""
    texts = [(_ENCODER.encode(md), rid) for md, rid in patches]
    stored_nul = {
        rid
        for (rid,) in conn.execute(
            f"SELECT rid FROM records WHERE rid IN (SELECT value FROM json_each(?)) "
            f"AND instr(metadata, '{_JSON_NUL}') > 0",
            (ids_param([rid for _, rid in texts]),),
        )
    }
    in_python = [(t, r) for t, r in texts if _JSON_NUL in t or r in stored_nul]
    conn.executemany(
        "UPDATE records SET metadata = nullif(json_patch(coalesce(metadata, '{}'), ?), '{}') WHERE rid=?",
        [(t, r) for t, r in texts if _JSON_NUL not in t and r not in stored_nul],
    )
    for text, rid in in_python:
        stored = conn.execute("SELECT metadata FROM records WHERE rid=?", (rid,)).fetchone()[0]
        merged = {**(json.loads(stored) if stored else {}), **json.loads(text)}
        merged = {k: v for k, v in merged.items() if v is not None}
        conn.execute("UPDATE records SET metadata=? WHERE rid=?", (dumps_metadata(merged), rid))


def delete(conn: sqlite3.Connection, cid: int, seq: int, rids: np.ndarray, log: bool) -> None:
    """Deletes records; with ``log``, their labels (only) are kept for catching up persisted indexes."""
    param = ids_param(rids.tolist())
    conn.execute("DELETE FROM meta WHERE rid IN (SELECT value FROM json_each(?))", (param,))
    sparse.remove(conn, param)
    conn.execute("DELETE FROM records WHERE rid IN (SELECT value FROM json_each(?))", (param,))
    if log:
        conn.execute(
            "INSERT INTO deletions(collection_id, seq, rid) SELECT ?, ?, value FROM json_each(?)", (cid, seq, param)
        )


_EMBEDDING = "(SELECT v.embedding FROM vectors v WHERE v.rid = r.rid)"
_FIELD_COLUMNS = {"documents": "r.document", "metadatas": "r.metadata", "uris": "r.uri", "embeddings": _EMBEDDING}


def select_records(
    conn: sqlite3.Connection,
    sel: Selection,
    fields: Sequence[str],
    limit: int | None = None,
    offset: int | None = None,
    cache: ReadCache | None = None,
) -> Records:
    """The selected records in insertion order."""
    found = candidates(conn, sel, cache)
    if found is not None and len(found) == 0:
        return records_from_rows([], fields)
    if found is not None and limit is None and not offset:
        columns = records_by_rid_list(conn, sel.cid, found, fields, sel.predicate, sel.predicate_params)
        if columns is not None:
            return columns
    where_sql, params = _where_sql(sel, found, conn)
    cols = ", ".join(["r.rid", "r.id"] + [_FIELD_COLUMNS[f] for f in fields])
    sql = f"SELECT {cols} FROM records r WHERE {where_sql} ORDER BY r.rid"
    if limit is not None or offset:
        sql += " LIMIT ? OFFSET ?"
        params = list(params) + list(limit_offset(limit, offset))
    return records_from_rows(conn.execute(sql, params).fetchall(), fields)


def rows_by_rids(conn: sqlite3.Connection, rids: np.ndarray, fields: Sequence[str]) -> Records:
    """The records of the rids that still exist, in rid order."""
    cols = ", ".join(["r.rid", "r.id"] + [_FIELD_COLUMNS[f] for f in fields])
    rows = conn.execute(
        f"SELECT {cols} FROM records r WHERE r.rid IN (SELECT value FROM json_each(?)) ORDER BY r.rid",
        (ids_param(np.asarray(rids).tolist()),),
    ).fetchall()
    return records_from_rows(rows, fields)


def changed_since(conn: sqlite3.Connection, cid: int, seq: int, batch: int = 5000):
    """Yields (rids, blobs) of records written after ``seq``, in chunks, for index catch-up."""
    cursor = conn.execute(
        "SELECT r.rid, v.embedding FROM records r JOIN vectors v ON v.rid = r.rid "
        "WHERE r.collection_id=? AND r.version>? ORDER BY r.rid",
        (cid, seq),
    )
    while True:
        rows = cursor.fetchmany(batch)
        if not rows:
            return
        yield np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)), [r[1] for r in rows]


def deleted_since(conn: sqlite3.Connection, cid: int, seq: int) -> np.ndarray:
    rows = conn.execute("SELECT rid FROM deletions WHERE collection_id=? AND seq>?", (cid, seq)).fetchall()
    return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))


def prune_deletions(conn: sqlite3.Connection, cid: int, upto_seq: int) -> None:
    conn.execute("DELETE FROM deletions WHERE collection_id=? AND seq<=?", (cid, upto_seq))
    conn.execute(
        "INSERT INTO deletions_pruned(collection_id, pruned_seq) VALUES (?, ?) "
        "ON CONFLICT(collection_id) DO UPDATE SET pruned_seq=max(pruned_seq, excluded.pruned_seq)",
        (cid, upto_seq),
    )


def deletions_pruned_upto(conn: sqlite3.Connection, cid: int) -> int:
    """Seq up to which the deletion log was pruned (0: it is complete)."""
    row = conn.execute("SELECT pruned_seq FROM deletions_pruned WHERE collection_id=?", (cid,)).fetchone()
    return row[0] if row else 0
