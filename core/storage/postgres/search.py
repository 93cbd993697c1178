"""Nearest neighbours in PostgreSQL (pgvector HNSW) and the sparse inverted index.

Dense search orders by pgvector's distance operator over ``embedding::vector(d)``,
the expression of the collection's partial HNSW index; ``hnsw.ef_search`` comes from
the collection's ``ef_search`` (at least k). With an allowed set, pgvector 0.8's
iterative index scan (``strict_order``) keeps scanning until k allowed rows are found.
Distances are Chroma's: l2 squared, ip 1 - a.b, cosine 1 - cos.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from huedb.index import exact_search_limit
from huedb.storage.postgres.schema import SPACE_OPS
from huedb.storage.sparse_query import query_terms

#: pgvector's largest hnsw.ef_search
EF_SEARCH_MAX = 1000


def _to_chroma(distance: np.ndarray, space: str) -> np.ndarray:
    if space == "l2":
        return distance * distance  # <-> is the euclidean distance; Chroma's l2 is its square
    if space == "ip":
        return 1.0 + distance  # <#> is the negated inner product
    return distance  # <=> is already 1 - cos


#: A filter with at most this many candidates is searched exactly even above exact_search_limit:
#: pgvector's filtered index scan can miss a neighbour (filtered 10% recall 0.995-0.9997 in some
#: runs at N=50,000), while exact search over 5,000 candidates inside PostgreSQL cost about what
#: the index scan did (6.9 vs 6.4 ms; docs/benchmarks.md). Filtered recall stays 1.0 up to here.
FILTERED_EXACT_MAX = 20_000


def searched_exactly(k: int, allowed: np.ndarray | None, total: int | None) -> bool:
    """Exact search, in PostgreSQL, ties broken by rid, for a collection of at most
    ``exact_search_limit`` records (as the SQLite backend's exact buffer: its top k is then
    always a prefix of its top k+1, and it needs no index) and for a filter with at most that
    many candidates, or FILTERED_EXACT_MAX (recall 1.0, as on SQLite; the vectors never leave
    the database)."""
    if total is None:
        return False
    limit = exact_search_limit(k, total)
    return total <= limit or (allowed is not None and len(allowed) <= max(limit, FILTERED_EXACT_MAX))


def vector_search(
    conn: Any,
    cid: int,
    queries: np.ndarray,
    k: int,
    allowed: np.ndarray | None,
    space: str,
    exact: bool = False,
    configuration: str | None = None,
    hits: dict[int, tuple] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(labels, distances), each (len(queries), k); -1 labels pad rows with fewer hits.
    ``hits`` gets each hit's (rid, id, document, uri, metadata): the rows the caller reads next,
    fetched by the same statement (one round trip less per query)."""
    nq, dimension = queries.shape
    labels = np.full((nq, k), -1, dtype=np.int64)
    dists = np.full((nq, k), np.inf, dtype=np.float32)
    settings = None
    if not exact:  # the HNSW index answers: its settings, for this transaction only
        if configuration is None:
            row = conn.execute("SELECT configuration FROM collections WHERE cid = %s", (cid,)).fetchone()
            configuration = row[0] if row else "{}"
        settings = str(ef_search(configuration, k))
    sql, params = _statement(cid, dimension, k, space, exact, allowed)
    cursors = []
    with conn.pipeline():  # the settings and every query vector's statement: one round trip
        if settings is not None:
            conn.execute(
                "SELECT set_config('hnsw.ef_search', %s, true), "
                "set_config('hnsw.iterative_scan', 'strict_order', true)",
                (settings,),
            )
        for query in np.ascontiguousarray(queries, dtype=np.float32):
            cursors.append(conn.cursor(binary=True))
            cursors[-1].execute(sql, (query, *params, query))
    for i, cur in enumerate(cursors):
        _take(cur.fetchall(), i, labels, dists, space, hits)
    return labels, dists


def _statement(
    cid: int, dimension: int, k: int, space: str, exact: bool, allowed: np.ndarray | None, q: str = "%s"
) -> tuple[str, tuple[Any, ...]]:
    """The search's SQL, and its parameters between the two query vectors (placeholder ``q``)."""
    _, op = SPACE_OPS[space]
    # cid and dimension are inlined (ints) so the planner matches the partial index's predicate.
    expr = f"embedding::vector({int(dimension)})"
    where = f"collection_id = {int(cid)}"
    params: tuple[Any, ...] = ()
    if allowed is not None:
        where += " AND rid = ANY(%s::bigint[])"
        params = (np.asarray(allowed, dtype=np.int64).tolist(),)
    order = f"{expr} {op} {q}"
    if exact:
        # Over the uncast column, which the HNSW index (on the cast expression) cannot order by:
        # the planner must compute every candidate's distance (with ", rid" alone it could still
        # take the index and sort ties incrementally, which is approximate).
        expr = "embedding"
        order = f"embedding {op} {q}, rid"
    sql = (
        f"SELECT rid, {expr} {op} {q} AS d, id, document, uri, metadata FROM records WHERE {where} "
        f"ORDER BY {order} LIMIT {int(k)}"
    )
    return sql, params


def _take(
    rows: list[tuple], i: int, labels: np.ndarray, dists: np.ndarray, space: str, hits: dict[int, tuple] | None
) -> None:
    if rows:
        if hits is not None:
            hits.update((r[0], (r[0], *r[2:])) for r in rows)
        labels[i, : len(rows)] = [r[0] for r in rows]
        dists[i, : len(rows)] = _to_chroma(np.array([r[1] for r in rows], dtype=np.float64), space)


@functools.lru_cache(maxsize=256)
def ef_search(configuration: str, k: int) -> int:
    """hnsw.ef_search for k results in a collection of this configuration (JSON)."""
    ef = int((json.loads(configuration).get("hnsw") or {}).get("ef_search", 100))
    return min(max(ef, k), EF_SEARCH_MAX)


def session_settings(conn: Any, ef: int) -> None:
    """The search settings of an autocommit connection's session, sent only when they change:
    a statement outside a transaction block cannot SET LOCAL (a transaction's SET LOCAL still
    overrides them, and they survive its rollback)."""
    if getattr(conn, "_huedb_ef_search", None) != ef:
        conn.execute(
            "SELECT set_config('hnsw.ef_search', %s, false), set_config('hnsw.iterative_scan', 'strict_order', false)",
            (str(ef),),
        )
        conn._huedb_ef_search = ef


@functools.lru_cache(maxsize=1024)
def _checked_statement(cid: int, dimension: int, k: int, space: str, exact: bool) -> str:
    sql, _ = _statement(cid, dimension, k, space, exact, None, q="%(q)s")  # one vector sent, used twice
    return (
        "(SELECT record_count, NULL::float8, xmin::text, NULL::text, NULL::text, NULL::text FROM collections "
        f"WHERE cid = {int(cid)}) UNION ALL ({sql})"
    )


def checked_search(
    conn: Any, cid: int, query: np.ndarray, k: int, space: str, exact: bool, token: str, hits: dict[int, tuple]
) -> tuple[np.ndarray, np.ndarray] | None:
    """One query as one autocommit statement that also reads the collection row's token (its
    xmin: every write and catalog change makes a new row version) in the same snapshot: None when
    the token is not ``token`` (the collection changed, or is gone), else (labels, distances)."""
    sql = _checked_statement(cid, len(query), k, space, exact)
    with conn.cursor(binary=True) as cur:
        rows = cur.execute(sql, {"q": np.ascontiguousarray(query, dtype=np.float32)}).fetchall()
    if [r[2] for r in rows if r[1] is None] != [token]:
        return None
    labels = np.full((1, k), -1, dtype=np.int64)
    dists = np.full((1, k), np.inf, dtype=np.float32)
    _take([r for r in rows if r[1] is not None], 0, labels, dists, space, hits)
    return labels, dists


# -- the sparse inverted index -----------------------------------------------------------------
def sparse_knn(
    conn: Any, cid: int, key: str, indices: np.ndarray, values: np.ndarray, limit: int, allowed: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``limit`` dot products, accumulated in PostgreSQL; ties: lower rid first."""
    term_array, weight_array = query_terms(indices, values)
    terms, weights = term_array.tolist(), weight_array.tolist()
    empty = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    if limit <= 0 or not terms or (allowed is not None and not len(allowed)):
        return empty
    extra, params = "", [cid, key, terms, weights]
    if allowed is not None:
        extra = " AND s.rid = ANY(%s::bigint[])"
        params.append(np.asarray(allowed, dtype=np.int64).tolist())
    rows = conn.execute(
        "SELECT s.rid, sum(s.value * q.w) AS score FROM sparse s "
        "JOIN unnest(%s::bigint[], %s::float8[]) AS q(term, w) ON s.term = q.term "
        f"WHERE s.collection_id = %s AND s.key = %s{extra} GROUP BY s.rid ORDER BY score DESC, s.rid LIMIT %s",
        (terms, weights, cid, key, *params[4:], limit),
    ).fetchall()
    return (
        np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
        np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows)),
    )


def sparse_df(conn: Any, cid: int, key: str, indices: np.ndarray) -> np.ndarray:
    terms = np.asarray(indices, dtype=np.int64).ravel().tolist()
    rows = conn.execute(
        "SELECT q.term, count(s.rid) FROM unnest(%s::bigint[]) AS q(term) "
        "LEFT JOIN sparse s ON s.collection_id = %s AND s.key = %s AND s.term = q.term GROUP BY q.term",
        (terms, cid, key),
    ).fetchall()
    counts = dict(rows)
    return np.array([counts.get(t, 0) for t in terms], dtype=np.int64)


def sparse_stats(conn: Any, cid: int, key: str) -> tuple[int, float]:
    count, total = conn.execute(
        "SELECT count(*), coalesce(sum(nnz), 0) FROM sparse_docs WHERE collection_id = %s AND key = %s", (cid, key)
    ).fetchone()
    return int(count), (float(total) / count if count else 0.0)


def sparse_keys(conn: Any, cid: int, keys: Sequence[str]) -> list[str]:
    found = {
        k
        for (k,) in conn.execute(
            "SELECT DISTINCT key FROM sparse_docs WHERE collection_id = %s AND key = ANY(%s::text[])", (cid, list(keys))
        )
    }
    return [k for k in keys if k in found]
