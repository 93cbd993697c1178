"""Records read as columns: ids, documents, metadata and URIs of a rid list, aggregated
inside SQLite into one text per column and statement.

A get returning 14,286 records with metadata at 1M spent about a third of its time making
a Python tuple, a str and a row step per record; aggregated, each column is one text
(``json_group_array`` for ids, documents and URIs, the stored metadata JSON joined into
one array) and one ``json.loads``. The rid list says which rows came back and in which
order, so nothing rests on the order SQLite aggregates in. Embeddings, and aggregates
longer than SQLite's text limit, take the row path (``None`` from here).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from itertools import chain
from typing import Any

import numpy as np

from huedb.sparse import loads_metadata_list
from huedb.storage.protocol import Records
from huedb.storage.rows import records_from_rows as rows_records
from huedb.storage.sqlite.selection import ids_param
from huedb.storage.sqlite.vectors import embeddings_from_blobs

#: rids per statement: bounds each aggregated text (SQLite refuses texts over 1e9 bytes)
COLUMN_ROWS = 16_384

_AGGREGATES = {
    "documents": "json_group_array(r.document)",
    "uris": "json_group_array(r.uri)",
    # stored metadata is JSON this backend wrote: joined, it is a JSON array of objects or null
    "metadatas": "'[' || group_concat(coalesce(r.metadata, 'null')) || ']'",
}


def records_from_rows(rows: Sequence[tuple], fields: Sequence[str]) -> Records:
    """Columnar, decoded records from (rid, id, *fields) rows."""
    return rows_records(rows, fields, lambda blobs: embeddings_from_blobs(blobs, None))


def records_by_rid_list(
    conn: sqlite3.Connection,
    cid: int,
    rids: np.ndarray,
    fields: Sequence[str],
    predicate: str | None = None,
    predicate_params: Sequence[Any] = (),
) -> Records | None:
    """The records of sorted unique ``rids`` (those in collection ``cid`` and matching
    ``predicate`` over alias ``r``), in rid order; None when a field cannot be
    aggregated (embeddings) or an aggregate is too long: read rows instead."""
    if "embeddings" in fields:
        return None
    columns = ["group_concat(r.rid)", "json_group_array(r.id)", *(_AGGREGATES[f] for f in fields)]
    names = ["ids", *fields]
    where = "+r.collection_id = ?" + (f" AND {predicate}" if predicate else "")
    # json_each drives the join: one rowid lookup per rid, in the list's order, with no
    # temporary index of the list (which ``rid IN (SELECT ...)`` builds first).
    sql = f"SELECT {', '.join(columns)} FROM json_each(?) j CROSS JOIN records r ON r.rid = j.value WHERE {where}"
    parts: list[list[Any]] = []
    found: list[np.ndarray] = []
    for start in range(0, len(rids), COLUMN_ROWS):
        chunk = rids[start : start + COLUMN_ROWS]
        try:
            row = conn.execute(sql, (ids_param(chunk.tolist()), cid, *predicate_params)).fetchone()
        except (sqlite3.DataError, sqlite3.OperationalError) as e:  # "string or blob too big"
            if "too big" in str(e):
                return None
            raise
        if row[0] is None:
            continue
        found.append(np.fromstring(row[0], dtype=np.int64, sep=","))
        parts.append([loads_metadata_list(t) if f == "metadatas" else json.loads(t) for f, t in zip(names, row[1:])])
    if not found:
        return records_from_rows([], fields)
    rid_col = np.concatenate(found)
    cols = [list(chain.from_iterable(p[i] for p in parts)) for i in range(len(fields) + 1)]
    if len(rid_col) > 1 and not (rid_col[1:] > rid_col[:-1]).all():
        order = np.argsort(rid_col, kind="stable")
        rid_col = rid_col[order]
        cols = [[c[i] for i in order.tolist()] for c in cols]
    named = dict(zip(fields, cols[1:]))
    return Records(
        rids=rid_col,
        ids=cols[0],
        documents=named.get("documents"),
        metadatas=named.get("metadatas"),
        uris=named.get("uris"),
    )
