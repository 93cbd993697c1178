"""``huedb run``: serve a database directory over Chroma's REST API (uvicorn).

    huedb run --path ./huedb_data --host localhost --port 8000 [--config config.yaml]

Also ``python -m huedb.server.run ...``. SIGTERM/SIGINT shut down gracefully:
uvicorn stops accepting connections, waits for in-flight requests (so their
writes are committed), then the app closes the database.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from typing import Any, Dict, List, Optional

#: LogRecord attributes that are not "extra" fields
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, and any ``extra=`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: Dict[str, Any] = {
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


def configure_logging(level: str = "info", json_logs: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_logs else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    for name in ("huedb", "uvicorn", "uvicorn.error"):
        log = logging.getLogger(name)
        log.handlers[:] = [handler]
        log.setLevel(level.upper())
        log.propagate = False
    # Our own access log (method, path, status, duration) replaces uvicorn's.
    logging.getLogger("uvicorn.access").disabled = True


def parse_args(argv: List[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="huedb run", description="Serve a huedb database over Chroma's REST API v2.")
    p.add_argument("--path", default=None, help="database directory (default ./huedb_data; ':memory:' for in-memory)")
    p.add_argument("--host", default=None, help="interface to listen on (default localhost)")
    p.add_argument("--port", type=int, default=None, help="port (default 8000)")
    p.add_argument("--config", default=None, help="YAML config file (server keys and Chroma settings)")
    p.add_argument("--log-level", default=None, choices=["debug", "info", "warning", "error"])
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    from huedb.errors import ChromaError
    from huedb.server.config import load_config

    try:
        config = load_config(args.config, {"path": args.path, "host": args.host, "port": args.port, "log_level": args.log_level})
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
    server = uvicorn.Server(
        uvicorn.Config(app, host=config.host, port=config.port, log_config=None, access_log=False,
                       timeout_graceful_shutdown=30, lifespan="on")
    )
    server.run()  # installs SIGTERM/SIGINT handlers: graceful shutdown
    return 0


if __name__ == "__main__":
    sys.exit(main())
