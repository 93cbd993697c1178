"""Fake provider HTTP servers for testing the real SDKs offline.

Each fake is a ``ThreadingHTTPServer`` on 127.0.0.1 (port 0) that speaks the
provider's wire format, returns deterministic embeddings (``fake_embedding``),
records every request, and can be scripted to fail (``fail_next``).
"""

from __future__ import annotations

import abc
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np


def fake_embedding(text: str, dim: int) -> np.ndarray:
    """A deterministic unit float32 vector for ``text`` (same text -> same vector)."""
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
    vec = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return vec / np.linalg.norm(vec)


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class _Failure:
    status: int
    remaining: int | None  # None: forever
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (status 0: then answer normally)


class FakeServer(abc.ABC):
    """Base class: subclasses implement ``handle(method, path, headers, body) -> (status, headers, body)``."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._failures: list[_Failure] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, extra_headers, payload = fake._dispatch(self.command, self.path, headers, body)
                data = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in extra_headers.items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing to answer

            do_POST = _serve
            do_GET = _serve

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        # A short poll interval keeps shutdown (fixture teardown) fast.
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    # -- lifecycle -------------------------------------------------------
    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # -- scripting -------------------------------------------------------
    def fail_next(self, status: int, times: int | None = 1, headers: dict[str, str] | None = None) -> None:
        """Answer the next ``times`` requests (None: all) with ``status``."""
        with self._lock:
            self._failures.append(_Failure(status, times, dict(headers or {})))

    def delay_next(self, seconds: float, times: int | None = 1) -> None:
        """Answer the next ``times`` requests (None: all) normally, but only after ``seconds``."""
        with self._lock:
            self._failures.append(_Failure(0, times, {}, seconds))

    def _dispatch(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict[str, str], Any]:
        with self._lock:
            failure = self._failures[0] if self._failures else None
            if failure is not None and failure.remaining is not None:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.pop(0)
        if failure is not None and failure.delay:
            time.sleep(failure.delay)
        if failure is not None and failure.status:
            status, extra, payload = failure.status, failure.headers, self.error_body(failure.status)
        else:
            status, extra, payload = self.handle(method, path, headers, body)
        with self._lock:
            self.requests.append(RecordedRequest(method, path, headers, body, status))
        return status, extra, payload

    # -- subclass API ----------------------------------------------------
    @abc.abstractmethod
    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict[str, str], Any]:
        """Answers one request as the provider would: (status, headers, JSON payload)."""

    def error_body(self, status: int) -> Any:
        return {"message": f"fake error {status}"}
