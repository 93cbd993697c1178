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
full-text index.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple, Union

from huedb.errors import InvalidArgumentError

# Value types in the meta table: numbers (int and float compare as numbers), strings, booleans.
VT_NUM, VT_STR, VT_BOOL = 0, 1, 2

_SCALAR_OPS = {"$eq": "=", "$ne": "=", "$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_LIST_OPS = {"$in", "$nin"}
_ARRAY_OPS = {"$contains", "$not_contains"}
_DOC_OPS = {"$contains", "$not_contains", "$regex", "$not_regex"}
FTS_MIN_CHARS = 3  # the trigram index answers substrings of 3+ characters


@dataclass(frozen=True)
class Probe:
    """A SELECT of matching record ids (one column, ``rid``)."""

    sql: str
    params: Tuple[Any, ...]


@dataclass(frozen=True)
class Combine:
    """``$and`` (op "and": intersection) or ``$or`` (op "or": union) of rid sets."""

    op: str
    parts: Tuple["RidSet", ...]


RidSet = Union[Probe, Combine]


def vtype_of(value: Any) -> int:
    if isinstance(value, bool):
        return VT_BOOL
    if isinstance(value, (int, float)):
        return VT_NUM
    if isinstance(value, str):
        return VT_STR
    raise InvalidArgumentError(
        f"Expected a filter value of type str, int, float or bool, got {type(value).__name__} {value!r}"
    )


def sql_value(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def compile_where(where: Any, cid: int) -> RidSet:
    """Validates ``where``; returns the rid set it selects. Raises InvalidArgumentError."""
    if not isinstance(where, dict):
        raise InvalidArgumentError(f"Expected where to be a dict, got {type(where).__name__} {where!r}")
    if len(where) == 0:
        raise InvalidArgumentError(
            "Expected where to have exactly one operator or key, got an empty dict {}; pass None for no filter"
        )
    if len(where) > 1:
        raise InvalidArgumentError(
            f"Expected where to have exactly one top-level key, got {len(where)}: {list(where)}. "
            'Combine conditions with {"$and": [{...}, {...}]}'
        )
    key, value = next(iter(where.items()))
    if not isinstance(key, str):
        raise InvalidArgumentError(f"Expected where keys to be strings, got {key!r}")
    if key in ("$and", "$or"):
        if not isinstance(value, list) or len(value) == 0:
            raise InvalidArgumentError(
                f"Expected where value for {key} to be a non-empty list of where expressions, got {value!r}"
            )
        return Combine("and" if key == "$and" else "or", tuple(compile_where(w, cid) for w in value))
    if key.startswith("$"):
        raise InvalidArgumentError(
            f"Unknown where operator {key!r}; expected $and, $or, or a metadata key"
        )
    if isinstance(value, dict):
        if len(value) != 1:
            raise InvalidArgumentError(
                f"Expected operator expression for key {key!r} to have exactly one operator, got {value!r}"
            )
        op, operand = next(iter(value.items()))
    else:
        op, operand = "$eq", value
    return _field(key, op, operand, cid)


_PROBE_SQL = "SELECT rid FROM meta WHERE collection_id=? AND key=? AND vtype=? AND is_list=? AND value {cmp} ?"


def _probe(cid: int, key: str, vtype: int, cmp: str, is_list: int, values: List[Any]) -> Probe:
    """Rows of ``key`` whose value compares with one of ``values`` (several values: a UNION)."""
    sql = " UNION ".join(_PROBE_SQL.format(cmp=cmp) for _ in values)
    params = tuple(p for v in values for p in (cid, key, vtype, is_list, sql_value(v)))
    return Probe(sql, params)


def _signed(negated: bool, cid: int, positive: Probe) -> Probe:
    """The positive probe, or the collection's records EXCEPT it."""
    if not negated:
        return positive
    # The subquery keeps a multi-value (UNION) probe together: compound SELECTs associate left.
    return Probe(
        f"SELECT rid FROM records WHERE collection_id=? EXCEPT SELECT rid FROM ({positive.sql})", (cid, *positive.params)
    )


def _field(key: str, op: str, operand: Any, cid: int) -> Probe:
    if op in _SCALAR_OPS:
        if op in ("$gt", "$gte", "$lt", "$lte"):
            if isinstance(operand, bool) or not isinstance(operand, (int, float)):
                raise InvalidArgumentError(
                    f"Expected operand of {op} on key {key!r} to be an int or float, got {operand!r}"
                )
        vt = vtype_of(operand)
        return _signed(op == "$ne", cid, _probe(cid, key, vt, _SCALAR_OPS[op], 0, [operand]))
    if op in _LIST_OPS:
        if not isinstance(operand, list) or len(operand) == 0:
            raise InvalidArgumentError(
                f"Expected operand of {op} on key {key!r} to be a non-empty list of str, int, float or bool, got {operand!r}"
            )
        kinds = {vtype_of(item) for item in operand}
        if len(kinds) > 1:
            raise InvalidArgumentError(
                f"Expected operand of {op} on key {key!r} to be a list of values of the same type "
                f"(all str, all numbers or all bool), got {operand!r}"
            )
        return _signed(op == "$nin", cid, _probe(cid, key, kinds.pop(), "=", 0, operand))
    if op in _ARRAY_OPS:
        vt = vtype_of(operand)
        return _signed(op == "$not_contains", cid, _probe(cid, key, vt, "=", 1, [operand]))
    raise InvalidArgumentError(
        f"Unknown operator {op!r} for key {key!r}; expected one of "
        "$eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $contains, $not_contains"
    )


def compile_where_document(where_document: Any, cid: int) -> Tuple[str, List[Any]]:
    """Validates ``where_document``; returns (a boolean expression over ``r``, params)."""
    params: List[Any] = []
    return _doc(where_document, cid, params), params


def document_rid_set(where_document: Any) -> Optional[Probe]:
    """A rid set from the trigram index that every match lies in, when there is one
    (a top-level $contains of 3+ characters, or one inside a top-level $and)."""
    op, operand = next(iter(where_document.items()))
    if op == "$contains" and isinstance(operand, str) and len(operand) >= FTS_MIN_CHARS:
        return Probe("SELECT rowid AS rid FROM docs_fts WHERE docs_fts MATCH ?", (fts_phrase(operand),))
    if op == "$and" and isinstance(operand, list):
        for child in operand:
            found = document_rid_set(child) if isinstance(child, dict) and len(child) == 1 else None
            if found:
                return found
    return None


def _doc(wd: Any, cid: int, params: List[Any]) -> str:
    if not isinstance(wd, dict):
        raise InvalidArgumentError(f"Expected where_document to be a dict, got {type(wd).__name__} {wd!r}")
    if len(wd) != 1:
        raise InvalidArgumentError(
            f"Expected where_document to have exactly one operator, got {len(wd)}: {list(wd)}. "
            "Valid operators: $contains, $not_contains, $regex, $not_regex, $and, $or"
        )
    op, operand = next(iter(wd.items()))
    if op in ("$and", "$or"):
        if not isinstance(operand, list) or len(operand) == 0:
            raise InvalidArgumentError(
                f"Expected where_document value for {op} to be a non-empty list of where_document expressions, got {operand!r}"
            )
        parts = [_doc(w, cid, params) for w in operand]
        return "(" + (" AND " if op == "$and" else " OR ").join(parts) + ")"
    if op not in _DOC_OPS:
        raise InvalidArgumentError(
            f"Unknown where_document operator {op!r}; expected $contains, $not_contains, $regex, $not_regex, $and or $or"
        )
    if not isinstance(operand, str) or operand == "":
        raise InvalidArgumentError(f"Expected where_document operand of {op} to be a non-empty string, got {operand!r}")
    if op in ("$contains", "$not_contains"):
        if op == "$contains" and len(operand) >= FTS_MIN_CHARS:
            # The trigram index narrows candidates; instr() makes the match exact and case-sensitive.
            params.extend((fts_phrase(operand), operand))
            return "(r.rid IN (SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?) AND instr(r.document, ?) > 0)"
        params.append(operand)
        if op == "$contains":
            return "(r.document IS NOT NULL AND instr(r.document, ?) > 0)"
        return "(r.document IS NULL OR instr(r.document, ?) = 0)"
    try:
        re.compile(operand)
    except re.error as e:
        raise InvalidArgumentError(f"Invalid regular expression {operand!r} in {op}: {e}") from e
    params.append(operand)
    if op == "$regex":
        return "(r.document IS NOT NULL AND huedb_regexp(?, r.document))"
    return "(r.document IS NULL OR NOT huedb_regexp(?, r.document))"


def fts_phrase(text: str) -> str:
    """A FTS5 phrase literal: the text in double quotes, inner quotes doubled."""
    return '"' + text.replace('"', '""') + '"'
