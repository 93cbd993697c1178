"""Parses and checks a Search API payload (the JSON chromadb's client sends) into a plan.

The engine works on payload dicts, never on ``huedb.execution`` objects (those belong to the
client side), so embedded and REST searches are read by this one parser. Every refusal is an
InvalidArgumentError naming the bad part, as ``searches[0].rank.$sum[1].$knn.limit``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from huedb.errors import InvalidArgumentError

SPECIAL_KEYS = ("#id", "#document", "#embedding", "#metadata", "#score")
READ_LEVELS = ("index_and_wal", "index_only", "index_and_bounded_wal", "IndexAndWal", "IndexOnly")
_NARY = ("$sum", "$mul", "$max", "$min")
_UNARY = ("$abs", "$exp", "$log")
_BINARY = ("$sub", "$div")


@dataclass
class KnnSpec:
    key: str
    dense: np.ndarray | None  # float32 (dimension,)
    sparse: tuple[np.ndarray, np.ndarray] | None  # (int64 indices, float32 values)
    limit: int
    default: float | None
    return_rank: bool
    path: str


#: a rank node: ("$val", float) | ("$knn", KnnSpec) | (op, [children]) | (op, left, right) | (op, child)
RankNode = tuple[Any, ...]


@dataclass
class SearchPlan:
    where: dict[str, Any] | None
    ids: list[str] | None
    rank: RankNode | None
    group_keys: list[str] = field(default_factory=list)
    aggregate: tuple[str, list[str], int] | None = None  # ("$min_k" | "$max_k", keys, k)
    offset: int = 0
    limit: int | None = None
    select: list[str] = field(default_factory=list)


def _bad(path: str, message: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"{path}: {message}")


def _int(value: Any, path: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(path, f"must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise _bad(path, f"must be {'positive' if minimum else 'non-negative'}, got {value}")
    return value


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _bad(path, f"must be a finite number, got {value!r}")
    return float(value)


def _str_list(value: Any, path: str, allow_empty: bool = False) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(path, f"must be a list of strings, got {value!r}")
    if not value and not allow_empty:
        raise _bad(path, "cannot be empty")
    return list(value)


def parse_read_level(value: Any) -> None:
    level = getattr(value, "value", value)
    if level is not None and level not in READ_LEVELS:
        raise _bad("read_level", f"must be one of index_and_wal, index_only, index_and_bounded_wal, got {value!r}")


def parse_searches(searches: Any) -> list[SearchPlan]:
    if not isinstance(searches, list):
        raise _bad("searches", f"must be a list of search payloads, got {type(searches).__name__}")
    return [parse_search(s, f"searches[{i}]") for i, s in enumerate(searches)]


def parse_search(data: Any, path: str = "search") -> SearchPlan:
    if hasattr(data, "to_dict"):  # a huedb/chromadb Search object, from an embedded caller
        data = data.to_dict()
    if not isinstance(data, dict):
        raise _bad(path, f"must be a search payload (object), got {type(data).__name__}")
    unknown = set(data) - {"filter", "where", "rank", "group_by", "limit", "select"}
    if unknown:
        raise _bad(path, f"unknown fields {sorted(unknown)}")
    where, ids = _parse_filter(data.get("filter", data.get("where")), f"{path}.filter")
    rank = None if data.get("rank") is None else _parse_rank(data["rank"], f"{path}.rank")
    plan = SearchPlan(where=where, ids=ids, rank=rank)
    _parse_group_by(plan, data.get("group_by"), f"{path}.group_by")
    limit = data.get("limit") or {}
    if not isinstance(limit, dict) or set(limit) - {"offset", "limit"}:
        raise _bad(f"{path}.limit", f"must be an object with offset and limit, got {limit!r}")
    plan.offset = _int(limit.get("offset") or 0, f"{path}.limit.offset", 0)
    if limit.get("limit") is not None:
        plan.limit = _int(limit["limit"], f"{path}.limit.limit", 0)
    select = data.get("select") or {}
    if not isinstance(select, dict) or set(select) - {"keys"}:
        raise _bad(f"{path}.select", f"must be an object with keys, got {select!r}")
    plan.select = list(dict.fromkeys(_str_list(select.get("keys", []), f"{path}.select.keys", allow_empty=True)))
    return plan


def _parse_filter(value: Any, path: str) -> tuple[dict[str, Any] | None, list[str] | None]:
    if value is None or value == {}:
        return None, None
    if not isinstance(value, dict):
        raise _bad(path, f"must be a where object, got {type(value).__name__}")
    if set(value) <= {"where_clause", "query_ids"}:  # the REST form: {"query_ids": [...], "where_clause": {...}}
        ids = value.get("query_ids")
        where = value.get("where_clause")
        return (None if not where else check_where(where, f"{path}.where_clause")), (
            None if ids is None else _str_list(ids, f"{path}.query_ids", allow_empty=True)
        )
    return check_where(value, path), None


def check_where(node: Any, path: str) -> dict[str, Any]:
    """The where tree in explicit form (``{"k": v}`` becomes ``{"k": {"$eq": v}}``), checked."""
    if not isinstance(node, dict) or len(node) != 1:
        raise _bad(path, f"each where condition must be an object with exactly one key, got {node!r}")
    key, cond = next(iter(node.items()))
    if key in ("$and", "$or"):
        if not isinstance(cond, list) or not cond:
            raise _bad(f"{path}.{key}", "must be a non-empty list of conditions")
        return {key: [check_where(c, f"{path}.{key}[{i}]") for i, c in enumerate(cond)]}
    if not isinstance(cond, dict):
        cond = {"$eq": cond}
    if len(cond) != 1:
        raise _bad(f"{path}.{key}", f"must hold exactly one operator, got {cond!r}")
    op, value = next(iter(cond.items()))
    where = f"{path}.{key}.{op}"
    if key == "#id":
        if op not in ("$eq", "$ne", "$in", "$nin"):
            raise _bad(where, "#id takes $eq, $ne, $in or $nin")
        if (op in ("$in", "$nin") and _str_list(value, where, allow_empty=True) is None) or (
            op in ("$eq", "$ne") and not isinstance(value, str)
        ):
            raise _bad(where, f"#id compares with strings, got {value!r}")
    elif key == "#document":
        if op not in ("$contains", "$not_contains", "$regex", "$not_regex"):
            raise _bad(where, "#document takes $contains, $not_contains, $regex or $not_regex")
        if not isinstance(value, str):
            raise _bad(where, f"must be a string, got {value!r}")
    elif key in SPECIAL_KEYS:
        raise _bad(where, f"{key} cannot be filtered on (filter on #id, #document or a metadata field)")
    elif op in ("$regex", "$not_regex"):
        raise _bad(where, f"{op} applies to #document only, not to the metadata field {key!r}")
    return {key: {op: value}}


def _parse_rank(node: Any, path: str) -> RankNode:
    if not isinstance(node, dict) or len(node) != 1:
        raise _bad(path, f"a rank must be an object with exactly one operator, got {node!r}")
    op, arg = next(iter(node.items()))
    here = f"{path}.{op}"
    if op == "$val":
        return ("$val", _number(arg, here))
    if op == "$knn":
        return ("$knn", _parse_knn(arg, here))
    if op in _NARY:
        if not isinstance(arg, list) or len(arg) < 1:
            raise _bad(here, "must be a non-empty list of ranks")
        return (op, [_parse_rank(r, f"{here}[{i}]") for i, r in enumerate(arg)])
    if op in _BINARY:
        if not isinstance(arg, dict) or set(arg) != {"left", "right"}:
            raise _bad(here, "must be an object with left and right")
        return (op, _parse_rank(arg["left"], f"{here}.left"), _parse_rank(arg["right"], f"{here}.right"))
    if op in _UNARY:
        return (op, _parse_rank(arg, here))
    raise _bad(here, "unknown rank operator (use $knn $val $sum $sub $mul $div $abs $exp $log $max $min)")


def _parse_knn(arg: Any, path: str) -> KnnSpec:
    if not isinstance(arg, dict) or "query" not in arg:
        raise _bad(path, "must be an object with a query")
    unknown = set(arg) - {"query", "key", "limit", "default", "return_rank"}
    if unknown:
        raise _bad(path, f"unknown fields {sorted(unknown)}")
    key = arg.get("key", "#embedding")
    if not isinstance(key, str) or not key:
        raise _bad(f"{path}.key", f"must be a non-empty string, got {key!r}")
    limit = _int(arg.get("limit", 16), f"{path}.limit", 1)
    default = arg.get("default")
    default = None if default is None else _number(default, f"{path}.default")
    return_rank = arg.get("return_rank", False)
    if not isinstance(return_rank, bool):
        raise _bad(f"{path}.return_rank", f"must be a boolean, got {return_rank!r}")
    query = arg["query"]
    dense = sparse = None
    if isinstance(query, str):
        raise _bad(
            f"{path}.query",
            "a text query is embedded by the client (Collection.search does it); send the vector",
        )
    if isinstance(query, dict):
        sparse = _sparse_query(query, f"{path}.query")
    else:
        dense = _dense_query(query, f"{path}.query")
    return KnnSpec(key, dense, sparse, limit, default, return_rank, path)


def _dense_query(query: Any, path: str) -> np.ndarray:
    if isinstance(query, list) and len(query) == 1 and isinstance(query[0], list):
        query = query[0]
    if not isinstance(query, list) or not query:
        raise _bad(path, f"must be a non-empty list of numbers or a sparse vector, got {query!r}")
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in query):
        raise _bad(path, "must hold only numbers")
    vector = np.asarray(query, dtype=np.float32)
    if not np.all(np.isfinite(vector)):
        raise _bad(path, "must hold only finite numbers")
    return vector


def _sparse_query(query: dict[str, Any], path: str) -> tuple[np.ndarray, np.ndarray]:
    if query.get("#type") != "sparse_vector":
        raise _bad(path, "an object query must be a sparse vector ({'#type': 'sparse_vector', ...})")
    indices, values = query.get("indices"), query.get("values")
    if not isinstance(indices, list) or not isinstance(values, list) or len(indices) != len(values):
        raise _bad(path, "a sparse vector needs indices and values lists of the same length")
    if any(isinstance(i, bool) or not isinstance(i, int) or i < 0 for i in indices):
        raise _bad(f"{path}.indices", "must be non-negative integers")
    for i in range(1, len(indices)):
        if indices[i] <= indices[i - 1]:
            raise _bad(
                f"{path}.indices",
                f"must be strictly ascending, found indices[{i}]={indices[i]} <= indices[{i - 1}]={indices[i - 1]}",
            )
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) for v in values):
        raise _bad(f"{path}.values", "must be finite numbers")
    return np.asarray(indices, dtype=np.int64), np.asarray(values, dtype=np.float32)


def _parse_group_by(plan: SearchPlan, value: Any, path: str) -> None:
    if not value:
        return
    if not isinstance(value, dict) or set(value) != {"keys", "aggregate"}:
        raise _bad(path, "must be {} or an object with keys and aggregate")
    plan.group_keys = _str_list(value["keys"], f"{path}.keys")
    for k in plan.group_keys:
        if k in SPECIAL_KEYS:
            raise _bad(f"{path}.keys", f"groups are keyed by metadata fields, not {k}")
    agg = value["aggregate"]
    if not isinstance(agg, dict) or len(agg) != 1 or next(iter(agg)) not in ("$min_k", "$max_k"):
        raise _bad(f"{path}.aggregate", "must be {'$min_k': {...}} or {'$max_k': {...}}")
    op, body = next(iter(agg.items()))
    if not isinstance(body, dict) or set(body) != {"keys", "k"}:
        raise _bad(f"{path}.aggregate.{op}", "must be an object with keys and k")
    keys = _str_list(body["keys"], f"{path}.aggregate.{op}.keys")
    for k in keys:
        if k in SPECIAL_KEYS and k != "#score":
            raise _bad(f"{path}.aggregate.{op}.keys", f"sort by #score or metadata fields, not {k}")
    plan.aggregate = (op, keys, _int(body["k"], f"{path}.aggregate.{op}.k", 1))
    if plan.rank is None:
        raise _bad(path, "group_by needs a rank (as in Chroma): add .rank(Knn(...))")
