"""Where expressions of the Search API and ``Key``/``K``, the field proxy that builds them.

``Key("x") == 1`` builds ``Eq("x", 1)``; ``&`` and ``|`` combine conditions (flattening
nested ``And``/``Or``). ``to_dict`` gives the JSON chromadb's client sends (always the
explicit ``{"field": {"$op": value}}`` form); ``Where.from_dict`` parses it, including the
``{"field": value}`` shorthand. Special keys: ``#id``, ``#document``, ``#embedding``,
``#metadata``, ``#score``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: operator -> the Where class it builds (filled in below the classes)
_COMPARISONS: dict[str, type[Where]] = {}


@dataclass
class Where:
    """A filter condition; combine with ``&`` (AND) and ``|`` (OR)."""

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError("Subclasses must implement to_dict()")

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Where:
        if not isinstance(data, dict):
            raise TypeError(f"Expected dict for Where, got {type(data).__name__}")
        if not data:
            raise ValueError("Where dict cannot be empty")
        for logical, cls in (("$and", And), ("$or", Or)):
            if logical not in data:
                continue
            items = data[logical]
            if not isinstance(items, list):
                raise TypeError(f"{logical} must be a list, got {type(items).__name__}")
            if not items:
                raise ValueError(f"{logical} requires at least one condition")
            if len(data) > 1:
                raise ValueError(f"{logical} cannot be combined with other fields in the same dict")
            conditions = [Where.from_dict(c) for c in items]
            out = conditions[0]
            for c in conditions[1:]:
                out = (out & c) if cls is And else (out | c)
            return out
        if len(data) != 1:
            raise ValueError(f"Where dict must contain exactly one field, got {len(data)}")
        name, condition = next(iter(data.items()))
        if not isinstance(name, str):
            raise TypeError(f"Field name must be a string, got {type(name).__name__}")
        if not isinstance(condition, dict):
            return Eq(name, condition)
        if len(condition) != 1:
            what = "cannot be empty" if not condition else "must contain exactly one operator"
            raise ValueError(f"Operator dict for field '{name}' {what}")
        op, value = next(iter(condition.items()))
        if op not in _COMPARISONS:
            raise ValueError(f"Unknown operator: {op}")
        if op in ("$in", "$nin") and not isinstance(value, list):
            raise TypeError(f"{op} requires a list, got {type(value).__name__}")
        if op in ("$contains", "$not_contains") and not isinstance(value, (str, int, float, bool)):
            raise TypeError(f"{op} requires a str, int, float, or bool, got {type(value).__name__}")
        if op in ("$regex", "$not_regex") and not isinstance(value, str):
            raise TypeError(f"{op} requires a string pattern, got {type(value).__name__}")
        return _COMPARISONS[op](name, value)  # type: ignore[call-arg]

    def __and__(self, other: Where) -> And:
        left = self.conditions if isinstance(self, And) else [self]
        right = other.conditions if isinstance(other, And) else [other]
        return And(left + right)

    def __or__(self, other: Where) -> Or:
        left = self.conditions if isinstance(self, Or) else [self]
        right = other.conditions if isinstance(other, Or) else [other]
        return Or(left + right)


@dataclass
class And(Where):
    conditions: list[Where]

    def to_dict(self) -> dict[str, Any]:
        return {"$and": [c.to_dict() for c in self.conditions]}


@dataclass
class Or(Where):
    conditions: list[Where]

    def to_dict(self) -> dict[str, Any]:
        return {"$or": [c.to_dict() for c in self.conditions]}


@dataclass
class _Comparison(Where):
    key: str
    value: Any
    op = ""

    def to_dict(self) -> dict[str, Any]:
        return {self.key: {self.op: self.value}}


@dataclass
class Eq(_Comparison):
    op = "$eq"


@dataclass
class Ne(_Comparison):
    op = "$ne"


@dataclass
class Gt(_Comparison):
    op = "$gt"


@dataclass
class Gte(_Comparison):
    op = "$gte"


@dataclass
class Lt(_Comparison):
    op = "$lt"


@dataclass
class Lte(_Comparison):
    op = "$lte"


@dataclass
class In(Where):
    key: str
    values: list[Any]

    def to_dict(self) -> dict[str, Any]:
        return {self.key: {"$in": self.values}}


@dataclass
class Nin(Where):
    key: str
    values: list[Any]

    def to_dict(self) -> dict[str, Any]:
        return {self.key: {"$nin": self.values}}


@dataclass
class Contains(_Comparison):
    """Substring of ``#document``, or membership in an array metadata field."""

    op = "$contains"


@dataclass
class NotContains(_Comparison):
    op = "$not_contains"


@dataclass
class Regex(Where):
    key: str
    pattern: str

    def to_dict(self) -> dict[str, Any]:
        return {self.key: {"$regex": self.pattern}}


@dataclass
class NotRegex(Where):
    key: str
    pattern: str

    def to_dict(self) -> dict[str, Any]:
        return {self.key: {"$not_regex": self.pattern}}


_COMPARISONS.update(
    {
        "$eq": Eq,
        "$ne": Ne,
        "$gt": Gt,
        "$gte": Gte,
        "$lt": Lt,
        "$lte": Lte,
        "$in": In,
        "$nin": Nin,
        "$contains": Contains,
        "$not_contains": NotContains,
        "$regex": Regex,
        "$not_regex": NotRegex,
    }
)


class Key:
    """A field: ``Key("status")`` is a metadata field, ``Key.DOCUMENT`` (``"#document"``),
    ``Key.ID``, ``Key.EMBEDDING``, ``Key.METADATA`` and ``Key.SCORE`` are the special ones.
    Comparison operators build Where conditions."""

    ID: Key
    DOCUMENT: Key
    EMBEDDING: Key
    METADATA: Key
    SCORE: Key

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Key({self.name!r})"

    def __hash__(self) -> int:
        return hash(self.name)

    def __eq__(self, value: Any) -> Eq:  # type: ignore[override]
        return Eq(self.name, value)

    def __ne__(self, value: Any) -> Ne:  # type: ignore[override]
        return Ne(self.name, value)

    def __gt__(self, value: Any) -> Gt:
        return Gt(self.name, value)

    def __ge__(self, value: Any) -> Gte:
        return Gte(self.name, value)

    def __lt__(self, value: Any) -> Lt:
        return Lt(self.name, value)

    def __le__(self, value: Any) -> Lte:
        return Lte(self.name, value)

    def is_in(self, values: list[Any]) -> In:
        return In(self.name, values)

    def not_in(self, values: list[Any]) -> Nin:
        return Nin(self.name, values)

    def regex(self, pattern: str) -> Regex:
        return Regex(self.name, pattern)

    def not_regex(self, pattern: str) -> NotRegex:
        return NotRegex(self.name, pattern)

    def contains(self, value: Any) -> Contains:
        if self.name == "#document" and not isinstance(value, str):
            raise TypeError("$contains on #document requires a string pattern")
        return Contains(self.name, value)

    def not_contains(self, value: Any) -> NotContains:
        if self.name == "#document" and not isinstance(value, str):
            raise TypeError("$not_contains on #document requires a string pattern")
        return NotContains(self.name, value)


Key.ID = Key("#id")
Key.DOCUMENT = Key("#document")
Key.EMBEDDING = Key("#embedding")
Key.METADATA = Key("#metadata")
Key.SCORE = Key("#score")
K = Key


def key_name(key: Key | str) -> str:
    return key.name if isinstance(key, Key) else key
