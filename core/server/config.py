"""Server configuration: defaults < YAML file < environment < explicit arguments.

The YAML file holds the same keys as ``ServerConfig`` below, plus any huedb /
Chroma setting (``chroma_server_authn_provider``, ``allow_reset``...) which is
passed to ``Settings``. Environment variables: ``HUEDB_HOST``, ``HUEDB_PORT``,
``HUEDB_PATH`` (or Chroma's ``PERSIST_DIRECTORY``), ``HUEDB_MAX_REQUEST_BYTES``
(or Chroma's ``CHROMA_SERVER_MAX_REQUEST_BYTES``), ``HUEDB_MAX_BATCH_SIZE``,
``CHROMA_SERVER_CORS_ALLOW_ORIGINS`` (JSON list or comma-separated),
``HUEDB_LOG_LEVEL``, ``HUEDB_LOG_JSON``, and every Settings field upper-cased
(``CHROMA_SERVER_AUTHN_PROVIDER``...). Values are typed and coerced by pydantic,
as Settings are: a quoted ``"false"`` is False, ``port: abc`` is an error naming ``port``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from huedb.config import Settings, split_list
from huedb.errors import InvalidArgumentError

#: announced in /pre-flight-checks: chromadb 1.5.9's value (its server and local clients answer
#: 5461). Bigger batches are still taken whole, in one transaction; max_request_bytes bounds them.
DEFAULT_MAX_BATCH_SIZE = 5461
DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024

_SERVER_KEYS = (
    "host",
    "port",
    "path",
    "cors_allow_origins",
    "max_request_bytes",
    "max_batch_size",
    "log_level",
    "log_json",
    "timeout_keep_alive",
    "timeout_request_head",
    "timeout_request_body",
)
#: YAML spellings (Chroma's setting names) of server keys
_KEY_ALIASES = {
    "chroma_server_cors_allow_origins": "cors_allow_origins",
    "chroma_server_max_request_bytes": "max_request_bytes",
    "persist_directory": "path",
    # the keys of Chroma's own server config.yaml (its single-node sample)
    "persist_path": "path",
    "listen_address": "host",
    "max_payload_size_bytes": "max_request_bytes",
}
_ENV_NAMES = {
    "host": ("HUEDB_HOST", "CHROMA_HOST"),
    "port": ("HUEDB_PORT", "CHROMA_PORT"),
    "path": ("HUEDB_PATH", "PERSIST_DIRECTORY"),
    "cors_allow_origins": ("HUEDB_CORS_ALLOW_ORIGINS", "CHROMA_SERVER_CORS_ALLOW_ORIGINS"),
    "max_request_bytes": ("HUEDB_MAX_REQUEST_BYTES", "CHROMA_SERVER_MAX_REQUEST_BYTES"),
    "max_batch_size": ("HUEDB_MAX_BATCH_SIZE",),
    "log_level": ("HUEDB_LOG_LEVEL",),
    "log_json": ("HUEDB_LOG_JSON",),
    "timeout_keep_alive": ("HUEDB_TIMEOUT_KEEP_ALIVE",),
    "timeout_request_head": ("HUEDB_TIMEOUT_REQUEST_HEAD",),
    "timeout_request_body": ("HUEDB_TIMEOUT_REQUEST_BODY",),
}
#: settings whose values must never reach an error message
_SECRET_HINTS = ("credential", "authz_config")


class ServerConfig(BaseModel):
    model_config = ConfigDict(validate_assignment=True, extra="forbid")

    host: str = "localhost"
    port: int = Field(default=8000, ge=0, le=65535)
    path: str | None = "./huedb_data"  # None: in-memory
    cors_allow_origins: list[str] = Field(default_factory=list)
    max_request_bytes: int = Field(default=DEFAULT_MAX_REQUEST_BYTES, ge=1)
    max_batch_size: int = Field(default=DEFAULT_MAX_BATCH_SIZE, ge=1)
    log_level: str = "info"
    log_json: bool = True
    #: seconds an idle keep-alive connection stays open (uvicorn's timeout_keep_alive)
    timeout_keep_alive: int = Field(default=5, ge=1)
    #: seconds a client has to send a request's line and headers, from connecting or from the last response
    timeout_request_head: float = Field(default=30.0, gt=0)
    #: seconds the server waits for each next piece of a request body
    timeout_request_body: float = Field(default=60.0, gt=0)
    #: every other key: huedb/Chroma Settings fields (auth, allow_reset, sqlite_synchronous...)
    settings: dict[str, Any] = Field(default_factory=dict)

    @field_validator("cors_allow_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        return split_list(value)

    @field_validator("path", mode="before")
    @classmethod
    def _memory_path(cls, value: Any) -> Any:
        return None if value == ":memory:" else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

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
        try:
            return Settings(**values)
        except ValidationError as e:
            raise InvalidArgumentError(_describe(e)) from None

    def validate(self) -> ServerConfig:  # type: ignore[override]
        """Re-checks every field (after attribute changes) with the config's error type."""
        return _build(self.model_dump())


def _describe(error: ValidationError) -> str:
    """Names each bad field and what was wrong; shows the value unless it may be a secret."""
    parts = []
    for item in error.errors():
        name = ".".join(str(p) for p in item["loc"]) or "config"
        text = f"{name}: {item['msg']}"
        if not any(hint in name for hint in _SECRET_HINTS) and "input" in item:
            text += f", got {item['input']!r}"
        parts.append(text)
    return "Invalid configuration: " + "; ".join(parts)


def _build(values: Mapping[str, Any]) -> ServerConfig:
    try:
        return ServerConfig.model_validate(dict(values))
    except ValidationError as e:
        raise InvalidArgumentError(_describe(e)) from None


def read_yaml(path: str) -> dict[str, Any]:
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
    config_file: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> ServerConfig:
    """Builds the server config: defaults, then the YAML file, then env vars, then ``overrides``.

    The Settings part is validated too, so a bad value fails here, before the server starts.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    settings: dict[str, Any] = {}
    if config_file:
        for key, value in read_yaml(config_file).items():
            key = _KEY_ALIASES.get(str(key).lower(), str(key).lower())
            (values if key in _SERVER_KEYS else settings)[key] = value
    for key, names in _ENV_NAMES.items():
        found = next((env[name] for name in names if env.get(name) not in (None, "")), None)
        if found is not None:
            values[key] = found
    for key, value in (overrides or {}).items():
        if value is not None:  # an unset command-line flag does not override
            (values if key in _SERVER_KEYS else settings)[key] = value
    config = _build({**values, "settings": settings})
    config.make_settings()
    return config
