"""A plain reference model of Chroma's Search semantics (python + numpy, float32), for the
random-plan tests: it evaluates a Search payload (``Search.to_dict()``) over an in-memory
list of records, independently of the engine's code."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

F = np.float32


def matches(node: dict[str, Any], rec: dict[str, Any]) -> bool:
    key, cond = next(iter(node.items()))
    if key == "$and":
        return all(matches(c, rec) for c in cond)
    if key == "$or":
        return any(matches(c, rec) for c in cond)
    op, value = next(iter(cond.items()))
    if key == "#id":
        return (rec["id"] in value) if op == "$in" else (rec["id"] not in value)
    if key == "#document":
        return (value in rec["document"]) == (op == "$contains")
    v = rec["metadata"].get(key)
    return {
        "$eq": lambda: v == value,
        "$ne": lambda: v != value,
        "$gt": lambda: v > value,
        "$gte": lambda: v >= value,
        "$lt": lambda: v < value,
        "$lte": lambda: v <= value,
        "$in": lambda: v in value,
        "$nin": lambda: v not in value,
    }[op]()


def knn(spec: dict[str, Any], records: list[dict[str, Any]], allowed: list[int]) -> list[tuple[int, F]]:
    """(index, measure) best first: squared L2 for dense, 1 - dot for sparse (overlap only)."""
    q = spec["query"]
    scored = []
    if isinstance(q, dict):
        query = dict(zip(q["indices"], q["values"]))
        for i in allowed:
            sv = records[i]["metadata"].get(spec["key"])
            if sv is None or not set(sv.indices) & set(query):
                continue
            dot = sum(F(query[j]) * F(x) for j, x in zip(sv.indices, sv.values) if j in query)
            scored.append((-float(dot), i, F(1) - F(dot)))
    else:
        qv = np.asarray(q, dtype=F)
        for i in allowed:
            d = records[i]["embedding"] - qv
            dist = F(np.dot(d, d))
            scored.append((float(dist), i, dist))
    scored.sort()
    return [(i, m) for _, i, m in scored[: spec.get("limit", 16)]]


class Dom:
    def __init__(self, support: dict[int, F], default: F | None) -> None:
        self.support, self.default = support, default


def combine(a: Dom, b: Dom, op: Any) -> Dom:
    if a.default is not None and b.default is not None:
        keys = set(a.support) | set(b.support)
        out = {i: F(op(a.support.get(i, a.default), b.support.get(i, b.default))) for i in keys}
        return Dom(out, F(op(a.default, b.default)))
    if a.default is not None:
        return Dom({i: F(op(a.support.get(i, a.default), v)) for i, v in b.support.items()}, None)
    if b.default is not None:
        return Dom({i: F(op(v, b.support.get(i, b.default))) for i, v in a.support.items()}, None)
    return Dom({i: F(op(v, b.support[i])) for i, v in a.support.items() if i in b.support}, None)


OPS = {
    "$sum": (lambda x, y: F(x) + F(y), 0.0),
    "$mul": (lambda x, y: F(x) * F(y), 1.0),
    "$max": (lambda x, y: np.fmax(F(x), F(y)), float(np.finfo(F).min)),
    "$min": (lambda x, y: np.fmin(F(x), F(y)), float(np.finfo(F).max)),
}


def rank(node: dict[str, Any], records: list[dict[str, Any]], allowed: list[int]) -> Dom:
    op, arg = next(iter(node.items()))
    if op == "$val":
        return Dom({}, F(arg))
    if op == "$knn":
        hits = knn(arg, records, allowed)
        support = {i: (F(pos) if arg.get("return_rank") else m) for pos, (i, m) in enumerate(hits)}
        return Dom(support, None if arg.get("default") is None else F(arg["default"]))
    if op in OPS:
        fn, start = OPS[op]
        out = Dom({}, F(start))
        for child in arg:
            out = combine(out, rank(child, records, allowed), fn)
        return out
    if op in ("$sub", "$div"):
        fn = (lambda x, y: F(x) - F(y)) if op == "$sub" else (lambda x, y: F(x) / F(y))
        return combine(rank(arg["left"], records, allowed), rank(arg["right"], records, allowed), fn)
    child = rank(arg, records, allowed)
    fn1 = {"$abs": abs, "$exp": np.exp, "$log": np.log}[op]
    return Dom(
        {i: F(fn1(F(v))) for i, v in child.support.items()}, None if child.default is None else F(fn1(child.default))
    )


def _sort_key(score: F, i: int) -> tuple[Any, ...]:
    return (1, 0.0, i) if math.isnan(score) else (0, float(score), i)


def _value_key(v: Any) -> tuple[Any, ...]:
    if v is None:
        return (0,)
    if isinstance(v, bool):
        return (1, v)
    if isinstance(v, (int, float)):
        return (2, v)
    return (3, v) if isinstance(v, str) else (4, repr(v))


def evaluate(payload: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    where = payload["filter"]
    allowed = [i for i, r in enumerate(records) if where is None or matches(where, r)]
    if payload["rank"] is None:
        rows: list[tuple[int, F | None]] = [(i, None) for i in allowed]
    else:
        dom = rank(payload["rank"], records, allowed)
        rows = sorted(dom.support.items(), key=lambda kv: _sort_key(kv[1], kv[0]))
        gb = payload["group_by"]
        if gb:
            ((agg, body),) = gb["aggregate"].items()
            groups: dict[Any, list[tuple[int, F]]] = {}
            for i, s in rows:
                groups.setdefault(tuple(_value_key(records[i]["metadata"].get(k)) for k in gb["keys"]), []).append(
                    (i, s)
                )

            def sort_value(row: tuple[int, F]) -> tuple[Any, ...]:
                i, s = row
                return tuple(
                    _value_key(float(s) if k == "#score" else records[i]["metadata"].get(k)) for k in body["keys"]
                )

            kept = []
            for members in groups.values():
                kept += sorted(members, key=sort_value, reverse=agg == "$max_k")[: body["k"]]
            rows = sorted(kept, key=lambda kv: _sort_key(kv[1], kv[0]))
    lim = payload["limit"]
    start = lim.get("offset", 0)
    rows = rows[start : None if lim.get("limit") is None else start + lim["limit"]]
    select = payload["select"]["keys"]
    fields = [k for k in select if not k.startswith("#")]

    def meta(i: int) -> Any:
        md = records[i]["metadata"]
        if "#metadata" not in select:
            md = {k: v for k, v in md.items() if k in fields}
        return md or None

    def score(s: Any) -> Any:
        return None if s is None or not math.isfinite(float(s)) else float(s)

    return {
        "ids": [records[i]["id"] for i, _ in rows],
        "documents": [records[i]["document"] for i, _ in rows] if "#document" in select else None,
        "embeddings": [records[i]["embedding"].tolist() for i, _ in rows] if "#embedding" in select else None,
        "metadatas": [meta(i) for i, _ in rows] if ("#metadata" in select or fields) else None,
        "scores": [score(s) for _, s in rows] if "#score" in select else None,
    }
