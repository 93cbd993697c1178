"""A collection's index schema (Chroma's ``Schema`` JSON): checked at creation, stored with
the collection, served over REST, and applied to filters and sparse vectors.

The JSON is Chroma's: ``{"defaults": {value type: {index: {"enabled", "config"}}}, "keys":
{key: {value type: {...}}}}``. huedb keeps every part it can honour (turning a metadata or
full-text index off makes filters on it raise, as Chroma does; one sparse vector index on a
key, with a ``source_key`` and ``bm25``) and refuses the rest with an InvalidArgumentError
(a SPANN index with parameters, an index on ``#embedding`` turned off, FTS on a metadata
key, CMEK). The vector index part is not stored here: it is the collection's configuration
(``hnsw`` section and embedding function), and :func:`served` rebuilds it from there.

This module works on plain JSON: the engine, the server and both clients use it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from huedb.errors import InvalidArgumentError

DOCUMENT = "#document"
EMBEDDING = "#embedding"
#: value type -> the indexes it may have (Chroma's JSON names)
VALUE_TYPES: dict[str, tuple[str, ...]] = {
    "string": ("fts_index", "string_inverted_index"),
    "float_list": ("vector_index",),
    "sparse_vector": ("sparse_vector_index",),
    "int": ("int_inverted_index",),
    "float": ("float_inverted_index",),
    "bool": ("bool_inverted_index",),
}
#: the sparse EF placeholder Chroma serialises when none is configured
UNKNOWN_EF = {"type": "unknown"}


def _index(enabled: bool, config: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"enabled": enabled, "config": config or {}}


def default_schema() -> dict[str, Any]:
    """Chroma's default schema, without the vector index settings (from the configuration)."""
    return {
        "defaults": {
            "string": {"fts_index": _index(False), "string_inverted_index": _index(True)},
            "float_list": {"vector_index": _index(False)},
            "sparse_vector": {"sparse_vector_index": _index(False, {"embedding_function": dict(UNKNOWN_EF)})},
            "int": {"int_inverted_index": _index(True)},
            "float": {"float_inverted_index": _index(True)},
            "bool": {"bool_inverted_index": _index(True)},
        },
        "keys": {
            DOCUMENT: {"string": {"fts_index": _index(True), "string_inverted_index": _index(False)}},
            EMBEDDING: {"float_list": {"vector_index": _index(True, {"source_key": DOCUMENT})}},
        },
    }


def _bad(where: str, what: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"Invalid schema: {where}: {what}")


def _value_types(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _bad(where, f"expected an object of value types, got {type(value).__name__}")
    out: dict[str, Any] = {}
    for vtype, indexes in value.items():
        if vtype not in VALUE_TYPES:
            raise _bad(where, f"unknown value type {vtype!r}; expected one of {', '.join(VALUE_TYPES)}")
        if indexes is None:
            continue
        if not isinstance(indexes, Mapping):
            raise _bad(f"{where}.{vtype}", f"expected an object of indexes, got {type(indexes).__name__}")
        out[vtype] = {}
        for name, index in indexes.items():
            if name not in VALUE_TYPES[vtype]:
                raise _bad(f"{where}.{vtype}", f"unknown index {name!r}; expected {', '.join(VALUE_TYPES[vtype])}")
            if index is None:
                continue
            path = f"{where}.{vtype}.{name}"
            if not isinstance(index, Mapping) or not isinstance(index.get("enabled"), bool):
                raise _bad(path, 'expected {"enabled": true|false, "config": {...}}')
            config = index.get("config") or {}
            if not isinstance(config, Mapping):
                raise _bad(f"{path}.config", f"expected an object, got {type(config).__name__}")
            out[vtype][name] = {"enabled": index["enabled"], "config": dict(config)}
    return out


def normalize(schema: Any) -> dict[str, Any]:
    """The full schema (Chroma's defaults overlaid with what ``schema`` gives), checked:
    an InvalidArgumentError names each part huedb cannot honour."""
    if not isinstance(schema, Mapping):
        raise _bad("schema", f"expected an object with 'defaults' and 'keys', got {type(schema).__name__}")
    unknown = sorted(set(schema) - {"defaults", "keys", "cmek"})
    if unknown:
        raise _bad("schema", f"unknown fields {unknown}; expected defaults, keys")
    if schema.get("cmek") is not None:
        raise InvalidArgumentError(
            "Customer-managed encryption keys (cmek) are a Chroma Cloud feature that huedb does not have; "
            "create the schema without set_cmek(...)"
        )
    out = default_schema()
    for vtype, indexes in _value_types(schema.get("defaults") or {}, "defaults").items():
        out["defaults"][vtype].update(indexes)
    keys = schema.get("keys") or {}
    if not isinstance(keys, Mapping):
        raise _bad("keys", f"expected an object of keys, got {type(keys).__name__}")
    for key, value_types in keys.items():
        if not isinstance(key, str):
            raise _bad("keys", f"keys must be strings, got {key!r}")
        for vtype, indexes in _value_types(value_types, f"keys[{key!r}]").items():
            out["keys"].setdefault(key, {}).setdefault(vtype, {}).update(indexes)
    _check(out)
    return out


def _check(schema: dict[str, Any]) -> None:
    defaults = schema["defaults"]
    if defaults["string"]["fts_index"]["enabled"]:
        raise _bad("defaults.string.fts_index", "full-text search indexes #document only; enable it there")
    if defaults["sparse_vector"]["sparse_vector_index"]["enabled"]:
        raise _bad("defaults.sparse_vector", "a sparse vector index is created on one key, not by default")
    if defaults["float_list"]["vector_index"]["enabled"]:
        raise _bad("defaults.float_list", "the vector index is on #embedding only, not on metadata keys")
    _check_vector(defaults["float_list"]["vector_index"]["config"], "defaults.float_list.vector_index.config")
    sparse_keys = []
    for key, value_types in schema["keys"].items():
        where = f"keys[{key!r}]"
        if key.startswith("#") and key not in (DOCUMENT, EMBEDDING):
            raise _bad(where, "keys starting with '#' are reserved: only #document and #embedding have indexes")
        if key == EMBEDDING:
            if set(value_types) != {"float_list"} or not value_types["float_list"]["vector_index"]["enabled"]:
                raise _bad(where, "#embedding always has its vector index, and only that")
            _check_vector(
                value_types["float_list"]["vector_index"]["config"], f"{where}.float_list.vector_index.config"
            )
            continue
        if key == DOCUMENT:
            if set(value_types) != {"string"} or value_types["string"].get("string_inverted_index", {}).get("enabled"):
                raise _bad(where, "#document has a full-text index only (turn it off with enabled: false)")
            continue
        if value_types.get("string", {}).get("fts_index", {}).get("enabled"):
            raise _bad(f"{where}.string.fts_index", "full-text search indexes #document only")
        if value_types.get("float_list", {}).get("vector_index", {}).get("enabled"):
            raise _bad(f"{where}.float_list", "the vector index is on #embedding only, not on metadata keys")
        sparse = value_types.get("sparse_vector", {}).get("sparse_vector_index")
        if sparse is not None and sparse["enabled"]:
            _check_sparse(sparse["config"], f"{where}.sparse_vector.sparse_vector_index.config")
            sparse_keys.append(key)
    if len(sparse_keys) > 1:
        raise _bad(
            "keys",
            f"sparse vector indexes on {sparse_keys}: only one sparse vector index is allowed per collection",
        )


def _check_vector(config: dict[str, Any], where: str) -> None:
    if config.get("hnsw") is not None and config.get("spann") is not None:
        raise _bad(where, "Both spann and hnsw config cannot be present at the same time.")
    spann = config.get("spann")
    if spann:
        given = {k: v for k, v in dict(spann).items() if v is not None}
        if given:
            raise _bad(
                f"{where}.spann",
                f"huedb has no SPANN index, so its parameters {sorted(given)} cannot be honoured; as Chroma "
                "local does, a spann section with no parameters becomes an HNSW index. Configure hnsw instead",
            )
    for name in ("hnsw", "spann"):
        if config.get(name) is not None and not isinstance(config[name], Mapping):
            raise _bad(f"{where}.{name}", f"expected an object, got {type(config[name]).__name__}")


def _check_sparse(config: dict[str, Any], where: str) -> None:
    unknown = sorted(set(config) - {"embedding_function", "source_key", "bm25"})
    if unknown:
        raise _bad(where, f"unknown fields {unknown}; expected embedding_function, source_key, bm25")
    if config.get("bm25") is not None and not isinstance(config["bm25"], bool):
        raise _bad(f"{where}.bm25", f"expected true or false, got {config['bm25']!r}")
    source = config.get("source_key")
    if source is not None:
        if not isinstance(source, str) or (source.startswith("#") and source != DOCUMENT):
            raise _bad(f"{where}.source_key", f"expected #document or a metadata key, got {source!r}")
        if sparse_ef_spec(config) is None:
            raise _bad(
                where,
                "If source_key is provided then embedding_function must also be provided since there is no "
                "default embedding function",
            )


def sparse_ef_spec(config: Mapping[str, Any]) -> dict[str, Any] | None:
    """The persisted sparse EF of a sparse index config, or None (Chroma's ``{"type": "unknown"}``)."""
    spec = config.get("embedding_function")
    if not isinstance(spec, Mapping) or spec.get("type") in (None, "unknown", "legacy"):
        return None
    return dict(spec)


def is_default(schema: Mapping[str, Any]) -> bool:
    """Whether a normalized schema asks for nothing but Chroma's defaults (the vector index aside)."""
    ignore = _without_vector(schema)
    return ignore == _without_vector(default_schema())


def _without_vector(schema: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(schema))
    out["defaults"].pop("float_list", None)
    out["keys"].pop(EMBEDDING, None)
    return out


def vector_config(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The vector index settings a schema gives (space, hnsw, spann, embedding_function):
    ``#embedding``'s, over the defaults'."""
    out = dict(schema["defaults"]["float_list"]["vector_index"]["config"])
    out.update(schema["keys"][EMBEDDING]["float_list"]["vector_index"]["config"])
    out.pop("source_key", None)
    if out.get("space") == "l2":  # Chroma's default space is no request (its Schema() serialises it)
        del out["space"]
    return {k: v for k, v in out.items() if v is not None and v != {}}


def stored(schema: Mapping[str, Any]) -> dict[str, Any]:
    """What is kept with the collection: the schema without its vector index settings."""
    out = copy.deepcopy(dict(schema))
    out["defaults"]["float_list"]["vector_index"]["config"] = {}
    out["keys"][EMBEDDING]["float_list"]["vector_index"]["config"] = {"source_key": DOCUMENT}
    return out


def served(schema: Mapping[str, Any] | None, configuration: Mapping[str, Any]) -> dict[str, Any]:
    """The schema in Chroma's JSON, its vector index built from the collection's configuration."""
    out = copy.deepcopy(dict(schema)) if schema else default_schema()
    hnsw = dict(configuration.get("hnsw") or {})
    space = hnsw.pop("space", "l2")
    ef = configuration.get("embedding_function") or {"type": "legacy"}
    vector = {"space": space, "hnsw": hnsw, "embedding_function": ef}
    out["defaults"]["float_list"]["vector_index"] = _index(False, dict(vector))
    out["keys"][EMBEDDING]["float_list"]["vector_index"] = _index(True, {**vector, "source_key": DOCUMENT})
    return out


def with_seen_keys(schema: dict[str, Any] | None, seen: Sequence[tuple[str, str]]) -> dict[str, Any] | None:
    """The stored schema with the metadata keys the data has held (``(key, value type)``
    pairs), as Chroma lists them: a pair the schema does not configure gets the schema's
    ``defaults`` entry for its type (so a type whose index the defaults turn off is listed
    off); a configured pair keeps its configuration. None (Chroma's default) stays None
    when nothing was seen."""
    if not seen:
        return schema
    out = copy.deepcopy(schema) if schema else default_schema()
    keys = out["keys"]
    for key, vtype in seen:
        if vtype in VALUE_TYPES and vtype not in keys.get(key, {}):
            keys.setdefault(key, {})[vtype] = copy.deepcopy(out["defaults"][vtype])
    for key in {k for k, _ in seen} & set(keys):  # value types in Chroma's order
        keys[key] = {t: keys[key][t] for t in VALUE_TYPES if t in keys[key]}
    return out


def sparse_index(schema: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]] | None:
    """(key, config) of the schema's sparse vector index, if it has one."""
    for key, value_types in (schema or {}).get("keys", {}).items():
        index = value_types.get("sparse_vector", {}).get("sparse_vector_index")
        if index and index.get("enabled"):
            return key, dict(index.get("config") or {})
    return None


# -- filters ----------------------------------------------------------------------
_TYPE_OF: tuple[tuple[type, str, str, str], ...] = (
    (bool, "bool", "bool_inverted_index", "Bool"),
    (int, "int", "int_inverted_index", "Int"),
    (float, "float", "float_inverted_index", "Float"),
    (str, "string", "string_inverted_index", "Str"),
)


def _enabled(schema: Mapping[str, Any], key: str, vtype: str, index: str) -> bool:
    given = schema["keys"].get(key, {}).get(vtype, {}).get(index)
    if given is None:
        given = schema["defaults"].get(vtype, {}).get(index, {"enabled": True})
    return bool(given["enabled"])


def _check_value(schema: Mapping[str, Any], key: str, value: Any) -> None:
    for item in value if isinstance(value, list) else [value]:
        for cls, vtype, index, label in _TYPE_OF:
            if isinstance(item, cls):
                if not _enabled(schema, key, vtype, index):
                    raise InvalidArgumentError(
                        f"Cannot filter using metadata key '{key}' with type '{label}' because indexing is "
                        f"disabled (the collection's schema turns its {index} off)"
                    )
                break


def _check_where(schema: Mapping[str, Any], where: Any) -> None:
    if not isinstance(where, Mapping):
        return
    for key, cond in where.items():
        if key in ("$and", "$or"):
            for clause in cond or ():
                _check_where(schema, clause)
        elif key == DOCUMENT:
            check_fts(schema)
        elif key != "#id":
            values = cond.values() if isinstance(cond, Mapping) else [cond]
            for value in values:
                _check_value(schema, key, value)


def check_fts(schema: Mapping[str, Any] | None) -> None:
    if schema and not schema["keys"][DOCUMENT]["string"]["fts_index"]["enabled"]:
        raise InvalidArgumentError(
            "Cannot filter using full-text search because FTS indexing is disabled (the collection's schema "
            "turns the #document fts_index off)"
        )


def check_filters(schema: Mapping[str, Any] | None, where: Any, where_document: Any) -> None:
    """Raises as Chroma does for a filter on an index the schema turned off."""
    if not schema:
        return
    if where:
        _check_where(schema, where)
    if where_document:
        check_fts(schema)


# -- creation ------------------------------------------------------------------------
def _non_default_hnsw(configuration: Mapping[str, Any], metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    from huedb.configuration import hnsw_defaults, legacy_hnsw_from_metadata

    defaults = hnsw_defaults()
    given = {**legacy_hnsw_from_metadata(metadata), **dict(configuration.get("hnsw") or {})}
    return {k: v for k, v in given.items() if v is not None and v != defaults.get(k)}


def _is_default_ef(spec: Any) -> bool:
    return not isinstance(spec, Mapping) or spec.get("type") in ("legacy", "unknown") or spec.get("name") == "default"


def reconcile(
    schema: Mapping[str, Any], configuration: Mapping[str, Any] | None, metadata: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The configuration of a collection created with ``schema`` (normalized): the schema's
    vector index settings become its ``hnsw`` section and embedding function. As Chroma, a
    schema that sets anything and a configuration (or ``hnsw:*`` metadata) that does too
    cannot be given together."""
    out = dict(configuration or {})
    vector = vector_config(schema)
    sets_vector = any(k in vector for k in ("space", "hnsw", "spann"))
    if (not is_default(schema) or sets_vector) and (_non_default_hnsw(out, metadata) or out.get("spann")):
        raise InvalidArgumentError(
            "Failed to reconcile schema: Cannot set both collection config and schema simultaneously. "
            "Give the index settings in one place: the schema's VectorIndexConfig, or configuration="
        )
    if sets_vector:
        hnsw = dict(out.get("hnsw") or {})
        if "space" in vector:
            hnsw["space"] = vector["space"]
        hnsw.update({k: v for k, v in dict(vector.get("hnsw") or {}).items() if v is not None})
        out["hnsw"] = hnsw
    ef = vector.get("embedding_function")
    if ef is not None and not _is_default_ef(ef) and _is_default_ef(out.get("embedding_function")):
        out["embedding_function"] = dict(ef)
    return out
