"""``where`` and ``where_document`` trees (``huedb.filters``) compiled to PostgreSQL.

A selection is one boolean expression over the alias ``r`` (records). A ``where``
condition is a semi-join on the metadata rows (``meta``: numbers as ``numeric``,
strings as UTF-8 ``bytea``, booleans as 0/1), negations (``$ne``, ``$nin``,
``$not_contains``) are its ``NOT``, so records lacking the key match them, as in
Chroma. ``$contains`` on documents is a case-sensitive ``LIKE`` that the pg_trgm GIN
index answers (any length).

``$regex`` never runs in PostgreSQL, whose regex engine backtracks: SQL selects a
superset (every regex leaf of the and/or tree taken as true, which only widens a
tree without NOT), and the whole ``where_document`` is then checked exactly in
Python on those rows, with RE2 (linear time).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from huedb.filters import (
    NEGATED_OPS,
    VT_BOOL,
    VT_NUM,
    AllOf,
    DocumentNode,
    TextFilter,
    WhereNode,
    parse_where,
    parse_where_document,
    regexp,
)

_OPERATORS = {"$eq": "=", "$ne": "=", "$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


@dataclass(frozen=True)
class Selection:
    """What a get/query/delete selects: ``sql`` over ``r`` with ``params``; ``doc_check``,
    when set, is the where_document to check exactly (in Python) on the rows SQL selects."""

    cid: int
    sql: str
    params: tuple[Any, ...]
    doc_check: DocumentNode | None = None
    #: the metadata keys the where filter names (a key holding sparse vectors is refused)
    where_keys: tuple[str, ...] = ()


def num(value: Any) -> Any:
    """A number as stored in ``meta.num``: exact (a float by its shortest repr)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def encode(value: Any, kind: int) -> Any:
    return num(value) if kind in (VT_NUM, VT_BOOL) else value.encode("utf-8")


def select(cid: int, ids: Sequence[str] | None, where: Any, where_document: Any) -> Selection:
    """Compiles (and so validates) the filters of a get/query/delete."""
    clauses: list[str] = ["r.collection_id = %s"]
    params: list[Any] = [cid]
    if ids is not None:
        clauses.append("r.id = ANY(%s::text[])")
        params.append([i for i in ids if "\x00" not in i])  # PostgreSQL text holds no NUL: no such id exists
    keys: tuple[str, ...] = ()
    if where is not None:
        tree = parse_where(where)
        clauses.append(_where(tree, cid, params))
        keys = tuple(sorted(k for k in _keys(tree) if "\x00" not in k))  # (no stored key holds a NUL)
    doc_check = None
    if where_document is not None:
        node = parse_where_document(where_document)
        clauses.append(_document(node, params))
        doc_check = node if _has_regex(node) else None
    return Selection(cid, " AND ".join(clauses), tuple(params), doc_check, keys)


def _keys(node: WhereNode) -> set[str]:
    if isinstance(node, AllOf):
        return set().union(*(_keys(p) for p in node.parts))
    return {node.key}


def _where(node: WhereNode, cid: int, params: list[Any]) -> str:
    if isinstance(node, AllOf):
        return "(" + (" AND " if node.all else " OR ").join(_where(p, cid, params) for p in node.parts) + ")"
    if "\x00" in node.key:  # PostgreSQL text holds no NUL: no record has such a key
        return "TRUE" if node.op in NEGATED_OPS else "FALSE"
    column = "str" if node.kind not in (VT_NUM, VT_BOOL) else "num"
    cast = "bytea" if column == "str" else "numeric"
    values = [encode(v, node.kind) for v in node.values]
    params.extend((cid, node.key, node.kind, node.op in ("$contains", "$not_contains")))
    if node.op in ("$in", "$nin"):
        compare = f"m.{column} = ANY(%s::{cast}[])"
        params.append(values)
    else:
        compare = f"m.{column} {_OPERATORS.get(node.op, '=')} %s::{cast}"
        params.append(values[0])
    probe = (
        "r.rid IN (SELECT m.rid FROM meta m WHERE m.collection_id = %s AND m.key = %s "
        f"AND m.vtype = %s AND m.is_list = %s AND {compare})"
    )
    return f"(NOT {probe})" if node.op in NEGATED_OPS else probe


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere (``\\`` escapes %, _ and itself)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _document(node: DocumentNode, params: list[Any]) -> str:
    if isinstance(node, AllOf):
        return "(" + (" AND " if node.all else " OR ").join(_document(p, params) for p in node.parts) + ")"
    op, text = node.op, node.text
    if op in ("$regex", "$not_regex"):
        return "TRUE"  # checked exactly in Python (RE2): see the module docstring
    if "\x00" in text:  # PostgreSQL text holds no NUL, so no document contains one
        return "(r.document IS NOT NULL AND FALSE)" if op == "$contains" else "TRUE"
    params.append(like_pattern(text))
    if op == "$contains":
        return "(r.document LIKE %s)"
    return "(r.document IS NULL OR r.document NOT LIKE %s)"


def _has_regex(node: DocumentNode) -> bool:
    if isinstance(node, AllOf):
        return any(_has_regex(p) for p in node.parts)
    return node.op in ("$regex", "$not_regex")


def document_matches(node: DocumentNode, document: str | None) -> bool:
    """The exact where_document check of one document (RE2 for regexes)."""
    if isinstance(node, AllOf):
        results = (document_matches(p, document) for p in node.parts)
        return all(results) if node.all else any(results)
    assert isinstance(node, TextFilter)
    if node.op == "$contains":
        return document is not None and node.text in document
    if node.op == "$not_contains":
        return document is None or node.text not in document
    if node.op == "$regex":
        return regexp(node.text, document)
    return not regexp(node.text, document)
