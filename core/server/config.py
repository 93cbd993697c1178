"""Server configuration: defaults < YAML file < environment < explicit arguments.

The YAML file holds the same keys as the dataclass below, plus any huedb /
Chroma setting (``chroma_server_authn_provider``, ``allow_reset``...) which is
passed to ``Settings``. Environment variables: ``HUEDB_HOST``, ``HUEDB_PORT``,
``HUEDB_PATH`` (or Chroma's ``PERSIST_DIRECTORY``), ``HUEDB_MAX_REQUEST_BYTES``
(or Chroma's ``CHROMA_SERVER_MAX_REQUEST_BYTES``), ``HUEDB_MAX_BATCH_SIZE``,
``CHROMA_SERVER_CORS_ALLOW_ORIGINS`` (JSON list or comma-separated), and every
Settings field upper-cased (``CHROMA_SERVER_AUTHN_PROVIDER``...).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

import yaml

from huedb.config import Settings
from huedb.errors import InvalidArgumentError

#: Chroma's single-node value (SQLite variable limit / 6); clients split bigger batches.
DEFAULT_MAX_BATCH_SIZE = 41666
DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024

_SERVER_KEYS = ("host", "port", "path", "cors_allow_origins", "max_request_bytes", "max_batch_size", "log_level", "log_json")


@dataclass
class ServerConfig:
    host: str = "localhost"
    port: int = 8000
    path: Optional[str] = "./huedb_data"  # None: in-memory
    cors_allow_origins: List[str] = field(default_factory=list)
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    log_level: str = "info"
    log_json: bool = True
    #: every other key: huedb/Chroma Settings fields (auth, allow_reset, sqlite_synchronous...)
    settings: Dict[str, Any] = field(default_factory=dict)

    def make_settings(self) -> Settings:
        """The Settings of the embedded backend (and of the auth providers)."""
        values = dict(self.settings)
        values["chroma_server_cors_allow_origins"] = list(self.cors_allow_origins)
        values["chroma_server_max_request_bytes"] = self.max_request_bytes
        values["chroma_server_host"] = None  # the server itself is embedded, never a client
        values["chroma_api_impl"] = "huedb.api.local.LocalAPI"
        if self.path is None:
            values["is_persistent"] = False
        else:
            values["is_persistent"] = True
            values["persist_directory"] = str(self.path)
        return Settings(**values)

    def validate(self) -> "ServerConfig":
        if not isinstance(self.port, int) or isinstance(self.port, bool) or not 0 <= self.port <= 65535:
            raise InvalidArgumentError(f"port must be an integer 0-65535, got {self.port!r}")
        for name in ("max_request_bytes", "max_batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InvalidArgumentError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(self.cors_allow_origins, list) or not all(isinstance(o, str) for o in self.cors_allow_origins):
            raise InvalidArgumentError(
                f"cors_allow_origins must be a list of origins such as ['https://app.example.com'], got {self.cors_allow_origins!r}"
            )
        return self


def _origins(raw: Any) -> List[str]:
    if isinstance(raw, list):
        return raw
    if isinstance(raw, str):
        raw = raw.strip()
        if raw.startswith("["):
            try:
                return json.loads(raw)
            except json.JSONDecodeError:
                raise InvalidArgumentError("CORS origins: invalid JSON list; use [\"https://a\", ...] or a comma-separated list") from None
        return [o.strip() for o in raw.split(",") if o.strip()]
    raise InvalidArgumentError(f"CORS origins must be a list or a comma-separated string, got {raw!r}")


def _int(name: str, raw: Any) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{name} must be an integer, got {raw!r}") from None


def read_yaml(path: str) -> Dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise InvalidArgumentError(f"Cannot read config file {path!r}: {e.strerror}") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InvalidArgumentError(f"Config file {path!r} is not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise InvalidArgumentError(f"Config file {path!r} must hold a mapping of keys to values")
    return data


def load_config(
    config_file: Optional[str] = None,
    overrides: Optional[Mapping[str, Any]] = None,
    environ: Optional[Mapping[str, str]] = None,
) -> ServerConfig:
    """Builds the server config: defaults, then the YAML file, then env vars, then ``overrides``."""
    env = os.environ if environ is None else environ
    values: Dict[str, Any] = {}
    settings: Dict[str, Any] = {}
    if config_file:
        for key, value in read_yaml(config_file).items():
            key = str(key).lower()
            if key in ("chroma_server_cors_allow_origins",):
                key = "cors_allow_origins"
            if key in ("chroma_server_max_request_bytes",):
                key = "max_request_bytes"
            if key in ("persist_directory",):
                key = "path"
            if key in _SERVER_KEYS:
                values[key] = value
            else:
                settings[key] = value
    env_map = {
        "host": ("HUEDB_HOST", "CHROMA_HOST"),
        "port": ("HUEDB_PORT", "CHROMA_PORT"),
        "path": ("HUEDB_PATH", "PERSIST_DIRECTORY"),
        "cors_allow_origins": ("HUEDB_CORS_ALLOW_ORIGINS", "CHROMA_SERVER_CORS_ALLOW_ORIGINS"),
        "max_request_bytes": ("HUEDB_MAX_REQUEST_BYTES", "CHROMA_SERVER_MAX_REQUEST_BYTES"),
        "max_batch_size": ("HUEDB_MAX_BATCH_SIZE",),
        "log_level": ("HUEDB_LOG_LEVEL",),
    }
    for key, names in env_map.items():
        for name in names:
            if env.get(name) not in (None, ""):
                values[key] = env[name]
                break
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key in _SERVER_KEYS:
            values[key] = value
        else:
            settings[key] = value
    cfg = ServerConfig(settings=settings)
    if "host" in values:
        cfg.host = str(values["host"])
    if "port" in values:
        cfg.port = _int("port", values["port"])
    if "path" in values:
        cfg.path = None if values["path"] in (":memory:",) else str(values["path"])
    if "cors_allow_origins" in values:
        cfg.cors_allow_origins = _origins(values["cors_allow_origins"])
    if "max_request_bytes" in values:
        cfg.max_request_bytes = _int("max_request_bytes", values["max_request_bytes"])
    if "max_batch_size" in values:
        cfg.max_batch_size = _int("max_batch_size", values["max_batch_size"])
    if "log_level" in values:
        cfg.log_level = str(values["log_level"]).lower()
    if "log_json" in values:
        cfg.log_json = bool(values["log_json"])
    return cfg.validate()
