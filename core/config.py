"""Settings, with chromadb's field names.

Every field can also come from an environment variable of the same name,
upper-cased (``ALLOW_RESET=TRUE``, ``PERSIST_DIRECTORY=...``,
``CHROMA_SERVER_AUTHN_PROVIDER=...``), as in chromadb. Unknown keyword
arguments are kept (chromadb accepts many implementation settings that huedb
has no use for), so chromadb configs load unchanged.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional

DEFAULT_TENANT = "default_tenant"
DEFAULT_DATABASE = "default_database"

_DEFAULTS: Dict[str, Any] = {
    "environment": "",
    "is_persistent": False,
    "persist_directory": "./chroma",
    "allow_reset": False,
    # Accepted for compatibility; huedb never sends telemetry.
    "anonymized_telemetry": True,
    "chroma_api_impl": "huedb.api.local.LocalAPI",
    "chroma_server_host": None,
    "chroma_server_http_port": None,
    "chroma_server_ssl_enabled": False,
    "chroma_server_ssl_verify": None,
    "chroma_server_headers": None,
    "chroma_server_api_default_path": "/api/v2",
    "chroma_server_cors_allow_origins": [],
    "chroma_server_max_request_bytes": 64 * 1024 * 1024,
    "chroma_client_auth_provider": None,
    "chroma_client_auth_credentials": None,
    "chroma_auth_token_transport_header": None,
    "chroma_server_authn_provider": None,
    "chroma_server_authn_credentials": None,
    "chroma_server_authn_credentials_file": None,
    "chroma_server_authz_provider": None,
    "chroma_server_authz_config": None,
    "chroma_server_authz_config_file": None,
    "chroma_overwrite_singleton_tenant_database_access_from_auth": False,
    "chroma_http_keepalive_secs": 40.0,
    "chroma_query_request_timeout_seconds": 60,
    # huedb-specific
    "sqlite_synchronous": "FULL",
    "index_cache_size": None,
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _coerce(name: str, raw: str) -> Any:
    default = _DEFAULTS.get(name)
    if isinstance(default, bool):
        low = raw.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError(f"environment variable {name.upper()}={raw!r}: expected true or false")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, list) or name == "chroma_server_headers":
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return [part.strip() for part in raw.split(",") if part.strip()]
    if name == "chroma_server_http_port":
        return int(raw)
    return raw


class Settings:
    """Configuration for clients and servers.

    ``Settings(allow_reset=True)``; attribute access; ``settings["name"]`` too.
    Explicit arguments win over environment variables, which win over defaults.
    """

    def __init__(self, **kwargs: Any) -> None:
        values: Dict[str, Any] = dict(_DEFAULTS)
        env = {k.lower(): v for k, v in os.environ.items()}
        for name in _DEFAULTS:
            if name in env:
                values[name] = _coerce(name, env[name])
        values.update(kwargs)
        object.__setattr__(self, "_values", values)

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        raise AttributeError(f"Settings has no field {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        self._values[name] = value

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Settings) and self._values == other._values

    def __repr__(self) -> str:
        shown = {k: v for k, v in self._values.items() if v != _DEFAULTS.get(k, object())}
        return f"Settings({', '.join(f'{k}={v!r}' for k, v in shown.items())})"

    def dict(self) -> Dict[str, Any]:
        return dict(self._values)

    def copy(self, **changes: Any) -> "Settings":
        merged = dict(self._values)
        merged.update(changes)
        return Settings(**merged)

    def require(self, name: str) -> Any:
        value = self._values.get(name)
        if value is None:
            raise ValueError(f"Missing required setting {name!r}")
        return value

    def field_names(self) -> List[str]:
        return list(self._values)


_global_settings: Optional[Settings] = None


def configure(**kwargs: Any) -> None:
    """Overrides the default settings of clients created afterwards."""
    global _global_settings
    base = _global_settings.dict() if _global_settings else {}
    base.update(kwargs)
    _global_settings = Settings(**base)


def get_settings() -> Settings:
    """The current global settings (defaults + environment + configure())."""
    global _global_settings
    if _global_settings is None:
        _global_settings = Settings()
    return _global_settings
