"""What a get, query or delete selects in SQLite: rid sets from the filters, run as
index probes and combined in numpy, plus a per-row predicate for the rest."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from huedb.errors import InvalidArgumentError
from huedb.filters import TextFilter, parse_where_document
from huedb.index import sorted_unique
from huedb.storage.sqlite.filters import Combine, Probe, RidSet, compile_where, document_predicate, document_rid_set
from huedb.storage.sqlite.read_cache import ReadCache, Version
from huedb.storage.sqlite.sparse import sparse_keys
from huedb.storage.sqlite.trigrams import match_expression


def ids_param(values: Sequence[Any]) -> str:
    return json.dumps(list(values))


#: the JSON escape of NUL: SQLite's JSON functions (3.40) cut a string at it
_JSON_NUL = "\\u0000"


def id_in(column: str, ids: Sequence[str]) -> tuple[str, tuple[Any, ...]]:
    """``column IN (the ids)`` as SQL and params: one JSON parameter (any batch size),
    or, when an id holds a NUL, which json_each would cut short, each id bound alone."""
    param = ids_param(ids)
    if _JSON_NUL not in param:
        return f"{column} IN (SELECT value FROM json_each(?))", (param,)
    return f"{column} IN ({','.join('?' * len(ids))})", tuple(ids)


@dataclass(frozen=True)
class Selection:
    """What a get/query/delete selects in one collection, validated before any read.

    ``narrowing``: rid sets every match lies in (ids, the where filter, the trigram
    index for a $contains); ``predicate``: a per-row check over alias ``r`` that the
    rid sets cannot answer alone (where_document), with its params.
    """

    cid: int
    narrowing: tuple[RidSet, ...]
    predicate: str | None = None
    predicate_params: tuple[Any, ...] = ()
    #: the metadata keys the where filter names (a key holding sparse vectors is refused)
    where_keys: tuple[str, ...] = ()
    #: the only narrowing is the trigram index's: run it inside the record query as a
    #: subquery (one statement) instead of bringing its rids into numpy and back
    inline: bool = False


def where_keys(where: Any) -> set[str]:
    """Metadata keys a (validated) where filter names."""
    keys: set[str] = set()
    if isinstance(where, dict):
        for key, value in where.items():
            if key in ("$and", "$or") and isinstance(value, list):
                for part in value:
                    keys |= where_keys(part)
            elif isinstance(key, str) and not key.startswith(("$", "#")):
                keys.add(key)
    return keys


def select(cid: int, ids: Sequence[str] | None, where: Any, where_document: Any) -> Selection:
    """Compiles (and so validates) the filters of a get/query/delete."""
    narrowing: list[RidSet] = []
    if ids is not None:
        member, params = id_in("id", ids)
        narrowing.append(Probe(f"SELECT rid FROM records WHERE collection_id=? AND {member}", (cid, *params)))
    if where is not None:
        narrowing.append(compile_where(where, cid))
    predicate, predicate_params = None, ()
    if where_document is not None:
        node = parse_where_document(where_document)
        predicate, doc_params = document_predicate(node, cid)
        fts = document_rid_set(node, cid)
        if fts is not None:
            narrowing.append(fts)
            if isinstance(node, TextFilter):
                # The rid set already holds the trigram index's answer: do not run it again per row.
                predicate, doc_params = "(instr(r.document, ?) > 0)", [node.text]
        predicate_params = tuple(doc_params)
    keys = tuple(sorted(where_keys(where))) if where is not None else ()
    inline = len(narrowing) == 1 and ids is None and where is None and _inline_sql(narrowing[0]) is not None
    return Selection(cid, tuple(narrowing), predicate, predicate_params, keys, inline)


def _inline_sql(node: RidSet, conn: sqlite3.Connection | None = None) -> tuple[str, tuple[Any, ...]] | None:
    """A rid set that is a probe or a union of probes as one SELECT of rids; None otherwise.
    With ``conn``, trigram probes get their planned MATCH expression."""
    parts = [node] if isinstance(node, Probe) else list(node.parts) if node.op == "or" else []
    if not parts or not all(isinstance(p, Probe) for p in parts):
        return None
    probes = [p for p in parts if isinstance(p, Probe)]
    sql = " UNION ".join(f"SELECT rid FROM ({p.sql})" for p in probes)
    return sql, tuple(v for p in probes for v in (_params(conn, p) if conn is not None else p.params))


def _params(conn: sqlite3.Connection, probe: Probe) -> tuple[Any, ...]:
    if probe.fts_text is None:
        return probe.params
    return (match_expression(conn, probe.fts_text),)


#: a rid set whose description (SQL and parameters) is longer than this is not kept: an
#: ``ids`` list or a long ``$in`` is cheap to probe again and would make a long key
CACHED_KEY_MAX = 4096

Memo = tuple[ReadCache, int, Version]  # the cache, the collection's cid and its version


def rid_array(conn: sqlite3.Connection, node: RidSet, memo: Memo | None = None) -> np.ndarray:
    """Sorted, unique rids of a rid set: probes run in SQLite, $and/$or combine in numpy.
    With ``memo`` (the read cache, the collection's cid and its version in this snapshot),
    each part is taken from memory when this version already read it."""
    if memo is None:
        return _run(conn, node, None)
    key = repr(node)  # repr, not the node: True and 1 are equal and hash alike as parameters
    if len(key) > CACHED_KEY_MAX:
        return _run(conn, node, memo)
    cache, cid, version = memo
    (rids,) = cache.arrays(("rids", cid, key), version, lambda: (_run(conn, node, memo),))
    return rids


def _run(conn: sqlite3.Connection, node: RidSet, memo: Memo | None) -> np.ndarray:
    if isinstance(node, Probe):
        # One text value instead of a row per rid: about 3x faster to bring into numpy.
        text = conn.execute(f"SELECT group_concat(rid) FROM ({node.sql})", _params(conn, node)).fetchone()[0]
        rids = np.fromstring(text, dtype=np.int64, sep=",") if text else np.zeros(0, dtype=np.int64)
        return sorted_unique(rids)  # probes of an index on (value, rid) come sorted for one value
    if node.op == "except":
        base, *minus = (rid_array(conn, part, memo) for part in node.parts)
        for rids in minus:
            base = np.setdiff1d(base, rids, assume_unique=True)
        return base
    result: np.ndarray | None = None
    for part in node.parts:
        rids = rid_array(conn, part, memo)
        if result is None:
            result = rids
        elif node.op == "and":
            result = intersect_sorted(result, rids)
        else:
            result = np.union1d(result, rids)
        if node.op == "and" and len(result) == 0:
            break
    assert result is not None  # a Combine has at least one part (callers check)
    return result


def intersect_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection of two sorted unique arrays (binary search of the smaller in the larger)."""
    if len(a) > len(b):
        a, b = b, a
    if len(a) == 0:
        return a
    at = np.minimum(np.searchsorted(b, a), len(b) - 1)
    return a[b[at] == a]


def candidates(conn: sqlite3.Connection, sel: Selection, cache: ReadCache | None = None) -> np.ndarray | None:
    """Sorted rids every match lies in; None when nothing narrows (the whole collection)
    or when the narrowing runs inside the record query (``sel.inline``). With ``cache``,
    rid sets this collection version already read come from memory."""
    if sel.inline:
        return None
    if sel.where_keys:
        _refuse_sparse_keys(conn, sel)
    if not sel.narrowing:
        return None
    node = sel.narrowing[0] if len(sel.narrowing) == 1 else Combine("and", sel.narrowing)
    version = cache.version(conn, sel.cid) if cache is not None else None
    return rid_array(conn, node, None if cache is None or version is None else (cache, sel.cid, version))


def _refuse_sparse_keys(conn: sqlite3.Connection, sel: Selection) -> None:
    bad = sparse_keys(conn, sel.cid, sel.where_keys)
    if bad:
        raise InvalidArgumentError(
            f"Cannot filter on metadata key {bad[0]!r}: it holds sparse vectors, which where filters do not "
            f"support (search them with Knn(query=..., key={bad[0]!r}) instead)"
        )


def matching_rids(conn: sqlite3.Connection, sel: Selection, cache: ReadCache | None = None) -> np.ndarray:
    """Sorted rids of every record the selection matches."""
    found = candidates(conn, sel, cache)
    if found is not None and (sel.predicate is None or len(found) == 0):
        return found  # meta rows and rid probes exist only for live records
    where_sql, params = _where_sql(sel, found, conn)
    return rid_array(conn, Probe(f"SELECT r.rid FROM records r WHERE {where_sql}", tuple(params)))


def _where_sql(
    sel: Selection, found: np.ndarray | None, conn: sqlite3.Connection | None = None
) -> tuple[str, list[Any]]:
    clauses: list[str]
    params: list[Any]
    inline = _inline_sql(sel.narrowing[0], conn) if sel.inline else None
    if inline is not None:
        # The unary + keeps the planner on the subquery's rids (looked up by rowid, in order).
        clauses, params = ["+r.collection_id = ?", f"r.rid IN ({inline[0]})"], [sel.cid, *inline[1]]
    elif found is None:
        clauses, params = ["r.collection_id = ?"], [sel.cid]
    else:
        # The rid list drives the lookup by rowid; the unary + keeps the planner from
        # scanning the whole collection through the (collection_id, ...) indexes instead.
        clauses, params = (
            ["+r.collection_id = ?", "r.rid IN (SELECT value FROM json_each(?))"],
            [sel.cid, ids_param(found.tolist())],
        )
    if sel.predicate is not None:
        clauses.append(sel.predicate)
        params.extend(sel.predicate_params)
    return " AND ".join(clauses), params
