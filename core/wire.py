"""The wire codec: JSON <-> huedb types for Chroma's REST API v2, for both sides.

The server (``huedb.server``) decodes request bodies and encodes results with it;
the HTTP client (``huedb.api.http_api``) encodes requests and decodes results.
It imports only ``huedb.types``, ``huedb.errors`` and numpy, so the client never
loads the server (or its settings) to speak the protocol.

Request bodies are checked against the spec's shapes here (so the engine only
ever sees well-typed values); ``huedb.requests`` then validates their meaning.
Embeddings travel as lists of numbers or as base64 strings of little-endian
float32 (what Chroma clients send when pre-flight-checks says
``supports_base64_encoding``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import numpy as np

from huedb.errors import InvalidArgumentError
from huedb.index_schema import is_default, normalize, served, stored
from huedb.types import QUERY_INCLUDE, RECORD_FIELDS, CollectionModel, GetResult, QueryResult

#: what ``include`` may name on the wire: ``data`` is loaded client side, never sent
INCLUDE_VALUES: tuple[str, ...] = tuple(i for i in QUERY_INCLUDE if i != "data")
#: the JSON field of an update/upsert request that carries ``clear`` (huedb only, not in Chroma's API)
CLEAR_FIELD = "huedb_clear"


def collection_json(model: CollectionModel) -> dict[str, Any]:
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
        "schema": served(model.schema, model.configuration_json),
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
        schema=_stored_schema(data.get("schema")),
    )


def _stored_schema(schema: Any) -> dict[str, Any] | None:
    """The served schema as the server stores it (None: Chroma's default)."""
    if not isinstance(schema, dict):
        return None
    try:
        full = normalize(schema)
    except InvalidArgumentError:  # a server's schema huedb could not create: kept as it came
        return schema
    return None if is_default(full) else stored(full)


# -- body field checks -------------------------------------------------------
def body_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidArgumentError(f"Expected the request body to be a JSON object, got {type(body).__name__}")
    return body


def _fail(field: str, expected: str, value: Any) -> InvalidArgumentError:
    return InvalidArgumentError(f"Invalid '{field}': expected {expected}, got {type(value).__name__}")


def opt_str(body: Mapping[str, Any], field: str) -> str | None:
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


def opt_int(body: Mapping[str, Any], field: str, minimum: int = 0) -> int | None:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(field, "an integer", value)
    if value < minimum:
        raise InvalidArgumentError(f"Invalid '{field}': expected an integer >= {minimum}, got {value}")
    return value


def opt_dict(body: Mapping[str, Any], field: str) -> dict[str, Any] | None:
    value = body.get(field)
    if value is not None and not isinstance(value, dict):
        raise _fail(field, "an object", value)
    return value


def str_list(body: Mapping[str, Any], field: str, required: bool = False) -> list[str] | None:
    value = body.get(field)
    if value is None:
        if required:
            raise InvalidArgumentError(f"'{field}' is required: a list of strings")
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArgumentError(f"Invalid '{field}': expected a list of strings")
    return value


def required_str_list(body: Mapping[str, Any], field: str) -> list[str]:
    """``str_list`` for a field the request must carry."""
    value = str_list(body, field, required=True)
    assert value is not None  # str_list raises when a required field is missing
    return value


def nullable_str_list(body: Mapping[str, Any], field: str) -> list[str | None] | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, list) or not all(v is None or isinstance(v, str) for v in value):
        raise InvalidArgumentError(f"Invalid '{field}': expected a list of strings (or nulls)")
    return value


def metadata_list(body: Mapping[str, Any], field: str = "metadatas") -> list[dict[str, Any] | None] | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, list) or not all(v is None or isinstance(v, dict) for v in value):
        raise InvalidArgumentError(f"Invalid '{field}': expected a list of objects (or nulls)")
    return value


def include_list(body: Mapping[str, Any]) -> list[str] | None:
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
        raise InvalidArgumentError(
            "Invalid base64 embedding: expected base64 of little-endian float32 values"
        ) from None
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
        raise InvalidArgumentError(
            f"Invalid '{field}': expected a list of embeddings (lists of numbers or base64 strings)"
        )
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


def _wire_include(result: Mapping[str, Any]) -> list[str]:
    return [i for i in result.get("included", []) if i in INCLUDE_VALUES]


def get_result_json(result: Mapping[str, Any]) -> dict[str, Any]:
    """Server side: a GetResult -> the spec's ``GetResponse``."""
    out: dict[str, Any] = {"ids": result["ids"]}
    for f in RECORD_FIELDS:
        out[f] = _emb_rows(result.get(f)) if f == "embeddings" else result.get(f)
    out["include"] = _wire_include(result)
    return out


def query_result_json(result: Mapping[str, Any]) -> dict[str, Any]:
    """Server side: a QueryResult -> the spec's ``QueryResponse``."""
    out: dict[str, Any] = {"ids": result["ids"]}
    for f in RECORD_FIELDS:
        value = result.get(f)
        if f == "embeddings" and value is not None:
            value = [_emb_rows(e) for e in value]
        out[f] = value
    out["distances"] = result.get("distances")
    out["include"] = _wire_include(result)
    return out


def to_float32_rows(value: Any) -> np.ndarray | None:
    """Client side: JSON rows of floats -> a 2-D float32 array (exact: the server sent float32 values)."""
    if value is None:
        return None
    arr = np.asarray(value, dtype=np.float32)
    return arr.reshape(0, 0) if arr.size == 0 and arr.ndim != 2 else arr


def get_result_from_json(data: Mapping[str, Any]) -> GetResult:
    """Client side: the spec's ``GetResponse`` -> a GetResult (embeddings as float32 rows)."""
    return GetResult(
        ids=data["ids"],
        embeddings=to_float32_rows(data.get("embeddings")),
        documents=data.get("documents"),
        uris=data.get("uris"),
        metadatas=_sparse(data.get("metadatas")),
        data=None,
        included=list(data.get("include") or []),
    )


def _sparse(metadatas: Any) -> Any:
    """Client side: sparse vector metadata values (their ``#type`` dicts) as SparseVector objects."""
    from huedb.sparse import decode_sparse_values

    return decode_sparse_values(metadatas)


def query_result_from_json(data: Mapping[str, Any]) -> QueryResult:
    """Client side: the spec's ``QueryResponse`` -> a QueryResult (embeddings as float32 rows per query)."""
    embs = data.get("embeddings")
    return QueryResult(
        ids=data["ids"],
        embeddings=None if embs is None else [to_float32_rows(e) for e in embs],
        documents=data.get("documents"),
        uris=data.get("uris"),
        metadatas=_sparse(data.get("metadatas")),
        distances=data.get("distances"),
        data=None,
        included=list(data.get("include") or []),
    )


def encode_embeddings_b64(arr: np.ndarray) -> list[str]:
    """Client side: float32 rows -> base64 strings (little-endian), as Chroma clients send."""
    le = np.ascontiguousarray(arr, dtype="<f4")
    return [base64.b64encode(row.tobytes()).decode("ascii") for row in le]
