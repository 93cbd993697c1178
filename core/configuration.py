"""Collection configuration: index parameters and their defaults.

``configuration={"hnsw": {...}, "index": {"name": "annoy", ...}, "embedding_function": ef}``.
Legacy ``metadata={"hnsw:space": "cosine", ...}`` keys are honoured at creation.
What is stored (and read back) is always the full effective configuration.
"""
from __future__ import annotations

import os
from typing import Any, Dict, Mapping, Optional

from huedb.embedding_functions import SPACES
from huedb.errors import InvalidArgumentError

DEFAULT_INDEX = "hnswlib"


def hnsw_defaults() -> Dict[str, Any]:
    return {
        "space": "l2",
        "ef_construction": 100,
        "ef_search": 100,
        "max_neighbors": 16,
        "num_threads": os.cpu_count() or 1,
        "batch_size": 100,
        "sync_threshold": 1000,
        "resize_factor": 1.2,
    }


#: parameters that ``modify(configuration=...)`` may change after creation
HNSW_MUTABLE = ("ef_search", "num_threads", "batch_size", "sync_threshold", "resize_factor")
HNSW_IMMUTABLE = ("space", "ef_construction", "max_neighbors")

_LEGACY_KEYS = {
    "hnsw:space": "space",
    "hnsw:construction_ef": "ef_construction",
    "hnsw:search_ef": "ef_search",
    "hnsw:M": "max_neighbors",
    "hnsw:num_threads": "num_threads",
    "hnsw:batch_size": "batch_size",
    "hnsw:sync_threshold": "sync_threshold",
    "hnsw:resize_factor": "resize_factor",
}

_INT_FIELDS = ("ef_construction", "ef_search", "max_neighbors", "num_threads", "batch_size", "sync_threshold")
_MINIMUMS = {"ef_construction": 1, "ef_search": 1, "max_neighbors": 2, "num_threads": 1, "batch_size": 2, "sync_threshold": 2}


def _check_hnsw_value(key: str, value: Any) -> Any:
    if key == "space":
        if value not in SPACES:
            raise InvalidArgumentError(f"Invalid hnsw space {value!r}; expected one of {', '.join(SPACES)}")
        return value
    if key in _INT_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidArgumentError(f"hnsw {key} must be an int, got {value!r}")
        if value < _MINIMUMS[key]:
            raise InvalidArgumentError(f"hnsw {key} must be >= {_MINIMUMS[key]}, got {value}")
        return value
    if key == "resize_factor":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 1.0:
            raise InvalidArgumentError(f"hnsw resize_factor must be a number > 1.0, got {value!r}")
        return float(value)
    raise InvalidArgumentError(
        f"Unknown hnsw configuration key {key!r}; expected one of {', '.join(hnsw_defaults())}"
    )


def legacy_hnsw_from_metadata(metadata: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for key, value in (metadata or {}).items():
        if key in _LEGACY_KEYS:
            out[_LEGACY_KEYS[key]] = value
        elif key.startswith("hnsw:"):
            raise InvalidArgumentError(
                f"Unknown legacy metadata key {key!r}; expected one of {', '.join(_LEGACY_KEYS)}"
            )
    return out


def build_configuration(
    configuration: Optional[Mapping[str, Any]],
    metadata: Optional[Mapping[str, Any]],
    ef_default_space: Optional[str] = None,
) -> Dict[str, Any]:
    """The effective stored configuration (without the embedding function, handled by the caller)."""
    configuration = dict(configuration or {})
    unknown = set(configuration) - {"hnsw", "index", "embedding_function", "spann"}
    if unknown:
        raise InvalidArgumentError(
            f"Unknown configuration keys {sorted(unknown)}; expected hnsw, index or embedding_function"
        )
    hnsw = hnsw_defaults()
    if ef_default_space:
        hnsw["space"] = ef_default_space
    requested = dict(legacy_hnsw_from_metadata(metadata))
    user_hnsw = configuration.get("hnsw") or {}
    if not isinstance(user_hnsw, Mapping):
        raise InvalidArgumentError(f"configuration['hnsw'] must be a dict, got {user_hnsw!r}")
    requested.update(user_hnsw)
    for key, value in requested.items():
        hnsw[key] = _check_hnsw_value(key, value)
    index = configuration.get("index") or {}
    if not isinstance(index, Mapping):
        raise InvalidArgumentError(f"configuration['index'] must be a dict, got {index!r}")
    index = dict(index)
    index.setdefault("name", DEFAULT_INDEX)
    if not isinstance(index["name"], str):
        raise InvalidArgumentError(f"configuration['index']['name'] must be a string, got {index['name']!r}")
    return {"hnsw": hnsw, "index": index}


def apply_update(stored: Dict[str, Any], update: Mapping[str, Any], mutable_index_params: tuple) -> Dict[str, Any]:
    """Applies ``modify(configuration=...)``; rejects parameters fixed at creation."""
    unknown = set(update) - {"hnsw", "index", "embedding_function", "spann"}
    if unknown:
        raise InvalidArgumentError(f"Unknown configuration keys {sorted(unknown)}; expected hnsw or index")
    new = {"hnsw": dict(stored["hnsw"]), "index": dict(stored["index"])}
    for key, value in (update.get("hnsw") or {}).items():
        if key in HNSW_IMMUTABLE:
            if value == stored["hnsw"].get(key):
                continue
            raise InvalidArgumentError(
                f"hnsw {key} cannot be changed after a collection is created (it shapes the index). "
                f"Create a new collection with the new {key} and copy the records into it."
            )
        new["hnsw"][key] = _check_hnsw_value(key, value)
    for key, value in (update.get("index") or {}).items():
        if key == "name" and value != stored["index"]["name"]:
            raise InvalidArgumentError(
                "The index plugin of a collection cannot be changed after creation; create a new collection instead"
            )
        if key != "name" and key not in mutable_index_params:
            raise InvalidArgumentError(
                f"index parameter {key!r} cannot be changed after creation; mutable parameters: "
                f"{', '.join(mutable_index_params) or 'none'}"
            )
        new["index"][key] = value
    return new


def segment_config(configuration: Mapping[str, Any], index_class: Any) -> Dict[str, Any]:
    """The config handed to an index plugin: the section it declares (``config_section``,
    default "index", e.g. "hnsw" for hnswlib), without the plugin name."""
    section = getattr(index_class, "config_section", "index")
    return {k: v for k, v in (configuration.get(section) or {}).items() if k != "name"}
