"""Forking a collection in PostgreSQL, in the caller's transaction.

The fork gets every row of its source (catalog row, records, filter rows, sparse
postings, the keys its metadata has held) under fresh rids from ``records_rid_seq``; its own partial HNSW index is built
in bulk by its first search that needs one (``PostgresBackend.ensure_index``). Search runs
in the database, so there are no index files to copy and no label offset.
The deletion log is not copied either: it only serves process-local index segments.
"""

from __future__ import annotations

import uuid
from typing import Any

from huedb.errors import NotFoundError
from huedb.storage.postgres import keys
from huedb.storage.postgres.catalog import _unique, collection_by_id
from huedb.types import CollectionModel

#: (table, its columns after collection_id and rid): the per-record tables a fork copies
_PER_RECORD = (
    ("records", "id, version, embedding, document, uri, metadata"),
    ("meta", "key, vtype, is_list, num, str"),
    ("sparse", "key, term, value"),
    ("sparse_docs", "key, nnz"),
)


def fork(conn: Any, cid: int, new_name: str) -> CollectionModel:
    src = conn.execute(
        "SELECT did, metadata, configuration, dimension, seq FROM collections WHERE cid = %s FOR UPDATE", (cid,)
    ).fetchone()
    if src is None:
        raise NotFoundError("Collection does not exist (it was deleted)")
    did, metadata, configuration, dimension, seq = src
    new_id = str(uuid.uuid4())
    _unique(
        conn,
        "INSERT INTO collections(id, name, did, metadata, configuration, dimension, seq) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (new_id, new_name, did, metadata, configuration, dimension, seq),
        f"Collection [{new_name}] already exists",
    )
    new_cid = conn.execute("SELECT cid FROM collections WHERE id = %s", (new_id,)).fetchone()[0]
    conn.execute("DROP TABLE IF EXISTS huedb_fork_rids")
    conn.execute(
        "CREATE TEMP TABLE huedb_fork_rids ON COMMIT DROP AS "
        "SELECT rid AS old, nextval('records_rid_seq') AS new FROM "
        "(SELECT rid FROM records WHERE collection_id = %s ORDER BY rid) s",
        (cid,),
    )
    for table, columns in _PER_RECORD:
        conn.execute(
            f"INSERT INTO {table}(collection_id, rid, {columns}) "  # noqa: S608 - fixed names
            f"SELECT %s, m.new, {', '.join('t.' + c.strip() for c in columns.split(','))} "
            f"FROM {table} t JOIN huedb_fork_rids m ON t.rid = m.old WHERE t.collection_id = %s",
            (new_cid, cid),
        )
    keys.copy(conn, cid, new_cid)
    conn.execute(
        "UPDATE collections SET record_count = (SELECT record_count FROM collections WHERE cid = %s) WHERE cid = %s",
        (cid, new_cid),
    )
    conn.execute("INSERT INTO fork_lineage(collection_id, root) VALUES (%s, %s)", (new_cid, _root(conn, cid)))
    return collection_by_id(conn, new_id)


def _root(conn: Any, cid: int) -> int:
    row = conn.execute("SELECT root FROM fork_lineage WHERE collection_id = %s", (cid,)).fetchone()
    return int(row[0]) if row else cid


def fork_count(conn: Any, cid: int) -> int:
    """Forks made in the collection's lineage (its source's, its own and its forks'), as Chroma counts."""
    return int(conn.execute("SELECT count(*) FROM fork_lineage WHERE root = %s", (_root(conn, cid),)).fetchone()[0])
