"""The SQLite schema: the system of record.

``records.rid`` is the label used by index segments (AUTOINCREMENT: never
reused, so a re-added id gets a fresh label). ``records.version`` is the
collection sequence number of the last write to the row; ``deletions`` keeps
only labels (no text, no vectors) so a stale index can be caught up;
``deletions_pruned`` says how far back that log reaches. ``sparse`` holds the
postings of the sparse vectors in metadata (see ``sparse.py``), ``sparse_docs`` one
row per record and key holding one.

Versions: 4 added ``meta_keys``: each (collection, metadata key, value type) the collection's
records have held, which ``collection.schema`` lists (filled for existing data by ``migrate``).
3 moved the vectors out of ``records`` into ``vectors`` (``migrate`` below): a
record row without its 1.5 KB vector is ~100 bytes, so a filter that returns thousands of
ids or documents reads a few pages instead of one page per record. 2 added ``sparse``,
``sparse_docs``, ``label_offsets`` (a fork's rid - index label) and ``fork_lineage``.
Every statement is ``IF NOT EXISTS``, so opening an older file adds what it lacks (a version-1 file holds no
sparse vectors: they were refused), and the stored version is raised.
"""

SCHEMA_VERSION = 4

SCHEMA = """
CREATE TABLE IF NOT EXISTS huedb_meta (key TEXT PRIMARY KEY, value TEXT);

CREATE TABLE IF NOT EXISTS tenants (
    name TEXT PRIMARY KEY
);

CREATE TABLE IF NOT EXISTS databases (
    did INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    tenant TEXT NOT NULL REFERENCES tenants(name),
    UNIQUE (tenant, name)
);

CREATE TABLE IF NOT EXISTS collections (
    cid INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    did INTEGER NOT NULL REFERENCES databases(did),
    metadata TEXT,
    configuration TEXT NOT NULL,
    dimension INTEGER,
    seq INTEGER NOT NULL DEFAULT 0,
    UNIQUE (did, name)
);

CREATE TABLE IF NOT EXISTS records (
    rid INTEGER PRIMARY KEY AUTOINCREMENT,
    collection_id INTEGER NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    document TEXT,
    uri TEXT,
    metadata TEXT,
    UNIQUE (collection_id, id)
);
CREATE INDEX IF NOT EXISTS records_version ON records (collection_id, version);

-- One row per record (same rid); a record's delete takes its vector with it.
CREATE TABLE IF NOT EXISTS vectors (
    rid INTEGER PRIMARY KEY,
    embedding BLOB NOT NULL
);
CREATE TRIGGER IF NOT EXISTS records_vectors_delete AFTER DELETE ON records BEGIN
    DELETE FROM vectors WHERE rid = old.rid;
END;

CREATE TABLE IF NOT EXISTS meta (
    collection_id INTEGER NOT NULL,
    rid INTEGER NOT NULL,
    key TEXT NOT NULL,
    vtype INTEGER NOT NULL,
    is_list INTEGER NOT NULL,
    value
);
CREATE INDEX IF NOT EXISTS meta_lookup ON meta (collection_id, key, vtype, is_list, value, rid);
CREATE INDEX IF NOT EXISTS meta_rid ON meta (rid);

-- Every (key, value type) the collection's metadata has held, kept after its records go
-- (Chroma's discoverable schema keys). vtype is Chroma's name: string, int, float, bool, sparse_vector.
CREATE TABLE IF NOT EXISTS meta_keys (
    collection_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    vtype TEXT NOT NULL,
    PRIMARY KEY (collection_id, key, vtype)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS deletions (
    collection_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    rid INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS deletions_seq ON deletions (collection_id, seq);
-- The log holds no deletions at or below pruned_seq: an index older than that cannot be caught up.
CREATE TABLE IF NOT EXISTS deletions_pruned (
    collection_id INTEGER PRIMARY KEY,
    pruned_seq INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS sparse (
    collection_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    term INTEGER NOT NULL,
    rid INTEGER NOT NULL,
    value REAL NOT NULL
);
-- Covering: a query term's postings are read from the index alone.
CREATE INDEX IF NOT EXISTS sparse_lookup ON sparse (collection_id, key, term, rid, value);
CREATE INDEX IF NOT EXISTS sparse_rid ON sparse (rid);
CREATE TABLE IF NOT EXISTS sparse_docs (
    collection_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    rid INTEGER NOT NULL,
    nnz INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sparse_docs_key ON sparse_docs (collection_id, key, nnz);
CREATE INDEX IF NOT EXISTS sparse_docs_rid ON sparse_docs (rid);

CREATE TABLE IF NOT EXISTS label_offsets (
    collection_id INTEGER PRIMARY KEY,
    label_offset INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS fork_lineage (
    collection_id INTEGER PRIMARY KEY,
    root INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS fork_lineage_root ON fork_lineage (root);

CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    document, content='records', content_rowid='rid', tokenize='trigram case_sensitive 1'
);

-- New documents are indexed by records.insert in one statement per batch: a per-row
-- trigger into FTS5 costs about five times as much.
DROP TRIGGER IF EXISTS records_fts_insert;
CREATE TRIGGER IF NOT EXISTS records_fts_delete AFTER DELETE ON records
WHEN old.document IS NOT NULL BEGIN
    INSERT INTO docs_fts(docs_fts, rowid, document) VALUES ('delete', old.rid, old.document);
END;
CREATE TRIGGER IF NOT EXISTS records_fts_update AFTER UPDATE OF document ON records BEGIN
    INSERT INTO docs_fts(docs_fts, rowid, document)
        SELECT 'delete', old.rid, old.document WHERE old.document IS NOT NULL;
    INSERT INTO docs_fts(rowid, document)
        SELECT new.rid, new.document WHERE new.document IS NOT NULL;
END;
"""


def migrate(conn) -> None:  # noqa: ANN001 - a sqlite3.Connection inside BEGIN IMMEDIATE
    """Brings a file of an older schema version up to this one (after SCHEMA ran). Idempotent:
    a second process that opens the file at the same time finds nothing left to do."""
    has_embedding = conn.execute("SELECT 1 FROM pragma_table_info('records') WHERE name='embedding'").fetchone()
    if has_embedding:  # version 2 or older: vectors lived in records.embedding
        conn.execute("INSERT OR IGNORE INTO vectors(rid, embedding) SELECT rid, embedding FROM records")
        conn.execute("ALTER TABLE records DROP COLUMN embedding")
    row = conn.execute("SELECT CAST(value AS INTEGER) FROM huedb_meta WHERE key='schema_version'").fetchone()
    if row is None or row[0] < 4:  # the keys of the data written before meta_keys existed
        conn.execute(_KEYS_FROM_DATA)


#: meta_keys from the filter rows (vtype 0 holds numbers: SQLite keeps integer or real) and
#: the sparse postings; NUL-document marks (vtype 3) are no metadata
_KEYS_FROM_DATA = """
INSERT OR IGNORE INTO meta_keys(collection_id, key, vtype)
SELECT DISTINCT collection_id, key,
       CASE vtype WHEN 1 THEN 'string' WHEN 2 THEN 'bool'
                  ELSE CASE typeof(value) WHEN 'integer' THEN 'int' ELSE 'float' END END
  FROM meta WHERE vtype IN (0, 1, 2)
UNION
SELECT DISTINCT collection_id, key, 'sparse_vector' FROM sparse_docs
"""
