"""Tenants, databases and collections in PostgreSQL (the SQLite catalog's semantics)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from huedb.errors import NotFoundError, UniqueConstraintError
from huedb.filters import INT64_MAX
from huedb.storage.postgres.schema import build_memory_kb, hnsw_index_sql, index_name
from huedb.storage.rows import collection_model
from huedb.types import CollectionModel
from huedb.validation import validate_tenant_or_database_name

_COLUMNS = "c.cid, c.id, c.name, c.metadata, c.configuration, c.dimension, c.seq, d.tenant, d.name"
_FROM = "FROM collections c JOIN databases d ON c.did = d.did"
DEFAULT_DATABASE_ID = "00000000-0000-0000-0000-000000000000"


def limit_offset(limit: int | None, offset: int | None) -> tuple[int | None, int]:
    """LIMIT (None: all) and OFFSET, clamped to PostgreSQL's bigint."""
    return (None if limit is None else min(limit, INT64_MAX)), min(offset or 0, INT64_MAX)


def _unique(conn: Any, sql: str, params: tuple[Any, ...], message: str) -> None:
    """Runs an INSERT/UPDATE in a savepoint; a unique violation becomes UniqueConstraintError."""
    import psycopg

    try:
        with conn.transaction():  # a savepoint: the outer transaction stays usable
            conn.execute(sql, params)
    except psycopg.errors.UniqueViolation:
        raise UniqueConstraintError(message) from None


# -- tenants and databases ----------------------------------------------------------
def create_tenant(conn: Any, name: str) -> None:
    validate_tenant_or_database_name("tenant", name)
    _unique(conn, "INSERT INTO tenants(name) VALUES (%s)", (name,), f"Tenant {name} already exists")


def tenant_exists(conn: Any, name: str) -> bool:
    return conn.execute("SELECT 1 FROM tenants WHERE name = %s", (name,)).fetchone() is not None


def get_tenant(conn: Any, name: str) -> dict[str, str]:
    if not tenant_exists(conn, name):
        raise NotFoundError(f"Tenant {name} not found")
    return {"name": name}


def list_tenants(conn: Any) -> list[dict[str, str]]:
    return [{"name": n} for (n,) in conn.execute("SELECT name FROM tenants ORDER BY ord")]


def create_database(conn: Any, name: str, tenant: str) -> None:
    validate_tenant_or_database_name("database", name)
    if not tenant_exists(conn, tenant):
        raise NotFoundError(f"Tenant {tenant} not found; create it first with create_tenant")
    _unique(
        conn,
        "INSERT INTO databases(id, name, tenant) VALUES (%s, %s, %s)",
        (str(uuid.uuid4()), name, tenant),
        f"Database {name} already exists for tenant {tenant}",
    )


def _database_row(conn: Any, name: str, tenant: str) -> tuple:
    row = conn.execute("SELECT did, id, name, tenant FROM databases WHERE tenant = %s AND name = %s", (tenant, name))
    found = row.fetchone()
    if found is None:
        if not tenant_exists(conn, tenant):
            raise NotFoundError(f"Tenant {tenant} not found")
        raise NotFoundError(f"Database {name} not found for tenant {tenant}")
    return found


def database_did(conn: Any, name: str, tenant: str) -> int:
    return _database_row(conn, name, tenant)[0]


def get_database(conn: Any, name: str, tenant: str) -> dict[str, str]:
    _, db_id, db_name, db_tenant = _database_row(conn, name, tenant)
    return {"id": db_id, "name": db_name, "tenant": db_tenant}


def list_databases(conn: Any, tenant: str, limit: int | None, offset: int | None) -> list[dict[str, str]]:
    if not tenant_exists(conn, tenant):
        raise NotFoundError(f"Tenant {tenant} not found")
    rows = conn.execute(
        "SELECT id, name, tenant FROM databases WHERE tenant = %s ORDER BY did LIMIT %s OFFSET %s",
        (tenant, *limit_offset(limit, offset)),
    )
    return [{"id": i, "name": n, "tenant": t} for i, n, t in rows]


def delete_database(conn: Any, name: str, tenant: str) -> None:
    did = database_did(conn, name, tenant)
    for (cid,) in conn.execute("SELECT cid FROM collections WHERE did = %s", (did,)).fetchall():
        delete_collection(conn, cid)
    conn.execute("DELETE FROM databases WHERE did = %s", (did,))


# -- collections ---------------------------------------------------------------------
def insert_collection(
    conn: Any, name: str, metadata: dict[str, Any] | None, configuration: dict[str, Any], tenant: str, database: str
) -> CollectionModel:
    did = database_did(conn, database, tenant)
    _unique(
        conn,
        "INSERT INTO collections(id, name, did, metadata, configuration) VALUES (%s, %s, %s, %s, %s)",
        (str(uuid.uuid4()), name, did, json.dumps(metadata) if metadata else None, json.dumps(configuration)),
        f"Collection [{name}] already exists",
    )
    return collection_by_name(conn, name, tenant, database)


def collection_by_name(conn: Any, name: str, tenant: str, database: str) -> CollectionModel:
    did = database_did(conn, database, tenant)
    row = conn.execute(f"SELECT {_COLUMNS} {_FROM} WHERE c.did = %s AND c.name = %s", (did, name)).fetchone()
    if row is None:
        raise NotFoundError(f"Collection [{name}] does not exist")
    return collection_model(row)


def collection_by_id(conn: Any, collection_id: str) -> CollectionModel:
    row = conn.execute(f"SELECT {_COLUMNS} {_FROM} WHERE c.id = %s", (str(collection_id),)).fetchone()
    if row is None:
        raise NotFoundError(f"Collection [{collection_id}] does not exist")
    return collection_model(row)


def collection_by_id_counted(conn: Any, collection_id: str) -> tuple[CollectionModel, int, str]:
    """The collection, its record count and its row's token (xmin: a new one with every write
    and catalog change), in one statement."""
    row = conn.execute(
        f"SELECT {_COLUMNS}, c.record_count, c.xmin::text {_FROM} WHERE c.id = %s", (str(collection_id),)
    ).fetchone()
    if row is None:
        raise NotFoundError(f"Collection [{collection_id}] does not exist")
    return collection_model(row[:-2]), int(row[-2]), row[-1]


def collection_tokens(conn: Any, cids: list[int]) -> dict[int, str]:
    """The current token of each collection row (a deleted collection has none)."""
    return dict(conn.execute("SELECT cid, xmin::text FROM collections WHERE cid = ANY(%s)", (cids,)).fetchall())


def collection_state_for_read(conn: Any, cid: int) -> tuple[int, str] | None:
    """(record count, configuration JSON) of a collection, in one statement."""
    return conn.execute("SELECT record_count, configuration FROM collections WHERE cid = %s", (cid,)).fetchone()


def list_collections(
    conn: Any, tenant: str, database: str, limit: int | None, offset: int | None
) -> list[CollectionModel]:
    did = database_did(conn, database, tenant)
    rows = conn.execute(
        f"SELECT {_COLUMNS} {_FROM} WHERE c.did = %s ORDER BY c.cid LIMIT %s OFFSET %s",
        (did, *limit_offset(limit, offset)),
    )
    return [collection_model(r) for r in rows]


def all_collections(conn: Any, tenant: str | None, database: str | None) -> list[CollectionModel]:
    if database is None:
        rows = conn.execute(f"SELECT {_COLUMNS} {_FROM} ORDER BY c.cid")
    else:
        did = database_did(conn, database, tenant or "")
        rows = conn.execute(f"SELECT {_COLUMNS} {_FROM} WHERE c.did = %s ORDER BY c.cid", (did,))
    return [collection_model(r) for r in rows]


def count_collections(conn: Any, tenant: str, database: str) -> int:
    did = database_did(conn, database, tenant)
    return conn.execute("SELECT count(*) FROM collections WHERE did = %s", (did,)).fetchone()[0]


def update_collection(
    conn: Any, cid: int, name: str | None, metadata: dict[str, Any] | None, configuration: dict[str, Any] | None
) -> None:
    if name is not None:
        _unique(
            conn, "UPDATE collections SET name = %s WHERE cid = %s", (name, cid), f"Collection [{name}] already exists"
        )
    if metadata is not None:
        conn.execute(
            "UPDATE collections SET metadata = %s WHERE cid = %s", (json.dumps(metadata) if metadata else None, cid)
        )
    if configuration is not None:
        conn.execute("UPDATE collections SET configuration = %s WHERE cid = %s", (json.dumps(configuration), cid))


def collection_seq(conn: Any, cid: int, lock: bool = False) -> int | None:
    row = conn.execute(f"SELECT seq FROM collections WHERE cid = %s{' FOR UPDATE' if lock else ''}", (cid,))
    found = row.fetchone()
    return None if found is None else found[0]


def delete_collection(conn: Any, cid: int) -> None:
    for table in (
        "meta",
        "meta_keys",
        "sparse",
        "sparse_docs",
        "records",
        "deletions",
        "deletions_pruned",
        "fork_lineage",
    ):
        conn.execute(f"DELETE FROM {table} WHERE collection_id = %s", (cid,))  # noqa: S608 - fixed names
    conn.execute(f"DROP INDEX IF EXISTS {index_name(cid)}")
    conn.execute("DELETE FROM collections WHERE cid = %s", (cid,))


def ensure_defaults(conn: Any, tenant: str, database: str) -> None:
    conn.execute("INSERT INTO tenants(name) VALUES (%s) ON CONFLICT DO NOTHING", (tenant,))
    conn.execute(
        "INSERT INTO databases(id, name, tenant) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
        (DEFAULT_DATABASE_ID, database, tenant),
    )


def reset(conn: Any) -> None:
    for (cid,) in conn.execute("SELECT cid FROM collections").fetchall():
        conn.execute(f"DROP INDEX IF EXISTS {index_name(cid)}")
    conn.execute(
        "TRUNCATE meta, meta_keys, sparse, sparse_docs, records, deletions, deletions_pruned, fork_lineage, "
        "collections, databases, tenants"
    )


def collection_state(conn: Any, cid: int) -> tuple[int, int | None]:
    """(seq, dimension), locking the collection's row: writers of one collection serialise here."""
    row = conn.execute("SELECT seq, dimension FROM collections WHERE cid = %s FOR UPDATE", (cid,)).fetchone()
    if row is None:
        raise NotFoundError("Collection does not exist (it was deleted)")
    return row[0], row[1]


def set_collection_state(
    conn: Any, cid: int, seq: int, dimension: int | None
) -> tuple[CollectionModel, int, str] | None:
    """Sets (seq, dimension), the last change a write makes to the row: returns the row as it
    commits (model, record count, token), for the process's cache."""
    row = conn.execute(
        f"UPDATE collections c SET seq = %s, dimension = %s FROM databases d WHERE c.cid = %s AND d.did = c.did "
        f"RETURNING {_COLUMNS}, c.record_count, c.xmin::text",
        (seq, dimension, cid),
    ).fetchone()
    return None if row is None else (collection_model(row[:-2]), int(row[-2]), row[-1])


def build_index(conn: Any, cid: int) -> bool:
    """Builds the collection's HNSW index in bulk, in its own transaction on ``conn`` (autocommit):
    the collection's row lock keeps its writers out, CREATE INDEX's SHARE lock holds other writes
    (reads go on). False when the collection is gone, has no vectors or pgvector cannot index it."""
    if conn.execute("SELECT to_regclass(%s) IS NOT NULL", (index_name(cid),)).fetchone()[0]:
        return True  # built already (by another process): no lock taken
    with conn.transaction():
        row = conn.execute(
            "SELECT dimension, configuration, record_count FROM collections WHERE cid = %s FOR UPDATE", (cid,)
        ).fetchone()
        if row is None or row[0] is None:
            return False
        configuration = json.loads(row[1])
        sql = hnsw_index_sql(cid, row[0], configuration)
        if sql is None:
            return False
        # A graph that outgrows maintenance_work_mem is built on disk, about 2x slower (PostgreSQL's
        # default is 64 MB: ~35,000 vectors of 384 dimensions); never lower than the server's setting.
        conn.execute(
            "SELECT set_config('maintenance_work_mem', "
            "greatest(pg_size_bytes(current_setting('maintenance_work_mem')) / 1024, %s)::text || 'kB', true)",
            (build_memory_kb(int(row[2]), row[0], configuration),),
        )
        conn.execute(sql)  # IF NOT EXISTS: another process may have built it first
        return True
