"""pytest plugin: run chromadb 1.5.9's own tests (from its installed wheel) against huedb.

It does what a user does when moving code from chromadb to huedb, and nothing more:
the client constructors (``chromadb.Client``, ``EphemeralClient``, ``PersistentClient``,
``HttpClient``, ``AdminClient``...), the error classes a caller catches and the EF
registration decorator become huedb's, and the client fixtures of chromadb's test
conftest (``system``, ``client``, ``http_client``, ``client_factories``, ``api``) hand
out huedb clients: embedded ephemeral, embedded persistent, and HTTP against a
``huedb run`` subprocess. Chroma's test code, strategies and invariants run unchanged.

Loaded with ``-p huedb_chroma_adapter`` (tests_chroma/run.py), before pytest imports
chromadb's conftest: the fixtures are replaced on the conftest module itself, because a
conftest's fixtures would otherwise win over a plugin's.
"""

from __future__ import annotations

import atexit
import importlib
import os
import pkgutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import chromadb
import chromadb.api
import chromadb.api.client
import httpx
import pytest

import huedb
import huedb.errors
from huedb.config import DEFAULT_DATABASE, DEFAULT_TENANT, Settings

# -- what a user's rename swaps ---------------------------------------------------------

#: the chromadb modules user code imports names from; each name huedb's same-named module
#: defines replaces chromadb's, as `chromadb` -> `huedb` in the user's imports would
RENAMED_MODULES = [
    "",
    ".api",
    ".api.types",
    ".api.models.Collection",
    ".config",
    ".errors",
    ".execution.expression",
    ".execution.expression.operator",
    ".execution.expression.plan",
    ".utils.embedding_functions",
    ".utils.batch_utils",
    ".utils.data_loaders",
]


def _is_huedb_object(value: Any) -> bool:
    return (isinstance(value, type) or callable(value)) and str(getattr(value, "__module__", "")).startswith("huedb")


def rename_chromadb_to_huedb() -> list[str]:
    """Points chromadb's public names at huedb's; returns the names replaced."""
    replaced = []
    # chromadb's own modules (and its test conftest) are imported before any name changes,
    # so chromadb's internals keep chromadb's classes
    chroma_mods = {suffix: importlib.import_module("chromadb" + suffix) for suffix in RENAMED_MODULES}
    for info in pkgutil.walk_packages(chromadb.__path__, "chromadb."):
        if not info.name.startswith(("chromadb.test.", "chromadb.cli")):
            try:
                importlib.import_module(info.name)
            except Exception:  # noqa: BLE001, S112 - optional parts (cloud SDKs, CUDA...) stay unimported
                continue
    importlib.import_module("chromadb.test.conftest")
    for suffix, chroma_mod in chroma_mods.items():
        huedb_mod = importlib.import_module("huedb" + suffix)
        for name in dir(huedb_mod):
            if name.startswith("_") or not hasattr(chroma_mod, name):
                continue
            value = getattr(huedb_mod, name)
            if _is_huedb_object(value):
                setattr(chroma_mod, name, value)
                replaced.append(f"chromadb{suffix}.{name}")
    # constructors huedb provides lazily (module __getattr__)
    for name in ("HttpClient", "AsyncHttpClient", "CloudClient"):
        setattr(chromadb, name, getattr(huedb, name))
    chromadb.api.client.Client = huedb.api.client.Client  # type: ignore[misc]
    chromadb.api.client.AdminClient = huedb.api.client.AdminClient  # type: ignore[misc]
    return replaced


RENAMED = rename_chromadb_to_huedb()

# -- the server ---------------------------------------------------------------------------

_SERVER: dict[str, Any] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def huedb_server() -> tuple[str, int]:
    """One `huedb run` (allow_reset) for the session, started on first use."""
    if "port" in _SERVER:
        return "127.0.0.1", _SERVER["port"]
    workdir = Path(tempfile.mkdtemp(prefix="huedb-chroma-tests-"))
    config = workdir / "config.yaml"
    config.write_text("allow_reset: true\n")
    port = _free_port()
    python = os.environ.get("HUEDB_SERVER_PYTHON", sys.executable)
    log = open(workdir / "server.log", "wb")  # noqa: SIM115 - open for the server's lifetime
    proc = subprocess.Popen(
        [python, "-m", "huedb.cli", "run", "--path", str(workdir / "data"), "--host", "127.0.0.1"]
        + ["--port", str(port), "--config", str(config), "--log-level", "warning"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            break
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"huedb run did not start; see {workdir / 'server.log'}") from None
            time.sleep(0.2)
    _SERVER.update(port=port, proc=proc, log=log)
    return "127.0.0.1", port


def _stop_server() -> None:
    proc = _SERVER.pop("proc", None)
    if proc is not None:
        proc.terminate()
        proc.wait(timeout=30)
        _SERVER["log"].close()


atexit.register(_stop_server)  # also when the run is interrupted


def pytest_unconfigure(config: pytest.Config) -> None:
    _stop_server()


# -- systems: what chromadb's `system` fixture gives a test, for huedb --------------------

KINDS = ["huedb_ephemeral", "huedb_persistent", "huedb_http"]


class HuedbSystem:
    """The part of chromadb's System the client fixtures and tests use: settings, reset_state."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if kind == "huedb_ephemeral":
            self.settings = Settings(is_persistent=False, allow_reset=True)
        elif kind == "huedb_persistent":
            self._tmp = tempfile.TemporaryDirectory(prefix="huedb-chroma-tests-")
            self.settings = Settings(is_persistent=True, persist_directory=self._tmp.name, allow_reset=True)
        else:
            host, port = huedb_server()
            self.settings = Settings(
                chroma_api_impl="chromadb.api.fastapi.FastAPI",
                chroma_server_host=host,
                chroma_server_http_port=port,
                allow_reset=True,
            )

    def reset_state(self) -> None:
        huedb.Client(self.settings).reset()

    def instance(self, _type: Any) -> Any:
        """chromadb's ``system.instance(ServerAPI)``: huedb's ServerAPI for these settings."""
        return huedb.Client(self.settings)._server

    def stop(self) -> None:
        huedb.api.client.Client.clear_system_cache()
        if self._tmp is not None:
            self._tmp.cleanup()


def _system(kind: str) -> Iterator[HuedbSystem]:
    system = HuedbSystem(kind)
    system.reset_state()
    yield system
    system.stop()


@pytest.fixture(scope="function", params=KINDS)
def system(request: pytest.FixtureRequest) -> Iterator[HuedbSystem]:
    yield from _system(request.param)


@pytest.fixture(scope="function", params=["huedb_http"])
def system_http_server(request: pytest.FixtureRequest) -> Iterator[HuedbSystem]:
    yield from _system(request.param)


@pytest.fixture(scope="function", params=["huedb_persistent"])
def sqlite_persistent(request: pytest.FixtureRequest) -> Iterator[HuedbSystem]:
    yield from _system(request.param)


@pytest.fixture(scope="function", params=["huedb_ephemeral"])
def sqlite(request: pytest.FixtureRequest) -> Iterator[HuedbSystem]:
    yield from _system(request.param)


@pytest.fixture(scope="function")
def client(system: HuedbSystem, database_name: str) -> Generator[Any, None, None]:
    c = huedb.Client(system.settings, database=database_name)
    yield c
    c.clear_system_cache()


@pytest.fixture(scope="function")
def http_client(system_http_server: HuedbSystem, database_name: str) -> Generator[Any, None, None]:
    c = huedb.Client(system_http_server.settings, database=database_name)
    yield c
    c.clear_system_cache()


@pytest.fixture(scope="function")
def api(system: HuedbSystem) -> Any:
    """chromadb's ``api`` fixture is its ServerAPI; huedb's has the same methods and arguments."""
    return system.instance(None)


class HuedbClientFactories:
    """chromadb's ClientFactories, building huedb clients from the system's settings."""

    def __init__(self, system: HuedbSystem) -> None:
        self._system = system

    def create_client(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("settings") is None:
            kwargs["settings"] = self._system.settings
        return huedb.Client(*args, **kwargs)

    def create_client_from_system(self) -> Any:
        return huedb.Client(self._system.settings, DEFAULT_TENANT, DEFAULT_DATABASE)

    def create_admin_client(self, *args: Any, **kwargs: Any) -> Any:
        return huedb.AdminClient(*args, **kwargs)

    def create_admin_client_from_system(self) -> Any:
        return huedb.AdminClient(self._system.settings)


@pytest.fixture(scope="function")
def client_factories(system: HuedbSystem) -> Iterator[HuedbClientFactories]:
    yield HuedbClientFactories(system)
    huedb.api.client.Client.clear_system_cache()


def _install_fixtures() -> None:
    import chromadb.test.conftest as chroma_conftest

    for fixture in (system, system_http_server, sqlite_persistent, sqlite, client, http_client, api, client_factories):
        name = fixture.name if hasattr(fixture, "name") else fixture.__name__  # type: ignore[attr-defined]
        setattr(chroma_conftest, name, fixture)
    chroma_conftest.ClientFactories = HuedbClientFactories  # type: ignore[misc,assignment]
    # its helpers (create_database, create_isolated_database) build clients by these names
    chroma_conftest.AdminClient = huedb.api.client.AdminClient  # type: ignore[misc,assignment]
    chroma_conftest.ClientCreator = huedb.api.client.Client  # type: ignore[misc,assignment]


_install_fixtures()
