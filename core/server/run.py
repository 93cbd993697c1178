"""``huedb run``: serve a database directory over Chroma's REST API (uvicorn).

    huedb run --path ./huedb_data --host localhost --port 8000 [--config config.yaml]
    huedb run --postgres-url postgresql://user@host/db   (the PostgreSQL backend: docs/postgres.md)

Also ``python -m huedb.server.run ...``. SIGTERM/SIGINT shut down gracefully:
uvicorn stops accepting connections, waits for in-flight requests (so their
writes are committed), then the app closes the database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from typing import Any

#: LogRecord attributes that are not "extra" fields
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, and any ``extra=`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=repr)


class _StderrHandler(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is at each record, not as it was at setup
    (an in-process caller, such as a test capturing stderr, may swap and close it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure_logging(level: str = "info", json_logs: bool = True) -> None:
    handler = _StderrHandler()
    handler.setFormatter(
        JsonFormatter() if json_logs else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    for name in ("huedb", "uvicorn", "uvicorn.error"):
        log = logging.getLogger(name)
        log.handlers[:] = [handler]
        log.setLevel(level.upper())
        log.propagate = False
    # Our own access log (method, path, status, duration) replaces uvicorn's.
    logging.getLogger("uvicorn.access").disabled = True


#: largest request line + headers accepted (h11's own default is 16 KiB; Chroma's clients send far less)
MAX_REQUEST_HEAD_BYTES = 64 * 1024


def head_deadline_protocol(head_timeout: float) -> type:
    """uvicorn's h11 protocol, plus a deadline for each request's line and headers.

    uvicorn itself only times out idle keep-alive connections: a client that sends
    half a request (or trickles it a byte at a time, or trickles a body the app already
    answered) would hold its connection, and a slot, forever. The deadline starts
    when a request begins to arrive and is not reset by more bytes.
    """
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeadDeadlineH11Protocol(H11Protocol):
        def connection_made(self, transport: Any) -> None:
            self._head_timer: asyncio.TimerHandle | None = None
            super().connection_made(transport)
            self._watch_head()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            self._watch_head()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_head_timer()
            super().connection_lost(exc)

        def _watch_head(self) -> None:
            """Armed while no request is being served (waiting for a head); off once one is."""
            waiting = self.cycle is None or self.cycle.response_complete
            if not waiting:
                self._cancel_head_timer()
            elif self._head_timer is None and not self.transport.is_closing():
                self._head_timer = self.loop.call_later(head_timeout, self._head_timed_out)

        def _cancel_head_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timed_out(self) -> None:
            self._head_timer = None
            if not self.transport.is_closing():
                logging.getLogger("huedb.server").info(
                    "closing a connection: no complete request within %s s", head_timeout
                )
                self.transport.close()

    return HeadDeadlineH11Protocol


def uvicorn_config(app: Any, config: Any) -> Any:
    """uvicorn's Config for ``app`` with the server's timeouts (``config``: a ServerConfig)."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=30,
        timeout_keep_alive=config.timeout_keep_alive,
        h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
        http=head_deadline_protocol(config.timeout_request_head),
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="huedb run", description="Serve a huedb database over Chroma's REST API v2.")
    p.add_argument("--path", default=None, help="database directory (default ./huedb_data; ':memory:' for in-memory)")
    p.add_argument("--host", default=None, help="interface to listen on (default localhost)")
    p.add_argument("--port", type=int, default=None, help="port (default 8000)")
    p.add_argument("--config", default=None, help="YAML config file (server keys and Chroma settings)")
    p.add_argument(
        "--postgres-url",
        default=None,
        help="serve a PostgreSQL database (the [postgres] extra) instead of --path; also HUEDB_POSTGRES_URL",
    )
    p.add_argument("--log-level", default=None, choices=["debug", "info", "warning", "error"])
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    from huedb.errors import ChromaError
    from huedb.server.config import load_config

    try:
        overrides = {"path": args.path, "host": args.host, "port": args.port, "log_level": args.log_level}
        postgres_url = args.postgres_url or os.environ.get("HUEDB_POSTGRES_URL")
        if postgres_url:
            overrides.update(storage_backend="postgres", postgres_url=postgres_url)
        config = load_config(args.config, overrides)
    except (ChromaError, ValueError) as e:
        print(f"huedb run: {e}", file=sys.stderr)
        return 2
    configure_logging(config.log_level, config.log_json)
    try:
        import uvicorn

        from huedb.server.app import create_app
    except ImportError as e:
        print(f"huedb run needs the server extra: pip install 'huedb[server]' ({e})", file=sys.stderr)
        return 2
    try:
        app = create_app(config)
    except (ChromaError, ValueError) as e:
        logging.getLogger("huedb.server").error("cannot start: %s", e)
        return 2
    server = uvicorn.Server(uvicorn_config(app, config))
    server.run()  # installs SIGTERM/SIGINT handlers: graceful shutdown
    return 0


if __name__ == "__main__":
    sys.exit(main())
