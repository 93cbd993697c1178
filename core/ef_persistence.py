"""Persisting a collection's embedding function as ``{"name", "type", "config"}`` and rebuilding it.

``type`` is ``known`` (provided by an installed plugin distribution), ``custom``
(registered at run time with ``register_embedding_function``) or ``legacy``
(no ``name()``/``get_config()``: usable in the session, not rebuildable).
Rebuilding is lazy: a collection whose plugin is missing still opens and reads;
only embedding fails, with a message saying what to install.

A persisted config is written by whoever created (or modified) the collection, and is
rebuilt by every client that opens it. ``check_persisted_ef`` is the one place that
decides whether a rebuilt EF may read an API-key variable or reach an endpoint: only
what the provider documents (``EmbeddingFunction.egress``), plus what this client's
settings allow (see docs/auth.md, "Embedding functions rebuilt from a stored config").
"""

from __future__ import annotations

import json
import logging
import os
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from huedb.embedding_functions import EmbeddingFunction, MissingProviderPackage, ProviderEgress, ef_is_legacy
from huedb.errors import ForbiddenError, InvalidArgumentError, PluginNotFoundError
from huedb.registry import get_registry, is_user_registration, register_embedding_function

logger = logging.getLogger("huedb")

_SECRET_PARTS = ("key", "secret", "token", "password", "authorization", "credential")


def _secret_fields(config: Any, prefix: str = "") -> list[str]:
    """Config fields that look like secrets: text under a secret-sounding name (``*_env_var``
    names are fine: they hold a variable's name; numbers and flags such as chroma_bm25's
    ``token_max_length`` and ``include_tokens`` are no secrets)."""
    found: list[str] = []
    if isinstance(config, dict):
        for key, value in config.items():
            low = str(key).lower()
            path = f"{prefix}{key}"
            if (
                not low.endswith("env_var")
                and any(part in low for part in _SECRET_PARTS)
                and isinstance(value, str)
                and value
            ):
                found.append(path)
            found.extend(_secret_fields(value, path + "."))
    return found


@cache
def _schema(name: str) -> dict[str, Any] | None:
    try:
        text = resources.files("huedb.schemas").joinpath(f"{name}.json").read_text()
    except (FileNotFoundError, OSError):
        return None
    return json.loads(text)


def validate_config_schema(name: str, config: dict[str, Any]) -> None:
    """Validates a persisted EF config against the JSON schema for ``name``, where one exists."""
    schema = _schema(name)
    if schema is None:
        return
    import jsonschema

    try:
        jsonschema.validate(config, schema)
    except jsonschema.ValidationError as e:
        raise InvalidArgumentError(
            f"Embedding function {name!r} config does not match its schema: {e.message}"
        ) from None


EF_TYPES = ("known", "custom", "legacy")


def validate_spec(
    spec: Any, where: str = "configuration['embedding_function']", known_names: bool = True
) -> dict[str, Any] | None:
    """Checks the persisted form ``{"name", "type", "config"}`` before it is stored.

    With ``known_names`` (a client checking a dict its user passed), a "known" name must be
    an installed EF plugin or one of Chroma's catalogue of known EFs (a schema ships for each,
    so chromadb clients can store e.g. "jina"); anything else is a typo no client could rebuild.
    The engine passes False: a client persists an EF registered in its own process as "known"
    too (as chromadb does), and the server cannot know it. "custom" names are always accepted.
    """
    if spec is None:
        return None
    if not isinstance(spec, dict) or spec.get("type") not in EF_TYPES:
        raise InvalidArgumentError(
            f'{where} must be an embedding function or {{"name", "type", "config"}} with type '
            f"known, custom or legacy; got {spec!r}"
        )
    if spec["type"] == "legacy":
        return spec
    name, config = spec.get("name"), spec.get("config")
    if not isinstance(name, str) or not name:
        raise InvalidArgumentError(f"{where}['name'] must be a non-empty string, got {name!r}")
    if config is not None and not isinstance(config, dict):
        raise InvalidArgumentError(f"{where}['config'] must be a dict, got {type(config).__name__}")
    registry = get_registry()
    if (
        known_names
        and spec["type"] == "known"
        and name not in registry.names("embedding_function")
        and _schema(name) is None
    ):
        raise InvalidArgumentError(
            registry.not_found_message("embedding_function", name, context=f"{where} names embedding function {name!r}")
            + " Check the name, or install the plugin before creating the collection."
        )
    validate_config_schema(name, config or {})
    return spec


def serialize(ef: Any) -> dict[str, Any] | None:
    """The persisted form of an EF (None: the collection has no EF)."""
    if ef is None:
        return None
    if isinstance(ef, LazyEmbeddingFunction):
        return ef.spec
    if ef_is_legacy(ef):
        return {"type": "legacy"}
    name = ef.name()
    config = dict(ef.get_config() or {})
    leaked = _secret_fields(config)
    if leaked:
        raise InvalidArgumentError(
            f"Embedding function {name!r} get_config() returned secret field(s) {leaked}; "
            "persist the name of an environment variable (api_key_env_var) instead"
        )
    validate_config_schema(name, config)
    registry = get_registry()
    reg = registry.registrations()["embedding_function"].get(name)
    if reg is None or (not issubclass(type(ef), reg.obj) and is_user_registration(registry, reg)):
        # As chromadb does: an EF used once can be rebuilt later in this process by name (a class
        # redefined in a re-run cell replaces the one user code registered before).
        register_embedding_function(type(ef))
        reg = registry.registrations()["embedding_function"][name]
    elif not issubclass(type(ef), reg.obj):
        raise InvalidArgumentError(
            f"Embedding function {type(ef).__qualname__} calls itself {name!r}, a name owned by "
            f"{reg.obj.__module__}.{reg.obj.__qualname__} (plugin {reg.plugin!r}); give it a name of its own"
        )
    # chromadb persists every registered EF, its own or a user's, as "known"
    return {"name": name, "type": "known", "config": config}


# -- what a rebuilt EF may reach ---------------------------------------------------------

#: config fields that name where an EF sends requests (the names Chroma's EF schemas use)
ENDPOINT_FIELDS = ("api_base", "base_url", "api_url", "url", "endpoint", "azure_endpoint", "host", "server_url")
ALLOWED_HOSTS_SETTING = "embedding_function_allowed_hosts"
ALLOWED_ENV_VARS_SETTING = "embedding_function_allowed_env_vars"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _allowed(settings: Any, name: str) -> list[str]:
    """A list setting; comma-separated text (an environment variable) is split."""
    if settings is None:
        from huedb.config import get_settings

        settings = get_settings()
    try:
        value = getattr(settings, name)
    except AttributeError:  # a Settings class without the field: its documented variable still counts
        value = os.environ.get(f"HUEDB_{name.upper()}")
    value = value or []
    if isinstance(value, str):
        value = value.split(",")
    return [str(v).strip() for v in value if str(v).strip()]


def _host_port(url: str) -> tuple[str, str, int | None]:
    """(scheme, lower-cased host, port or None) of a URL or a bare 'host[:port]'."""
    parts = urlsplit(url if "://" in url else "//" + url)
    host = (parts.hostname or "").lower()
    port = parts.port  # ValueError for a port that is not a number in 0..65535
    if not host:
        raise ValueError("no host")
    return parts.scheme.lower(), host, port


def _endpoint_allowed(url: str, egress: ProviderEgress, allowed_hosts: list[str]) -> bool:
    scheme, host, port = _host_port(url)
    if scheme == "https" and host in egress.default_hosts and port in (None, 443):
        return True  # the provider's own API, over TLS
    effective = port if port is not None else _DEFAULT_PORTS.get(scheme)
    for entry in allowed_hosts:
        try:
            _, a_host, a_port = _host_port(entry)
        except ValueError:
            continue
        if a_host == host and (a_port is None or a_port == effective):
            return True
    return False


def _host_hint(url: str) -> str:
    try:
        _, host, port = _host_port(url)
    except ValueError:
        return "<host>"
    return f"{host}:{port}" if port is not None else host


def check_persisted_ef(spec: dict[str, Any], cls: Any, collection_name: str, settings: Any) -> None:
    """Refuses a persisted EF config that would make this client send its API key, or its
    text, anywhere its own user did not allow. Runs before the EF is built, so a refused
    config reads no variable and opens no connection."""
    name = spec.get("name")
    config = spec.get("config") or {}
    if not isinstance(config, dict):
        raise InvalidArgumentError(
            f"Collection {collection_name!r} persists embedding function {name!r} with a config that is not a dict "
            f"({type(config).__name__}); pass embedding_function= yourself"
        )
    egress = getattr(cls, "egress", None) or ProviderEgress()
    opening = f"Collection {collection_name!r} persists embedding function {name!r} with"
    problem = getattr(cls, "persisted_config_problem", lambda _config: None)(config)
    if problem:
        raise ForbiddenError(f"{opening} {problem}; pass embedding_function= yourself if you trust it")
    hosts = _allowed(settings, ALLOWED_HOSTS_SETTING)
    for field in (*ENDPOINT_FIELDS, *egress.endpoint_fields):
        value = config.get(field)
        if value in (None, ""):
            continue  # the provider's default endpoint
        try:
            ok = isinstance(value, str) and _endpoint_allowed(value, egress, hosts)
        except ValueError:
            ok = False
        if not ok:
            raise ForbiddenError(
                f"{opening} {field} {value!r} which this client has not allowed; pass embedding_function= yourself, "
                f"or allow the host with Settings({ALLOWED_HOSTS_SETTING}=[{_host_hint(str(value))!r}]) / "
                f"HUEDB_{ALLOWED_HOSTS_SETTING.upper()}"
            )
    env_vars = set(egress.api_key_env_vars) | set(_allowed(settings, ALLOWED_ENV_VARS_SETTING))
    for field, value in config.items():
        if not str(field).lower().endswith("env_var") or value in (None, ""):
            continue
        if isinstance(value, str) and value in env_vars:
            continue
        documented = ", ".join(egress.api_key_env_vars) or "none"
        raise ForbiddenError(
            f"{opening} {field} {value!r} which this client has not allowed (documented for {name!r}: {documented}); "
            f"pass embedding_function= yourself, or allow the variable with "
            f"Settings({ALLOWED_ENV_VARS_SETTING}=[{value!r}]) / HUEDB_{ALLOWED_ENV_VARS_SETTING.upper()}"
        )


class LazyEmbeddingFunction(EmbeddingFunction[Any]):
    """Stands in for a persisted EF until it is first needed, then builds it through the registry
    (after ``check_persisted_ef`` has passed it under this client's settings)."""

    def __init__(self, spec: dict[str, Any], collection_name: str, settings: Any = None) -> None:
        self.spec = spec
        self.collection_name = collection_name
        self.settings = settings
        self._ef: EmbeddingFunction[Any] | None = None

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> EmbeddingFunction[Any]:
        # The protocol's default, stated here so that mypy does not take the stand-in for abstract.
        raise NotImplementedError("this embedding function cannot be rebuilt from a config")

    def resolve(self) -> EmbeddingFunction[Any]:
        if self._ef is None:
            name = self.spec["name"]
            registry = get_registry()
            try:
                cls = registry.get("embedding_function", name)
            except PluginNotFoundError:
                raise PluginNotFoundError(
                    registry.not_found_message(
                        "embedding_function",
                        name,
                        context=f"Collection {self.collection_name!r} uses embedding function {name!r}",
                    )
                ) from None
            check_persisted_ef(self.spec, cls, self.collection_name, self.settings)
            try:
                self._ef = cls.build_from_config(self.spec.get("config") or {})
            except MissingProviderPackage as e:
                raise MissingProviderPackage(
                    f"Collection {self.collection_name!r} uses embedding function {name!r}: "
                    f"pip install 'huedb[{e.extra}]' ({e})",
                    e.extra,
                ) from e
        return self._ef

    def __call__(self, input: Any) -> list[Any]:
        return self.resolve()(input)

    def embed_query(self, input: Any) -> list[Any]:
        ef = self.resolve()
        return ef.embed_query(input) if hasattr(ef, "embed_query") else ef(input)

    def name(self) -> str:  # type: ignore[override]
        return self.spec["name"]

    def get_config(self) -> dict[str, Any]:
        return dict(self.spec.get("config") or {})

    def default_space(self) -> str:
        return self.resolve().default_space()

    def supported_spaces(self) -> list[str]:
        return self.resolve().supported_spaces()

    def supports_images(self) -> bool:
        ef = self.resolve()
        return bool(getattr(ef, "supports_images", lambda: False)())

    def __repr__(self) -> str:
        return (
            f"<persisted embedding function {self.spec['name']!r} (not built yet)>"
            if self._ef is None
            else repr(self._ef)
        )


def rebuild(spec: dict[str, Any] | None, collection_name: str, settings: Any = None) -> EmbeddingFunction[Any] | None:
    """The session EF for a persisted spec; None when the collection has none (or a legacy one).
    ``settings`` are the opening client's (None: the global settings)."""
    if not isinstance(spec, dict) or spec.get("type") == "legacy" or not spec.get("name"):
        return None
    return LazyEmbeddingFunction(spec, collection_name, settings)


def same_embedding_function(a: Any, b: Any) -> bool:
    """Two EF objects that persist alike (one class, one config): chromadb accepts such a pair
    given both as embedding_function= and in configuration."""
    if type(a) is not type(b):
        return False
    try:
        return serialize(a) == serialize(b)
    except Exception:  # noqa: BLE001 - an EF that cannot be persisted is compared by identity only
        return False


def check_conflict(given: Any, persisted: dict[str, Any] | None, collection_name: str) -> None:
    """A different kind of EF than the persisted one is an error; the same kind overrides for the session."""
    if given is None or not persisted or persisted.get("type") == "legacy" or ef_is_legacy(given):
        return
    if isinstance(given, LazyEmbeddingFunction):
        return
    if given.name() != persisted.get("name"):
        raise InvalidArgumentError(
            f"Embedding function conflict for collection {collection_name!r}: it was created with "
            f"{persisted.get('name')!r}, and {given.name()!r} was passed. Omit embedding_function= to use the "
            f"persisted one, or pass an instance of {persisted.get('name')!r} to override its settings "
            "for this session."
        )
