"""Record reads and writes in PostgreSQL, batched: one round trip per statement and batch.

Filter rows (``meta``) and sparse postings are derived in Python from the metadata
dicts the write holds (merged metadata for an update), in the record's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from itertools import repeat
from typing import Any

import numpy as np

from huedb.errors import InvalidArgumentError
from huedb.filters import VT_BOOL, VT_NUM, VT_STR
from huedb.storage.postgres import keys
from huedb.storage.postgres.catalog import limit_offset
from huedb.storage.postgres.filters import Selection, document_matches, num

_ENCODER = json.JSONEncoder(ensure_ascii=False)
_RECORD_TYPES = ["int8", "int8", "text", "int8", "vector", "text", "text", "text"]
_COLUMNS = {"documents": "r.document", "metadatas": "r.metadata", "uris": "r.uri", "embeddings": "r.embedding"}


def dumps_metadata(md: dict[str, Any] | None) -> str | None:
    return _ENCODER.encode(md) if md else None  # json escapes NUL as \u0000: storable as text


def rids_of(rows: Sequence[tuple]) -> np.ndarray:
    return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))


def vectors(values: Sequence[Any], dimension: int = 0) -> np.ndarray:
    """float32 (n, dimension) from pgvector values."""
    if not values:
        return np.zeros((0, dimension), dtype=np.float32)
    return np.stack([v.to_numpy() for v in values]).astype(np.float32, copy=False)


# -- derived rows ----------------------------------------------------------------------
def _meta_rows(cid: int, rid: int, md: dict[str, Any] | None) -> Iterator[tuple]:
    for key, value in (md or {}).items():
        if value is None or isinstance(value, dict):
            continue
        items, is_list = (value, True) if isinstance(value, list) else ([value], False)
        for item in items:
            if isinstance(item, bool):
                yield (cid, rid, key, VT_BOOL, is_list, int(item), None)
            elif isinstance(item, str):
                yield (cid, rid, key, VT_STR, is_list, None, item.encode("utf-8"))
            elif isinstance(item, (int, float)):
                yield (cid, rid, key, VT_NUM, is_list, num(item), None)


def _derive(conn: Any, cid: int, rids: Sequence[int], metadatas: Sequence[dict[str, Any] | None]) -> None:
    meta: list[tuple] = []
    postings: list[tuple] = []
    docs: list[tuple] = []
    for rid, md in zip(rids, metadatas):
        if not md:
            continue
        meta.extend(_meta_rows(cid, rid, md))
        for key, value in md.items():
            if isinstance(value, dict):  # a sparse vector: validation admits no other object
                postings.extend((cid, key, t, rid, float(v)) for t, v in zip(value["indices"], value["values"]))
                docs.append((cid, key, rid, len(value["indices"])))
    with conn.cursor() as cur:
        if meta:
            with cur.copy("COPY meta (collection_id, rid, key, vtype, is_list, num, str) FROM STDIN") as copy:
                for row in meta:
                    copy.write_row(row)
        if postings:
            with cur.copy("COPY sparse (collection_id, key, term, rid, value) FROM STDIN") as copy:
                for row in postings:
                    copy.write_row(row)
        if docs:
            with cur.copy("COPY sparse_docs (collection_id, key, rid, nnz) FROM STDIN") as copy:
                for row in docs:
                    copy.write_row(row)


def _remove_derived(conn: Any, cid: int, rids: list[int]) -> None:
    for table in ("meta", "sparse", "sparse_docs"):
        conn.execute(f"DELETE FROM {table} WHERE collection_id = %s AND rid = ANY(%s)", (cid, rids))  # noqa: S608


# -- writes ------------------------------------------------------------------------------
def insert(
    conn: Any,
    cid: int,
    seq: int,
    ids: Sequence[str],
    embeddings: np.ndarray,
    documents: Sequence[str | None] | None,
    uris: Sequence[str | None] | None,
    metadatas: Sequence[dict[str, Any] | None] | None,
) -> np.ndarray:
    n = len(ids)
    rids = rids_of(conn.execute("SELECT nextval('records_rid_seq') FROM generate_series(1, %s)", (n,)).fetchall())
    vecs = np.ascontiguousarray(embeddings, dtype=np.float32)
    docs = documents if documents is not None else repeat(None, n)
    uri_col = uris if uris is not None else repeat(None, n)
    metas = metadatas if metadatas is not None else [None] * n
    with conn.cursor() as cur:
        # Binary COPY: vectors go as pgvector's binary form (float32, no text rendering of each float).
        with cur.copy(
            "COPY records (collection_id, rid, id, version, embedding, document, uri, metadata) "
            "FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(_RECORD_TYPES)
            for row in zip(repeat(cid, n), rids.tolist(), ids, repeat(seq, n), vecs, docs, uri_col, metas):
                copy.write_row((*row[:7], dumps_metadata(row[7])))
    _derive(conn, cid, rids.tolist(), metas)
    keys.record(conn, cid, metadatas)
    conn.execute("UPDATE collections SET record_count = record_count + %s WHERE cid = %s", (n, cid))
    return rids


def update(
    conn: Any,
    cid: int,
    seq: int,
    rids: Sequence[int],
    embeddings: np.ndarray | None,
    documents: Sequence[str | None] | None,
    uris: Sequence[str | None] | None,
    metadatas: Sequence[dict[str, Any] | None] | None,
    clear: Sequence[str] = (),
) -> None:
    """Given fields replace, metadata merges (None values delete keys); a field in ``clear``
    becomes NULL where no new value is given."""
    rid_list = [int(r) for r in rids]
    n = len(rid_list)
    conn.execute("UPDATE records SET version = %s WHERE collection_id = %s AND rid = ANY(%s)", (seq, cid, rid_list))
    with conn.cursor() as cur:
        if embeddings is not None:
            vecs = np.ascontiguousarray(embeddings, dtype=np.float32)
            cur.executemany(
                "UPDATE records SET embedding = %s WHERE collection_id = %s AND rid = %s",
                [(v, cid, r) for v, r in zip(vecs, rid_list)],
            )
        for field, column, given in (("documents", "document", documents), ("uris", "uri", uris)):
            values = list(given) if given is not None else [None] * n
            changes: list[tuple[str | None, int, int]] = [
                (v, cid, r) for v, r in zip(values, rid_list) if v is not None
            ]
            if field in clear:
                changes += [(None, cid, r) for v, r in zip(values, rid_list) if v is None]
            if changes:
                cur.executemany(f"UPDATE records SET {column} = %s WHERE collection_id = %s AND rid = %s", changes)
        if metadatas is None:
            return
        patches = {r: m for m, r in zip(metadatas, rid_list) if m is not None}
        if not patches:
            return
        stored = dict(
            conn.execute(
                "SELECT rid, metadata FROM records WHERE collection_id = %s AND rid = ANY(%s)", (cid, list(patches))
            ).fetchall()
        )
        merged: dict[int, dict[str, Any] | None] = {}
        for rid, patch in patches.items():
            md = {**(json.loads(stored[rid]) if stored.get(rid) else {}), **patch}
            merged[rid] = {k: v for k, v in md.items() if v is not None} or None
        cur.executemany(
            "UPDATE records SET metadata = %s WHERE collection_id = %s AND rid = %s",
            [(dumps_metadata(md), cid, rid) for rid, md in merged.items()],
        )
    _remove_derived(conn, cid, list(merged))
    _derive(conn, cid, list(merged), list(merged.values()))
    keys.record(conn, cid, patches.values())


def delete(conn: Any, cid: int, seq: int, rids: np.ndarray) -> None:
    """Deletes records and logs their labels (only) in the deletion log."""
    rid_list = np.asarray(rids, dtype=np.int64).tolist()
    _remove_derived(conn, cid, rid_list)
    gone = conn.execute("DELETE FROM records WHERE collection_id = %s AND rid = ANY(%s)", (cid, rid_list)).rowcount
    conn.execute("UPDATE collections SET record_count = record_count - %s WHERE cid = %s", (gone, cid))
    conn.execute(
        "INSERT INTO deletions(collection_id, seq, rid) SELECT %s, %s, unnest(%s::bigint[])", (cid, seq, rid_list)
    )


# -- reads ---------------------------------------------------------------------------------
def refuse_sparse_keys(conn: Any, sel: Selection) -> None:
    """A where filter on a key holding sparse vectors is refused, as on SQLite."""
    if not sel.where_keys:
        return
    row = conn.execute(
        "SELECT key FROM sparse_docs WHERE collection_id = %s AND key = ANY(%s::text[]) ORDER BY key LIMIT 1",
        (sel.cid, list(sel.where_keys)),
    ).fetchone()
    if row is not None:
        raise InvalidArgumentError(
            f"Cannot filter on metadata key {row[0]!r}: it holds sparse vectors, which where filters do not "
            f"support (search them with Knn(query=..., key={row[0]!r}) instead)"
        )


def matching_rids(conn: Any, sel: Selection) -> np.ndarray:
    refuse_sparse_keys(conn, sel)
    if sel.doc_check is None:
        return rids_of(
            conn.execute(f"SELECT r.rid FROM records r WHERE {sel.sql} ORDER BY r.rid", sel.params).fetchall()
        )
    rows = conn.execute(f"SELECT r.rid, r.document FROM records r WHERE {sel.sql} ORDER BY r.rid", sel.params)
    node = sel.doc_check
    return rids_of([row for row in rows if document_matches(node, row[1])])


def select_records(
    conn: Any, sel: Selection, fields: Sequence[str], limit: int | None, offset: int | None
) -> list[tuple]:
    """(rid, id, *fields) rows in insertion order."""
    refuse_sparse_keys(conn, sel)
    if sel.doc_check is not None:
        rids = matching_rids(conn, sel)
        start = min(offset or 0, len(rids))
        rids = rids[start : None if limit is None else start + limit]
        return rows_by_rids(conn, rids, fields) if len(rids) else []
    cols = ", ".join(["r.rid", "r.id"] + [_COLUMNS[f] for f in fields])
    sql = f"SELECT {cols} FROM records r WHERE {sel.sql} ORDER BY r.rid"
    params: tuple[Any, ...] = sel.params
    if limit is not None or offset:
        sql += " LIMIT %s OFFSET %s"
        params = (*params, *limit_offset(limit, offset))
    return conn.cursor(binary=True).execute(sql, params).fetchall()


def rows_by_rids(conn: Any, rids: np.ndarray, fields: Sequence[str]) -> list[tuple]:
    cols = ", ".join(["r.rid", "r.id"] + [_COLUMNS[f] for f in fields])
    sql = f"SELECT {cols} FROM records r WHERE r.rid = ANY(%s::bigint[]) ORDER BY r.rid"
    return conn.cursor(binary=True).execute(sql, (np.asarray(rids, dtype=np.int64).tolist(),)).fetchall()


def vectors_by_rids(conn: Any, rids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = conn.cursor(binary=True).execute(
        "SELECT r.rid, r.embedding FROM records r WHERE r.rid = ANY(%s::bigint[]) ORDER BY r.rid",
        (np.asarray(rids, dtype=np.int64).tolist(),),
    )
    found = rows.fetchall()
    return rids_of(found), vectors([r[1] for r in found])


def changed_since(conn: Any, cid: int, seq: int, batch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    with conn.cursor(binary=True) as cur:
        cur.execute(
            "SELECT rid, embedding FROM records WHERE collection_id = %s AND version > %s ORDER BY rid", (cid, seq)
        )
        while rows := cur.fetchmany(batch):
            yield rids_of(rows), vectors([r[1] for r in rows])
