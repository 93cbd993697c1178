"""Argument checks, config resolution and result merging shared by the index plugins."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from huedb.distance import candidate_distances, check_space, exact_search  # noqa: F401 - shared by the plugins
from huedb.errors import InvalidArgumentError, InvalidDimensionException
from huedb.index import sorted_unique

# Exact search computes (queries x vectors) distance blocks of at most this many floats.
_BLOCK_FLOATS = 1 << 24

Result = tuple[np.ndarray, np.ndarray]


def check_dimension(dimension: int) -> int:
    if isinstance(dimension, bool) or not isinstance(dimension, (int, np.integer)) or dimension < 1:
        raise InvalidArgumentError(f"index dimension must be a positive integer, got {dimension!r}")
    return int(dimension)


def as_labels(labels: Any, what: str = "labels") -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise InvalidArgumentError(
            f"{what} must be a 1-D array of int64 labels, got shape {arr.shape} dtype {arr.dtype}"
        )
    return arr.astype(np.int64, copy=False)


def as_vectors(vectors: Any, dimension: int, what: str = "embeddings") -> np.ndarray:
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim == 1 and arr.size == dimension:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise InvalidArgumentError(f"{what} must be a 2-D array (n, {dimension}), got shape {arr.shape}")
    if arr.shape[1] != dimension and arr.shape[0] > 0:
        raise InvalidDimensionException(
            f"Collection expecting embedding with dimension of {dimension}, got {arr.shape[1]}"
        )
    if not np.isfinite(arr).all():
        raise InvalidArgumentError(f"{what} contain NaN or infinite values; every component must be a finite number")
    return np.ascontiguousarray(arr.reshape(-1, dimension))


def check_add(labels: Any, vectors: Any, dimension: int) -> tuple[np.ndarray, np.ndarray]:
    labels = as_labels(labels)
    vectors = as_vectors(vectors, dimension)
    if len(labels) != len(vectors):
        raise InvalidArgumentError(f"got {len(labels)} labels but {len(vectors)} vectors; pass one vector per label")
    if len(labels) and labels.min() < 0:  # -1 marks padding in results; hnswlib ids are unsigned
        raise InvalidArgumentError(f"labels must be non-negative, got {int(labels.min())}")
    return labels, vectors


def check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise InvalidArgumentError(f"k must be a non-negative integer, got {k!r}")
    return int(k)


def check_allowed(allowed: Any) -> np.ndarray | None:
    """Sorted unique int64 labels (protects against unsorted input; sorted input is not copied)."""
    if allowed is None:
        return None
    return sorted_unique(as_labels(allowed, "allowed"))


# -- config ----------------------------------------------------------------

Validator = Callable[[str, Any], Any]


def positive_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidArgumentError(f"index config {key!r} must be a positive integer, got {value!r}")
    return int(value)


def int_at_least(minimum: int) -> Validator:
    def check(key: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise InvalidArgumentError(f"index config {key!r} must be an integer >= {minimum}, got {value!r}")
        return int(value)

    return check


def float_above(minimum: float) -> Validator:
    def check(key: str, value: Any) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value <= minimum
        ):
            raise InvalidArgumentError(f"index config {key!r} must be a number > {minimum}, got {value!r}")
        return float(value)

    return check


def int_in_range(low: int, high: int) -> Validator:
    """An integer from ``low`` to ``high`` inclusive (upper bounds keep a config from breaking the index later)."""

    def check(key: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
            raise InvalidArgumentError(f"index config {key!r} must be an integer from {low} to {high}, got {value!r}")
        return int(value)

    return check


def float_in_range(above: float, high: float, inclusive_low: bool = False) -> Validator:
    """A finite number greater than ``above`` (or equal, with ``inclusive_low``) and at most ``high``."""

    def check(key: str, value: Any) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float, np.integer, np.floating))
            or not math.isfinite(value)
            or not (above <= value if inclusive_low else above < value)
            or not value <= high
        ):
            low = f">= {above}" if inclusive_low else f"> {above}"
            raise InvalidArgumentError(f"index config {key!r} must be a number {low} and <= {high}, got {value!r}")
        return float(value)

    return check


# Keys that may accompany a plugin's own config (the collection passes them through).
_PASSTHROUGH = ("name",)


def _own_keys(
    plugin: str, given: dict[str, Any] | None, spec: dict[str, tuple[Any, Validator]], space: str, space_error: str
) -> dict[str, Any]:
    """The plugin's own keys of ``given``: a matching space and passthrough keys are dropped;
    another space or an unknown key is an error."""
    given = dict(given or {})
    if "space" in given and given.pop("space") != space:
        raise InvalidArgumentError(space_error)
    for key in _PASSTHROUGH:
        given.pop(key, None)
    unknown = sorted(set(given) - set(spec))
    if unknown:
        raise InvalidArgumentError(f"unknown {plugin} index config key(s) {unknown}; expected some of {sorted(spec)}")
    return given


def resolve_config(
    plugin: str,
    space: str,
    given: dict[str, Any] | None,
    spec: dict[str, tuple[Any, Validator]],
) -> dict[str, Any]:
    """Defaults overlaid with ``given``, each value validated; unknown keys are errors."""
    given = _own_keys(
        plugin, given, spec, space, f"{plugin} config space does not match the collection space {space!r}"
    )
    out = {}
    for key, (default, validate) in spec.items():
        value = given.get(key, default)
        out[key] = None if value is None else validate(key, value)
    return out


def config_changes(
    plugin: str,
    space: str,
    current: dict[str, Any],
    new: dict[str, Any],
    mutable: Sequence[str],
    spec: dict[str, tuple[Any, Validator]],
) -> dict[str, Any]:
    """Validated changed values; changing an immutable key is an error."""
    new = _own_keys(
        plugin, new, spec, space, f"the space of a {plugin} index cannot change after creation (it is {space!r})"
    )
    changed = {}
    for key, value in new.items():
        value = spec[key][1](key, value) if value is not None else None
        if value == current.get(key):
            continue
        if key not in mutable:
            raise InvalidArgumentError(
                f"{plugin} index config {key!r} cannot change after creation; mutable keys are {list(mutable)}. "
                f"Recreate the collection to change it."
            )
        changed[key] = value
    return changed


# -- search results --------------------------------------------------------


def empty_result(nq: int, k: int) -> Result:
    return np.full((nq, k), -1, dtype=np.int64), np.full((nq, k), np.inf, dtype=np.float32)


def exact_topk(queries: np.ndarray, vectors: np.ndarray, labels: np.ndarray, k: int, space: str) -> Result:
    """Exact search in query blocks so the distance matrix stays bounded."""
    nq, n = len(queries), len(labels)
    if n == 0 or nq == 0:
        return empty_result(nq, k)
    step = max(1, _BLOCK_FLOATS // n)
    if step >= nq:
        return exact_search(queries, vectors, labels, k, space)
    parts = [exact_search(queries[i : i + step], vectors, labels, k, space) for i in range(0, nq, step)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def merge_topk(parts: list[Result], k: int, nq: int) -> Result:
    """Row-wise k best of several padded results, ordered by (distance, label)."""
    parts = [p for p in parts if p[0].shape[1] > 0]
    if not parts:
        return empty_result(nq, k)
    labels = np.concatenate([p[0] for p in parts], axis=1)
    dists = np.concatenate([p[1] for p in parts], axis=1).astype(np.float32, copy=False)
    dists = np.where(labels < 0, np.inf, dists)
    label_key = np.where(labels < 0, np.iinfo(np.int64).max, labels)  # padding sorts last
    order = np.lexsort((label_key, dists), axis=1)[:, :k]
    labels = np.take_along_axis(labels, order, axis=1)
    dists = np.take_along_axis(dists, order, axis=1)
    if labels.shape[1] < k:
        pad_l, pad_d = empty_result(nq, k - labels.shape[1])
        labels, dists = np.hstack([labels, pad_l]), np.hstack([dists, pad_d])
    return labels, dists
