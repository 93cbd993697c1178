"""``where`` and ``where_document`` filters: validated and compiled to SQL in one pass.

A ``where`` filter compiles to a *rid set*: a tree of probes, each a SELECT
of matching record ids from the covering index ``meta(collection_id, key,
vtype, is_list, value, rid)``, combined by ``$and`` (intersection) and
``$or`` (union). The store runs each probe in SQLite and combines the sorted
rid arrays in numpy, which is several times faster than SQLite's INTERSECT.
Negations (``$ne``, ``$nin``, ``$not_contains``) are the collection's records
EXCEPT the positive probe, so records that lack the key match them, as in
Chroma. The rid set drives the record lookup, so a selective filter touches
only the rows it matches.

A ``where_document`` filter compiles to a boolean expression over the alias
``r`` (records), plus, where possible, a narrowing rid set from the trigram
full-text index. ``$regex`` patterns are RE2 (linear time, no backtracking):
compiled once here, cached, and looked up again by the SQLite function.

Limits (docs/filters.md): filters nest at most ``MAX_DEPTH`` levels, a
where_document has at most ``MAX_DOCUMENT_TERMS`` operators, and integer
operands fit in a signed 64-bit integer.
"""

from __future__ import annotations

import reprlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import re2

from huedb.errors import InvalidArgumentError

# Value types in the meta table: numbers (int and float compare as numbers), strings, booleans.
VT_NUM, VT_STR, VT_BOOL = 0, 1, 2
#: a meta row no user filter can reach (vtype_of never yields it): marks a record whose
#: document holds a NUL character, which the trigram index does not see past
VT_MARK, NUL_DOCUMENT_KEY = 3, "#document_has_nul"

_SCALAR_OPS = {"$eq": "=", "$ne": "=", "$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_LIST_OPS = {"$in", "$nin"}
_ARRAY_OPS = {"$contains", "$not_contains"}
_DOC_OPS = {"$contains", "$not_contains", "$regex", "$not_regex"}
FTS_MIN_CHARS = 3  # the trigram index answers substrings of 3+ characters

#: how deep $and/$or may nest in where (deeper filters would exhaust Python's recursion
#: limit) and in where_document (its SQL expression must fit SQLite's parser stack)
MAX_DEPTH, MAX_DOCUMENT_DEPTH = 100, 50
#: operators in one where_document (each is a SQL term with up to two parameters)
MAX_DOCUMENT_TERMS = 10_000
#: $in/$nin lists up to this size compile to a UNION of index probes (the fast path for
#: short lists); longer ones to ``value IN (?, ...)`` in chunks of IN_CHUNK values, because
#: SQLite caps a compound SELECT at 500 terms
UNION_MAX_VALUES, IN_CHUNK = 32, 50_000
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_show = reprlib.Repr()
_show.maxlevel, _show.maxstring, _show.maxother = 3, 80, 80


def show(value: Any) -> str:
    """A short repr for error messages: safe on huge or deeply nested values."""
    return _show.repr(value)


@dataclass(frozen=True)
class Probe:
    """A SELECT of matching record ids (one column, ``rid``)."""

    sql: str
    params: tuple[Any, ...]


@dataclass(frozen=True)
class Combine:
    """``$and`` (op "and": intersection), ``$or`` (op "or": union) of rid sets, or
    op "except": the first part minus the union of the others."""

    op: str
    parts: tuple[RidSet, ...]


RidSet = Probe | Combine


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


def sql_value(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def _too_deep(what: str, limit: int) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"Expected {what} to nest $and/$or at most {limit} levels deep; flatten it "
        "(an $and or $or takes any number of conditions in one list)"
    )


def compile_where(where: Any, cid: int, depth: int = 0) -> RidSet:
    """Validates ``where``; returns the rid set it selects. Raises InvalidArgumentError."""
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
                f"Expected where value for {key} to be a non-empty list of where expressions, got {show(value)}"
            )
        return Combine("and" if key == "$and" else "or", tuple(compile_where(w, cid, depth + 1) for w in value))
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
    return _field(key, op, operand, cid)


_PROBE_SQL = "SELECT rid FROM meta WHERE collection_id=? AND key=? AND vtype=? AND is_list=? AND value {cmp} ?"
_IN_SQL = "SELECT rid FROM meta WHERE collection_id=? AND key=? AND vtype=? AND is_list=? AND value IN ({marks})"


def _probe(cid: int, key: str, vtype: int, cmp: str, is_list: int, values: Sequence[Any]) -> RidSet:
    """Rows of ``key`` whose value compares with one of ``values``: one probe, a UNION of
    probes for a short list, or ``IN`` probes (values bound one by one: exact, also
    for strings holding NUL) for a long one."""
    if len(values) > UNION_MAX_VALUES:
        chunks = tuple(
            Probe(_IN_SQL.format(marks=",".join("?" * len(chunk))), (cid, key, vtype, is_list, *map(sql_value, chunk)))
            for chunk in (values[i : i + IN_CHUNK] for i in range(0, len(values), IN_CHUNK))
        )
        return chunks[0] if len(chunks) == 1 else Combine("or", chunks)
    sql = " UNION ".join(_PROBE_SQL.format(cmp=cmp) for _ in values)
    params = tuple(p for v in values for p in (cid, key, vtype, is_list, sql_value(v)))
    return Probe(sql, params)


def _signed(negated: bool, cid: int, positive: RidSet) -> RidSet:
    """The positive rid set, or the collection's records EXCEPT it."""
    if not negated:
        return positive
    everything = Probe("SELECT rid FROM records WHERE collection_id=?", (cid,))
    if isinstance(positive, Combine):
        return Combine("except", (everything, positive))
    # The subquery keeps a multi-value (UNION) probe together: compound SELECTs associate left.
    return Probe(f"{everything.sql} EXCEPT SELECT rid FROM ({positive.sql})", (cid, *positive.params))


def _field(key: str, op: str, operand: Any, cid: int) -> RidSet:
    if op in _SCALAR_OPS:
        if op in ("$gt", "$gte", "$lt", "$lte"):
            if isinstance(operand, bool) or not isinstance(operand, (int, float)):
                raise InvalidArgumentError(
                    f"Expected operand of {op} on key {show(key)} to be an int or float, got {show(operand)}"
                )
        vt = vtype_of(operand)
        return _signed(op == "$ne", cid, _probe(cid, key, vt, _SCALAR_OPS[op], 0, [operand]))
    if op in _LIST_OPS:
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
        return _signed(op == "$nin", cid, _probe(cid, key, kinds.pop(), "=", 0, operand))
    if op in _ARRAY_OPS:
        vt = vtype_of(operand)
        return _signed(op == "$not_contains", cid, _probe(cid, key, vt, "=", 1, [operand]))
    raise InvalidArgumentError(
        f"Unknown operator {show(op)} for key {show(key)}; expected one of "
        "$eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $contains, $not_contains"
    )


# -- where_document ------------------------------------------------------------
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # the error goes to the caller, not to stderr
_RE2_OPTIONS.never_capture = True  # only "does it match" is asked: no submatch tracking


@lru_cache(maxsize=1024)
def compiled_regex(pattern: str) -> Any:
    """The RE2 program of a user pattern, compiled once (cached for the per-row SQL function).

    Raises InvalidArgumentError for a pattern RE2 cannot take (look-around,
    backreferences, repetitions over 1000, text that is not valid Unicode)."""
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as e:
        reason = e.args[0].decode("utf-8", "replace") if e.args and isinstance(e.args[0], bytes) else str(e)
        raise InvalidArgumentError(
            f"Invalid regular expression {show(pattern)}: {reason}. Patterns use the RE2 syntax "
            "(like Rust's regex crate): no look-around, no backreferences, repetition counts up to 1000"
        ) from None
    except UnicodeEncodeError:
        raise InvalidArgumentError(
            f"Invalid regular expression {ascii(pattern)[:80]}: it holds a lone surrogate; patterns must be valid Unicode"
        ) from None


def compile_where_document(where_document: Any, cid: int) -> tuple[str, list[Any]]:
    """Validates ``where_document``; returns (a boolean expression over ``r``, params)."""
    params: list[Any] = []
    budget = [MAX_DOCUMENT_TERMS]
    return _doc(where_document, cid, params, 0, budget), params


def document_rid_set(where_document: Any, cid: int) -> RidSet | None:
    """A rid set that every match lies in, when there is one: the trigram index's rows
    for a top-level $contains of 3+ characters (or one inside a top-level $and), plus
    the records whose document holds a NUL (indexed only up to it)."""
    op, operand = next(iter(where_document.items()))
    if op == "$contains" and _fts_usable(operand):
        return Combine(
            "or",
            (
                Probe("SELECT rowid AS rid FROM docs_fts WHERE docs_fts MATCH ?", (fts_phrase(operand),)),
                Probe(_NUL_DOCS_SQL, (cid, NUL_DOCUMENT_KEY, VT_MARK)),
            ),
        )
    if op == "$and" and isinstance(operand, list):
        for child in operand:
            found = document_rid_set(child, cid) if isinstance(child, dict) and len(child) == 1 else None
            if found:
                return found
    return None


_NUL_DOCS_SQL = "SELECT rid FROM meta WHERE collection_id=? AND key=? AND vtype=? AND is_list=0"


def _fts_usable(operand: Any) -> bool:
    # FTS5 query syntax ends a phrase at NUL, so such substrings are matched by instr() alone.
    return isinstance(operand, str) and len(operand) >= FTS_MIN_CHARS and "\x00" not in operand


def _joined(parts: list[str], glue: str) -> str:
    """``parts`` joined by AND/OR as a balanced tree: SQLite's parser limits expression
    depth to 1000, and a flat chain of 2,000 terms is 2,000 deep."""
    if len(parts) == 1:
        return parts[0]
    mid = len(parts) // 2
    return "(" + _joined(parts[:mid], glue) + glue + _joined(parts[mid:], glue) + ")"


def _doc(wd: Any, cid: int, params: list[Any], depth: int, budget: list[int]) -> str:
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
                f"Expected where_document value for {op} to be a non-empty list of where_document expressions, "
                f"got {show(operand)}"
            )
        parts = [_doc(w, cid, params, depth + 1, budget) for w in operand]
        return _joined(parts, " AND " if op == "$and" else " OR ")  # every term is parenthesised
    if op not in _DOC_OPS:
        raise InvalidArgumentError(
            f"Unknown where_document operator {show(op)}; expected $contains, $not_contains, $regex, $not_regex, "
            "$and or $or"
        )
    if not isinstance(operand, str) or operand == "":
        raise InvalidArgumentError(
            f"Expected where_document operand of {op} to be a non-empty string, got {show(operand)}"
        )
    if op in ("$contains", "$not_contains"):
        if op == "$contains" and _fts_usable(operand):
            # The trigram index narrows candidates (plus documents holding a NUL, which it
            # sees only up to the NUL); instr() makes the match exact and case-sensitive.
            params.extend((fts_phrase(operand), cid, NUL_DOCUMENT_KEY, VT_MARK, operand))
            return (
                "(r.rid IN (SELECT rowid FROM docs_fts WHERE docs_fts MATCH ? "
                f"UNION ALL {_NUL_DOCS_SQL}) AND instr(r.document, ?) > 0)"
            )
        params.append(operand)
        if op == "$contains":
            return "(r.document IS NOT NULL AND instr(r.document, ?) > 0)"
        return "(r.document IS NULL OR instr(r.document, ?) = 0)"
    compiled_regex(operand)  # validates now, so a bad pattern fails before any read
    params.append(operand)
    if op == "$regex":
        return "(r.document IS NOT NULL AND huedb_regexp(?, r.document))"
    return "(r.document IS NULL OR NOT huedb_regexp(?, r.document))"


def regexp(pattern: str, text: str | None) -> bool:
    """The SQL function ``huedb_regexp``: search anywhere in ``text`` (like ``re.search``)."""
    return text is not None and compiled_regex(pattern).search(text) is not None


def fts_phrase(text: str) -> str:
    """A FTS5 phrase literal: the text in double quotes, inner quotes doubled."""
    return '"' + text.replace('"', '""') + '"'
