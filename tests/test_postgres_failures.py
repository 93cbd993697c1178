"""The PostgreSQL backend when PostgreSQL fails: an unreachable URL, a database without
pgvector, and a connection dropped in the middle of a request."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import traceback
import uuid
from typing import Any

import numpy as np
import pytest

from server_fixtures import REPO, ServerThread, free_port

pytestmark = pytest.mark.postgres

SECRET = "Sup3r-Secret-Pw"


def _run_server(url: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "huedb.server.run", "--postgres-url", url, "--host", "127.0.0.1"]
    return subprocess.run(
        [*cmd, "--port", str(free_port())], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )


def test_an_unreachable_url_fails_at_start_naming_host_and_port_never_the_password() -> None:
    import huedb
    from huedb.config import Settings
    from huedb.errors import InternalError

    port = free_port()  # nothing listens there
    url = f"postgresql://huedb:{SECRET}@127.0.0.1:{port}/huedb"
    run = _run_server(url)
    assert run.returncode != 0
    assert f"127.0.0.1:{port}/huedb" in run.stderr and "Cannot connect to PostgreSQL" in run.stderr
    assert SECRET not in run.stderr + run.stdout
    with pytest.raises(InternalError, match=f"127.0.0.1:{port}") as info:
        huedb.Client(Settings(storage_backend="postgres", postgres_url=url))
    assert SECRET not in "".join(traceback.format_exception(info.value))  # nor in what a traceback prints
    assert SECRET not in repr(Settings(storage_backend="postgres", postgres_url=url))


@pytest.fixture
def database_without_pgvector(postgres_url: str) -> Any:
    """A database owned by a role that may not create pgvector (not a trusted extension),
    as on a managed server where nobody has installed it."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    suffix = uuid.uuid4().hex[:10]
    role, name = f"limited_{suffix}", f"novector_{suffix}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER')
        admin.execute(f'CREATE DATABASE "{name}" OWNER "{role}"')
    yield make_conninfo(**{**conninfo_to_dict(postgres_url), "dbname": name, "user": role})
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_a_database_without_pgvector_says_how_to_install_it(database_without_pgvector: str) -> None:
    import psycopg

    import huedb
    from huedb.config import Settings
    from huedb.errors import InternalError

    with pytest.raises(InternalError) as info:
        huedb.Client(Settings(storage_backend="postgres", postgres_url=database_without_pgvector))
    message = str(info.value)
    assert "lacks the 'vector' extension" in message
    assert "install pgvector" in message and "CREATE EXTENSION vector" in message
    run = _run_server(database_without_pgvector)
    assert run.returncode != 0 and "CREATE EXTENSION vector" in run.stderr
    with psycopg.connect(database_without_pgvector) as conn:  # nothing half-made: no huedb table exists
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'records'").fetchone()[0] == 0


# -- a connection dropped mid-request ----------------------------------------------------------
def _blocked_backend(admin: Any, database: str) -> int:
    """The pid of the backend of ``database`` waiting on a lock (polled: it gets there soon)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'", (database,)
        ).fetchone()
        if row:
            return int(row[0])
        time.sleep(0.05)
    raise AssertionError("the write never reached the blocking row")


@pytest.fixture(params=["embedded", "http"])
def pg_collection_client(request, postgres_database: str) -> Any:
    import huedb
    from huedb.config import Settings

    if request.param == "embedded":
        client = huedb.Client(Settings(storage_backend="postgres", postgres_url=postgres_database))
        yield client
        client.close()
        return
    server = ServerThread(None, storage_backend="postgres", postgres_url=postgres_database).start()
    client = huedb.HttpClient(host="127.0.0.1", port=server.port)
    yield client
    client.close()
    server.stop()


def test_a_connection_dropped_mid_write_is_a_typed_error_and_applies_nothing(
    pg_collection_client: Any, postgres_database: str, postgres_url: str
) -> None:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    from huedb.errors import InternalError

    database = conninfo_to_dict(postgres_database)["dbname"]
    col = pg_collection_client.create_collection("dropped", embedding_function=None)
    col.add(ids=["seed"], embeddings=[[0.0, 0.0]], metadatas=[{"i": -1}])
    n = 300
    batch = {
        "ids": [f"x{i}" for i in range(n)],
        "embeddings": np.random.default_rng(1).normal(size=(n, 2)).astype(np.float32).tolist(),
        "metadatas": [{"i": i} for i in range(n)],
        "documents": [f"doc {i}" for i in range(n)],
    }
    errors: list[BaseException] = []

    def write() -> None:
        try:
            col.add(**batch)
        except BaseException as e:  # noqa: BLE001 - checked by the test
            errors.append(e)

    with psycopg.connect(postgres_database) as blocker, psycopg.connect(postgres_url, autocommit=True) as admin:
        # An uncommitted row with one of the batch's ids: the add's COPY waits on it, mid-batch.
        blocker.execute(
            "INSERT INTO records(collection_id, rid, id, version, embedding) "
            "SELECT cid, nextval('records_rid_seq'), 'x150', 0, '[1,1]' FROM collections WHERE name = 'dropped'"
        )
        writer = threading.Thread(target=write)
        writer.start()
        pid = _blocked_backend(admin, database)
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        writer.join(timeout=120)
        blocker.rollback()
    assert len(errors) == 1 and isinstance(errors[0], InternalError), errors
    assert "Lost the connection to PostgreSQL" in str(errors[0]) and "rolled back" in str(errors[0])
    # no partial batch: not one record, metadata row or document of it
    assert col.count() == 1
    assert col.get(where={"i": {"$gte": 0}})["ids"] == []
    assert col.get(where_document={"$contains": "doc"})["ids"] == []

    # PostgreSQL also drops every idle connection (as a restart does): the next requests still work
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        )
    col.add(**batch)
    assert col.count() == n + 1
    assert col.get(ids=["x150"], include=["metadatas"])["metadatas"] == [{"i": 150}]
