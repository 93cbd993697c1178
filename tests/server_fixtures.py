"""Pytest plugin: real huedb servers on 127.0.0.1 for the HTTP tests.

* ``huedb_server`` (session): a uvicorn server in a thread, on a free port, over a temp dir.
* ``http_client_factory``: each call returns a fresh ``huedb.HttpClient`` on a new
  tenant and database of that server, so tests are isolated without restarts.
* ``ServerThread`` / ``ServerProcess``: start more servers (own config, auth, subprocess).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_heartbeat(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering")
        try:
            if httpx.get(url + "/api/v2/heartbeat", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"no heartbeat from {url} within {timeout}s")


class ServerThread:
    """uvicorn serving ``create_app(config)`` in a background thread."""

    def __init__(self, path: str | None, **overrides: Any) -> None:
        import uvicorn

        from huedb.server.app import create_app
        from huedb.server.config import load_config

        self.port = free_port()
        overrides.setdefault("allow_reset", True)
        self.config = load_config(None, {"path": path, "host": "127.0.0.1", "port": self.port, **overrides}, environ={})
        self.app = create_app(self.config)
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_config=None, access_log=False, lifespan="on")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True, name=f"huedb-server-{self.port}")
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        self.thread.start()
        wait_for_heartbeat(self.url)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class ServerProcess:
    """``python -m huedb.server.run`` in a subprocess (for signals and the real CLI path)."""

    def __init__(
        self,
        path: str,
        args: list[str] | None = None,
        env: dict[str, str] | None = None,
        python: str | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [
            python or sys.executable,
            "-m",
            "huedb.server.run",
            "--path",
            path,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            *(args or []),
        ]
        full_env = {**os.environ, **(env or {})}
        self.log_path = Path(path).parent / f"server-{self.port}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, env=full_env, stdout=self._log, stderr=subprocess.STDOUT, cwd=str(REPO))

    def start(self) -> ServerProcess:
        try:
            wait_for_heartbeat(self.url, proc=self.proc)
        except Exception as e:
            self.stop()
            raise RuntimeError(f"server did not start; log:\n{self.log()}") from e
        return self

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@pytest.fixture(scope="session")
def huedb_server(tmp_path_factory) -> ServerThread:
    server = ServerThread(str(tmp_path_factory.mktemp("huedb-server") / "data"))
    server.start()
    yield server
    server.stop()


def client_factory_on(server: ServerThread) -> tuple[Any, list[Any]]:
    """A factory of HttpClients on ``server``, each on a fresh tenant and database, and the list it fills."""
    import huedb
    from huedb.config import Settings

    made: list[Any] = []

    def factory(**settings: Any):
        admin = huedb.AdminClient(Settings(chroma_server_host="127.0.0.1", chroma_server_http_port=server.port))
        tenant, database = f"t-{uuid.uuid4().hex[:12]}", f"db-{uuid.uuid4().hex[:12]}"
        admin.create_tenant(tenant)
        admin.create_database(database, tenant)
        admin.close()
        client = huedb.HttpClient(
            host="127.0.0.1",
            port=server.port,
            settings=Settings(allow_reset=True, **settings),
            tenant=tenant,
            database=database,
        )
        made.append(client)
        return client

    return factory, made


def close_all(clients: list[Any]) -> None:
    for c in clients:
        try:
            c.close()
        except Exception:
            pass


@pytest.fixture
def http_client_factory(huedb_server):
    """Returns a factory: each call gives an HttpClient on a fresh tenant and database."""
    factory, made = client_factory_on(huedb_server)
    yield factory
    close_all(made)
