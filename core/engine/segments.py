"""Index segments per collection: open, heal, and keep current with the storage backend.

An index is derived data. On first use it is loaded from its files and checked
against the collection's sequence number in storage: a current index is used
as is, a stale one is caught up (newer records re-added, logged deletions
applied), and a missing, corrupt or unusable one is rebuilt from storage.

Locking, one layer: every call into an index holds its segment's lock, so an
index plugin need not be thread-safe. Writes to one collection are serialised
by ``write_lock`` (held by the engine around the storage write and the index
update, and by a catch-up). Index files are read, written and removed under a
cross-process file lock (``huedb.index.index_lock``), so several processes can
share a path; every index is caught up before a write is applied to it.

A read never writes to storage: catching up reads from the reader's own
snapshot. Pruning the deletion log happens inside a later write transaction,
once an explicit persist has made the index files hold the deletions.

A backend that searches vectors itself (``in_database_search``, PostgreSQL) has
no segments: ``current`` returns None and ``apply`` does nothing.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from huedb.configuration import segment_config
from huedb.engine.candidate_vectors import CandidateVectors
from huedb.engine.labels import with_offset
from huedb.index import CorruptIndexError, IndexSegment, index_lock
from huedb.registry import get_registry
from huedb.storage import ReadTx, StorageBackend
from huedb.types import CollectionModel

#: 10 ms waits for a collection's write lock before an in-memory read builds its own index
IN_MEMORY_LOCK_TRIES = 50

logger = logging.getLogger("huedb")

#: after this many deletes the core persists the index, so the next write can prune the log
PRUNE_AFTER_DELETES = 1000


class Segment:
    """One collection's index, the lock every call into it holds, and its prune state."""

    def __init__(self, index: IndexSegment, collection: CollectionModel, dimension: int) -> None:
        self.index = index
        self.cid = collection.storage_key
        self.collection = collection  # the newest model: a reload uses its configuration
        self.dimension = dimension  # fixed once a collection has its first vector
        self.lock = threading.Lock()
        self.deletes_since_persist = 0
        #: the deletion log may be pruned up to here (a persisted index applied it)
        self.prunable_upto = 0


def stored_vectors(tx: ReadTx, offset: int, dimension: int) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Index labels -> (their vectors in the snapshot, one row per label; mask of labels found)."""

    def fetch(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rids = np.asarray(labels, dtype=np.int64) + offset
        present, vectors = tx.vectors_by_rids(rids)
        if len(present) == len(rids) and np.array_equal(present, rids):  # the usual case: no scatter
            return vectors, np.ones(len(rids), dtype=bool)
        out = np.zeros((len(rids), dimension), dtype=np.float32)
        if len(present) == 0:
            return out, np.zeros(len(rids), dtype=bool)
        at = np.minimum(np.searchsorted(present, rids), len(present) - 1)
        found = present[at] == rids
        out[found] = vectors[at[found]]
        return out, found

    return fetch


class SegmentManager:
    def __init__(self, storage: StorageBackend, candidate_vectors_bytes: int | None = None) -> None:
        self.storage = storage
        self._segments: dict[int, Segment] = {}
        self._lock = threading.Lock()
        self._write_locks: dict[int, threading.RLock] = {}
        #: the backend searches vectors itself (ReadTx.vector_search): no index segments at all
        self.in_database = bool(getattr(storage, "in_database_search", False))
        #: vectors of recent exact-search candidate sets, per collection version
        self.candidates = CandidateVectors(candidate_vectors_bytes)

    def write_lock(self, cid: int) -> threading.RLock:
        """Serialises writes to one collection (reentrant: a write may open the segment)."""
        with self._lock:
            return self._write_locks.setdefault(cid, threading.RLock())

    def directory(self, collection: CollectionModel) -> Path | None:
        base = self.storage.index_directory
        return None if base is None else base / collection.id

    def _files(self, collection: CollectionModel) -> AbstractContextManager[Any]:
        """The cross-process lock on the collection's index files (nothing in memory)."""
        directory = self.directory(collection)
        return nullcontext() if directory is None else index_lock(directory)

    @contextmanager
    def _snapshot(self, tx: ReadTx | None) -> Iterator[ReadTx]:
        if tx is not None:
            yield tx
        else:
            with self.storage.read() as own:
                yield own

    # -- reads -------------------------------------------------------------------
    def current(self, collection: CollectionModel, tx: ReadTx) -> Segment | None:
        """The collection's segment, caught up to the snapshot ``tx``; None while it has no vectors,
        and always None when the backend searches vectors itself (call ``tx.vector_search``)."""
        if collection.dimension is None or self.in_database:
            return None
        seg = self._segments.get(collection.storage_key)
        if seg is not None:
            seg.collection = collection
            if seg.index.applied_seq >= collection.version:
                return seg
        lock = self.write_lock(collection.storage_key)
        if self.storage.persistent:
            with lock:
                return self._open_current(collection, collection.dimension, tx)
        return self._current_in_memory(collection, collection.dimension, tx, lock)

    def _current_in_memory(
        self, collection: CollectionModel, dimension: int, tx: ReadTx, lock: threading.RLock
    ) -> Segment:
        """In memory, this read holds the store's one connection, which a writer holding ``lock``
        may be waiting for (a deadlock if this read waited for ``lock``). Either the writer that
        committed this snapshot is applying it, and the segment catches up, or it waits for this
        read: then the read searches a private index built from its own snapshot."""
        for _ in range(IN_MEMORY_LOCK_TRIES):
            if lock.acquire(timeout=0.01):
                try:
                    return self._open_current(collection, dimension, tx)
                finally:
                    lock.release()
            seg = self._segments.get(collection.storage_key)
            if seg is not None and seg.index.applied_seq >= collection.version:
                return seg
        private = Segment(self._open(collection, dimension, tx), collection, dimension)
        self._catch_up(private, tx)
        return private

    def search(self, seg: Segment, fn: Callable[[IndexSegment], Any]) -> Any:
        with seg.lock:
            return fn(seg.index)

    # -- opening and catching up -----------------------------------------------------
    def _open_current(self, collection: CollectionModel, dimension: int, tx: ReadTx | None) -> Segment:
        """Opens (loads or creates) the segment and catches it up (caller holds the write lock)."""
        cid = collection.storage_key
        seg = self._segments.get(cid)
        with self._snapshot(tx) as snap:
            if seg is None:
                seg = Segment(self._open(collection, dimension, snap), collection, dimension)
                with self._lock:
                    self._segments[cid] = seg
            self._catch_up(seg, snap)
        return seg

    def _open(self, collection: CollectionModel, dimension: int, tx: ReadTx) -> IndexSegment:
        cls = get_registry().get("index_segment", collection.configuration_json["index"]["name"])
        space = collection.configuration_json["hnsw"]["space"]
        config = segment_config(collection.configuration_json, cls)
        directory = self.directory(collection)
        index: IndexSegment | None = None
        label_offset = getattr(tx, "label_offset", None)  # a fork's index keeps its source's labels
        offset = label_offset(collection.storage_key) if label_offset else 0
        # A plugin that persists without the vectors storage holds reads them back from this snapshot.
        from_storage = bool(getattr(cls, "vectors_from_storage", False))
        source = stored_vectors(tx, offset, dimension)
        with self._files(collection):
            if directory is not None and directory.exists() and not directory.is_dir():
                logger.warning(
                    "Index path %s of collection %r is not a directory; replacing it with an index rebuilt "
                    "from storage. No data is lost.",
                    directory,
                    collection.name,
                )
                directory.unlink()
            if directory is not None and directory.is_dir():
                try:
                    if from_storage:
                        index = cls.load(dimension, space, config, directory, vectors=source)
                    else:
                        index = cls.load(dimension, space, config, directory)
                except CorruptIndexError as e:
                    logger.warning(
                        "Index for collection %r is corrupt (%s); rebuilding it from storage. No data is lost.",
                        collection.name,
                        e,
                    )
                    shutil.rmtree(directory, ignore_errors=True)
                if index is not None and not self._usable(collection, index, tx):
                    index.close()
                    shutil.rmtree(directory, ignore_errors=True)
                    index = None
            if index is None:
                if directory is not None:
                    directory.mkdir(parents=True, exist_ok=True)
                index = cls(dimension, space, config, directory)
        if from_storage:
            setattr(index, "strip_vectors", directory is not None)  # noqa: B010 - an optional plugin attribute
        return with_offset(index, offset)

    def _usable(self, collection: CollectionModel, index: IndexSegment, tx: ReadTx) -> bool:
        """Whether storage can bring a loaded index up to date."""
        current = tx.collection_seq(collection.storage_key) or 0
        pruned = tx.deletions_pruned_upto(collection.storage_key)
        if index.applied_seq > current:
            why = f"it is ahead of storage (seq {index.applied_seq} > {current})"
        elif index.applied_seq < pruned:
            why = f"it is older (seq {index.applied_seq}) than the deletion log, which starts after seq {pruned}"
        else:
            return True
        logger.warning("Index for collection %r is unusable: %s; rebuilding it from storage.", collection.name, why)
        return False

    def _catch_up(self, seg: Segment, tx: ReadTx) -> None:
        """Applies what the snapshot has and the index lacks (caller holds the write lock)."""
        with self._files(seg.collection), seg.lock:
            applied = seg.index.applied_seq
            if self.storage.persistent and 0 < applied < tx.deletions_pruned_upto(seg.cid):
                # Another process pruned deletions this index never applied: take the
                # persisted index (at or past the pruned seq), or rebuild.
                seg.index.close()
                seg.index = self._open(seg.collection, seg.dimension, tx)
                applied = seg.index.applied_seq
            target = tx.collection_seq(seg.cid)
            if target is None or applied >= target:
                return
            deleted = tx.deleted_since(seg.cid, applied)
            if len(deleted):
                seg.index.delete(deleted, applied)
            # Chunks are applied at the old seq, so a persist between chunks never claims
            # records that are not in the index yet; advance() sets the target last.
            for rids, vectors in tx.changed_since(seg.cid, applied):
                seg.index.add(rids, vectors, applied)
            seg.index.advance(target)

    # -- writes --------------------------------------------------------------------
    def apply(
        self, collection: CollectionModel, seq: int, fn: Callable[[IndexSegment], int], dimension: int | None
    ) -> None:
        """Applies a batch committed at ``seq`` (caller holds the write lock). ``fn`` returns
        how many records it deleted. An index that lacks an earlier seq (not open yet, or
        another process wrote since) is caught up from storage instead, which already
        holds this batch."""
        if dimension is None or self.in_database:
            return
        seg = self._segments.get(collection.storage_key)
        if seg is None or seg.index.applied_seq != seq - 1:
            self._open_current(collection, dimension, None)
            return
        with self._files(collection), seg.lock:
            seg.deletes_since_persist += fn(seg.index)
            if self.storage.persistent and seg.deletes_since_persist >= PRUNE_AFTER_DELETES:
                seg.index.persist()
                seg.deletes_since_persist = 0
                seg.prunable_upto = seg.index.applied_seq

    def take_prunable(self, cid: int) -> int:
        """The seq the deletion log may be pruned to, for the write transaction starting now
        (0: nothing to prune)."""
        seg = self._segments.get(cid)
        if seg is None or not seg.prunable_upto:
            return 0
        upto, seg.prunable_upto = seg.prunable_upto, 0
        return upto

    def persist(self, collection: CollectionModel) -> None:
        """Writes the collection's open index to its files now (a fork copies them)."""
        seg = self._segments.get(collection.storage_key)
        if seg is not None and self.storage.persistent:
            with self._files(collection), seg.lock:
                seg.index.persist()

    def update_config(self, collection: CollectionModel, configuration: dict[str, Any]) -> None:
        seg = self._segments.get(collection.storage_key)
        if seg is not None:
            with seg.lock:
                seg.index.update_config(segment_config(configuration, type(seg.index)))

    def state(self, collection: CollectionModel, tx: ReadTx) -> dict[str, Any]:
        """What ``huedb doctor`` reports of a collection's index: its state (``fresh``,
        ``stale``, ``rebuild`` on next use, ``missing``, ``in memory`` or ``empty``), the
        seqs, and its files. Reads the files' manifest without loading the index."""
        seq = tx.collection_seq(collection.storage_key) or 0
        out: dict[str, Any] = {"collection_seq": seq, "applied_seq": None, "files": [], "bytes": 0}
        directory = self.directory(collection)
        if collection.dimension is None:
            return {**out, "state": "empty", "detail": "no vectors yet"}
        if self.in_database:
            return {**out, "state": "in database", "detail": "searched by the storage backend (no index files)"}
        if directory is None:
            return {**out, "state": "in memory", "detail": "an in-memory index, built from storage on first use"}
        cls = get_registry().get("index_segment", collection.configuration_json["index"]["name"])
        with self._files(collection):
            if directory.is_dir():
                files = [p for p in directory.iterdir() if p.is_file()]
                out["files"] = sorted(p.name for p in files)
                out["bytes"] = sum(p.stat().st_size for p in files)
            try:
                applied = self._persisted_seq(cls, collection, directory)
            except CorruptIndexError as e:
                return {**out, "state": "rebuild", "detail": f"corrupt ({e}): rebuilt from storage on next use"}
        out["applied_seq"] = applied
        pruned = tx.deletions_pruned_upto(collection.storage_key)
        if applied is None:
            return {**out, "state": "missing", "detail": "no index files: built from storage on next use"}
        if applied == seq:
            return {**out, "state": "fresh", "detail": f"applied every write (seq {seq})"}
        if applied > seq or applied < pruned:
            return {**out, "state": "rebuild", "detail": f"seq {applied} cannot catch up to {seq}: rebuilt on next use"}
        return {**out, "state": "stale", "detail": f"{seq - applied} writes behind: caught up on next use"}

    def _persisted_seq(self, cls: Any, collection: CollectionModel, directory: Path) -> int | None:
        if not directory.is_dir():
            return None
        if hasattr(cls, "persisted_seq"):
            return cls.persisted_seq(directory)
        config = segment_config(collection.configuration_json, cls)
        space = collection.configuration_json["hnsw"]["space"]
        index = cls.load(collection.dimension, space, config, directory)  # a plugin without the shortcut
        if index is None:
            return None
        try:
            return int(index.applied_seq)
        finally:
            index.close()

    # -- lifecycle -------------------------------------------------------------------
    def drop(self, collection: CollectionModel) -> None:
        """Forgets a deleted collection's index and removes its files."""
        with self._lock:
            seg = self._segments.pop(collection.storage_key, None)
            self._write_locks.pop(collection.storage_key, None)
        if seg is not None:
            seg.index.close()
        directory = self.directory(collection)
        if directory is not None:
            with self._files(collection):
                shutil.rmtree(directory, ignore_errors=True)

    def drop_cached(self, collection: CollectionModel) -> None:
        """Forgets the in-memory index (its files stay); the next use reloads and catches up."""
        with self._lock:
            seg = self._segments.pop(collection.storage_key, None)
        if seg is not None:
            seg.index.close()

    def close(self) -> None:
        """Persists every open index (caught up first) and prunes the deletion log to it."""
        with self._lock:
            segments = list(self._segments.values())
            self._segments.clear()
        for seg in segments:
            try:
                with self.write_lock(seg.cid):
                    with self.storage.read() as tx:
                        self._catch_up(seg, tx)
                    with self._files(seg.collection), seg.lock:
                        seg.index.persist()
                if self.storage.persistent:
                    with self.storage.write() as wtx:
                        wtx.prune_deletions(seg.cid, seg.index.applied_seq)
            finally:
                seg.index.close()
