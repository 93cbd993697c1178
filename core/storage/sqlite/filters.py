"""``where`` and ``where_document`` trees (``huedb.filters``) compiled to SQLite.

A ``where`` filter compiles to a *rid set*: a tree of probes, each a SELECT
of matching record ids from the covering index ``meta(collection_id, key,
vtype, is_list, value, rid)``, combined by ``$and`` (intersection) and
``$or`` (union). The backend runs each probe and combines the sorted rid
arrays in numpy, which is several times faster than SQLite's INTERSECT.
Negations (``$ne``, ``$nin``, ``$not_contains``) are the collection's records
EXCEPT the positive probe, so records that lack the key match them, as in
Chroma. The rid set drives the record lookup, so a selective filter touches
only the rows it matches.

A ``where_document`` filter compiles to a boolean expression over the alias
``r`` (records), plus, where possible, a narrowing rid set from the trigram
full-text index. ``$regex`` runs as the SQL function ``huedb_regexp`` (RE2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from huedb.filters import (  # noqa: F401 - INT64_MAX and the value kinds are used by the backend
    INT64_MAX,
    NEGATED_OPS,
    VT_BOOL,
    VT_NUM,
    VT_STR,
    AllOf,
    DocumentNode,
    FieldFilter,
    TextFilter,
    WhereNode,
    parse_where,
    parse_where_document,
    regexp,
)
from huedb.storage.sqlite.trigrams import fts_phrase

#: a meta row no user filter can reach (value kinds stop at VT_BOOL): marks a record whose
#: document holds a NUL character, which the trigram index does not see past
VT_MARK, NUL_DOCUMENT_KEY = 3, "#document_has_nul"

_COMPARISONS = {
    "$eq": "=",
    "$ne": "=",
    "$gt": ">",
    "$gte": ">=",
    "$lt": "<",
    "$lte": "<=",
    "$in": "=",
    "$nin": "=",
    "$contains": "=",
    "$not_contains": "=",
}
FTS_MIN_CHARS = 3  # the trigram index answers substrings of 3+ characters

#: $in/$nin lists up to this size compile to a UNION of index probes (the fast path for
#: short lists); longer ones to ``value IN (?, ...)`` in chunks of IN_CHUNK values, because
#: SQLite caps a compound SELECT at 500 terms
UNION_MAX_VALUES, IN_CHUNK = 32, 50_000


@dataclass(frozen=True)
class Probe:
    """A SELECT of matching record ids (one column, ``rid``)."""

    sql: str
    params: tuple[Any, ...]
    #: a trigram-index probe for this substring: its MATCH parameter is planned at run time
    #: (``trigrams.match_expression``) and the caller verifies each row with instr()
    fts_text: str | None = None


@dataclass(frozen=True)
class Combine:
    """``$and`` (op "and": intersection), ``$or`` (op "or": union) of rid sets, or
    op "except": the first part minus the union of the others."""

    op: str
    parts: tuple[RidSet, ...]


RidSet = Probe | Combine


def sql_value(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def compile_where(where: Any, cid: int) -> RidSet:
    """Checks ``where`` and returns the rid set it selects."""
    return where_rid_set(parse_where(where), cid)


def where_rid_set(node: WhereNode, cid: int) -> RidSet:
    if isinstance(node, AllOf):
        return Combine("and" if node.all else "or", tuple(where_rid_set(p, cid) for p in node.parts))
    is_list = 1 if node.op in ("$contains", "$not_contains") else 0
    positive = _probe(cid, node.key, node.kind, _COMPARISONS[node.op], is_list, node.values)
    return _signed(node.op in NEGATED_OPS, cid, positive)


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


# -- where_document ------------------------------------------------------------
def compile_where_document(where_document: Any, cid: int) -> tuple[str, list[Any]]:
    """Checks ``where_document``; returns (a boolean expression over ``r``, params)."""
    return document_predicate(parse_where_document(where_document), cid)


def document_predicate(node: DocumentNode, cid: int) -> tuple[str, list[Any]]:
    params: list[Any] = []
    return _doc(node, cid, params), params


def document_rid_set(node: DocumentNode, cid: int) -> RidSet | None:
    """A rid set that every match lies in, when there is one: the trigram index's rows
    for a top-level $contains of 3+ characters (or one inside a top-level $and), plus
    the records whose document holds a NUL (indexed only up to it)."""
    if isinstance(node, TextFilter):
        if node.op == "$contains" and _fts_usable(node.text):
            return Combine(
                "or",
                (
                    Probe(FTS_PROBE_SQL, (fts_phrase(node.text),), fts_text=node.text),
                    Probe(_NUL_DOCS_SQL, (cid, NUL_DOCUMENT_KEY, VT_MARK)),
                ),
            )
        return None
    if node.all:
        for child in node.parts:
            found = document_rid_set(child, cid)
            if found:
                return found
    return None


FTS_PROBE_SQL = "SELECT rowid AS rid FROM docs_fts WHERE docs_fts MATCH ?"
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


def _doc(node: DocumentNode, cid: int, params: list[Any]) -> str:
    if isinstance(node, AllOf):
        parts = [_doc(p, cid, params) for p in node.parts]
        return _joined(parts, " AND " if node.all else " OR ")  # every term is parenthesised
    op, text = node.op, node.text
    if op in ("$contains", "$not_contains"):
        if op == "$contains" and _fts_usable(text):
            # The trigram index narrows candidates (plus documents holding a NUL, which it
            # sees only up to the NUL); instr() makes the match exact and case-sensitive.
            params.extend((fts_phrase(text), cid, NUL_DOCUMENT_KEY, VT_MARK, text))
            return (
                "(r.rid IN (SELECT rowid FROM docs_fts WHERE docs_fts MATCH ? "
                f"UNION ALL {_NUL_DOCS_SQL}) AND instr(r.document, ?) > 0)"
            )
        params.append(text)
        if op == "$contains":
            return "(r.document IS NOT NULL AND instr(r.document, ?) > 0)"
        return "(r.document IS NULL OR instr(r.document, ?) = 0)"
    params.append(text)
    if op == "$regex":
        return "(r.document IS NOT NULL AND huedb_regexp(?, r.document))"
    return "(r.document IS NULL OR NOT huedb_regexp(?, r.document))"
