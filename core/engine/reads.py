"""count, get and query: each in one storage snapshot, and never a write.

A query plans once: a filtered query with few candidates (``huedb.index.
exact_search_limit``) or explicit ids is answered by exact search over the
snapshot's vectors (recall 1.0); anything else asks the collection's index
segment, caught up to the same snapshot, for its nearest neighbours among the
allowed records. Results are then read from the snapshot too, so every id,
document and distance comes from one consistent state.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from huedb.distance import exact_search
from huedb.engine.base import EngineBase
from huedb.errors import InvalidArgumentError
from huedb.index import exact_search_limit
from huedb.index_schema import check_filters
from huedb.requests import validate_get, validate_query
from huedb.storage import ReadTx, Records, StaleRead
from huedb.types import (
    DEFAULT_DATABASE,
    DEFAULT_TENANT,
    RECORD_FIELDS,
    CollectionModel,
    GetResult,
    QueryResult,
)

Labels = tuple[np.ndarray, np.ndarray]  # (labels, distances), each (queries, k)


class ReadEngine(EngineBase):
    def _count(self, collection_id: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE) -> int:
        with self.storage.read() as tx:
            return tx.count_records(self._scoped(tx, collection_id, tenant, database).storage_key)

    def _get(
        self,
        collection_id: str,
        ids: Any = None,
        where: Any = None,
        limit: int | None = None,
        offset: int | None = None,
        where_document: Any = None,
        include: Any = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> GetResult:
        req = validate_get(ids, where, where_document, limit, offset, include)
        ids, limit, offset, include = req.ids, req.limit, req.offset, req.include
        where, where_document = req.where, req.where_document  # parsed: storage reuses the trees
        fields = _fields(include)
        with self.storage.read() as tx:
            model = self._scoped(tx, collection_id, tenant, database)
            check_filters(model.schema, where, where_document)
            selection = self.storage.selection(model.storage_key, ids, where, where_document)
            if ids is None:
                found = tx.select_records(selection, fields, limit, offset)
            else:
                # Records come back in the order the ids were asked for.
                found = tx.select_records(selection, fields)
                position = {record_id: i for i, record_id in enumerate(found.ids)}
                order = [position[i] for i in ids if i in position]
                start = offset or 0
                found = found.take(order[start : None if limit is None else start + limit])
        return _get_result(found, fields, include, model.dimension)

    def _query(
        self,
        collection_id: str,
        query_embeddings: Any,
        n_results: int = 10,
        where: Any = None,
        where_document: Any = None,
        include: Any = None,
        ids: Any = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> QueryResult:
        if query_embeddings is None:
            raise InvalidArgumentError("query() needs query_embeddings (or query_texts with an embedding function)")
        req = validate_query(
            query_embeddings, ids=ids, n_results=n_results, where=where, where_document=where_document, include=include
        )
        queries, ids, k, include = req.query_embeddings, req.ids, req.n_results, req.include
        where, where_document = req.where, req.where_document  # parsed: storage reuses the trees
        assert queries is not None
        fields = _fields(include)
        # A backend with a collection cache (PostgreSQL) answers most queries in one round trip;
        # when its cache was stale the query runs again, uncached.
        cached = getattr(self.storage, "read_cached", None)
        if cached is not None:
            try:
                with cached() as tx:
                    return self._query_in(
                        tx, collection_id, tenant, database, queries, k, ids, where, where_document, fields, include
                    )
            except StaleRead:
                pass
        with self.storage.read() as tx:
            return self._query_in(
                tx, collection_id, tenant, database, queries, k, ids, where, where_document, fields, include
            )

    def _query_in(
        self,
        tx: ReadTx,
        collection_id: str,
        tenant: str,
        database: str,
        queries: np.ndarray,
        k: int,
        ids: Any,
        where: Any,
        where_document: Any,
        fields: list[str],
        include: list[str],
    ) -> QueryResult:
        model = self._scoped(tx, collection_id, tenant, database)
        check_filters(model.schema, where, where_document)
        if model.dimension is not None and queries.shape[1] != model.dimension:
            raise InvalidArgumentError(
                f"Collection expecting embedding with dimension of {model.dimension}, got {queries.shape[1]}"
            )
        labels, dists = self._nearest(tx, model, queries, k, ids, where, where_document)
        wanted = np.unique(labels[labels >= 0])
        found = tx.records_by_rids(wanted, fields) if len(wanted) else Records(wanted, [])
        return _query_result(found, labels, dists, fields, include, model.dimension)

    def _nearest(
        self, tx: ReadTx, model: CollectionModel, queries: np.ndarray, k: int, ids: Any, where: Any, where_document: Any
    ) -> Labels:
        """The k nearest labels per query, by the one planning decision."""
        nq = len(queries)
        none = (np.full((nq, 0), -1, dtype=np.int64), np.zeros((nq, 0), dtype=np.float32))
        allowed = None
        if ids is not None or where is not None or where_document is not None:
            selection = self.storage.selection(model.storage_key, ids, where, where_document)
            allowed = tx.matching_rids(selection)
            if len(allowed) == 0:
                return none
        # A backend that searches vectors itself (PostgreSQL: pgvector) has no index segment.
        in_database = getattr(tx, "vector_search", None)
        seg = None if in_database is not None else self.segments.current(model, tx)
        if model.dimension is None or (seg is None and in_database is None):
            return none
        total = seg.index.count() if seg is not None else tx.count_records(model.storage_key)
        # Never more results than candidates: n_results=10**12 must not size an allocation.
        k = max(1, min(k, total if allowed is None else len(allowed)))
        space = model.configuration_json["hnsw"]["space"]
        if allowed is not None and ids is not None:
            present, vectors = tx.vectors_by_rids(allowed)
            return exact_search(queries, vectors, present, k, space)
        if seg is None:  # the backend plans exact or index search itself, without moving vectors out
            assert in_database is not None
            return in_database(model.storage_key, queries, k, allowed, space)
        if allowed is not None and len(allowed) <= exact_search_limit(k, total):
            return self.segments.candidates.nearest(tx, model, allowed, queries, k, space)
        return self.segments.search(seg, lambda ix: ix.query(queries, k, allowed))


def _fields(include: list[str]) -> list[str]:
    return [f for f in RECORD_FIELDS if f in include]


def _columns(found: Records, fields: list[str], dimension: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {f: _or_empty(getattr(found, f)) if f in fields else None for f in RECORD_FIELDS}
    if "embeddings" in fields and len(found) == 0:
        out["embeddings"] = np.zeros((0, dimension or 0), dtype=np.float32)
    return out


def _or_empty(column: Any) -> Any:
    return [] if column is None else column


def _get_result(found: Records, fields: list[str], include: list[str], dimension: int | None) -> GetResult:
    return {"ids": found.ids, **_columns(found, fields, dimension), "data": None, "included": list(include)}  # type: ignore[typeddict-item]


def _query_result(
    found: Records,
    labels: np.ndarray,
    dists: np.ndarray,
    fields: list[str],
    include: list[str],
    dimension: int | None,
) -> QueryResult:
    out: dict[str, Any] = {"ids": []}
    for f in RECORD_FIELDS:
        out[f] = [] if f in fields else None
    out["distances"] = [] if "distances" in include else None
    for row_labels, row_dists in zip(labels, dists):
        # A label missing from the snapshot was written or deleted after it: skip it.
        positions = np.searchsorted(found.rids, row_labels)
        positions = np.minimum(positions, max(len(found.rids) - 1, 0))
        hit = (row_labels >= 0) & (found.rids[positions] == row_labels) if len(found.rids) else row_labels < -1
        row = found.take(positions[hit].tolist())
        out["ids"].append(row.ids)
        columns = _columns(row, fields, dimension)
        for f in RECORD_FIELDS:
            if out[f] is not None:
                out[f].append(columns[f])
        if out["distances"] is not None:
            out["distances"].append(row_dists[hit].astype(float).tolist())
    out["data"] = None
    out["included"] = list(include)
    return out  # type: ignore[return-value]
