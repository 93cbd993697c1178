"""Forking a collection in SQLite: one statement per table, in the caller's transaction.

The fork gets every row of its source (catalog row, records, filter rows, full-text
rows, sparse postings, deletion log, the keys its metadata has held) under fresh rids ``rid + delta``, a block past
every rid in use. Its index files are copies of the source's, whose labels are the
source's: ``label_offsets`` records ``rid - label`` for the fork.
"""

from __future__ import annotations

import sqlite3
import uuid

from huedb.errors import NotFoundError, UniqueConstraintError
from huedb.storage.sqlite import keys
from huedb.storage.sqlite.catalog import collection_by_id
from huedb.types import CollectionModel


def label_offset(conn: sqlite3.Connection, cid: int) -> int:
    row = conn.execute("SELECT label_offset FROM label_offsets WHERE collection_id=?", (cid,)).fetchone()
    return row[0] if row else 0


def fork(conn: sqlite3.Connection, cid: int, new_name: str) -> CollectionModel:
    src = conn.execute(
        "SELECT did, metadata, configuration, dimension, seq FROM collections WHERE cid=?", (cid,)
    ).fetchone()
    if src is None:
        raise NotFoundError("Collection does not exist (it was deleted)")
    did, metadata, configuration, dimension, seq = src
    new_id = str(uuid.uuid4())
    try:
        cur = conn.execute(
            "INSERT INTO collections(id, name, did, metadata, configuration, dimension, seq) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (new_id, new_name, did, metadata, configuration, dimension, seq),
        )
    except sqlite3.IntegrityError:
        raise UniqueConstraintError(f"Collection [{new_name}] already exists") from None
    new_cid = cur.lastrowid
    assert new_cid is not None  # the INSERT above succeeded
    first, lowest = conn.execute(
        "SELECT (SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name='records') + 1, "
        "(SELECT min(rid) FROM records WHERE collection_id=?)",
        (cid,),
    ).fetchone()
    delta = first - lowest if lowest is not None else 0
    conn.execute(
        "INSERT INTO records(rid, collection_id, id, version, document, uri, metadata) "
        "SELECT rid + ?, ?, id, version, document, uri, metadata FROM records "
        "WHERE collection_id=? ORDER BY rid",
        (delta, new_cid, cid),
    )
    conn.execute(
        "INSERT INTO vectors(rid, embedding) SELECT rid + ?, embedding FROM vectors "
        "WHERE rid IN (SELECT rid FROM records WHERE collection_id=?) ORDER BY rid",
        (delta, cid),
    )
    conn.execute(
        "INSERT INTO docs_fts(rowid, document) SELECT rid, document FROM records "
        "WHERE collection_id=? AND document IS NOT NULL",
        (new_cid,),
    )
    conn.execute(
        "INSERT INTO meta(collection_id, rid, key, vtype, is_list, value) "
        "SELECT ?, rid + ?, key, vtype, is_list, value FROM meta WHERE collection_id=?",
        (new_cid, delta, cid),
    )
    conn.execute(
        "INSERT INTO sparse(collection_id, key, term, rid, value) "
        "SELECT ?, key, term, rid + ?, value FROM sparse WHERE collection_id=?",
        (new_cid, delta, cid),
    )
    conn.execute(
        "INSERT INTO sparse_docs(collection_id, key, rid, nnz) SELECT ?, key, rid + ?, nnz FROM sparse_docs "
        "WHERE collection_id=?",
        (new_cid, delta, cid),
    )
    conn.execute(
        "INSERT INTO deletions(collection_id, seq, rid) SELECT ?, seq, rid + ? FROM deletions WHERE collection_id=?",
        (new_cid, delta, cid),
    )
    conn.execute(
        "INSERT INTO deletions_pruned(collection_id, pruned_seq) SELECT ?, pruned_seq FROM deletions_pruned "
        "WHERE collection_id=?",
        (new_cid, cid),
    )
    keys.copy(conn, cid, new_cid)
    offset = label_offset(conn, cid) + delta
    if offset:
        conn.execute("INSERT INTO label_offsets(collection_id, label_offset) VALUES (?, ?)", (new_cid, offset))
    conn.execute("INSERT INTO fork_lineage(collection_id, root) VALUES (?, ?)", (new_cid, _root(conn, cid)))
    return collection_by_id(conn, new_id)


def _root(conn: sqlite3.Connection, cid: int) -> int:
    row = conn.execute("SELECT root FROM fork_lineage WHERE collection_id=?", (cid,)).fetchone()
    return row[0] if row else cid


def fork_count(conn: sqlite3.Connection, cid: int) -> int:
    """Forks made in the collection's lineage (its source's, its own and its forks'), as Chroma counts."""
    return conn.execute("SELECT count(*) FROM fork_lineage WHERE root=?", (_root(conn, cid),)).fetchone()[0]
