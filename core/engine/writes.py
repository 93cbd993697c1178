"""add, update, upsert and delete: validate, one storage transaction, then the index.

A write is validated whole before anything is read, then committed in one
storage transaction (nothing is half-written), then applied to the collection's
index segment. Storage commits before the index is touched, so an acknowledged
write survives even if the index update is lost: the index catches up on next use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from huedb.engine.base import EngineBase
from huedb.errors import InvalidArgumentError
from huedb.index import IndexSegment
from huedb.index_schema import check_filters
from huedb.requests import validate_delete, validate_write
from huedb.storage import NewRecords, RecordChanges
from huedb.types import DEFAULT_DATABASE, DEFAULT_TENANT, CollectionModel

logger = logging.getLogger("huedb")


class WriteEngine(EngineBase):
    def _add(
        self,
        collection_id: str,
        ids: Any,
        embeddings: Any,
        metadatas: Any = None,
        documents: Any = None,
        uris: Any = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> bool:
        self._write(collection_id, "add", ids, embeddings, metadatas, documents, uris, tenant, database)
        return True

    def _update(
        self,
        collection_id: str,
        ids: Any,
        embeddings: Any = None,
        metadatas: Any = None,
        documents: Any = None,
        uris: Any = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
        clear: Sequence[str] = (),
    ) -> bool:
        """``clear``: fields ("documents", "uris") that become empty where this write gives no
        value: a record written in another modality drops the old one (huedb only)."""
        self._write(collection_id, "update", ids, embeddings, metadatas, documents, uris, tenant, database, clear)
        return True

    def _upsert(
        self,
        collection_id: str,
        ids: Any,
        embeddings: Any,
        metadatas: Any = None,
        documents: Any = None,
        uris: Any = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
        clear: Sequence[str] = (),
    ) -> bool:
        self._write(collection_id, "upsert", ids, embeddings, metadatas, documents, uris, tenant, database, clear)
        return True

    def _write(
        self,
        collection_id: str,
        mode: str,
        ids: Any,
        embeddings: Any,
        metadatas: Any,
        documents: Any,
        uris: Any,
        tenant: str,
        database: str,
        clear: Sequence[str] = (),
    ) -> None:
        req = validate_write(
            mode, ids, embeddings, metadatas, documents, uris, clear=clear or None, embeddings_required=True
        )
        ids, vectors, metas, docs, uri_list, clear = (
            req.ids,
            req.embeddings,
            req.metadatas,
            req.documents,
            req.uris,
            req.clear,
        )
        n = len(ids)
        model = self._collection(collection_id, tenant, database)
        cid = model.storage_key

        with self.segments.write_lock(cid):
            with self.storage.write() as tx:
                seq, dimension = tx.collection_state(cid)
                if vectors is not None and dimension is not None and vectors.shape[1] != dimension:
                    raise InvalidArgumentError(
                        f"Collection expecting embedding with dimension of {dimension}, got {vectors.shape[1]}"
                    )
                found = tx.existing(cid, ids)
                is_new = np.fromiter((i not in found for i in ids), dtype=bool, count=n)
                new_sel, old_sel = np.nonzero(is_new)[0], np.nonzero(~is_new)[0]
                if mode == "add" and len(old_sel):
                    _warn_skipped("Add of existing embedding ID(s) ignored", [ids[i] for i in old_sel], model.name)
                    old_sel = old_sel[:0]
                if mode == "update" and len(new_sel):
                    _warn_skipped(
                        "Update of nonexisting embedding ID(s) ignored", [ids[i] for i in new_sel], model.name
                    )
                    new_sel = new_sel[:0]
                if not len(new_sel) and not len(old_sel):
                    return  # nothing to change: the transaction commits nothing
                seq += 1
                self._prune(tx, cid)
                new_rids = np.zeros(0, dtype=np.int64)
                if len(new_sel):
                    assert vectors is not None  # add and upsert require embeddings (checked above)
                    new_rids = tx.insert_records(
                        cid,
                        seq,
                        NewRecords(
                            _take(ids, new_sel, n) or [],
                            _take_rows(vectors, new_sel, n),
                            _take(docs, new_sel, n),
                            _take(uri_list, new_sel, n),
                            _take_meta(metas, new_sel, n),
                        ),
                    )
                old_rids = np.fromiter((found[ids[i]] for i in old_sel), dtype=np.int64, count=len(old_sel))
                if len(old_sel):
                    tx.update_records(
                        cid,
                        seq,
                        RecordChanges(
                            old_rids,
                            None if vectors is None else vectors[old_sel],
                            _take(docs, old_sel, n),
                            _take(uri_list, old_sel, n),
                            _take(metas, old_sel, n),
                            clear,
                        ),
                    )
                if dimension is None and vectors is not None:
                    dimension = vectors.shape[1]
                tx.set_collection_state(cid, seq, dimension)
            # Committed: now the derived index.
            if vectors is None:
                index_rids, index_vecs = new_rids, np.zeros((0, dimension or 0), dtype=np.float32)
            else:
                index_rids = np.concatenate([new_rids, old_rids])
                index_vecs = _take_rows(vectors, np.concatenate([new_sel, old_sel]), n)

            def add(ix: IndexSegment) -> int:
                ix.add(index_rids, index_vecs, seq)
                return 0

            self._apply(model, seq, add, dimension)

    def _delete(
        self,
        collection_id: str,
        ids: Any = None,
        where: Any = None,
        where_document: Any = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
        limit: int | None = None,
    ) -> int:
        req = validate_delete(ids, where, where_document, limit)
        model = self._collection(collection_id, tenant, database)
        check_filters(model.schema, req.where, req.where_document)
        cid = model.storage_key
        selection = self.storage.selection(cid, req.ids, req.where, req.where_document)
        with self.segments.write_lock(cid):
            with self.storage.write() as tx:
                rids = tx.matching_rids(selection)
                if req.limit is not None:  # the first `limit` matches, in insertion order
                    rids = rids[: req.limit]
                if not len(rids):
                    return 0
                seq = (tx.collection_seq(cid) or 0) + 1
                self._prune(tx, cid)
                tx.delete_records(cid, seq, rids)
                tx.set_collection_state(cid, seq, model.dimension)

            def delete(ix: IndexSegment) -> int:
                ix.delete(rids, seq)
                return len(rids)

            self._apply(model, seq, delete, model.dimension)
        self.storage.checkpoint()
        return len(rids)

    def _prune(self, tx: Any, cid: int) -> None:
        """Prunes the deletion log as far as a persisted index allows, in this write's transaction."""
        upto = self.segments.take_prunable(cid)
        if upto:
            tx.prune_deletions(cid, upto)

    def _apply(
        self, model: CollectionModel, seq: int, fn: Callable[[IndexSegment], int], dimension: int | None
    ) -> None:
        try:
            self.segments.apply(model, seq, fn, dimension)
        except Exception:  # the write is committed; the index heals from storage on next use
            logger.exception("Index update for collection %r failed; it will be rebuilt from storage", model.name)
            self.segments.drop_cached(model)


def _warn_skipped(what: str, ids: Sequence[str], collection: str) -> None:
    shown = ", ".join(list(ids)[:10]) + (f", ... ({len(ids)} in all)" if len(ids) > 10 else "")
    logger.warning("%s in collection %r: %s", what, collection, shown)


def _take_rows(array: np.ndarray, sel: np.ndarray, n: int) -> np.ndarray:
    """Rows ``sel`` of ``array``; the array itself when ``sel`` is every row in order (no copy)."""
    if len(sel) == n and (n == 0 or (sel[0] == 0 and (np.diff(sel) == 1).all())):
        return array
    return array[sel]


def _take(values: Sequence[Any] | None, sel: np.ndarray, n: int) -> list[Any] | None:
    if values is None:
        return None
    if len(sel) == n:
        return list(values)
    return [values[i] for i in sel]


def _take_meta(metas: Sequence[Any] | None, sel: np.ndarray, n: int) -> list[Any] | None:
    """New records' metadata: None values mean "no key" (an all-None dict means no metadata)."""
    taken = _take(metas, sel, n)
    if taken is None:
        return None
    return [({k: v for k, v in m.items() if v is not None} or None) if m else None for m in taken]
