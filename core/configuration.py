"""Collection configuration: index parameters and their defaults.

``configuration={"hnsw": {...}, "index": {"name": "annoy", ...}, "embedding_function": ef}``.
A ``spann`` section is mapped onto HNSW as Chroma does locally: its space is kept, its other
(checked) parameters have no HNSW meaning. ``hnsw`` and ``spann`` together are an error.
Legacy ``metadata={"hnsw:space": "cosine", ...}`` keys are honoured at creation unless the
configuration has a non-empty ``hnsw`` or any ``spann`` section (then they are checked and
ignored, as on Chroma). What is stored (and read back) is always the full effective configuration.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from huedb.distance import DEFAULT_SPACE, SPACES
from huedb.errors import InvalidArgumentError

DEFAULT_INDEX = "hnswlib"


@dataclass(frozen=True)
class HnswParam:
    """One parameter of Chroma's ``hnsw`` configuration section."""

    default: Any
    low: float  # inclusive
    high: float  # inclusive
    mutable: bool  # whether modify(configuration=...) may change it after creation
    integer: bool = True


#: The one table of the hnsw section: defaults, documented ranges (docs/index-plugins.md,
#: "Configuration ranges") and mutability. The hnswlib plugin builds its config spec from
#: it. Chroma 1.5.9 checks only that the values are non-negative, so e.g. resize_factor=1e300
#: or max_neighbors=1e9 were accepted there and broke the index later.
HNSW_PARAMS: dict[str, HnswParam] = {
    "ef_construction": HnswParam(100, 1, 10_000, mutable=False),
    "ef_search": HnswParam(100, 1, 100_000, mutable=True),
    "max_neighbors": HnswParam(16, 1, 2048, mutable=False),  # hnswlib builds M=1 graphs with M=2
    "num_threads": HnswParam(min(os.cpu_count() or 1, 1024), 1, 1024, mutable=True),
    "batch_size": HnswParam(100, 2, 100_000, mutable=True),  # Chroma refuses < 2 too (hnsw:batch_size)
    "sync_threshold": HnswParam(1000, 2, 1_000_000, mutable=True),  # likewise
    # 1.0 (Chroma accepts it) grows the graph to exactly what a batch needs
    "resize_factor": HnswParam(1.2, 1.0, 10.0, mutable=True, integer=False),
}
#: the integer ranges and the resize_factor range, as (low, high)
HNSW_INT_RANGES: dict[str, tuple[int, int]] = {
    k: (int(p.low), int(p.high)) for k, p in HNSW_PARAMS.items() if p.integer
}
RESIZE_FACTOR_RANGE: tuple[float, float] = (HNSW_PARAMS["resize_factor"].low, HNSW_PARAMS["resize_factor"].high)


def hnsw_defaults() -> dict[str, Any]:
    return {"space": DEFAULT_SPACE, **{k: p.default for k, p in HNSW_PARAMS.items()}}


#: parameters that ``modify(configuration=...)`` may change after creation
HNSW_MUTABLE = tuple(k for k, p in HNSW_PARAMS.items() if p.mutable)
HNSW_IMMUTABLE = ("space",) + tuple(k for k, p in HNSW_PARAMS.items() if not p.mutable)

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

#: the sections a configuration may have; each is a dict (or None)
SECTIONS = ("hnsw", "spann", "index", "embedding_function")
#: Chroma's spann fields: checked as Chroma checks them (u32, a known space); only space is used
SPANN_KEYS = (
    "search_nprobe",
    "write_nprobe",
    "space",
    "ef_construction",
    "ef_search",
    "max_neighbors",
    "reassign_neighbor_count",
    "split_threshold",
    "merge_threshold",
)


def _check_int(key: str, value: Any) -> int:
    low, high = HNSW_INT_RANGES[key]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidArgumentError(f"hnsw {key} must be an integer from {low} to {high}, got {value!r}")
    if not low <= value <= high:
        raise InvalidArgumentError(
            f"hnsw {key} must be from {low} to {high}, got {value}; see docs/index-plugins.md for the ranges"
        )
    return int(value)


def _check_resize_factor(value: Any) -> float:
    low, high = RESIZE_FACTOR_RANGE
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise InvalidArgumentError(
            f"hnsw resize_factor must be a number from {low} to {high} (the graph grows by this factor "
            f"when full), got {value!r}"
        )
    return float(value)


def _check_hnsw_value(key: str, value: Any) -> Any:
    if key == "space":
        if value not in SPACES:
            raise InvalidArgumentError(f"Invalid hnsw space {value!r}; expected one of {', '.join(SPACES)}")
        return value
    if key in HNSW_INT_RANGES:
        return _check_int(key, value)
    if key == "resize_factor":
        return _check_resize_factor(value)
    raise InvalidArgumentError(f"Unknown hnsw configuration key {key!r}; expected one of {', '.join(hnsw_defaults())}")


def _check_spann(spann: Mapping[str, Any], where: str) -> None:
    for key, value in spann.items():
        if key not in SPANN_KEYS:
            raise InvalidArgumentError(
                f"unknown field `{key}` in {where}['spann'], expected one of {', '.join(SPANN_KEYS)}"
            )
        if value is None:
            continue
        if key == "space":
            if value not in SPACES:
                raise InvalidArgumentError(
                    f"unknown variant `{value}` for {where}['spann']['space'], expected one of {', '.join(SPACES)}"
                )
        elif isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < 2**32:
            raise InvalidArgumentError(
                f"invalid value {value!r} for {where}['spann'][{key!r}], expected u32 (an integer from 0 to "
                f"{2**32 - 1})"
            )


def vector_index_request(
    configuration: Mapping[str, Any], metadata: Mapping[str, Any] | None, where: str = "configuration"
) -> dict[str, Any]:
    """The hnsw values a create request asks for: its hnsw section, or the space of its spann
    section, or (when neither says anything) the legacy hnsw:* metadata, checked either way."""
    legacy = legacy_hnsw_from_metadata(metadata)
    for key, value in legacy.items():
        if value is not None:
            _check_hnsw_value(key, value)  # Chroma refuses a bad legacy value even when it ignores it
    hnsw, spann = configuration.get("hnsw"), configuration.get("spann")
    if hnsw is not None and spann is not None:
        raise InvalidArgumentError(
            f"hnsw and spann cannot both be provided in {where}; give one vector index section "
            "(huedb maps spann onto its HNSW index)"
        )
    if spann is not None:
        spann = section(configuration, "spann", where)
        _check_spann(spann, where)
        return {"space": spann["space"]} if spann.get("space") is not None else {}
    hnsw = section(configuration, "hnsw", where)
    return hnsw if hnsw else legacy


def check_update_sections(update: Mapping[str, Any], where: str = "configuration") -> None:
    """modify(configuration=...): a collection's index is HNSW, so a spann update is refused."""
    if update.get("hnsw") is not None and update.get("spann") is not None:
        raise InvalidArgumentError(f"Multiple vector index configurations provided in {where}: give hnsw only")
    if update.get("spann") is not None:
        raise InvalidArgumentError(
            f"Trying to update SPANN config but schema has HNSW: huedb maps spann onto HNSW at creation, "
            f"so change {where}['hnsw'] instead"
        )


def section(configuration: Mapping[str, Any], name: str, where: str = "configuration") -> dict[str, Any]:
    """One section as a dict; absent or None is empty, any other type (a list...) is an error."""
    value = configuration.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            f"{where}[{name!r}] must be a dict (or null), got {type(value).__name__}: {value!r:.100}"
        )
    return dict(value)


def _as_configuration(configuration: Any, where: str) -> dict[str, Any]:
    if configuration is None:
        return {}
    if not isinstance(configuration, Mapping):
        raise InvalidArgumentError(f"{where} must be a dict (or null), got {type(configuration).__name__}")
    unknown = sorted(set(configuration) - set(SECTIONS), key=str)
    if unknown:
        raise InvalidArgumentError(f"Unknown {where} keys {unknown}; expected some of {', '.join(SECTIONS)}")
    for name in ("hnsw", "spann", "index"):
        section(configuration, name, where)
    return dict(configuration)


def validate_request(
    configuration: Any, metadata: Mapping[str, Any] | None = None, where: str = "configuration", update: bool = False
) -> None:
    """Client-side check of a create / modify (``update``) request: section types and hnsw ranges,
    so every client (HTTP too) reports a bad value the same way before anything is sent. The
    server checks again, with the stored configuration and the index plugin."""
    configuration = _as_configuration(configuration, where)
    if update:
        check_update_sections(configuration, where)
        requested = section(configuration, "hnsw", where)
    else:
        requested = vector_index_request(configuration, metadata, where)
    for key, value in requested.items():
        if value is not None or key not in HNSW_INT_RANGES and key not in ("space", "resize_factor"):
            _check_hnsw_value(key, value)


def legacy_hnsw_from_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (metadata or {}).items():
        if key in _LEGACY_KEYS:
            out[_LEGACY_KEYS[key]] = value
        elif key.startswith("hnsw:"):
            raise InvalidArgumentError(
                f"Unknown legacy metadata key {key!r}; expected one of {', '.join(_LEGACY_KEYS)}"
            )
    return out


def build_configuration(
    configuration: Mapping[str, Any] | None,
    metadata: Mapping[str, Any] | None,
    ef_default_space: str | None = None,
) -> dict[str, Any]:
    """The effective stored configuration (without the embedding function, handled by the caller).
    Every hnsw value is checked against its documented range; None means "the default", as in Chroma."""
    configuration = _as_configuration(configuration, "configuration")
    hnsw = hnsw_defaults()
    if ef_default_space:
        hnsw["space"] = ef_default_space
    for key, value in vector_index_request(configuration, metadata).items():
        if value is not None:
            hnsw[key] = _check_hnsw_value(key, value)
        elif key not in hnsw:
            _check_hnsw_value(key, value)  # an unknown key is an error even when null
    index = section(configuration, "index")
    index.setdefault("name", DEFAULT_INDEX)
    if not isinstance(index["name"], str):
        raise InvalidArgumentError(f"configuration['index']['name'] must be a string, got {index['name']!r}")
    return {"hnsw": hnsw, "index": index}


def apply_update(stored: dict[str, Any], update: Mapping[str, Any], mutable_index_params: tuple) -> dict[str, Any]:
    """Applies ``modify(configuration=...)``; rejects parameters fixed at creation and values out of range."""
    update = _as_configuration(update, "new_configuration")
    check_update_sections(update, "new_configuration")
    new = {"hnsw": dict(stored["hnsw"]), "index": dict(stored["index"])}
    for key, value in section(update, "hnsw", "new_configuration").items():
        if value is None:  # Chroma: null leaves the value as it is
            if key not in new["hnsw"]:
                _check_hnsw_value(key, value)
            continue
        if key in HNSW_IMMUTABLE:
            if value == stored["hnsw"].get(key):
                continue
            raise InvalidArgumentError(
                f"hnsw {key} cannot be changed after a collection is created (it shapes the index). "
                f"Create a new collection with the new {key} and copy the records into it."
            )
        new["hnsw"][key] = _check_hnsw_value(key, value)
    for key, value in section(update, "index", "new_configuration").items():
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


def segment_config(configuration: Mapping[str, Any], index_class: Any) -> dict[str, Any]:
    """The config handed to an index plugin: the section it declares (``config_section``,
    default "index", e.g. "hnsw" for hnswlib), without the plugin name."""
    name = getattr(index_class, "config_section", "index")
    return {k: v for k, v in (configuration.get(name) or {}).items() if k != "name"}


def check_index_config(index_class: Any, configuration: Mapping[str, Any]) -> None:
    """Lets the index plugin validate its own section now (create / modify), not at the first write:
    plugins check their config in ``__init__``, so one is built without a directory and dropped."""
    index_class(1, configuration["hnsw"]["space"], segment_config(configuration, index_class), None)
