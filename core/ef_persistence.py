"""Persisting a collection's embedding function as ``{"name", "type", "config"}`` and rebuilding it.

``type`` is ``known`` (provided by an installed plugin distribution), ``custom``
(registered at run time with ``register_embedding_function``) or ``legacy``
(no ``name()``/``get_config()``: usable in the session, not rebuildable).
Rebuilding is lazy: a collection whose plugin is missing still opens and reads;
only embedding fails, with a message saying what to install.
"""
from __future__ import annotations

import json
import logging
from functools import lru_cache
from importlib import resources
from typing import Any, Dict, List, Optional

from huedb.embedding_functions import EmbeddingFunction, ef_is_legacy
from huedb.errors import InvalidArgumentError, PluginNotFoundError
from huedb.registry import get_registry, register_embedding_function

logger = logging.getLogger("huedb")

_SECRET_PARTS = ("key", "secret", "token", "password", "authorization", "credential")


def _secret_fields(config: Any, prefix: str = "") -> List[str]:
    """Config fields that look like secrets (``*_env_var`` names are fine: they hold a variable's name)."""
    found: List[str] = []
    if isinstance(config, dict):
        for key, value in config.items():
            low = str(key).lower()
            path = f"{prefix}{key}"
            if not low.endswith("env_var") and any(part in low for part in _SECRET_PARTS) and value not in (None, ""):
                found.append(path)
            found.extend(_secret_fields(value, path + "."))
    return found


@lru_cache(maxsize=None)
def _schema(name: str) -> Optional[Dict[str, Any]]:
    try:
        text = resources.files("huedb.schemas").joinpath(f"{name}.json").read_text()
    except (FileNotFoundError, OSError):
        return None
    return json.loads(text)


def validate_config_schema(name: str, config: Dict[str, Any]) -> None:
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


def serialize(ef: Any) -> Optional[Dict[str, Any]]:
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
    if reg is None:
        # As chromadb does: an EF used once can be rebuilt later in this process by name.
        register_embedding_function(type(ef))
        reg = registry.registrations()["embedding_function"][name]
    elif not issubclass(type(ef), reg.obj):
        raise InvalidArgumentError(
            f"Embedding function {type(ef).__qualname__} calls itself {name!r}, a name owned by "
            f"{reg.obj.__module__}.{reg.obj.__qualname__} (plugin {reg.plugin!r}); give it a name of its own"
        )
    kind = "known" if reg.distribution else "custom"
    return {"name": name, "type": kind, "config": config}


class LazyEmbeddingFunction(EmbeddingFunction[Any]):
    """Stands in for a persisted EF until it is first needed, then builds it through the registry."""

    def __init__(self, spec: Dict[str, Any], collection_name: str) -> None:
        self.spec = spec
        self.collection_name = collection_name
        self._ef: Optional[EmbeddingFunction[Any]] = None

    def resolve(self) -> EmbeddingFunction[Any]:
        if self._ef is None:
            name = self.spec["name"]
            registry = get_registry()
            try:
                cls = registry.get("embedding_function", name)
            except PluginNotFoundError:
                raise PluginNotFoundError(
                    registry.not_found_message(
                        "embedding_function", name,
                        context=f"Collection {self.collection_name!r} uses embedding function {name!r}",
                    )
                ) from None
            self._ef = cls.build_from_config(self.spec.get("config") or {})
        return self._ef

    def __call__(self, input: Any) -> List[Any]:
        return self.resolve()(input)

    def embed_query(self, input: Any) -> List[Any]:
        ef = self.resolve()
        return ef.embed_query(input) if hasattr(ef, "embed_query") else ef(input)

    def name(self) -> str:  # type: ignore[override]
        return self.spec["name"]

    def get_config(self) -> Dict[str, Any]:
        return dict(self.spec.get("config") or {})

    def default_space(self) -> str:
        return self.resolve().default_space()

    def supported_spaces(self) -> List[str]:
        return self.resolve().supported_spaces()

    def supports_images(self) -> bool:
        ef = self.resolve()
        return bool(getattr(ef, "supports_images", lambda: False)())

    def __repr__(self) -> str:
        return f"<persisted embedding function {self.spec['name']!r} (not built yet)>" if self._ef is None else repr(self._ef)


def rebuild(spec: Optional[Dict[str, Any]], collection_name: str) -> Optional[EmbeddingFunction[Any]]:
    """The session EF for a persisted spec; None when the collection has none (or a legacy one)."""
    if not spec or spec.get("type") == "legacy" or not spec.get("name"):
        return None
    return LazyEmbeddingFunction(spec, collection_name)


def check_conflict(given: Any, persisted: Optional[Dict[str, Any]], collection_name: str) -> None:
    """A different kind of EF than the persisted one is an error; the same kind overrides for the session."""
    if given is None or not persisted or persisted.get("type") == "legacy" or ef_is_legacy(given):
        return
    if isinstance(given, LazyEmbeddingFunction):
        return
    if given.name() != persisted.get("name"):
        raise InvalidArgumentError(
            f"Embedding function conflict for collection {collection_name!r}: it was created with "
            f"{persisted.get('name')!r}, and {given.name()!r} was passed. Omit embedding_function= to use the "
            f"persisted one, or pass an instance of {persisted.get('name')!r} to override its settings for this session."
        )
