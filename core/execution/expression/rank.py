"""Rank expressions of the Search API: ``Knn``, ``Val``, arithmetic and ``Rrf``.

Python operators build the tree as chromadb's do (``+`` flattens into one ``Sum``, ``*``
into one ``Mul``, ``-x`` is ``Mul([Val(-1), x])``); ``to_dict`` gives the JSON the client
sends, and ``Rank.from_dict`` parses it. ``Rrf`` has no operator of its own on the wire: it
expands, client side, to ``-(w_1/(k + r_1) + ...)``. Lower scores are better.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from huedb.api.types import SPARSE_VECTOR_TYPE_VALUE, TYPE_KEY, SparseVector
from huedb.execution.expression.where import Key, key_name

Number = Union[int, float]  # noqa: UP007 - used at runtime in isinstance checks


def _rank(value: Rank | Number) -> Rank:
    return Val(value) if isinstance(value, (int, float)) else value


@dataclass
class Rank:
    """A scoring expression; lower scores rank first."""

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError("Subclasses must implement to_dict()")

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Rank:
        if not isinstance(data, dict):
            raise TypeError(f"Expected dict for Rank, got {type(data).__name__}")
        if len(data) != 1:
            raise ValueError(
                "Rank dict cannot be empty"
                if not data
                else f"Rank dict must contain exactly one operator, got {len(data)}"
            )
        op, arg = next(iter(data.items()))
        if op == "$val":
            if not isinstance(arg, (int, float)):
                raise TypeError(f"$val requires a number, got {type(arg).__name__}")
            return Val(arg)
        if op == "$knn":
            return _knn_from_dict(arg)
        if op in ("$sum", "$mul", "$max", "$min"):
            if not isinstance(arg, (list, tuple)):
                raise TypeError(f"{op} requires a list, got {type(arg).__name__}")
            if len(arg) < 2:
                raise ValueError(f"{op} requires at least 2 ranks, got {len(arg)}")
            ranks = [Rank.from_dict(r) for r in arg]
            out = ranks[0]
            for r in ranks[1:]:
                out = {"$sum": out.__add__, "$mul": out.__mul__, "$max": out.max, "$min": out.min}[op](r)
            return out
        if op in ("$sub", "$div"):
            if not isinstance(arg, dict):
                raise TypeError(f"{op} requires a dict with 'left' and 'right', got {type(arg).__name__}")
            if "left" not in arg or "right" not in arg:
                raise ValueError(f"{op} requires 'left' and 'right' fields")
            left, right = Rank.from_dict(arg["left"]), Rank.from_dict(arg["right"])
            return Sub(left, right) if op == "$sub" else Div(left, right)
        if op in ("$abs", "$exp", "$log"):
            if not isinstance(arg, dict):
                raise TypeError(f"{op} requires a rank dict, got {type(arg).__name__}")
            child = Rank.from_dict(arg)
            return Abs(child) if op == "$abs" else Exp(child) if op == "$exp" else Log(child)
        raise ValueError(f"Unknown rank operator: {op}")

    def __add__(self, other: Rank | Number) -> Sum:
        o = _rank(other)
        return Sum((self.ranks if isinstance(self, Sum) else [self]) + (o.ranks if isinstance(o, Sum) else [o]))

    def __radd__(self, other: Number) -> Sum:
        return Val(other) + self

    def __sub__(self, other: Rank | Number) -> Sub:
        return Sub(self, _rank(other))

    def __rsub__(self, other: Number) -> Sub:
        return Sub(Val(other), self)

    def __mul__(self, other: Rank | Number) -> Mul:
        o = _rank(other)
        return Mul((self.ranks if isinstance(self, Mul) else [self]) + (o.ranks if isinstance(o, Mul) else [o]))

    def __rmul__(self, other: Number) -> Mul:
        return Val(other) * self

    def __truediv__(self, other: Rank | Number) -> Div:
        return Div(self, _rank(other))

    def __rtruediv__(self, other: Number) -> Div:
        return Div(Val(other), self)

    def __neg__(self) -> Mul:
        return Mul([Val(-1), self])

    def __abs__(self) -> Abs:
        return Abs(self)

    def abs(self) -> Abs:
        return Abs(self)

    def exp(self) -> Exp:
        return Exp(self)

    def log(self) -> Log:
        return Log(self)

    def max(self, other: Rank | Number) -> Max:
        o = _rank(other)
        return Max((self.ranks if isinstance(self, Max) else [self]) + (o.ranks if isinstance(o, Max) else [o]))

    def min(self, other: Rank | Number) -> Min:
        o = _rank(other)
        return Min((self.ranks if isinstance(self, Min) else [self]) + (o.ranks if isinstance(o, Min) else [o]))


@dataclass
class Abs(Rank):
    rank: Rank

    def to_dict(self) -> dict[str, Any]:
        return {"$abs": self.rank.to_dict()}


@dataclass
class Exp(Rank):
    rank: Rank

    def to_dict(self) -> dict[str, Any]:
        return {"$exp": self.rank.to_dict()}


@dataclass
class Log(Rank):
    rank: Rank

    def to_dict(self) -> dict[str, Any]:
        return {"$log": self.rank.to_dict()}


@dataclass
class Div(Rank):
    left: Rank
    right: Rank

    def to_dict(self) -> dict[str, Any]:
        return {"$div": {"left": self.left.to_dict(), "right": self.right.to_dict()}}


@dataclass
class Sub(Rank):
    left: Rank
    right: Rank

    def to_dict(self) -> dict[str, Any]:
        return {"$sub": {"left": self.left.to_dict(), "right": self.right.to_dict()}}


@dataclass
class Sum(Rank):
    ranks: list[Rank]

    def to_dict(self) -> dict[str, Any]:
        return {"$sum": [r.to_dict() for r in self.ranks]}


@dataclass
class Mul(Rank):
    ranks: list[Rank]

    def to_dict(self) -> dict[str, Any]:
        return {"$mul": [r.to_dict() for r in self.ranks]}


@dataclass
class Max(Rank):
    ranks: list[Rank]

    def to_dict(self) -> dict[str, Any]:
        return {"$max": [r.to_dict() for r in self.ranks]}


@dataclass
class Min(Rank):
    ranks: list[Rank]

    def to_dict(self) -> dict[str, Any]:
        return {"$min": [r.to_dict() for r in self.ranks]}


@dataclass
class Val(Rank):
    """A constant score."""

    value: float

    def to_dict(self) -> dict[str, Any]:
        return {"$val": self.value}


@dataclass
class Knn(Rank):
    """Nearest neighbours of ``query`` under ``key``: its ``limit`` best records score their
    distance (or, with ``return_rank``, their 0-based position); a record outside them scores
    ``default``, or is dropped when ``default`` is None. A string query is embedded by the
    collection's embedding function before the search is sent."""

    query: Any
    key: Key | str = "#embedding"
    limit: int = 16
    default: float | None = None
    return_rank: bool = False

    def to_dict(self) -> dict[str, Any]:
        query = self.query
        if isinstance(query, SparseVector):
            query = query.to_dict()
        elif isinstance(query, np.ndarray):
            query = query.tolist()
        out: dict[str, Any] = {"query": query, "key": key_name(self.key), "limit": self.limit}
        if self.default is not None:
            out["default"] = self.default
        if self.return_rank:
            out["return_rank"] = self.return_rank
        return {"$knn": out}


def _knn_from_dict(data: Any) -> Knn:
    if not isinstance(data, dict):
        raise TypeError(f"$knn requires a dict, got {type(data).__name__}")
    if "query" not in data:
        raise ValueError("$knn requires 'query' field")
    query = data["query"]
    if isinstance(query, dict):
        if query.get(TYPE_KEY) != SPARSE_VECTOR_TYPE_VALUE:
            raise ValueError(f"Expected dict with {TYPE_KEY}='{SPARSE_VECTOR_TYPE_VALUE}', got {query}")
        query = SparseVector.from_dict(query)
    elif isinstance(query, (list, tuple, np.ndarray)):
        # as chromadb: a list becomes a float32 array (its embedding normalisation); an array
        # keeps its dtype
        rows = query if isinstance(query, np.ndarray) else np.asarray(query)
        if rows.ndim == 2:
            if len(rows) != 1:
                raise ValueError("$knn requires exactly one query embedding")
            rows = rows[0]
        if rows.ndim != 1 or rows.size == 0 or not np.issubdtype(rows.dtype, np.number):
            raise ValueError("$knn query must be one non-empty list of numbers")
        query = rows if isinstance(query, np.ndarray) else rows.astype(np.float32)
    elif not isinstance(query, str):
        raise TypeError(f"$knn query must be a list, numpy array, or SparseVector dict, got {type(query).__name__}")
    key = data.get("key", "#embedding")
    if not isinstance(key, str):
        raise TypeError(f"$knn key must be a string, got {type(key).__name__}")
    limit = data.get("limit", 16)
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError(f"$knn limit must be an integer, got {type(limit).__name__}")
    if limit <= 0:
        raise ValueError(f"$knn limit must be positive, got {limit}")
    return_rank = data.get("return_rank", False)
    if not isinstance(return_rank, bool):
        raise TypeError(f"$knn return_rank must be a boolean, got {type(return_rank).__name__}")
    return Knn(query=query, key=key, limit=limit, default=data.get("default"), return_rank=return_rank)


@dataclass
class Rrf(Rank):
    """Reciprocal rank fusion: ``-sum(w_i / (k + rank_i))``; give its Knn ``return_rank=True``.
    ``weights`` default to 1.0 each; ``normalize`` scales them to sum to 1."""

    ranks: list[Rank]
    k: int = 60
    weights: list[float] | None = None
    normalize: bool = False

    def expand(self) -> Rank:
        """The arithmetic this Rrf stands for (what is sent)."""
        if not self.ranks:
            raise ValueError("RRF requires at least one rank")
        if self.k <= 0:
            raise ValueError(f"k must be positive, got {self.k}")
        if self.weights is not None:
            if len(self.weights) != len(self.ranks):
                raise ValueError(
                    f"Number of weights ({len(self.weights)}) must match number of ranks ({len(self.ranks)})"
                )
            if any(w < 0.0 for w in self.weights):
                raise ValueError("All weights must be non-negative")
        weights = list(self.weights) if self.weights else [1.0] * len(self.ranks)
        if self.normalize:
            total = sum(weights)
            if total == 0:
                raise ValueError("Sum of weights must be positive when normalize=True")
            weights = [w / total for w in weights]
        terms: list[Rank] = [w / (self.k + r) for w, r in zip(weights, self.ranks)]
        fused = terms[0]
        for t in terms[1:]:
            fused = fused + t
        return -fused

    def to_dict(self) -> dict[str, Any]:
        return self.expand().to_dict()
