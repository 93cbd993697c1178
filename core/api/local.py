"""LocalAPI: the embedded backend. The server wraps the same object.

Every method validates its own input (over HTTP it is the only check), then
reads or writes SQLite, then the index. Writes to one collection are
serialised; SQLite commits before the index is touched, so an acknowledged
write is durable even if the index update is lost (it is caught up on open).
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from huedb import __version__
from huedb.api.models import CollectionModel
from huedb.config import DEFAULT_DATABASE, DEFAULT_TENANT, Settings
from huedb.configuration import apply_update, build_configuration, check_index_config
from huedb.distance import exact_search
from huedb.ef_persistence import validate_spec
from huedb.errors import AuthorizationError, InvalidArgumentError, NotFoundError
from huedb.registry import get_registry
from huedb.segments import SegmentManager
from huedb.store import catalog
from huedb.store import records as rec
from huedb.store.sqlite import Store
from huedb.validation import (
    DEFAULT_GET_INCLUDE,
    DEFAULT_QUERY_INCLUDE,
    GET_INCLUDE,
    QUERY_INCLUDE,
    validate_clear,
    validate_collection_name,
    validate_embeddings,
    validate_ids,
    validate_include,
    validate_limit_offset,
    validate_metadata,
    validate_metadatas,
    validate_n_results,
    validate_strings,
    validate_tenant_or_database_name,
)

logger = logging.getLogger("huedb")

MAX_BATCH_SIZE = 2**31 - 1  # batches of any size are accepted; SQLite and indexes take them whole
#: filtered queries with at most this many candidates are answered by exact search over SQLite's vectors
EXACT_SCAN_MAX = 2000
#: an unfiltered query asking for more results than this is first clamped to the record count
N_RESULTS_CHECKED_ABOVE = 1024


class System:
    """Process-wide shared state for one storage location (a path, or memory)."""

    def __init__(self, key: str, directory: Optional[Path], settings: Settings) -> None:
        self.key = key
        self.settings = settings
        self.store = Store(directory, synchronous=settings.sqlite_synchronous)
        self.segments = SegmentManager(self.store)
        self.refcount = 0
        with self.store.write() as conn:
            catalog.ensure_defaults(conn, DEFAULT_TENANT, DEFAULT_DATABASE)

    def close(self) -> None:
        try:
            self.segments.close()
        finally:
            self.store.close()


_systems: Dict[str, System] = {}
_systems_lock = threading.Lock()


def _system_key(settings: Settings) -> tuple:
    if settings.is_persistent:
        path = Path(settings.persist_directory).expanduser().resolve()
        return str(path), path
    return "ephemeral", None


def acquire_system(settings: Settings) -> System:
    key, directory = _system_key(settings)
    with _systems_lock:
        system = _systems.get(key)
        if system is None:
            system = System(key, directory, settings)
            _systems[key] = system
        system.refcount += 1
        return system


def release_system(system: System) -> None:
    with _systems_lock:
        system.refcount -= 1
        if system.refcount <= 0 and _systems.get(system.key) is system:
            del _systems[system.key]
            system.close()


def _warn_skipped(what: str, ids: Sequence[str], collection: str) -> None:
    shown = ", ".join(list(ids)[:10]) + (f", ... ({len(ids)} in all)" if len(ids) > 10 else "")
    logger.warning("%s in collection %r: %s", what, collection, shown)


class LocalAPI:
    """The embedded ServerAPI."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._system = acquire_system(settings)
        self._closed = False

    # -- lifecycle ---------------------------------------------------------
    @property
    def store(self) -> Store:
        return self._system.store

    @property
    def segments(self) -> SegmentManager:
        return self._system.segments

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            release_system(self._system)

    def heartbeat(self) -> int:
        return time.time_ns()

    def get_version(self) -> str:
        return __version__

    def get_settings(self) -> Settings:
        return self.settings

    def get_max_batch_size(self) -> int:
        return MAX_BATCH_SIZE

    def reset(self) -> bool:
        if not self.settings.allow_reset:
            raise AuthorizationError(
                "Resetting is not allowed by this configuration (to enable it, set ALLOW_RESET=TRUE in your "
                "environment or pass settings=Settings(allow_reset=True))"
            )
        with self.store.read() as conn:
            models = catalog.all_collections(conn)
        with self.store.write() as conn:
            for m in models:
                catalog.delete_collection_rows(conn, m.internal_id)
            conn.execute("DELETE FROM databases")
            conn.execute("DELETE FROM tenants")
            conn.execute("DELETE FROM deletions")
            conn.execute("DELETE FROM deletions_pruned")
            catalog.ensure_defaults(conn, DEFAULT_TENANT, DEFAULT_DATABASE)
        for m in models:
            self.segments.drop(m)
        self.store.checkpoint()
        return True

    def vacuum(self) -> None:
        """Reclaims space: compacts SQLite and rebuilds indexes without deleted vectors."""
        with self.store.read() as conn:
            models = catalog.all_collections(conn)
        for m in models:
            with self.segments.write_lock(m.internal_id):
                self.segments.rebuild(m)
        self.store.vacuum()
        for m in models:
            self.segments.get(m)  # rebuild now, so the files hold no deleted vectors

    # -- tenants and databases ---------------------------------------------
    def create_tenant(self, name: str) -> None:
        validate_tenant_or_database_name("tenant", name)
        with self.store.write() as conn:
            catalog.create_tenant(conn, name)

    def get_tenant(self, name: str) -> Dict[str, str]:
        with self.store.read() as conn:
            return catalog.get_tenant(conn, name)

    def list_tenants(self) -> List[Dict[str, str]]:
        with self.store.read() as conn:
            return catalog.list_tenants(conn)

    def create_database(self, name: str, tenant: str = DEFAULT_TENANT) -> None:
        validate_tenant_or_database_name("database", name)
        with self.store.write() as conn:
            catalog.create_database(conn, name, tenant)

    def get_database(self, name: str, tenant: str = DEFAULT_TENANT) -> Dict[str, str]:
        with self.store.read() as conn:
            return catalog.get_database(conn, name, tenant)

    def list_databases(
        self, limit: Optional[int] = None, offset: Optional[int] = None, tenant: str = DEFAULT_TENANT
    ) -> List[Dict[str, str]]:
        validate_limit_offset(limit, offset)
        with self.store.read() as conn:
            return catalog.list_databases(conn, tenant, limit, offset)

    def delete_database(self, name: str, tenant: str = DEFAULT_TENANT) -> None:
        with self.store.read() as conn:
            did = catalog.database_did(conn, name, tenant)
            models = catalog.all_collections(conn, did)
        with self.store.write() as conn:
            catalog.delete_database(conn, name, tenant)
        for m in models:
            self.segments.drop(m)
        self.store.checkpoint()

    # -- collections -------------------------------------------------------
    def create_collection(
        self,
        name: str,
        configuration: Optional[Dict[str, Any]] = None,
        metadata: Optional[Dict[str, Any]] = None,
        get_or_create: bool = False,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> CollectionModel:
        validate_collection_name(name)
        metadata = validate_metadata(metadata, allow_none=False, where="collection metadata")
        if get_or_create:
            try:
                return self.get_collection(name, tenant, database)
            except NotFoundError:
                pass
        stored = build_configuration(configuration, metadata)
        # The index plugin checks its own section now, so a bad value fails here, not at the first write.
        check_index_config(get_registry().get("index_segment", stored["index"]["name"]), stored)
        stored["embedding_function"] = validate_spec((configuration or {}).get("embedding_function"))
        with self.store.write() as conn:
            try:
                return catalog.insert_collection(conn, name, metadata, stored, tenant, database)
            except Exception:
                if get_or_create:
                    existing = None
                    try:
                        existing = catalog.get_collection_by_name(conn, name, tenant, database)
                    except NotFoundError:
                        pass
                    if existing is not None:
                        return existing
                raise

    def _check_index_plugin(self, name: str) -> None:
        get_registry().get("index_segment", name)  # raises PluginNotFoundError with what is installed

    def get_collection(
        self, name: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE
    ) -> CollectionModel:
        if not isinstance(name, str):
            raise InvalidArgumentError(f"Expected collection name to be a string, got {name!r}")
        with self.store.read() as conn:
            return catalog.get_collection_by_name(conn, name, tenant, database)

    def get_collection_by_id(
        self, collection_id: str, tenant: Optional[str] = None, database: Optional[str] = None
    ) -> CollectionModel:
        """A collection by id; with tenant/database, one outside them does not exist."""
        if tenant is None and database is None:
            with self.store.read() as conn:
                return catalog.get_collection_by_id(conn, collection_id)
        return self._collection(collection_id, tenant or DEFAULT_TENANT, database or DEFAULT_DATABASE)

    def list_collections(
        self,
        limit: Optional[int] = None,
        offset: Optional[int] = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> List[CollectionModel]:
        validate_limit_offset(limit, offset)
        with self.store.read() as conn:
            return catalog.list_collections(conn, tenant, database, limit, offset)

    def count_collections(self, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE) -> int:
        with self.store.read() as conn:
            return catalog.count_collections(conn, tenant, database)

    def delete_collection(self, name: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE) -> None:
        model = self.get_collection(name, tenant, database)
        with self.segments.write_lock(model.internal_id):
            with self.store.write() as conn:
                catalog.delete_collection_rows(conn, model.internal_id)
            self.segments.drop(model)
        self.store.checkpoint()

    def modify_collection(
        self,
        collection_id: str,
        new_name: Optional[str] = None,
        new_metadata: Optional[Dict[str, Any]] = None,
        new_configuration: Optional[Dict[str, Any]] = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> CollectionModel:
        model = self._collection(collection_id, tenant, database)
        if new_name is not None:
            validate_collection_name(new_name)
        if new_metadata is not None:
            new_metadata = validate_metadata(new_metadata, allow_none=False, where="collection metadata")
            if any(k.startswith("hnsw:") for k in new_metadata):
                raise InvalidArgumentError(
                    "Changing hnsw:* metadata is not supported after creation; use modify(configuration={'hnsw': {...}})"
                )
        stored = None
        if new_configuration is not None:
            cls = get_registry().get("index_segment", model.configuration_json["index"]["name"])
            stored = apply_update(model.configuration_json, new_configuration, tuple(getattr(cls, "mutable_params", ())))
            check_index_config(cls, stored)
            ef_update = validate_spec(new_configuration.get("embedding_function"), "new_configuration['embedding_function']")
            stored["embedding_function"] = ef_update if ef_update is not None else model.configuration_json.get("embedding_function")
        with self.segments.write_lock(model.internal_id):
            with self.store.write() as conn:
                catalog.update_collection(conn, model.internal_id, new_name, new_metadata, stored)
            if stored is not None:
                self.segments.update_config(model, stored)
        return self.get_collection_by_id(model.id)

    def _collection(self, collection_id: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE) -> CollectionModel:
        with self.store.read() as conn:
            model = catalog.get_collection_by_id(conn, collection_id)
        if model.tenant != tenant or model.database != database:
            # A collection id from another tenant or database is invisible here.
            raise NotFoundError(f"Collection [{collection_id}] does not exist")
        return model

    # -- records -----------------------------------------------------------
    def _count(self, collection_id: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE) -> int:
        model = self._collection(collection_id, tenant, database)
        with self.store.read() as conn:
            return conn.execute("SELECT count(*) FROM records WHERE collection_id=?", (model.internal_id,)).fetchone()[0]

    def _add(self, collection_id: str, ids: Any, embeddings: Any, metadatas: Any = None, documents: Any = None,
             uris: Any = None, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE) -> bool:
        self._write(collection_id, "add", ids, embeddings, metadatas, documents, uris, tenant, database)
        return True

    def _update(self, collection_id: str, ids: Any, embeddings: Any = None, metadatas: Any = None,
                documents: Any = None, uris: Any = None, tenant: str = DEFAULT_TENANT,
                database: str = DEFAULT_DATABASE, clear: Sequence[str] = ()) -> bool:
        """``clear``: fields ("documents", "uris") that become empty where this write gives no
        value: a record written in another modality drops the old one (huedb only)."""
        self._write(collection_id, "update", ids, embeddings, metadatas, documents, uris, tenant, database, clear)
        return True

    def _upsert(self, collection_id: str, ids: Any, embeddings: Any, metadatas: Any = None, documents: Any = None,
                uris: Any = None, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE,
                clear: Sequence[str] = ()) -> bool:
        self._write(collection_id, "upsert", ids, embeddings, metadatas, documents, uris, tenant, database, clear)
        return True

    def _write(self, collection_id: str, mode: str, ids: Any, embeddings: Any, metadatas: Any, documents: Any,
               uris: Any, tenant: str, database: str, clear: Sequence[str] = ()) -> None:
        model = self._collection(collection_id, tenant, database)
        clear = validate_clear(clear)
        ids = validate_ids(ids)
        n = len(ids)
        if embeddings is None and mode != "update":
            raise InvalidArgumentError(
                f"{mode}() needs embeddings for every record: pass embeddings=, or documents/images/uris with an "
                "embedding function on the collection"
            )
        vectors = validate_embeddings(embeddings, n) if embeddings is not None else None
        metas = validate_metadatas(metadatas, n, allow_none=mode != "add")
        docs = validate_strings(documents, n, "documents")
        uri_list = validate_strings(uris, n, "uris")
        cid = model.internal_id

        with self.segments.write_lock(cid):
            try:
                with self.store.write() as conn:
                    dimension, seq = conn.execute("SELECT dimension, seq FROM collections WHERE cid=?", (cid,)).fetchone()
                    if vectors is not None and dimension is not None and vectors.shape[1] != dimension:
                        raise InvalidArgumentError(
                            f"Collection expecting embedding with dimension of {dimension}, got {vectors.shape[1]}"
                        )
                    found = rec.existing(conn, cid, ids)
                    is_new = np.fromiter((i not in found for i in ids), dtype=bool, count=n)
                    new_sel, old_sel = np.nonzero(is_new)[0], np.nonzero(~is_new)[0]
                    if mode == "add" and len(old_sel):
                        _warn_skipped("Add of existing embedding ID(s) ignored", [ids[i] for i in old_sel], model.name)
                        old_sel = old_sel[:0]
                    if mode == "update" and len(new_sel):
                        _warn_skipped("Update of nonexisting embedding ID(s) ignored", [ids[i] for i in new_sel], model.name)
                        new_sel = new_sel[:0]
                    if not len(new_sel) and not len(old_sel):
                        raise _NothingToDo()
                    seq += 1
                    new_rids = np.zeros(0, dtype=np.int64)
                    if len(new_sel):
                        new_rids = rec.insert(
                            conn, cid, seq, _take(ids, new_sel, n), _take_rows(vectors, new_sel, n), _take(docs, new_sel, n),
                            _take(uri_list, new_sel, n), _take_meta(metas, new_sel, n, drop_none=True),
                        )
                    old_rids = np.fromiter((found[ids[i]] for i in old_sel), dtype=np.int64, count=len(old_sel))
                    if len(old_sel):
                        rec.update(
                            conn, seq, old_rids.tolist(), None if vectors is None else vectors[old_sel],
                            _take(docs, old_sel, n), _take(uri_list, old_sel, n), _take(metas, old_sel, n), clear,
                        )
                    if dimension is None and vectors is not None:
                        dimension = vectors.shape[1]
                    conn.execute("UPDATE collections SET seq=?, dimension=? WHERE cid=?", (seq, dimension, cid))
            except _NothingToDo:
                return
            # Committed: now the derived index.
            if vectors is None:
                index_rids, index_vecs = new_rids, np.zeros((0, dimension or 0), dtype=np.float32)
            else:
                index_rids = np.concatenate([new_rids, old_rids])
                index_vecs = _take_rows(vectors, np.concatenate([new_sel, old_sel]), n)
            self._apply(model, seq, lambda ix: ix.add(index_rids, index_vecs, seq), dimension)

    def _apply(self, model: CollectionModel, seq: int, fn, dimension: Optional[int]) -> None:
        try:
            self.segments.apply(model, seq, fn, dimension)
        except Exception:  # the write is committed; the index heals from SQLite on next use
            logger.exception("Index update for collection %r failed; it will be rebuilt from SQLite", model.name)
            self.segments.drop_cached(model)

    def _index_query(self, model: CollectionModel, queries: np.ndarray, k: int, allowed: Optional[np.ndarray]):
        seg = self.segments.get(model)
        if seg is None:
            return np.full((len(queries), 0), -1, dtype=np.int64), np.zeros((len(queries), 0), dtype=np.float32)
        seg.lock.acquire_read()
        try:
            return seg.index.query(queries, k, allowed)
        finally:
            seg.lock.release_read()

    def _delete(self, collection_id: str, ids: Any = None, where: Any = None, where_document: Any = None,
                tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE) -> List[str]:
        model = self._collection(collection_id, tenant, database)
        if ids is None and where is None and where_document is None:
            raise InvalidArgumentError(
                "delete() needs ids, where or where_document; to delete every record, use delete_collection()"
            )
        if ids is not None:
            ids = validate_ids(ids)
        selection = rec.select(model.internal_id, ids, where, where_document)
        cid = model.internal_id
        with self.segments.write_lock(cid):
            with self.store.write() as conn:
                rows = rec.select_records(conn, selection, [])
                if not rows:
                    return []
                rids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                seq = catalog.collection_seq(conn, cid) + 1
                rec.delete(conn, cid, seq, rids, log=self.store.persistent)
                conn.execute("UPDATE collections SET seq=? WHERE cid=?", (seq, cid))
            self._apply(model, seq, lambda ix: ix.delete(rids, seq), model.dimension)
        self.store.checkpoint()
        return [r[1] for r in rows]

    def _get(self, collection_id: str, ids: Any = None, where: Any = None, limit: Optional[int] = None,
             offset: Optional[int] = None, where_document: Any = None, include: Any = None,
             tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE) -> Dict[str, Any]:
        model = self._collection(collection_id, tenant, database)
        include = validate_include(include, GET_INCLUDE, DEFAULT_GET_INCLUDE)
        validate_limit_offset(limit, offset)
        if ids is not None:
            ids = validate_ids(ids, allow_empty=True)
        fields = [f for f in ("documents", "metadatas", "uris", "embeddings") if f in include]
        selection = rec.select(model.internal_id, ids, where, where_document)
        with self.store.read() as conn:
            if ids is None:
                rows = rec.select_records(conn, selection, fields, limit, offset)
            else:
                # Records come back in the order the ids were asked for.
                found = {row[1]: row for row in rec.select_records(conn, selection, fields)}
                rows = [found[i] for i in ids if i in found]
                start = offset or 0
                rows = rows[start: None if limit is None else start + limit]
        return _columns(rows, fields, include, model.dimension)

    def _query(self, collection_id: str, query_embeddings: Any, n_results: int = 10, where: Any = None,
               where_document: Any = None, include: Any = None, ids: Any = None,
               tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE) -> Dict[str, Any]:
        model = self._collection(collection_id, tenant, database)
        include = validate_include(include, QUERY_INCLUDE, DEFAULT_QUERY_INCLUDE)
        k = validate_n_results(n_results)
        if query_embeddings is None:
            raise InvalidArgumentError("query() needs query_embeddings (or query_texts with an embedding function)")
        queries = _validate_queries(query_embeddings)
        if ids is not None:
            ids = validate_ids(ids, allow_empty=True)
        nq = len(queries)
        fields = [f for f in ("documents", "metadatas", "uris", "embeddings") if f in include]
        if model.dimension is not None and queries.shape[1] != model.dimension:
            raise InvalidArgumentError(
                f"Collection expecting embedding with dimension of {model.dimension}, got {queries.shape[1]}"
            )
        allowed = None
        if ids is not None or where is not None or where_document is not None:
            selection = rec.select(model.internal_id, ids, where, where_document)
            with self.store.read() as conn:
                allowed = rec.matching_rids(conn, selection)
        # Never more results than candidates: n_results=10**12 must not size an allocation.
        if allowed is not None:
            k = max(1, min(k, len(allowed)))
        elif k > N_RESULTS_CHECKED_ABOVE:
            with self.store.read() as conn:
                k = max(1, min(k, rec.count(conn, model.internal_id)))
        if allowed is not None and (ids is not None or len(allowed) <= EXACT_SCAN_MAX):
            # A small candidate set (or explicit ids) is searched exactly: recall 1.0.
            with self.store.read() as conn:
                present, vectors = rec.embeddings_by_rids(conn, allowed, model.dimension)
            labels, dists = exact_search(queries, vectors, present, k, model.configuration_json["hnsw"]["space"])
        else:
            labels, dists = self._index_query(model, queries, k, allowed)
        wanted = np.unique(labels[labels >= 0])
        with self.store.read() as conn:
            rows = rec.fetch_by_rids(conn, wanted.tolist(), fields) if len(wanted) else {}
        out: Dict[str, Any] = {"ids": [], "embeddings": [] if "embeddings" in include else None}
        for f in ("documents", "metadatas", "uris", "distances"):
            out[f] = [] if f in include else None
        for qi in range(nq):
            # A label missing from SQLite was deleted concurrently: skip it.
            keep = [(int(lab), float(d)) for lab, d in zip(labels[qi], dists[qi]) if lab >= 0 and int(lab) in rows]
            qrows = [rows[lab] for lab, _ in keep]
            cols = _columns(qrows, fields, include, model.dimension)
            out["ids"].append(cols["ids"])
            for f in ("documents", "metadatas", "uris", "embeddings"):
                if out[f] is not None:
                    out[f].append(cols[f])
            if out["distances"] is not None:
                out["distances"].append([d for _, d in keep])
        out["data"] = None
        out["included"] = include
        return out


class _NothingToDo(Exception):
    """Internal: a write that changes nothing (all ids skipped) rolls back quietly."""


def _take_rows(array: np.ndarray, sel: np.ndarray, n: int) -> np.ndarray:
    """Rows ``sel`` of ``array``; the array itself when ``sel`` is every row in order (no copy)."""
    if len(sel) == n and (n == 0 or (sel[0] == 0 and (np.diff(sel) == 1).all())):
        return array
    return array[sel]


def _take(values: Optional[Sequence[Any]], sel: np.ndarray, n: int) -> Optional[List[Any]]:
    if values is None:
        return None
    if len(sel) == n:
        return list(values)
    return [values[i] for i in sel]


def _take_meta(metas, sel, n, drop_none: bool):
    taken = _take(metas, sel, n)
    if taken is None or not drop_none:
        return taken
    return [({k: v for k, v in m.items() if v is not None} or None) if m else None for m in taken]


def _validate_queries(query_embeddings: Any) -> np.ndarray:
    from huedb.embedding_functions import normalize_embeddings

    arr = normalize_embeddings(query_embeddings)
    if arr is None or arr.ndim != 2 or arr.shape[0] == 0:
        raise InvalidArgumentError("Expected query_embeddings to be a non-empty list of embeddings")
    return validate_embeddings(arr, arr.shape[0])


def _columns(rows: Sequence[tuple], fields: Sequence[str], include: Sequence[str], dimension: Optional[int]) -> Dict[str, Any]:
    """Columnar result from (rid, id, *fields) rows."""
    out: Dict[str, Any] = {"ids": [r[1] for r in rows]}
    pos = {f: i + 2 for i, f in enumerate(fields)}
    out["embeddings"] = (
        rec.embeddings_from_blobs([r[pos["embeddings"]] for r in rows], dimension) if "embeddings" in pos else None
    )
    out["documents"] = [r[pos["documents"]] for r in rows] if "documents" in pos else None
    out["uris"] = [r[pos["uris"]] for r in rows] if "uris" in pos else None
    out["metadatas"] = (
        rec.loads_metadatas([r[pos["metadatas"]] for r in rows]) if "metadatas" in pos else None
    )
    out["data"] = None
    out["included"] = list(include)
    return out
