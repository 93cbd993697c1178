"""The Search API in the engine: each search of a batch runs in one storage snapshot.

A search filters (``where``: metadata through the backend's rid sets, ``#document`` as a
where_document, ``#id`` as ids; ``$and``/``$or`` combine them as rid-set intersections and
unions), runs each Knn among the allowed records (dense on the collection's index segment, or
exactly over the snapshot's vectors when few are allowed; sparse through the backend's
inverted index), scores the rank expression (``huedb.engine.search_rank``), groups, pages,
and reads the selected fields of the page from the same snapshot.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from huedb.engine.base import EngineBase
from huedb.engine.search_plan import KnnSpec, SearchPlan, parse_read_level, parse_searches
from huedb.engine.search_rank import Domain, evaluate, group, knn_domain, ranked
from huedb.errors import InvalidArgumentError
from huedb.index import exact_search_limit
from huedb.index_schema import check_filters, sparse_index
from huedb.storage import ReadTx
from huedb.types import DEFAULT_DATABASE, DEFAULT_TENANT, CollectionModel

_EMPTY = np.zeros(0, dtype=np.int64)


class SearchEngine(EngineBase):
    def _search(
        self,
        collection_id: str,
        searches: Any,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
        read_level: Any = None,
    ) -> dict[str, Any]:
        """Runs a batch of search payloads; the result is column-major, one entry per search."""
        parse_read_level(read_level)
        plans = parse_searches(list(searches) if isinstance(searches, tuple) else searches)
        out: dict[str, list[Any]] = {k: [] for k in ("ids", "documents", "embeddings", "metadatas", "scores", "select")}
        for plan in plans:
            with self.storage.read() as tx:
                model = self._scoped(tx, collection_id, tenant, database)
                columns = self._run(tx, model, plan)
            for k, v in columns.items():
                out[k].append(v)
        return out

    # -- one search ----------------------------------------------------------------
    def _run(self, tx: ReadTx, model: CollectionModel, plan: SearchPlan) -> dict[str, Any]:
        cid = model.storage_key
        check_filters(model.schema, plan.where, None)
        allowed = None
        if plan.where is not None or plan.ids is not None:
            allowed = self._allowed(tx, cid, plan)
        if plan.rank is None:
            rids = allowed if allowed is not None else self._all(tx, cid)
            scores: np.ndarray | None = None
        else:
            domain = evaluate(plan.rank, lambda spec: self._knn(tx, model, spec, allowed))
            rids, scores = ranked(domain)
            if plan.aggregate is not None and len(rids):
                found = tx.records_by_rids(np.sort(rids), ["metadatas"])
                by_rid = dict(zip(found.rids.tolist(), found.metadatas or []))
                metadatas = [by_rid.get(r) for r in rids.tolist()]
                rids, scores = group(rids, scores, metadatas, plan.group_keys, plan.aggregate)
        end = None if plan.limit is None else plan.offset + plan.limit
        rids = rids[plan.offset : end]
        if scores is not None:
            scores = scores[plan.offset : end]
        return self._project(tx, rids, scores, plan.select)

    def _all(self, tx: ReadTx, cid: int) -> np.ndarray:
        return tx.matching_rids(self.storage.selection(cid, None, None, None))

    def _allowed(self, tx: ReadTx, cid: int, plan: SearchPlan) -> np.ndarray:
        rids = None
        if plan.ids is not None:
            rids = tx.matching_rids(self.storage.selection(cid, plan.ids, None, None))
        if plan.where is not None:
            found = self._where_rids(tx, cid, plan.where)
            rids = found if rids is None else np.intersect1d(rids, found)
        assert rids is not None
        return rids

    def _where_rids(self, tx: ReadTx, cid: int, node: dict[str, Any]) -> np.ndarray:
        """Sorted rids matching one (checked) where node."""
        key, cond = next(iter(node.items()))
        if key in ("$and", "$or"):
            parts = [self._where_rids(tx, cid, c) for c in cond]
            out = parts[0]
            for p in parts[1:]:
                out = np.intersect1d(out, p) if key == "$and" else np.union1d(out, p)
            return out
        op, value = next(iter(cond.items()))
        if key == "#id":
            ids = [value] if op in ("$eq", "$ne") else list(value)
            hit = tx.matching_rids(self.storage.selection(cid, ids, None, None)) if ids else _EMPTY
            return hit if op in ("$eq", "$in") else np.setdiff1d(self._all(tx, cid), hit)
        if key == "#document":
            return tx.matching_rids(self.storage.selection(cid, None, None, {op: value}))
        return tx.matching_rids(self.storage.selection(cid, None, node, None))

    # -- Knn ---------------------------------------------------------------------
    def _knn(self, tx: ReadTx, model: CollectionModel, spec: KnnSpec, allowed: np.ndarray | None) -> Domain:
        if spec.sparse is not None:
            rids, measures = self._sparse_knn(tx, model, spec, allowed)
        else:
            rids, measures = self._dense_knn(tx, model, spec, allowed)
        return knn_domain(rids, measures, spec.default, spec.return_rank)

    def _dense_knn(
        self, tx: ReadTx, model: CollectionModel, spec: KnnSpec, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        assert spec.dense is not None
        if spec.key != "#embedding":
            raise InvalidArgumentError(
                f"{spec.path}.key: a dense query searches #embedding, the only dense vector index; "
                f"{spec.key!r} has none (a metadata key takes a sparse vector query)"
            )
        none = (_EMPTY, np.zeros(0, dtype=np.float32))
        if model.dimension is not None and len(spec.dense) != model.dimension:
            raise InvalidArgumentError(
                f"{spec.path}.query: dimension mismatch, the collection's embeddings have "
                f"{model.dimension} dimensions, the query has {len(spec.dense)}"
            )
        if allowed is not None and len(allowed) == 0:
            return none
        # A backend that searches vectors itself (PostgreSQL: pgvector) has no index segment.
        in_database = getattr(tx, "vector_search", None)
        seg = None if in_database is not None else self.segments.current(model, tx)
        if model.dimension is None or (seg is None and in_database is None):
            return none
        total = seg.index.count() if seg is not None else tx.count_records(model.storage_key)
        k = min(spec.limit, total if allowed is None else len(allowed))
        if k <= 0:
            return none
        space = model.configuration_json["hnsw"]["space"]
        query = spec.dense[None, :]
        if in_database is not None:  # the backend plans exact or index search itself
            labels, dists = in_database(model.storage_key, query, k, allowed, space)
        elif allowed is not None and len(allowed) <= exact_search_limit(k, total):
            labels, dists = self.segments.candidates.nearest(tx, model, allowed, query, k, space)
        else:
            assert seg is not None
            labels, dists = self.segments.search(seg, lambda ix: ix.query(query, k, allowed))
        keep = labels[0] >= 0
        return labels[0][keep].astype(np.int64), dists[0][keep]

    def _sparse_knn(
        self, tx: ReadTx, model: CollectionModel, spec: KnnSpec, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        assert spec.sparse is not None
        if spec.key.startswith("#"):
            raise InvalidArgumentError(
                f"{spec.path}.key: a sparse vector query searches a metadata key holding sparse vectors, not {spec.key}"
            )
        cid = model.storage_key
        index = sparse_index(model.schema)
        declared = index is not None and index[0] == spec.key
        if not declared and not tx.sparse_keys(cid, [spec.key]):
            raise InvalidArgumentError(
                f"{spec.path}.key: no sparse vector index on {spec.key!r}: the schema declares none and no "
                "record holds a sparse vector there"
            )
        if allowed is not None and len(allowed) == 0:
            return _EMPTY, np.zeros(0, dtype=np.float32)
        indices, values = spec.sparse
        if declared and index is not None and index[1].get("bm25"):
            values = values * bm25_idf(tx, cid, spec.key, indices)
        rids, dots = tx.sparse_knn(cid, spec.key, indices, values, spec.limit, allowed)
        # Chroma's sparse Knn measure: 1 - query . document (lower is better).
        return np.asarray(rids, dtype=np.int64), np.float32(1.0) - np.asarray(dots, dtype=np.float32)

    # -- projection ----------------------------------------------------------------
    def _project(self, tx: ReadTx, rids: np.ndarray, scores: np.ndarray | None, select: list[str]) -> dict[str, Any]:
        fields = [f for k, f in (("#document", "documents"), ("#embedding", "embeddings")) if k in select]
        all_metadata = "#metadata" in select
        meta_keys = [k for k in select if not k.startswith("#")]
        if all_metadata or meta_keys:
            fields.append("metadatas")
        found = tx.records_by_rids(np.sort(rids), fields or ["metadatas"])
        pos = {r: i for i, r in enumerate(found.rids.tolist())}
        order = [pos[r] for r in rids.tolist() if r in pos]
        kept = [i for i, r in enumerate(rids.tolist()) if r in pos]
        rows = found.take(order)
        out: dict[str, Any] = {"ids": rows.ids, "documents": None, "embeddings": None, "metadatas": None}
        if "#document" in select:
            out["documents"] = list(rows.documents or [])
        if "#embedding" in select:
            out["embeddings"] = [] if rows.embeddings is None else [v.tolist() for v in rows.embeddings]
        if "metadatas" in fields:
            metas = []
            for md in rows.metadatas or []:
                if md and not all_metadata:
                    md = {k: v for k, v in md.items() if k in meta_keys}
                metas.append(md or None)
            out["metadatas"] = metas
        out["scores"] = None
        if "#score" in select:
            out["scores"] = [None if scores is None else _score(float(scores[i])) for i in kept]
        out["select"] = list(select)
        return out


def bm25_idf(tx: ReadTx, cid: int, key: str, indices: np.ndarray) -> np.ndarray:
    """BM25's IDF of each query term from the snapshot's statistics: ln(1 + (N - df + 0.5) / (df + 0.5)),
    N the records holding a sparse vector under ``key``, df those holding the term (always > 0)."""
    n, _ = tx.sparse_stats(cid, key)
    df = np.asarray(tx.sparse_df(cid, key, indices), dtype=np.float64)
    return np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)


def _score(value: float) -> float | None:
    """A score as JSON carries it: NaN and infinities (a $log of 0, a $div by 0) become None."""
    return value if math.isfinite(value) else None
