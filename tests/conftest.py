"""Shared fixtures.

``client`` is the fixture every Collection scenario test uses. It is
parametrised over client kinds ("embedded" and "http" on SQLite, and the same two
on PostgreSQL under ``-m postgres``) so that one set of scenario tests covers every
client and storage backend.
"""

from __future__ import annotations

import functools
import os
import uuid

import pytest

# No test may reach the network or the user's real cache: the ONNX graph built from the
# model weights is cached inside the checkout (ignored by git), reused across runs.
os.environ.setdefault("HUEDB_TEST", "1")
os.environ.setdefault(
    "HUEDB_CACHE_DIR", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".huedb-test-cache")
)

# The HTTP kind runs every scenario against a real server on 127.0.0.1 (tests/server_fixtures.py).
pytest_plugins = ["server_fixtures", "postgres_fixtures"]
CLIENT_KINDS = [
    "embedded",
    "http",
    # the same scenarios on the PostgreSQL backend (tests/postgres_fixtures.py), under `-m postgres`
    pytest.param("embedded_postgres", marks=pytest.mark.postgres),
    pytest.param("http_postgres", marks=pytest.mark.postgres),
]


def _make_embedded_client(tmp_path):
    import huedb
    from huedb.config import Settings

    return huedb.PersistentClient(
        path=str(tmp_path / f"db-{uuid.uuid4().hex[:8]}"), settings=Settings(allow_reset=True)
    )


@pytest.fixture(params=CLIENT_KINDS)
def client(request, tmp_path):
    """A fresh client on an empty database, for each client kind."""
    if request.param == "embedded":
        c = _make_embedded_client(tmp_path)
    elif request.param == "embedded_postgres":
        c = request.getfixturevalue("embedded_postgres_client_factory")()
    else:
        factory = request.getfixturevalue(f"{request.param}_client_factory")
        c = factory()
    yield c
    c.close()


@pytest.fixture
def client_backend(request) -> str:
    """The storage backend behind this test's ``client``: "postgres" or "sqlite"."""
    kind = getattr(request.node, "callspec", None) and request.node.callspec.params.get("client")
    return "postgres" if str(kind).endswith("_postgres") else "sqlite"


@pytest.fixture
def fresh_registry():
    """A fresh plugin registry (with entry-point discovery), swapped in for the test."""
    from huedb.registry import Registry, set_registry

    registry = Registry()
    previous = set_registry(registry)
    yield registry
    set_registry(previous)


# -- plugins: built-ins registered explicitly, autoload off (llm's pattern) ------------------
def pytest_configure(config):
    config.addinivalue_line(
        "markers", "discovery: the test relies on entry-point discovery of installed plugins (third-party too)"
    )


@functools.lru_cache(maxsize=1)
def _builtin_plugins():
    """(name, module) of huedb's own plugins, from its distribution's entry points, and its version."""
    import importlib.metadata

    from huedb.registry import ENTRY_POINT_GROUP

    dist = importlib.metadata.distribution("huedb")
    return [(ep.name, ep.load()) for ep in dist.entry_points.select(group=ENTRY_POINT_GROUP)], dist.version


def _builtin_registry():
    """A fresh registry holding exactly huedb's own plugins, registered by hand:
    installed third-party plugins never leak into a test."""
    from huedb.registry import Registry

    registry = Registry(load_entrypoints=False)
    plugins, version = _builtin_plugins()
    for name, module in plugins:
        registry.register_plugin(module, name=name, distribution="huedb", version=version)
    return registry


@pytest.fixture(autouse=True)
def builtin_plugins_only(request):
    """Every test gets a fresh registry of the built-in plugins, unless it is marked
    ``discovery`` (it then sees whatever is installed, as users do)."""
    if request.node.get_closest_marker("discovery"):
        yield
        return
    from huedb.registry import set_registry

    previous = set_registry(_builtin_registry())
    yield
    set_registry(previous)


# -- a real `huedb run` process (the CLI tests talk to it as a remote server) -----------------
@pytest.fixture
def huedb_run_port(tmp_path):
    """The port of a `huedb run` subprocess (the console script) on 127.0.0.1 serving a fresh directory."""
    import subprocess
    import sys
    from pathlib import Path

    from server_fixtures import free_port, wait_for_heartbeat

    port = free_port()
    huedb = str(Path(sys.executable).with_name("huedb"))
    proc = subprocess.Popen(
        [huedb, "run", "--path", str(tmp_path / "served"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_heartbeat(f"http://127.0.0.1:{port}", timeout=60, proc=proc)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)
