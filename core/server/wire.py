"""JSON <-> core types for Chroma's REST API v2.

Request bodies are checked against the spec's shapes here (so the backend only
ever sees well-typed values), then LocalAPI validates their meaning.
Embeddings arrive as lists of numbers or as base64 strings of little-endian
float32 (what Chroma clients send when pre-flight-checks says
``supports_base64_encoding``).
"""
from __future__ import annotations

import base64
import binascii
from typing import Any, Dict, List, Mapping, Optional

import numpy as np

from huedb.api.models import CollectionModel
from huedb.errors import InvalidArgumentError

INCLUDE_VALUES = ("distances", "documents", "embeddings", "metadatas", "uris")


def collection_json(model: CollectionModel) -> Dict[str, Any]:
    """The spec's ``Collection`` object."""
    return {
        "id": model.id,
        "name": model.name,
        "configuration_json": model.configuration_json,
        "metadata": model.metadata,
        "dimension": model.dimension,
        "tenant": model.tenant,
        "database": model.database,
        "log_position": 0,
        "version": model.version,
        "schema": None,
    }


def collection_from_json(data: Mapping[str, Any]) -> CollectionModel:
    return CollectionModel(
        id=str(data["id"]),
        name=data["name"],
        metadata=data.get("metadata"),
        configuration_json=data.get("configuration_json") or {},
        dimension=data.get("dimension"),
        tenant=data["tenant"],
        database=data["database"],
        version=data.get("version") or 0,
    )


# -- body field checks -------------------------------------------------------
def body_object(body: Any) -> Dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidArgumentError(f"Expected the request body to be a JSON object, got {type(body).__name__}")
    return body


def _fail(field: str, expected: str, value: Any) -> InvalidArgumentError:
    return InvalidArgumentError(f"Invalid '{field}': expected {expected}, got {type(value).__name__}")


def opt_str(body: Mapping[str, Any], field: str) -> Optional[str]:
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        raise _fail(field, "a string", value)
    return value


def req_str(body: Mapping[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str):
        raise InvalidArgumentError(f"'{field}' is required and must be a string")
    return value


def opt_bool(body: Mapping[str, Any], field: str, default: bool = False) -> bool:
    value = body.get(field)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _fail(field, "true or false", value)
    return value


def opt_int(body: Mapping[str, Any], field: str, minimum: int = 0) -> Optional[int]:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(field, "an integer", value)
    if value < minimum:
        raise InvalidArgumentError(f"Invalid '{field}': expected an integer >= {minimum}, got {value}")
    return value


def opt_dict(body: Mapping[str, Any], field: str) -> Optional[Dict[str, Any]]:
    value = body.get(field)
    if value is not None and not isinstance(value, dict):
        raise _fail(field, "an object", value)
    return value


def str_list(body: Mapping[str, Any], field: str, required: bool = False) -> Optional[List[str]]:
    value = body.get(field)
    if value is None:
        if required:
            raise InvalidArgumentError(f"'{field}' is required: a list of strings")
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArgumentError(f"Invalid '{field}': expected a list of strings")
    return value


def nullable_str_list(body: Mapping[str, Any], field: str) -> Optional[List[Optional[str]]]:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, list) or not all(v is None or isinstance(v, str) for v in value):
        raise InvalidArgumentError(f"Invalid '{field}': expected a list of strings (or nulls)")
    return value


def metadata_list(body: Mapping[str, Any], field: str = "metadatas") -> Optional[List[Optional[Dict[str, Any]]]]:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, list) or not all(v is None or isinstance(v, dict) for v in value):
        raise InvalidArgumentError(f"Invalid '{field}': expected a list of objects (or nulls)")
    return value


def include_list(body: Mapping[str, Any]) -> Optional[List[str]]:
    value = body.get("include")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArgumentError(f"Invalid 'include': expected a list of {', '.join(INCLUDE_VALUES)}")
    bad = [v for v in value if v not in INCLUDE_VALUES]
    if bad:
        raise InvalidArgumentError(
            f"Invalid 'include' value(s) {bad}: expected any of {', '.join(INCLUDE_VALUES)} "
            "('data' is loaded client side, never requested from the server)"
        )
    return value


def decode_embedding_b64(value: str) -> np.ndarray:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidArgumentError("Invalid base64 embedding: expected base64 of little-endian float32 values") from None
    if len(raw) % 4:
        raise InvalidArgumentError(
            f"Invalid base64 embedding: {len(raw)} bytes is not a whole number of float32 values"
        )
    return np.frombuffer(raw, dtype="<f4")


def embeddings(body: Mapping[str, Any], field: str = "embeddings", required: bool = False) -> Any:
    """Lists of numbers or base64 strings -> a 2-D float32 array (or None)."""
    value = body.get(field)
    if value is None:
        if required:
            raise InvalidArgumentError(f"'{field}' is required: a list of embeddings")
        return None
    if not isinstance(value, list):
        raise InvalidArgumentError(f"Invalid '{field}': expected a list of embeddings (lists of numbers or base64 strings)")
    if not value:
        return np.zeros((0, 0), dtype=np.float32)
    if all(isinstance(v, str) for v in value):
        rows = [decode_embedding_b64(v) for v in value]
        if len({len(r) for r in rows}) != 1:
            raise InvalidArgumentError(f"Invalid '{field}': embeddings have different dimensions")
        return np.stack(rows).astype(np.float32, copy=False)
    if any(v is None for v in value):
        raise InvalidArgumentError(
            f"Invalid '{field}': null embeddings are not supported; send an embedding for every id or omit '{field}'"
        )
    for v in value:
        if not isinstance(v, list) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
            raise InvalidArgumentError(
                f"Invalid '{field}': expected every embedding to be a list of numbers or a base64 string"
            )
    if len({len(v) for v in value}) != 1:
        raise InvalidArgumentError(f"Invalid '{field}': embeddings have different dimensions")
    with np.errstate(over="ignore"):
        arr = np.asarray(value, dtype=np.float64)
        if np.isfinite(arr).all() and (np.abs(arr) > np.finfo(np.float32).max).any():
            raise InvalidArgumentError(f"Invalid '{field}': values exceed the float32 range")
        return arr.astype(np.float32)


# -- results -----------------------------------------------------------------
def _emb_rows(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        return value.tolist()
    return [v.tolist() if isinstance(v, np.ndarray) else v for v in value]


def get_result_json(result: Mapping[str, Any]) -> Dict[str, Any]:
    """The spec's ``GetResponse``."""
    return {
        "ids": result["ids"],
        "embeddings": _emb_rows(result.get("embeddings")),
        "documents": result.get("documents"),
        "uris": result.get("uris"),
        "metadatas": result.get("metadatas"),
        "include": [i for i in result.get("included", []) if i in INCLUDE_VALUES],
    }


def query_result_json(result: Mapping[str, Any]) -> Dict[str, Any]:
    """The spec's ``QueryResponse``."""
    embs = result.get("embeddings")
    return {
        "ids": result["ids"],
        "embeddings": None if embs is None else [_emb_rows(e) for e in embs],
        "documents": result.get("documents"),
        "uris": result.get("uris"),
        "metadatas": result.get("metadatas"),
        "distances": result.get("distances"),
        "include": [i for i in result.get("included", []) if i in INCLUDE_VALUES],
    }


def to_float32_rows(value: Any) -> Optional[np.ndarray]:
    """Client side: JSON rows of floats -> float32 (exact: the server sent float32 values)."""
    if value is None:
        return None
    if len(value) == 0:
        return np.zeros((0, 0), dtype=np.float32)
    return np.asarray(value, dtype=np.float32)


def encode_embeddings_b64(arr: np.ndarray) -> List[str]:
    """Client side: float32 rows -> base64 strings (little-endian), as Chroma clients send."""
    le = np.ascontiguousarray(arr, dtype="<f4")
    return [base64.b64encode(row.tobytes()).decode("ascii") for row in le]
