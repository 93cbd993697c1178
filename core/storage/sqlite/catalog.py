"""Tenants, databases and collections in SQLite."""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

from huedb.errors import NotFoundError, UniqueConstraintError
from huedb.filters import INT64_MAX
from huedb.storage.rows import collection_model
from huedb.types import CollectionModel
from huedb.validation import validate_tenant_or_database_name

_COLLECTION_COLUMNS = "c.cid, c.id, c.name, c.metadata, c.configuration, c.dimension, c.seq, d.tenant, d.name"


def _validate_name(kind: str, name: Any) -> str:
    return validate_tenant_or_database_name(kind, name)


def limit_offset(limit: int | None, offset: int | None) -> tuple[int, int]:
    """SQL LIMIT and OFFSET. SQLite integers are 64-bit: a larger limit means "all",
    a larger offset "none" (a Python int past 2**63-1 cannot even be bound)."""
    return (-1 if limit is None else min(limit, INT64_MAX)), min(offset or 0, INT64_MAX)


# -- tenants ---------------------------------------------------------------
def create_tenant(conn: sqlite3.Connection, name: str) -> None:
    _validate_name("tenant", name)
    try:
        conn.execute("INSERT INTO tenants(name) VALUES (?)", (name,))
    except sqlite3.IntegrityError:
        raise UniqueConstraintError(f"Tenant {name} already exists") from None


def tenant_exists(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM tenants WHERE name=?", (name,)).fetchone() is not None


def get_tenant(conn: sqlite3.Connection, name: str) -> dict[str, str]:
    if not tenant_exists(conn, name):
        raise NotFoundError(f"Tenant {name} not found")
    return {"name": name}


def list_tenants(conn: sqlite3.Connection) -> list[dict[str, str]]:
    return [{"name": n} for (n,) in conn.execute("SELECT name FROM tenants ORDER BY rowid")]


# -- databases -------------------------------------------------------------
def create_database(conn: sqlite3.Connection, name: str, tenant: str, db_id: str | None = None) -> None:
    _validate_name("database", name)
    if not tenant_exists(conn, tenant):
        raise NotFoundError(f"Tenant {tenant} not found; create it first with create_tenant")
    try:
        conn.execute(
            "INSERT INTO databases(id, name, tenant) VALUES (?, ?, ?)", (db_id or str(uuid.uuid4()), name, tenant)
        )
    except sqlite3.IntegrityError:
        raise UniqueConstraintError(f"Database {name} already exists for tenant {tenant}") from None


def _database_row(conn: sqlite3.Connection, name: str, tenant: str) -> sqlite3.Row:
    row = conn.execute(
        "SELECT did, id, name, tenant FROM databases WHERE tenant=? AND name=?", (tenant, name)
    ).fetchone()
    if row is None:
        if not tenant_exists(conn, tenant):
            raise NotFoundError(f"Tenant {tenant} not found")
        raise NotFoundError(f"Database {name} not found for tenant {tenant}")
    return row


def database_did(conn: sqlite3.Connection, name: str, tenant: str) -> int:
    return _database_row(conn, name, tenant)[0]


def get_database(conn: sqlite3.Connection, name: str, tenant: str) -> dict[str, str]:
    _, db_id, db_name, db_tenant = _database_row(conn, name, tenant)
    return {"id": db_id, "name": db_name, "tenant": db_tenant}


def list_databases(
    conn: sqlite3.Connection, tenant: str, limit: int | None = None, offset: int | None = None
) -> list[dict[str, str]]:
    if not tenant_exists(conn, tenant):
        raise NotFoundError(f"Tenant {tenant} not found")
    rows = conn.execute(
        "SELECT id, name, tenant FROM databases WHERE tenant=? ORDER BY did LIMIT ? OFFSET ?",
        (tenant, *limit_offset(limit, offset)),
    )
    return [{"id": i, "name": n, "tenant": t} for i, n, t in rows]


def delete_database(conn: sqlite3.Connection, name: str, tenant: str) -> list[str]:
    """Deletes a database and its collections; returns the deleted collection ids."""
    did = database_did(conn, name, tenant)
    ids = [cid_id for (cid_id,) in conn.execute("SELECT id FROM collections WHERE did=?", (did,))]
    for (cid,) in conn.execute("SELECT cid FROM collections WHERE did=?", (did,)).fetchall():
        delete_collection(conn, cid)
    conn.execute("DELETE FROM databases WHERE did=?", (did,))
    return ids


# -- collections -----------------------------------------------------------
def insert_collection(
    conn: sqlite3.Connection,
    name: str,
    metadata: dict[str, Any] | None,
    configuration: dict[str, Any],
    tenant: str,
    database: str,
) -> CollectionModel:
    did = database_did(conn, database, tenant)
    try:
        conn.execute(
            "INSERT INTO collections(id, name, did, metadata, configuration) VALUES (?, ?, ?, ?, ?)",
            (str(uuid.uuid4()), name, did, json.dumps(metadata) if metadata else None, json.dumps(configuration)),
        )
    except sqlite3.IntegrityError:
        raise UniqueConstraintError(f"Collection [{name}] already exists") from None
    return collection_by_name(conn, name, tenant, database)


def collection_by_name(conn: sqlite3.Connection, name: str, tenant: str, database: str) -> CollectionModel:
    did = database_did(conn, database, tenant)
    row = conn.execute(
        f"SELECT {_COLLECTION_COLUMNS} FROM collections c JOIN databases d ON c.did=d.did WHERE c.did=? AND c.name=?",
        (did, name),
    ).fetchone()
    if row is None:
        raise NotFoundError(f"Collection [{name}] does not exist")
    return collection_model(row)


def collection_by_id(conn: sqlite3.Connection, collection_id: str) -> CollectionModel:
    row = conn.execute(
        f"SELECT {_COLLECTION_COLUMNS} FROM collections c JOIN databases d ON c.did=d.did WHERE c.id=?",
        (str(collection_id),),
    ).fetchone()
    if row is None:
        raise NotFoundError(f"Collection [{collection_id}] does not exist")
    return collection_model(row)


def list_collections(
    conn: sqlite3.Connection, tenant: str, database: str, limit: int | None, offset: int | None
) -> list[CollectionModel]:
    did = database_did(conn, database, tenant)
    rows = conn.execute(
        f"SELECT {_COLLECTION_COLUMNS} FROM collections c JOIN databases d ON c.did=d.did "
        "WHERE c.did=? ORDER BY c.cid LIMIT ? OFFSET ?",
        (did, *limit_offset(limit, offset)),
    )
    return [collection_model(r) for r in rows]


def all_collections(conn: sqlite3.Connection, did: int | None = None) -> list[CollectionModel]:
    """Every collection, or those of one database (by internal id), in creation order."""
    where, params = ("WHERE c.did=?", (did,)) if did is not None else ("", ())
    rows = conn.execute(
        f"SELECT {_COLLECTION_COLUMNS} FROM collections c JOIN databases d ON c.did=d.did {where} ORDER BY c.cid",
        params,
    )
    return [collection_model(r) for r in rows]


def count_collections(conn: sqlite3.Connection, tenant: str, database: str) -> int:
    did = database_did(conn, database, tenant)
    return conn.execute("SELECT count(*) FROM collections WHERE did=?", (did,)).fetchone()[0]


def update_collection(
    conn: sqlite3.Connection,
    cid: int,
    name: str | None = None,
    metadata: dict[str, Any] | None = None,
    configuration: dict[str, Any] | None = None,
) -> None:
    try:
        if name is not None:
            conn.execute("UPDATE collections SET name=? WHERE cid=?", (name, cid))
    except sqlite3.IntegrityError:
        raise UniqueConstraintError(f"Collection [{name}] already exists") from None
    if metadata is not None:
        conn.execute("UPDATE collections SET metadata=? WHERE cid=?", (json.dumps(metadata) if metadata else None, cid))
    if configuration is not None:
        conn.execute("UPDATE collections SET configuration=? WHERE cid=?", (json.dumps(configuration), cid))


def collection_seq(conn: sqlite3.Connection, cid: int) -> int | None:
    """The collection's sequence number (its last write); None once it is deleted."""
    row = conn.execute("SELECT seq FROM collections WHERE cid=?", (cid,)).fetchone()
    return None if row is None else row[0]


def delete_collection(conn: sqlite3.Connection, cid: int) -> None:
    conn.execute("DELETE FROM meta WHERE collection_id=?", (cid,))
    conn.execute("DELETE FROM sparse WHERE collection_id=?", (cid,))
    conn.execute("DELETE FROM sparse_docs WHERE collection_id=?", (cid,))
    conn.execute("DELETE FROM records WHERE collection_id=?", (cid,))
    conn.execute("DELETE FROM deletions WHERE collection_id=?", (cid,))
    conn.execute("DELETE FROM deletions_pruned WHERE collection_id=?", (cid,))
    conn.execute("DELETE FROM label_offsets WHERE collection_id=?", (cid,))
    conn.execute("DELETE FROM meta_keys WHERE collection_id=?", (cid,))
    conn.execute("DELETE FROM collections WHERE cid=?", (cid,))


def ensure_defaults(conn: sqlite3.Connection, tenant: str, database: str) -> None:
    conn.execute("INSERT OR IGNORE INTO tenants(name) VALUES (?)", (tenant,))
    if conn.execute("SELECT 1 FROM databases WHERE tenant=? AND name=?", (tenant, database)).fetchone() is None:
        conn.execute(
            "INSERT INTO databases(id, name, tenant) VALUES (?, ?, ?)",
            ("00000000-0000-0000-0000-000000000000", database, tenant),
        )


def reset(conn: sqlite3.Connection) -> None:
    """Removes every tenant, database, collection, record and deletion-log entry."""
    for table in (
        "meta",
        "meta_keys",
        "sparse",
        "sparse_docs",
        "records",
        "deletions",
        "deletions_pruned",
        "collections",
        "databases",
        "tenants",
    ):
        conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names


def collection_state(conn: sqlite3.Connection, cid: int) -> tuple[int, int | None]:
    row = conn.execute("SELECT seq, dimension FROM collections WHERE cid=?", (cid,)).fetchone()
    if row is None:
        raise NotFoundError("Collection does not exist (it was deleted)")
    return row[0], row[1]


def set_collection_state(conn: sqlite3.Connection, cid: int, seq: int, dimension: int | None) -> None:
    conn.execute("UPDATE collections SET seq=?, dimension=? WHERE cid=?", (seq, dimension, cid))
