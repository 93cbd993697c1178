"""Paging, projection and grouping of the Search API (``Limit``, ``Select``, ``GroupBy`` with
``MinK``/``MaxK``), plus the Where and Rank expressions under chromadb's module path."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from huedb.execution.expression.rank import (
    Abs,
    Div,
    Exp,
    Knn,
    Log,
    Max,
    Min,
    Mul,
    Rank,
    Rrf,
    Sub,
    Sum,
    Val,
)
from huedb.execution.expression.where import (
    And,
    Contains,
    Eq,
    Gt,
    Gte,
    In,
    K,
    Key,
    Lt,
    Lte,
    Ne,
    Nin,
    NotContains,
    NotRegex,
    Or,
    Regex,
    Where,
    key_name,
)

__all__ = [
    "Abs",
    "Aggregate",
    "And",
    "Contains",
    "Div",
    "Eq",
    "Exp",
    "GroupBy",
    "Gt",
    "Gte",
    "In",
    "K",
    "Key",
    "Knn",
    "Limit",
    "Log",
    "Lt",
    "Lte",
    "Max",
    "MaxK",
    "Min",
    "MinK",
    "Mul",
    "Ne",
    "Nin",
    "NotContains",
    "NotRegex",
    "Or",
    "Rank",
    "Regex",
    "Rrf",
    "Select",
    "Sub",
    "Sum",
    "Val",
    "Where",
]

_SPECIAL = {k.name: k for k in (Key.ID, Key.DOCUMENT, Key.EMBEDDING, Key.METADATA, Key.SCORE)}


def _names(keys: Any) -> list[str]:
    return [key_name(k) for k in (keys if isinstance(keys, (list, tuple)) else [keys])]


@dataclass
class Limit:
    """Skip ``offset`` results, then return at most ``limit`` (None: all)."""

    offset: int = 0
    limit: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"offset": self.offset}
        if self.limit is not None:
            out["limit"] = self.limit
        return out

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Limit:
        if not isinstance(data, dict):
            raise TypeError(f"Expected dict for Limit, got {type(data).__name__}")
        unexpected = set(data) - {"offset", "limit"}
        offset = data.get("offset", 0)
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise TypeError(f"Limit offset must be an integer, got {type(offset).__name__}")
        if offset < 0:
            raise ValueError(f"Limit offset must be non-negative, got {offset}")
        limit = data.get("limit")
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int):
                raise TypeError(f"Limit limit must be an integer, got {type(limit).__name__}")
            if limit <= 0:
                raise ValueError(f"Limit limit must be positive, got {limit}")
        if unexpected:
            raise ValueError(f"Unexpected keys in Limit dict: {unexpected}")
        return Limit(offset=offset, limit=limit)


@dataclass
class Select:
    """Which fields each result carries: ``#document #embedding #metadata #score`` or metadata
    field names (the id always comes back)."""

    keys: set[Key | str] = field(default_factory=set)

    def to_dict(self) -> dict[str, Any]:
        return {"keys": list(dict.fromkeys(key_name(k) for k in self.keys))}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Select:
        if not isinstance(data, dict):
            raise TypeError(f"Expected dict for Select, got {type(data).__name__}")
        keys = data.get("keys", [])
        if not isinstance(keys, (list, tuple, set)):
            raise TypeError(f"Select keys must be a list/tuple/set, got {type(keys).__name__}")
        out: set[Key | str] = set()
        for k in keys:
            if not isinstance(k, str):
                raise TypeError(f"Select key must be a string, got {type(k).__name__}")
            out.add(_SPECIAL.get(k) or Key(k))
        if set(data) - {"keys"}:
            raise ValueError(f"Unexpected keys in Select dict: {set(data) - {'keys'}}")
        return Select(keys=out)


@dataclass
class Aggregate:
    """Which records of each group to keep: ``MinK`` (smallest values first) or ``MaxK``."""

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError("Subclasses must implement to_dict()")

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Aggregate:
        if not isinstance(data, dict):
            raise TypeError(f"Expected dict for Aggregate, got {type(data).__name__}")
        if len(data) != 1:
            what = "cannot be empty" if not data else f"must contain exactly one operator, got {len(data)}"
            raise ValueError(f"Aggregate dict {what}")
        op, arg = next(iter(data.items()))
        if op not in ("$min_k", "$max_k"):
            raise ValueError(f"Unknown aggregate operator: {op}")
        if not isinstance(arg, dict):
            raise TypeError(f"{op} requires a dict, got {type(arg).__name__}")
        for name in ("keys", "k"):
            if name not in arg:
                raise ValueError(f"{op} requires '{name}' field")
        keys, k = arg["keys"], arg["k"]
        if not isinstance(keys, (list, tuple)):
            raise TypeError(f"{op} keys must be a list, got {type(keys).__name__}")
        if not keys:
            raise ValueError(f"{op} keys cannot be empty")
        if isinstance(k, bool) or not isinstance(k, int):
            raise TypeError(f"{op} k must be an integer, got {type(k).__name__}")
        if k <= 0:
            raise ValueError(f"{op} k must be positive, got {k}")
        parsed: list[Key | str] = [Key(x) if isinstance(x, str) else x for x in keys]
        return MinK(keys=parsed, k=k) if op == "$min_k" else MaxK(keys=parsed, k=k)


@dataclass
class MinK(Aggregate):
    """Keep the ``k`` records with the smallest ``keys`` (in order) in each group."""

    keys: Any
    k: int

    def to_dict(self) -> dict[str, Any]:
        return {"$min_k": {"keys": _names(self.keys), "k": self.k}}


@dataclass
class MaxK(Aggregate):
    """Keep the ``k`` records with the largest ``keys`` (in order) in each group."""

    keys: Any
    k: int

    def to_dict(self) -> dict[str, Any]:
        return {"$max_k": {"keys": _names(self.keys), "k": self.k}}


@dataclass
class GroupBy:
    """Group ranked results by metadata ``keys``, keep what ``aggregate`` selects in each group,
    and flatten them back, sorted by score."""

    keys: Any = field(default_factory=list)
    aggregate: Aggregate | None = None

    def to_dict(self) -> dict[str, Any]:
        if not self.keys or self.aggregate is None:
            return {}
        return {"keys": _names(self.keys), "aggregate": self.aggregate.to_dict()}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> GroupBy:
        if not isinstance(data, dict):
            raise TypeError(f"Expected dict for GroupBy, got {type(data).__name__}")
        if not data:
            return GroupBy()
        for name in ("keys", "aggregate"):
            if name not in data:
                raise ValueError(f"GroupBy requires '{name}' field")
        keys, aggregate = data["keys"], data["aggregate"]
        if not isinstance(keys, (list, tuple)):
            raise TypeError(f"GroupBy keys must be a list, got {type(keys).__name__}")
        if not keys:
            raise ValueError("GroupBy keys cannot be empty")
        if not isinstance(aggregate, dict):
            raise TypeError(f"GroupBy aggregate must be a dict, got {type(aggregate).__name__}")
        return GroupBy(
            keys=[Key(x) if isinstance(x, str) else x for x in keys], aggregate=Aggregate.from_dict(aggregate)
        )
