"""``where`` and ``where_document``: Chroma's filter grammar, parsed and checked into a small
tree that any storage backend compiles (SQLite: ``huedb.storage.sqlite.filters``).

Nothing here touches storage, so clients check filters with it before embedding.
``$regex`` patterns are RE2 (linear time, no backtracking; close to the Rust ``regex``
crate Chroma uses), compiled once and cached.

Limits (docs/filters.md): filters nest at most ``MAX_DEPTH`` levels, a where_document
has at most ``MAX_DOCUMENT_TERMS`` operators, and integer operands fit in a signed
64-bit integer.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from huedb.errors import InvalidArgumentError

# Value kinds: numbers (int and float compare as numbers), strings, booleans.
VT_NUM, VT_STR, VT_BOOL = 0, 1, 2
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

#: how deep $and/$or may nest in where (deeper filters would exhaust Python's recursion
#: limit) and in where_document (its SQL expression must fit SQLite's parser stack)
MAX_DEPTH, MAX_DOCUMENT_DEPTH = 100, 50
#: operators in one where_document
MAX_DOCUMENT_TERMS = 10_000

SCALAR_OPS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte")
LIST_OPS = ("$in", "$nin")
ARRAY_OPS = ("$contains", "$not_contains")
#: operators that select records *without* a match (records lacking the key match them)
NEGATED_OPS = ("$ne", "$nin", "$not_contains")
DOCUMENT_OPS = ("$contains", "$not_contains", "$regex", "$not_regex")

_show = reprlib.Repr()
_show.maxlevel, _show.maxstring, _show.maxother = 3, 80, 80


def show(value: Any) -> str:
    """A short repr for error messages: safe on huge or deeply nested values."""
    return _show.repr(value)


# -- the tree ---------------------------------------------------------------------
@dataclass(frozen=True)
class FieldFilter:
    """``{key: {op: operand}}``: ``values`` holds one operand, or the list of $in/$nin."""

    key: str
    op: str
    values: tuple[Any, ...]
    kind: int  # VT_NUM, VT_STR or VT_BOOL


@dataclass(frozen=True)
class AllOf:
    """``$and`` (all=True) or ``$or`` (all=False) of filters."""

    all: bool
    parts: tuple[Any, ...]


@dataclass(frozen=True)
class TextFilter:
    """A where_document operator on the document text."""

    op: str
    text: str


WhereNode = FieldFilter | AllOf
DocumentNode = TextFilter | AllOf


# -- where ------------------------------------------------------------------------------
class ParsedWhere(dict):
    """A ``where`` that validation parsed: the dict as given, carrying its tree, so the client,
    the engine and the storage backend parse one filter once. It encodes as the plain dict."""

    tree: WhereNode


class ParsedWhereDocument(dict):
    """A ``where_document`` that validation parsed, carrying its tree (see ParsedWhere)."""

    tree: DocumentNode


def vtype_of(value: Any) -> int:
    if isinstance(value, bool):
        return VT_BOOL
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise InvalidArgumentError(
                f"Expected integer filter values between -2**63 and 2**63-1, got {show(value)}; "
                "pass a float to compare with larger numbers"
            )
        return VT_NUM
    if isinstance(value, float):
        return VT_NUM
    if isinstance(value, str):
        return VT_STR
    raise InvalidArgumentError(
        f"Expected a filter value of type str, int, float or bool, got {type(value).__name__} {show(value)}"
    )


def _too_deep(what: str, limit: int) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"Expected {what} to nest $and/$or at most {limit} levels deep; flatten it "
        "(an $and or $or takes any number of conditions in one list)"
    )


def parse_where(where: Any, depth: int = 0) -> WhereNode:
    """Checks a ``where`` filter and returns its tree; raises InvalidArgumentError."""
    if isinstance(where, ParsedWhere):
        return where.tree
    if depth > MAX_DEPTH:
        raise _too_deep("where", MAX_DEPTH)
    if not isinstance(where, dict):
        raise InvalidArgumentError(f"Expected where to be a dict, got {type(where).__name__} {show(where)}")
    if len(where) == 0:
        raise InvalidArgumentError(
            "Expected where to have exactly one operator or key, got an empty dict {}; pass None for no filter"
        )
    if len(where) > 1:
        raise InvalidArgumentError(
            f"Expected where to have exactly one top-level key, got {len(where)}: {show(list(where))}. "
            'Combine conditions with {"$and": [{...}, {...}]}'
        )
    key, value = next(iter(where.items()))
    if not isinstance(key, str):
        raise InvalidArgumentError(f"Expected where keys to be strings, got {show(key)}")
    if key in ("$and", "$or"):
        if not isinstance(value, list) or len(value) == 0:
            raise InvalidArgumentError(
                f"Expected where value for $and or $or to be a list with at least two where expressions, "
                f"got {show(value)}"
            )
        return AllOf(key == "$and", tuple(parse_where(w, depth + 1) for w in value))
    if key.startswith("$"):
        raise InvalidArgumentError(f"Unknown where operator {show(key)}; expected $and, $or, or a metadata key")
    if isinstance(value, dict):
        if len(value) != 1:
            raise InvalidArgumentError(
                f"Expected operator expression for key {show(key)} to have exactly one operator, got {show(value)}"
            )
        op, operand = next(iter(value.items()))
    else:
        op, operand = "$eq", value
    return _field(key, op, operand)


def _field(key: str, op: Any, operand: Any) -> FieldFilter:
    if op in SCALAR_OPS:
        if op in ("$gt", "$gte", "$lt", "$lte") and (
            isinstance(operand, bool) or not isinstance(operand, (int, float))
        ):
            raise InvalidArgumentError(
                f"Expected operand of {op} on key {show(key)} to be an int or float, got {show(operand)}"
            )
        return FieldFilter(key, op, (operand,), vtype_of(operand))
    if op in LIST_OPS:
        if not isinstance(operand, list) or len(operand) == 0:
            raise InvalidArgumentError(
                f"Expected operand of {op} on key {show(key)} to be a non-empty list of str, int, float or bool, "
                f"got {show(operand)}"
            )
        kinds = {vtype_of(item) for item in operand}
        if len(kinds) > 1:
            raise InvalidArgumentError(
                f"Expected operand of {op} on key {show(key)} to be a list of values of the same type "
                f"(all str, all numbers or all bool), got {show(operand)}"
            )
        return FieldFilter(key, op, tuple(operand), kinds.pop())
    if op in ARRAY_OPS:
        return FieldFilter(key, op, (operand,), vtype_of(operand))
    raise InvalidArgumentError(
        f"Unknown where operator {show(op)} for key {show(key)}; expected one of "
        "$eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $contains, $not_contains"
    )


# -- where_document ---------------------------------------------------------------------
@lru_cache(maxsize=1)
def _re2() -> tuple[Any, Any]:
    """google-re2 and the options every user pattern is compiled with, loaded on the first
    $regex (it is 1.4 MB a process would otherwise carry without ever using it)."""
    import re2

    options = re2.Options()
    options.log_errors = False  # the error goes to the caller, not to stderr
    options.never_capture = True  # only "does it match" is asked: no submatch tracking
    return re2, options


@lru_cache(maxsize=1024)
def compiled_regex(pattern: str) -> Any:
    """The RE2 program of a user pattern, compiled once (cached for per-row matching).

    Raises InvalidArgumentError for a pattern RE2 cannot take (look-around,
    backreferences, repetitions over 1000, text that is not valid Unicode)."""
    re2, options = _re2()
    try:
        return re2.compile(pattern, options)
    except re2.error as e:
        reason = e.args[0].decode("utf-8", "replace") if e.args and isinstance(e.args[0], bytes) else str(e)
        raise InvalidArgumentError(
            f"Regex syntax error: invalid regular expression {show(pattern)}: {reason}. Patterns use the RE2 syntax "
            "(like Rust's regex crate): no look-around, no backreferences, repetition counts up to 1000"
        ) from None
    except UnicodeEncodeError:
        raise InvalidArgumentError(
            f"Invalid regular expression {ascii(pattern)[:80]}: it holds a lone surrogate; "
            "patterns must be valid Unicode"
        ) from None


def regexp(pattern: str, text: str | None) -> bool:
    """Search anywhere in ``text`` (like ``re.search``)."""
    return text is not None and compiled_regex(pattern).search(text) is not None


def parse_where_document(where_document: Any) -> DocumentNode:
    """Checks a ``where_document`` filter and returns its tree; raises InvalidArgumentError."""
    if isinstance(where_document, ParsedWhereDocument):
        return where_document.tree
    return _document(where_document, 0, [MAX_DOCUMENT_TERMS])


def _document(wd: Any, depth: int, budget: list[int]) -> DocumentNode:
    if depth > MAX_DOCUMENT_DEPTH:
        raise _too_deep("where_document", MAX_DOCUMENT_DEPTH)
    budget[0] -= 1
    if budget[0] < 0:
        raise InvalidArgumentError(
            f"Expected where_document to have at most {MAX_DOCUMENT_TERMS} operators; "
            "split the request, or match several alternatives with one $regex"
        )
    if not isinstance(wd, dict):
        raise InvalidArgumentError(f"Expected where_document to be a dict, got {type(wd).__name__} {show(wd)}")
    if len(wd) != 1:
        raise InvalidArgumentError(
            f"Expected where_document to have exactly one operator, got {len(wd)}: {show(list(wd))}. "
            "Valid operators: $contains, $not_contains, $regex, $not_regex, $and, $or"
        )
    op, operand = next(iter(wd.items()))
    if op in ("$and", "$or"):
        if not isinstance(operand, list) or len(operand) == 0:
            raise InvalidArgumentError(
                f"Expected where document value for $and or $or to be a list with at least two where document "
                f"expressions, got {show(operand)}"
            )
        return AllOf(op == "$and", tuple(_document(w, depth + 1, budget) for w in operand))
    if op not in DOCUMENT_OPS:
        raise InvalidArgumentError(
            f"Unknown where document operator {show(op)} in where_document; expected $contains, $not_contains, "
            "$regex, $not_regex, $and or $or"
        )
    if not isinstance(operand, str) or operand == "":
        raise InvalidArgumentError(
            f"Expected where document operand of {op} in where_document to be a non-empty string, got {show(operand)}"
        )
    if op in ("$regex", "$not_regex"):
        compiled_regex(operand)  # checks it now, so a bad pattern fails before any read
    return TextFilter(op, operand)


def _two_or_more(node: Any, noun: str) -> None:
    """chromadb refuses an $and / $or of fewer than two expressions in a request (the engine's own
    filters may have one). Runs on a filter already parsed, so its depth is bounded."""
    if not isinstance(node, dict) or len(node) != 1:
        return
    key, operand = next(iter(node.items()))
    if key in ("$and", "$or"):
        if len(operand) < 2:
            raise InvalidArgumentError(
                f"Expected {noun} value for $and or $or to be a list with at least two {noun} expressions, "
                f"got {show(operand)}; use the one expression by itself"
            )
        for item in operand:
            _two_or_more(item, noun)


def validate_where(where: Any) -> ParsedWhere:
    """Checks a ``where`` filter without reading anything (raises InvalidArgumentError); returns
    it parsed, so that later readers reuse the tree."""
    if isinstance(where, ParsedWhere):
        return where
    tree = parse_where(where)
    _two_or_more(where, "where")
    parsed = ParsedWhere(where)
    parsed.tree = tree
    return parsed


def validate_where_document(where_document: Any) -> ParsedWhereDocument:
    """Checks a ``where_document`` filter without reading anything (raises InvalidArgumentError);
    returns it parsed, so that later readers reuse the tree."""
    if isinstance(where_document, ParsedWhereDocument):
        return where_document
    tree = parse_where_document(where_document)
    _two_or_more(where_document, "where document")
    parsed = ParsedWhereDocument(where_document)
    parsed.tree = tree
    return parsed
