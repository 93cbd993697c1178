"""The PostgreSQL schema (pgvector + pg_trgm), applied on start under an advisory lock.

Every table's key leads with ``collection_id``, so Citus can distribute by it.
``records.rid`` comes from one sequence (never reused): the label of a record.
``records.embedding`` is an untyped ``vector``; each collection gets its own partial
HNSW index over ``embedding::vector(dimension)`` once its dimension is known
(``hnsw_index_sql``). Metadata filter rows keep numbers as ``numeric`` (exact for
integers and floats alike) and strings as UTF-8 ``bytea`` (a NUL is a character
like any other; byte order is code-point order, as SQLite's BINARY collation).
"""

from __future__ import annotations

from typing import Any

SCHEMA_VERSION = 3
#: pg_advisory_xact_lock key held while the schema is created or migrated ("huedb" in ASCII)
MIGRATION_LOCK = 0x6875656462

SCHEMA = """
CREATE TABLE IF NOT EXISTS huedb_meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS tenants (name TEXT PRIMARY KEY, ord BIGSERIAL);
CREATE TABLE IF NOT EXISTS databases (
    did BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    tenant TEXT NOT NULL REFERENCES tenants(name),
    UNIQUE (tenant, name)
);
CREATE TABLE IF NOT EXISTS collections (
    cid BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    did BIGINT NOT NULL REFERENCES databases(did),
    metadata TEXT,
    configuration TEXT NOT NULL,
    dimension INTEGER,
    seq BIGINT NOT NULL DEFAULT 0,
    UNIQUE (did, name)
);
CREATE SEQUENCE IF NOT EXISTS records_rid_seq;
CREATE TABLE IF NOT EXISTS records (
    collection_id BIGINT NOT NULL,
    rid BIGINT NOT NULL,
    id TEXT NOT NULL,
    version BIGINT NOT NULL,
    embedding vector NOT NULL,
    document TEXT,
    uri TEXT,
    metadata TEXT,
    PRIMARY KEY (collection_id, rid),
    UNIQUE (collection_id, id)
);
CREATE INDEX IF NOT EXISTS records_rid ON records (rid);
CREATE INDEX IF NOT EXISTS records_version ON records (collection_id, version);
CREATE INDEX IF NOT EXISTS records_document_trgm ON records USING gin (document gin_trgm_ops);
CREATE TABLE IF NOT EXISTS meta (
    collection_id BIGINT NOT NULL,
    rid BIGINT NOT NULL,
    key TEXT NOT NULL,
    vtype SMALLINT NOT NULL,
    is_list BOOLEAN NOT NULL,
    num NUMERIC,
    str BYTEA
);
CREATE INDEX IF NOT EXISTS meta_num ON meta (collection_id, key, vtype, is_list, num, rid);
CREATE INDEX IF NOT EXISTS meta_str ON meta (collection_id, key, vtype, is_list, str, rid);
CREATE INDEX IF NOT EXISTS meta_rid ON meta (collection_id, rid);
CREATE TABLE IF NOT EXISTS sparse (
    collection_id BIGINT NOT NULL,
    key TEXT NOT NULL,
    term BIGINT NOT NULL,
    rid BIGINT NOT NULL,
    value DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS sparse_lookup ON sparse (collection_id, key, term, rid, value);
CREATE INDEX IF NOT EXISTS sparse_rid ON sparse (collection_id, rid);
CREATE TABLE IF NOT EXISTS sparse_docs (
    collection_id BIGINT NOT NULL,
    key TEXT NOT NULL,
    rid BIGINT NOT NULL,
    nnz INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sparse_docs_key ON sparse_docs (collection_id, key, nnz);
CREATE INDEX IF NOT EXISTS sparse_docs_rid ON sparse_docs (collection_id, rid);
CREATE TABLE IF NOT EXISTS meta_keys (
    collection_id BIGINT NOT NULL,
    key TEXT NOT NULL,
    vtype TEXT NOT NULL,
    PRIMARY KEY (collection_id, key, vtype)
);
CREATE TABLE IF NOT EXISTS deletions (collection_id BIGINT NOT NULL, seq BIGINT NOT NULL, rid BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS deletions_seq ON deletions (collection_id, seq);
CREATE TABLE IF NOT EXISTS deletions_pruned (collection_id BIGINT PRIMARY KEY, pruned_seq BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS fork_lineage (collection_id BIGINT PRIMARY KEY, root BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS fork_lineage_root ON fork_lineage (root);
"""

#: schema version 2: each collection's record count, kept by its writes (a query plans with it
#: instead of counting rows). Existing collections are counted once, when the column is added.
MIGRATIONS = """
ALTER TABLE collections ADD COLUMN IF NOT EXISTS record_count BIGINT;
UPDATE collections c SET record_count = (SELECT count(*) FROM records r WHERE r.collection_id = c.cid)
    WHERE record_count IS NULL;
ALTER TABLE collections ALTER COLUMN record_count SET DEFAULT 0, ALTER COLUMN record_count SET NOT NULL;
"""

#: schema version 3: ``meta_keys``, each (collection, metadata key, value type) the collection's
#: records have held (Chroma's discoverable schema keys, which ``collection.schema`` lists), filled
#: once for the data written before it existed, from the stored metadata JSON (its number literals
#: tell an int from a float; an array registers its elements' type; an object is a sparse vector)
KEYS_MIGRATION = """
WITH v AS (
    SELECT r.collection_id, j.key, CASE json_typeof(j.value) WHEN 'array' THEN e.value ELSE j.value END AS value
      FROM records r
     CROSS JOIN LATERAL json_each(r.metadata::json) j
      LEFT JOIN LATERAL json_array_elements(CASE json_typeof(j.value) WHEN 'array' THEN j.value END) e ON true
     WHERE r.metadata IS NOT NULL
)
INSERT INTO meta_keys(collection_id, key, vtype)
SELECT DISTINCT collection_id, key,
       CASE json_typeof(value) WHEN 'string' THEN 'string' WHEN 'boolean' THEN 'bool' WHEN 'object' THEN 'sparse_vector'
            ELSE CASE WHEN value::text ~ '[.eE]' THEN 'float' ELSE 'int' END END
  FROM v WHERE value IS NOT NULL AND json_typeof(value) IN ('string', 'boolean', 'object', 'number')
ON CONFLICT DO NOTHING
"""

#: pgvector operator class and distance operator per Chroma space
SPACE_OPS = {"l2": ("vector_l2_ops", "<->"), "cosine": ("vector_cosine_ops", "<=>"), "ip": ("vector_ip_ops", "<#>")}
#: pgvector's HNSW index takes vectors of at most this many dimensions (larger ones are searched exactly)
HNSW_MAX_DIMENSIONS = 2000


def index_name(cid: int) -> str:
    return f"records_hnsw_{int(cid)}"


#: the most maintenance_work_mem an index build asks for (the server's own setting wins when larger)
BUILD_MEMORY_MAX_KB = 1024 * 1024


def build_memory_kb(count: int, dimension: int, configuration: dict[str, Any]) -> int:
    """maintenance_work_mem (kB) that holds the HNSW graph of ``count`` vectors while it is built:
    each element's vector, its neighbour lists (2m on layer 0, m above) and pgvector's bookkeeping,
    with a quarter to spare; at most BUILD_MEMORY_MAX_KB."""
    m = min(max(int((configuration.get("hnsw") or {}).get("max_neighbors", 16)), 2), 100)
    per_element = 4 * dimension + 3 * m * 16 + 256
    return min(BUILD_MEMORY_MAX_KB, max(64 * 1024, count * per_element * 5 // 4 // 1024))


def hnsw_index_sql(cid: int, dimension: int, configuration: dict[str, Any]) -> str | None:
    """The partial HNSW index of one collection (Chroma's hnsw settings mapped onto
    pgvector's ``m`` and ``ef_construction``); None when pgvector cannot index it."""
    if dimension > HNSW_MAX_DIMENSIONS:
        return None
    hnsw = configuration.get("hnsw") or {}
    ops, _ = SPACE_OPS[hnsw.get("space", "l2")]
    m = int(hnsw.get("max_neighbors", 16))
    ef_construction = max(int(hnsw.get("ef_construction", 100)), 2 * m)  # pgvector requires ef_construction >= 2m
    m = min(max(m, 2), 100)  # pgvector's range for m
    ef_construction = min(ef_construction, 1000)
    return (
        f"CREATE INDEX IF NOT EXISTS {index_name(cid)} ON records USING hnsw "
        f"((embedding::vector({int(dimension)})) {ops}) WITH (m = {m}, ef_construction = {ef_construction}) "
        f"WHERE collection_id = {int(cid)}"
    )
