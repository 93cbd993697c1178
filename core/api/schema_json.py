"""``Schema`` <-> Chroma's schema JSON. Embedding functions travel in their persisted form
(``{"name", "type", "config"}``, no secrets: ``huedb.ef_persistence``) and are rebuilt lazily."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

from huedb.ef_persistence import rebuild, serialize
from huedb.errors import InvalidArgumentError
from huedb.index_schema import EMBEDDING, UNKNOWN_EF, is_default, normalize, vector_config

if TYPE_CHECKING:
    from huedb.api.schema import Schema, ValueTypes

#: ValueTypes field -> Chroma's JSON name
JSON_NAMES = {
    "string": "string",
    "float_list": "float_list",
    "sparse_vector": "sparse_vector",
    "int_value": "int",
    "float_value": "float",
    "boolean": "bool",
}
DEFAULT_EF_SPEC = {"name": "default", "type": "known", "config": {}}
#: a vector index without an embedding function, as chromadb writes it
LEGACY_EF = {"type": "legacy"}


def _ef_spec(ef: Any, default: dict[str, Any]) -> dict[str, Any]:
    if ef is None:
        return dict(default)
    if isinstance(ef, dict):
        return dict(ef)
    return serialize(ef) or dict(default)


def _ef_space(ef: Any) -> str | None:
    default_space = getattr(ef, "default_space", None)
    try:
        space = default_space() if callable(default_space) else None
    except Exception:  # noqa: BLE001 - an EF without a usable default space serialises the default
        return None
    return space if isinstance(space, str) else None


def _config_json(config: Any) -> dict[str, Any]:
    from huedb.api.schema import SparseVectorIndexConfig, VectorIndexConfig

    if isinstance(config, VectorIndexConfig):
        given = "embedding_function" in config.model_fields_set
        ef = config.embedding_function
        # as chromadb: an EF given as None is "legacy" (no EF), an unset one the default EF
        out: dict[str, Any] = {
            "embedding_function": dict(LEGACY_EF) if given and ef is None else _ef_spec(ef, DEFAULT_EF_SPEC)
        }
        # as chromadb: an unset space is the given EF's default_space(), else l2 (the default EF's)
        out["space"] = config.space or (_ef_space(ef) if given else None) or "l2"
        for name in ("source_key",):
            if getattr(config, name) is not None:
                out[name] = getattr(config, name)
        for name in ("hnsw", "spann"):
            section = getattr(config, name)
            if section is not None:
                out[name] = section.model_dump(exclude_none=True)
        return out
    if isinstance(config, SparseVectorIndexConfig):
        out = {"embedding_function": _ef_spec(config.embedding_function, UNKNOWN_EF)}
        if config.source_key is not None:
            out["source_key"] = config.source_key
        if config.bm25 is not None:
            out["bm25"] = config.bm25
        return out
    return {}


def _value_types_json(vt: ValueTypes) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(vt):
        value_type = getattr(vt, f.name)
        if value_type is None:
            continue
        indexes = {}
        for index_field in fields(value_type):
            index = getattr(value_type, index_field.name)
            if index is not None:
                indexes[index_field.name] = {"enabled": index.enabled, "config": _config_json(index.config)}
        out[JSON_NAMES[f.name]] = indexes
    return out


def to_json(schema: Schema) -> dict[str, Any]:
    out: dict[str, Any] = {
        "defaults": _value_types_json(schema.defaults),
        "keys": {key: _value_types_json(vt) for key, vt in schema.keys.items()},
    }
    if schema.cmek is not None:
        out["cmek"] = schema.cmek
    return out


def _ef(spec: Any) -> Any:
    if not isinstance(spec, dict) or spec.get("type") in (None, "unknown", "legacy"):
        return None
    return rebuild(spec, "schema")


def _config(config_cls: type, data: dict[str, Any]) -> Any:
    from huedb.api.schema import HnswIndexConfig, SpannIndexConfig, SparseVectorIndexConfig, VectorIndexConfig

    if config_cls is VectorIndexConfig:
        return VectorIndexConfig(
            space=data.get("space"),
            embedding_function=_ef(data.get("embedding_function")),
            source_key=data.get("source_key"),
            hnsw=HnswIndexConfig(**data["hnsw"]) if data.get("hnsw") is not None else None,
            spann=SpannIndexConfig(**data["spann"]) if data.get("spann") is not None else None,
        )
    if config_cls is SparseVectorIndexConfig:
        return SparseVectorIndexConfig(
            embedding_function=_ef(data.get("embedding_function")),
            source_key=data.get("source_key"),
            bm25=data.get("bm25"),
        )
    return config_cls()


def _value_types(data: dict[str, Any]) -> ValueTypes:
    from huedb.api.schema import _SLOTS, ValueTypes, set_index

    by_json = {(JSON_NAMES[field], index): cls for cls, (field, _, index, _) in _SLOTS.items()}
    out = ValueTypes()
    for vtype, indexes in (data or {}).items():
        for name, index in (indexes or {}).items():
            cls = by_json.get((vtype, name))
            if cls is None or index is None:
                raise ValueError(f"Unknown index {vtype}.{name} in schema JSON")
            set_index(out, _config(cls, index.get("config") or {}), bool(index.get("enabled")))
    return out


def from_json(data: dict[str, Any]) -> tuple[ValueTypes, dict[str, ValueTypes]]:
    defaults = _value_types(data.get("defaults") or {})
    keys = {key: _value_types(vt) for key, vt in (data.get("keys") or {}).items()}
    return defaults, keys


def schema_request(schema: Any) -> tuple[dict[str, Any] | None, Any, bool]:
    """``create_collection(schema=...)`` on the client: (the JSON sent, checked as the server
    will; the vector index's embedding function object, if given; whether the schema sets
    anything besides Chroma's defaults)."""
    if schema is None:
        return None, None, False
    from huedb.api.schema import Schema

    ef = None
    if isinstance(schema, Schema):
        data = schema.serialize_to_json()
        vector_type = schema.keys[EMBEDDING].float_list
        config = vector_type.vector_index.config if vector_type is not None and vector_type.vector_index else None
        if config is not None and "embedding_function" in config.model_fields_set:  # unset: the default EF
            ef = config.embedding_function
    elif isinstance(schema, dict):
        data = schema
    else:
        raise InvalidArgumentError(f"schema must be a huedb.Schema (or its JSON form), got {type(schema).__name__}")
    full = normalize(data)
    vector = vector_config(full)
    sets = not is_default(full) or any(k in vector for k in ("space", "hnsw", "spann"))
    return data, ef, sets
