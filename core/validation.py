"""Validation of user input: names, ids, embeddings, metadata, include lists.

Each check raises a typed error saying what was wrong and what was expected.
Where (metadata filter) validation lives in ``filters.py``, next to its compiler.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from huedb.embedding_functions import normalize_embeddings
from huedb.errors import DuplicateIDError, InvalidArgumentError
from huedb.types import (  # noqa: F401 - re-exported: the engine imports them from here
    CLEARABLE_FIELDS,
    DEFAULT_GET_INCLUDE,
    DEFAULT_QUERY_INCLUDE,
    GET_INCLUDE,
    QUERY_INCLUDE,
)
from huedb.wire import CLEAR_FIELD  # noqa: F401 - re-exported

_NAME_CHARS = re.compile(r"^[a-zA-Z0-9._-]+\Z")  # \Z: "$" would accept a trailing newline


def validate_text(value: str, what: str) -> str:
    """``value`` must encode as UTF-8: a lone surrogate cannot be stored or sent as JSON.

    ``str.isascii()`` is O(1) in CPython, so the common (ASCII) case costs nothing.
    """
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise InvalidArgumentError(
                f"Expected {what} to be valid Unicode text, got a string holding a lone surrogate "
                f"{value[e.start : e.end]!a} at position {e.start}: ids, documents, URIs, metadata and filter "
                "values must be encodable as UTF-8 (decode bytes with errors='replace' first)"
            ) from None
    return value


def validate_texts_in(value: Any, what: str) -> None:
    """Every string inside a JSON-like value (a filter: dicts, lists, scalars) must encode as UTF-8.

    Call it on a value already checked for depth (``filters.validate_where``), so the walk is bounded.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            validate_text(item, what)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def validate_collection_name(name: Any) -> str:
    if not isinstance(name, str):
        raise InvalidArgumentError(f"Collection name must be a string, got {type(name).__name__}")
    rule = None
    if not 3 <= len(name) <= 512:
        rule = f"it must be 3-512 characters long (got {len(name)})"
    elif not _NAME_CHARS.match(name):
        rule = "it may only contain characters from [a-zA-Z0-9._-]"
    elif not (name[0].isalnum() and name[-1].isalnum()):
        rule = "it must start and end with a letter or digit ([a-zA-Z0-9])"
    elif ".." in name:
        rule = "it must not contain two consecutive periods (..)"
    else:
        try:
            ipaddress.IPv4Address(name)
            rule = "it must not be a valid IPv4 address"
        except ValueError:
            pass
    if rule:
        raise InvalidArgumentError(f"Invalid collection name {name!r}: {rule}.")
    return name


def validate_tenant_or_database_name(kind: str, name: Any) -> str:
    """Tenant and database names appear as URL path segments (/api/v2/tenants/{name}/...),
    so they take the URL-safe subset of Chroma's collection name rules."""
    if not isinstance(name, str):
        raise InvalidArgumentError(f"Expected {kind} name to be a string, got {type(name).__name__}")
    rule = None
    if not 3 <= len(name) <= 512:
        rule = f"it must be 3-512 characters long (got {len(name)})"
    elif not _NAME_CHARS.match(name):
        rule = "it may only contain characters from [a-zA-Z0-9._-], so that it can appear in a URL path"
    elif not (name[0].isalnum() and name[-1].isalnum()):
        rule = "it must start and end with a letter or digit ([a-zA-Z0-9])"
    if rule:
        raise InvalidArgumentError(f"Invalid {kind} name {ascii(name)[:120]}: {rule}.")
    return name


def validate_ids(ids: Any, allow_empty: bool = False, unique: bool = True) -> list[str]:
    if isinstance(ids, str):
        ids = [ids]
    if not isinstance(ids, (list, tuple, np.ndarray)):
        raise InvalidArgumentError(f"Expected ids to be a list of strings, got {type(ids).__name__}")
    ids = list(ids)
    if len(ids) == 0 and not allow_empty:
        raise InvalidArgumentError("Expected ids to be a non-empty list of strings, got an empty list")
    for i in ids:
        if not isinstance(i, str):
            raise InvalidArgumentError(f"Expected each ID in ids to be a str, got {i!r} ({type(i).__name__})")
        if i == "":
            raise InvalidArgumentError("Expected ids to be non-empty strings, got an empty string")
        if not i.isascii():
            validate_text(i, "each id")
    if unique and len(set(ids)) != len(ids):
        dups = [i for i, n in Counter(ids).items() if n > 1]
        shown = ", ".join(dups[:10]) + (f", ... ({len(dups)} in all)" if len(dups) > 10 else "")
        raise DuplicateIDError(
            f"Expected IDs to be unique, found duplicates of: {shown}. Each id may appear once per call."
        )
    return ids


def validate_embeddings(embeddings: Any, expected_count: int) -> np.ndarray:
    """Returns a C-contiguous 2-D float32 array with one row per id."""
    arr = normalize_embeddings(embeddings)
    if arr is None:
        raise InvalidArgumentError("Expected embeddings, got None")
    if not (arr.dtype == np.float32 and arr.ndim == 2 and arr.flags.c_contiguous):
        # The fast path above is what a client sends once it has validated: a query pays ~1 us here.
        arr = _as_float32_rows(arr)
    if arr.shape[0] != expected_count:
        raise InvalidArgumentError(f"Number of embeddings {arr.shape[0]} must match number of ids {expected_count}")
    if arr.shape[0] and arr.shape[1] == 0:
        raise InvalidArgumentError("Expected each embedding to be a non-empty list of numbers")
    if not np.isfinite(arr).all():
        raise InvalidArgumentError("Embeddings must be finite numbers (no NaN or infinity)")
    return arr


def _as_float32_rows(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == object:
        raise InvalidArgumentError(
            "Expected embeddings to be a list of equal-length lists of numbers; the rows have different lengths"
        )
    if arr.ndim != 2:
        raise InvalidArgumentError(f"Expected embeddings to be 2-D (one vector per record), got {arr.ndim}-D")
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise InvalidArgumentError(f"Expected embeddings to contain numbers, got {arr.dtype}")
    with np.errstate(over="ignore", invalid="ignore"):  # float64 beyond float32's range becomes inf: refused below
        return np.ascontiguousarray(arr, dtype=np.float32)


def _scalar_ok(v: Any) -> bool:
    return isinstance(v, (str, bool, int, float, np.integer, np.floating)) and not (
        isinstance(v, float) and not np.isfinite(v)
    )


_PLAIN_TYPES = frozenset((str, int, bool))
_RESERVED_PREFIXES = ("chroma:", "#")


def _plain(md: dict[Any, Any]) -> bool:
    """The common case, checked fast: unreserved str keys, plain str/int/bool or finite float values."""
    for key, value in md.items():
        kind = type(value)
        if kind is float:
            if not math.isfinite(value):
                return False
        elif kind not in _PLAIN_TYPES:
            return False
        elif kind is str and not value.isascii():
            return False  # the slow path checks it for lone surrogates
        if type(key) is not str or key.startswith(_RESERVED_PREFIXES) or not key.isascii():
            return False
    return True


def validate_metadata(md: Any, *, allow_none: bool, where: str = "metadata") -> dict[str, Any] | None:
    """Checks one metadata dict; returns it with numpy scalars converted to Python ones.

    ``allow_none``: in update/upsert a None value deletes the key; in add, None keys are dropped.
    """
    if md is None:
        return None
    if type(md) is dict and md and _plain(md):
        return dict(md)
    if not isinstance(md, Mapping):
        raise InvalidArgumentError(f"Expected {where} to be a dict, got {type(md).__name__}")
    if len(md) == 0 and where == "metadata":
        return None  # as Chroma's server (the JS client sends {}): no metadata, or no change
    if len(md) == 0:
        raise InvalidArgumentError(
            f"Expected {where} to be a non-empty dict (Metadata cannot be empty); pass None instead of an empty "
            "dict for no metadata"
        )
    out: dict[str, Any] = {}
    for key, value in md.items():
        if not isinstance(key, str):
            raise InvalidArgumentError(f"Expected {where} keys to be strings, got {key!r}")
        if key.startswith(_RESERVED_PREFIXES):
            raise InvalidArgumentError(f"{where} key {key!r} is reserved (keys may not start with 'chroma:' or '#')")
        validate_text(key, f"{where} keys")
        if value is None:
            if allow_none:
                out[key] = None
            continue
        sparse = sparse_vector_value(value, f"{where} key {key!r}")
        if sparse is not None:
            out[key] = sparse
            continue
        if isinstance(value, (list, tuple, np.ndarray)):
            items = list(value)
            if not items:
                raise InvalidArgumentError(f"{where} key {key!r}: lists must be non-empty")
            kinds = {_kind(x) for x in items}
            if None in kinds or not all(_scalar_ok(x) for x in items):
                raise InvalidArgumentError(
                    f"{where} key {key!r}: list values must be str, int, float or bool, got {items!r}"
                )
            if len(kinds) != 1:
                raise InvalidArgumentError(
                    f"{where} key {key!r}: list values must all have the same type (str, int, float "
                    f"or bool), got {items!r}"
                )
            for x in items:
                if isinstance(x, str):
                    validate_text(x, f"{where} key {key!r} values")
            out[key] = [_py(x) for x in items]
            continue
        if not _scalar_ok(value):
            raise InvalidArgumentError(
                f"{where} key {key!r}: expected a str, int, float, bool or a list of them, got "
                f"{type(value).__name__} {value!r}"
            )
        if isinstance(value, str):
            validate_text(value, f"{where} key {key!r} value")
        out[key] = _py(value)
    return out if out or where != "metadata" else None


def sparse_vector_value(value: Any, what: str) -> dict[str, Any] | None:
    """A sparse vector metadata value (a ``SparseVector``, or its ``"#type": "sparse_vector"``
    dict as chromadb sends it) in its stored form; None for any other value. Checks it as
    chromadb's SparseVector does: ascending unique non-negative int indices, numeric values."""
    if isinstance(value, Mapping):
        if value.get("#type") != "sparse_vector":
            raise InvalidArgumentError(
                f"{what}: expected a str, int, float, bool, a list of them or a SparseVector, got a dict {value!r}"
            )
        indices, values, labels = value.get("indices"), value.get("values"), value.get("tokens")
    elif hasattr(value, "indices") and hasattr(value, "values") and type(value).__name__ == "SparseVector":
        indices, values, labels = value.indices, value.values, getattr(value, "labels", None)
    else:
        return None
    if not isinstance(indices, (list, tuple, np.ndarray)) or not isinstance(values, (list, tuple, np.ndarray)):
        raise InvalidArgumentError(f"{what}: a sparse vector needs lists of indices and values")
    if len(indices) != len(values):
        raise InvalidArgumentError(
            f"{what}: a sparse vector needs as many values as indices, got {len(indices)} and {len(values)}"
        )
    out_indices: list[int] = []
    for i, index in enumerate(indices):
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)) or index < 0:
            raise InvalidArgumentError(f"{what}: sparse vector indices must be non-negative integers, got {index!r}")
        if out_indices and index <= out_indices[-1]:
            raise InvalidArgumentError(
                f"{what}: sparse vector indices must be sorted in strictly ascending order, "
                f"found indices[{i}]={index} <= indices[{i - 1}]={out_indices[-1]}"
            )
        out_indices.append(int(index))
    out_values: list[float] = []
    for v in values:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number)) or not math.isfinite(v):
            raise InvalidArgumentError(f"{what}: sparse vector values must be finite numbers, got {v!r}")
        out_values.append(float(v))
    out: dict[str, Any] = {"#type": "sparse_vector", "indices": out_indices, "values": out_values}
    if labels is not None:
        if not isinstance(labels, (list, tuple)) or len(labels) != len(out_indices):
            raise InvalidArgumentError(f"{what}: sparse vector tokens must be a list with one per index")
        out["tokens"] = [str(t) for t in labels]
    return out


def _kind(v: Any) -> str | None:
    if isinstance(v, (bool, np.bool_)):
        return "bool"
    if isinstance(v, (int, np.integer)):
        return "int"
    if isinstance(v, (float, np.floating)):
        return "float"
    if isinstance(v, str):
        return "str"
    return None


def _py(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


def validate_metadatas(metadatas: Any, count: int, *, allow_none: bool) -> list[dict[str, Any] | None] | None:
    if metadatas is None:
        return None
    if isinstance(metadatas, Mapping):
        metadatas = [metadatas]
    if not isinstance(metadatas, (list, tuple)):
        raise InvalidArgumentError(f"Expected metadatas to be a list of dicts, got {type(metadatas).__name__}")
    if len(metadatas) != count:
        raise InvalidArgumentError(f"Number of metadatas {len(metadatas)} must match number of ids {count}")
    return [validate_metadata(m, allow_none=allow_none) for m in metadatas]


def validate_strings(values: Any, count: int, what: str) -> list[str | None] | None:
    """documents and uris: a list of str (or None) with one per id."""
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple, np.ndarray)):
        raise InvalidArgumentError(f"Expected {what} to be a list of strings, got {type(values).__name__}")
    values = list(values)
    if len(values) != count:
        raise InvalidArgumentError(f"Number of {what} {len(values)} must match number of ids {count}")
    for v in values:
        if v is not None:
            if not isinstance(v, str):
                raise InvalidArgumentError(f"Expected each of {what} to be a str, got {type(v).__name__} {v!r}")
            if not v.isascii():
                validate_text(v, f"each of {what}")
    return values


CLEARABLE = CLEARABLE_FIELDS


def validate_clear(clear: Any) -> tuple[str, ...]:
    """Fields an update may empty (huedb's modality replacement): a subset of documents, uris."""
    if clear is None:
        return ()
    if isinstance(clear, str) or not isinstance(clear, (list, tuple)) or any(f not in CLEARABLE for f in clear):
        raise InvalidArgumentError(f"Expected clear to be a list drawn from {list(CLEARABLE)}, got {clear!r}")
    return tuple(clear)


def validate_include(include: Any, allowed: Sequence[str], default: Sequence[str]) -> list[str]:
    if include is None:
        return list(default)
    if isinstance(include, str) or not isinstance(include, (list, tuple)):
        raise InvalidArgumentError(f"Expected include to be a list of strings from {list(allowed)}, got {include!r}")
    out: list[str] = []
    for given in include:
        item = getattr(given, "value", given)  # accept enum members
        if not isinstance(item, str) or item not in allowed:
            raise InvalidArgumentError(f"Expected include item to be one of {', '.join(allowed)}, got {item!r}")
        if item not in out:
            out.append(item)
    return out


class NResultsNotPositiveError(InvalidArgumentError, TypeError):
    """n_results <= 0: chromadb raises TypeError here, so code catching either class works."""

    @classmethod
    def name(cls) -> str:  # over HTTP it is chromadb's InvalidArgumentError
        return "InvalidArgumentError"


def validate_n_results(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise InvalidArgumentError(f"Expected n_results to be a positive int, got {n!r}")
    if n <= 0:
        raise NResultsNotPositiveError(
            f"Number of requested results {n}, cannot be negative, or zero. n_results must be a positive int."
        )
    return int(n)


def validate_limit_offset(limit: Any, offset: Any) -> None:
    """Non-negative ints of any size (the store reads one past 2**63-1 as "all" / "none")."""
    for name, v in (("limit", limit), ("offset", offset)):
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise InvalidArgumentError(f"Expected {name} to be a non-negative int, got {v!r}")
