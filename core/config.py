"""Settings, with chromadb's field names, types and defaults, on pydantic-settings.

Every field can also come from an environment variable of the same name,
upper-cased (``ALLOW_RESET=TRUE``, ``PERSIST_DIRECTORY=...``,
``CHROMA_SERVER_AUTHN_PROVIDER=...``), as in chromadb. Values are coerced by
type the way chromadb's (also pydantic) Settings coerce them: ``"false"``,
``"0"``, ``"no"``, ``"off"`` are False for a bool field; a value that cannot be
coerced raises ``pydantic.ValidationError`` (a ``ValueError``) naming the field.

Names huedb does not know warn (``UserWarning``) and are ignored by huedb; they
stay readable as attributes so a plugin can read a setting of its own. Names of
chromadb settings that only matter to Chroma's distributed deployment are
accepted silently. docs/settings.md lists every setting.
"""

from __future__ import annotations

import builtins
import contextvars
import json
import warnings
from functools import lru_cache
from typing import Annotated, Any

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from huedb.stamped_cache import CANDIDATE_VECTORS_BYTES, READ_CACHE_BYTES

DEFAULT_TENANT = "default_tenant"
DEFAULT_DATABASE = "default_database"

#: chromadb 1.5.9 settings for its distributed/Rust internals: accepted without a warning, unused.
CHROMA_ONLY_SETTINGS = frozenset(
    {
        "chroma_server_auth_ignore_paths",
        "chroma_product_telemetry_impl",
        "chroma_telemetry_impl",
        "chroma_otel_collection_endpoint",
        "chroma_otel_service_name",
        "chroma_otel_collection_headers",
        "chroma_otel_granularity",
        "migrations",
        "migrations_hash_algorithm",
        "chroma_segment_directory_impl",
        "chroma_segment_directory_routing_mode",
        "chroma_memberlist_provider_impl",
        "worker_memberlist_name",
        "chroma_coordinator_host",
        "chroma_server_grpc_port",
        "chroma_sysdb_impl",
        "chroma_producer_impl",
        "chroma_consumer_impl",
        "chroma_segment_manager_impl",
        "chroma_executor_impl",
        "chroma_query_replication_factor",
        "chroma_logservice_host",
        "chroma_logservice_port",
        "chroma_quota_provider_impl",
        "chroma_rate_limiting_provider_impl",
        "chroma_quota_enforcer_impl",
        "chroma_rate_limit_enforcer_impl",
        "chroma_async_rate_limit_enforcer_impl",
        "chroma_logservice_request_timeout_seconds",
        "chroma_sysdb_request_timeout_seconds",
        "chroma_db_impl",
        "chroma_collection_assignment_policy_impl",
    }
)

_SQLITE_SYNC_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")
_TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
_FALSE_WORDS = frozenset({"false", "0", "no", "off"})
_SECRET_FIELDS = frozenset({"chroma_client_auth_credentials", "chroma_server_authn_credentials", "postgres_url"})

# Set while copying settings, so unknown names already warned about do not warn again.
_quiet_unknown: contextvars.ContextVar[bool] = contextvars.ContextVar("huedb_settings_quiet", default=False)

#: a list read from an env var as a JSON list or as comma-separated values (pydantic would take JSON only)
StrList = Annotated[list[str], NoDecode]


def split_list(value: Any) -> Any:
    """A string is a JSON list or comma-separated values (how env vars and YAML give lists)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        return json.loads(text)  # a JSONDecodeError is a ValueError: pydantic names the field
    return [part.strip() for part in text.split(",") if part.strip()]


def _huedb_alias(name: str) -> Any:
    """Accepts ``name`` and ``huedb_<name>`` (keyword and env var); the HUEDB_ one wins."""
    return Field(default_factory=list, validation_alias=AliasChoices(f"huedb_{name}", name))


class Settings(BaseSettings):
    """Configuration for clients and servers.

    ``Settings(allow_reset=True)``; attribute access; ``settings["name"]`` too.
    Explicit arguments win over environment variables, which win over defaults.
    """

    model_config = SettingsConfigDict(
        extra="allow",  # unknown names warn (below) but stay readable for plugins
        case_sensitive=False,
        env_prefix="",
        validate_assignment=True,
        validate_default=True,
    )

    environment: str = ""
    chroma_api_impl: str = "huedb.api.local.LocalAPI"
    chroma_server_nofile: int | None = None
    chroma_server_thread_pool_size: int = 40
    tenant_id: str = "default"
    topic_namespace: str = "default"

    # client side: where the server is and how to talk to it
    chroma_server_host: str | None = None
    chroma_server_headers: builtins.dict[str, str] | None = None
    chroma_server_http_port: int | None = None
    chroma_server_ssl_enabled: bool | None = False
    #: True/False, or the path of a CA bundle
    chroma_server_ssl_verify: bool | str | None = None
    chroma_server_api_default_path: str | None = "/api/v2"
    chroma_http_keepalive_secs: float | None = 40.0
    chroma_http_max_connections: int | None = None
    chroma_http_max_keepalive_connections: int | None = None
    chroma_query_request_timeout_seconds: int = 60

    # server side
    chroma_server_cors_allow_origins: StrList = []
    chroma_server_max_request_bytes: int = Field(default=64 * 1024 * 1024, gt=0)  # huedb-specific

    # embedded storage
    is_persistent: bool = False
    persist_directory: str = "./chroma"
    chroma_memory_limit_bytes: int = 0
    chroma_segment_cache_policy: str | None = None
    allow_reset: bool = False

    # auth
    chroma_auth_token_transport_header: str | None = None
    chroma_client_auth_provider: str | None = None
    chroma_client_auth_credentials: str | None = None
    chroma_overwrite_singleton_tenant_database_access_from_auth: bool = False
    chroma_server_authn_provider: str | None = None
    chroma_server_authn_credentials: str | None = None
    chroma_server_authn_credentials_file: str | None = None
    chroma_server_authz_provider: str | None = None
    chroma_server_authz_config: str | None = None
    chroma_server_authz_config_file: str | None = None

    #: accepted for compatibility; huedb never sends telemetry
    anonymized_telemetry: bool = True

    # huedb-specific
    sqlite_synchronous: str = "FULL"
    #: "sqlite" (the default: a file under persist_directory, or memory) or "postgres" (postgres_url)
    storage_backend: str = Field(default="sqlite", pattern="^(sqlite|postgres)$")
    #: the PostgreSQL database of the postgres backend (env HUEDB_POSTGRES_URL or POSTGRES_URL)
    postgres_url: str | None = Field(default=None, validation_alias=AliasChoices("huedb_postgres_url", "postgres_url"))
    index_cache_size: int | None = None
    #: bytes per storage location kept for repeated filters: the SQLite backend's rid sets of
    #: where filters and postings of sparse query terms (0: read storage every time)
    read_cache_bytes: int = Field(default=READ_CACHE_BYTES, ge=0)
    #: bytes per storage location kept of exact-search candidates' vectors (0: read them every time)
    candidate_vectors_cache_bytes: int = Field(default=CANDIDATE_VECTORS_BYTES, ge=0)
    #: hosts a persisted embedding-function config may send data to (beyond the provider's default)
    embedding_function_allowed_hosts: StrList = _huedb_alias("embedding_function_allowed_hosts")
    #: env vars a persisted embedding-function config may read a key from (beyond the provider's own)
    embedding_function_allowed_env_vars: StrList = _huedb_alias("embedding_function_allowed_env_vars")

    # -- coercion ------------------------------------------------------------
    @field_validator(
        "chroma_server_cors_allow_origins",
        "embedding_function_allowed_hosts",
        "embedding_function_allowed_env_vars",
        mode="before",
    )
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        return split_list(value)

    @field_validator("chroma_server_ssl_verify", mode="before")
    @classmethod
    def _ssl_verify_words(cls, value: Any) -> Any:
        # chromadb keeps "false" as a str, which httpx then takes for a CA-bundle path:
        # boolean words are booleans here; anything else is the bundle's path.
        if isinstance(value, str):
            word = value.strip().lower()
            if word in _TRUE_WORDS:
                return True
            if word in _FALSE_WORDS:
                return False
        return value

    @field_validator("sqlite_synchronous", mode="before")
    @classmethod
    def _sync_level(cls, value: Any) -> Any:
        level = str(value).strip().upper()
        if level not in _SQLITE_SYNC_LEVELS:
            raise ValueError(f"must be one of {', '.join(_SQLITE_SYNC_LEVELS)}")
        return level

    @model_validator(mode="before")
    @classmethod
    def _warn_unknown(cls, data: Any) -> Any:
        if isinstance(data, dict) and not _quiet_unknown.get():
            for name in sorted(set(map(str, data)) - _known_names() - CHROMA_ONLY_SETTINGS):
                warnings.warn(
                    f"Unknown setting {name!r} is ignored by huedb (see docs/settings.md for the settings).",
                    UserWarning,
                    stacklevel=2,
                )
        return data

    # -- the helpers huedb's code and older callers use ------------------------
    def __getitem__(self, name: str) -> Any:
        try:
            return getattr(self, name)
        except AttributeError:
            raise KeyError(name) from None

    def __repr__(self) -> str:
        # Only what differs from the defaults, and never a credential.
        fields = type(self).model_fields
        shown = []
        for name, value in self.dict().items():
            if name in fields and value == fields[name].get_default(call_default_factory=True):
                continue
            shown.append(f"{name}={'**********' if name in _SECRET_FIELDS and value else repr(value)}")
        return f"Settings({', '.join(shown)})"

    __str__ = __repr__

    def dict(self) -> builtins.dict[str, Any]:  # type: ignore[override]
        """Every setting (known and unknown) by name; ``Settings(**s.dict())`` rebuilds ``s``."""
        return self.model_dump()

    def copy(self, **changes: Any) -> Settings:
        """A validated copy with ``changes`` applied (``model_copy`` would skip validation)."""
        token = _quiet_unknown.set(True)
        try:
            return type(self)(**{**self.dict(), **changes})
        finally:
            _quiet_unknown.reset(token)

    def require(self, name: str) -> Any:
        value = getattr(self, name, None)
        if value is None:
            raise ValueError(f"Missing required setting {name!r}")
        return value

    def field_names(self) -> list[str]:
        return list(self.dict())


@lru_cache(maxsize=1)
def _known_names() -> frozenset:
    """Field names and their aliases (``huedb_...``), the keys Settings accepts without a warning."""
    names = set(Settings.model_fields)
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice) for choice in alias.choices)
    return frozenset(names)


_global_settings: Settings | None = None


def configure(**kwargs: Any) -> None:
    """Overrides the default settings of clients created afterwards."""
    global _global_settings
    _global_settings = _global_settings.copy(**kwargs) if _global_settings else Settings(**kwargs)


def get_settings() -> Settings:
    """The current global settings (defaults + environment + configure())."""
    global _global_settings
    if _global_settings is None:
        _global_settings = Settings()
    return _global_settings
