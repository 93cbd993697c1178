"""Index segments per collection: open, heal, and keep current with SQLite.

An index is derived data. On first use it is loaded from disk and checked
against the collection's sequence number in SQLite: a current index is used
as is, a stale one is caught up (newer records re-added, logged deletions
applied), and a missing, corrupt or unusable one is rebuilt from SQLite.
"""
from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path
from contextlib import nullcontext
from typing import Any, Callable, ContextManager, Dict, Optional

import numpy as np

from huedb.api.models import CollectionModel
from huedb.configuration import segment_config
from huedb.index import CorruptIndexError, IndexSegment, index_lock
from huedb.registry import get_registry
from huedb.store import catalog
from huedb.store import records as rec
from huedb.store.sqlite import Store

logger = logging.getLogger("huedb")


class RWLock:
    """Many readers or one writer; queries run concurrently, writes one at a time."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False

    def acquire_read(self) -> None:
        with self._cond:
            while self._writer:
                self._cond.wait()
            self._readers += 1

    def release_read(self) -> None:
        with self._cond:
            self._readers -= 1
            if self._readers == 0:
                self._cond.notify_all()

    def acquire_write(self) -> None:
        with self._cond:
            while self._writer or self._readers:
                self._cond.wait()
            self._writer = True

    def release_write(self) -> None:
        with self._cond:
            self._writer = False
            self._cond.notify_all()


class Segment:
    """One collection's index plus the lock that guards it."""

    def __init__(self, index: IndexSegment, collection: CollectionModel, dimension: int) -> None:
        self.index = index
        self.cid = collection.internal_id
        self.dimension = dimension  # fixed once a collection has its first vector
        #: the model the index was opened with (name, id and configuration for a reload)
        self.collection = collection
        self.lock = RWLock()


class SegmentManager:
    """Opens, heals and updates index segments; one per store (a path, or memory).

    Several processes may open one path. Each keeps its own in-memory indexes, and
    they share the index files, so two rules keep every process consistent:

    * an index is caught up with SQLite before any write is applied to it, and
      before it is persisted (a write applied at the newest seq to a stale index
      would claim records it never received);
    * every call that may read, write or remove index files runs under the
      collection's cross-process file lock (``huedb.index.index_lock``).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._segments: Dict[int, Segment] = {}
        self._lock = threading.Lock()
        #: serialises writes per collection so batches reach the index in sequence order
        #: (reentrant: a write that opens the segment catches it up under the same lock)
        self._write_locks: Dict[int, threading.RLock] = {}

    def write_lock(self, cid: int) -> threading.RLock:
        with self._lock:
            return self._write_locks.setdefault(cid, threading.RLock())

    def directory(self, collection: CollectionModel) -> Optional[Path]:
        if self.store.directory is None:
            return None
        return self.store.directory / collection.id

    def _files(self, collection: CollectionModel) -> ContextManager[Any]:
        """The cross-process lock on the collection's index files (nothing in memory)."""
        directory = self.directory(collection)
        return nullcontext() if directory is None else index_lock(directory)

    def _index_class(self, collection: CollectionModel) -> Any:
        return get_registry().get("index_segment", collection.configuration_json["index"]["name"])

    def get(self, collection: CollectionModel) -> Optional[Segment]:
        """The collection's segment, current with SQLite; None while the collection has no vectors."""
        if collection.dimension is None:
            return None
        seg = self._segments.get(collection.internal_id)
        if seg is None:
            return self._open_current(collection, collection.dimension)
        seg.collection = collection  # the newest model: a reload uses its configuration
        if seg.index.applied_seq < collection.version:
            # Another process (or a crash before the index caught up) wrote newer records.
            with self.write_lock(collection.internal_id):
                self._catch_up(seg)
        return seg

    def _open_current(self, collection: CollectionModel, dimension: int) -> Segment:
        """Opens (loads or creates) the segment and catches it up with SQLite."""
        cid = collection.internal_id
        with self.write_lock(cid):
            seg = self._segments.get(cid)
            if seg is None:
                seg = Segment(self._open(collection, dimension), collection, dimension)
                with self._lock:
                    self._segments[cid] = seg
            self._catch_up(seg)
        return seg

    def _open(self, collection: CollectionModel, dimension: int) -> IndexSegment:
        cls = self._index_class(collection)
        space = collection.configuration_json["hnsw"]["space"]
        config = segment_config(collection.configuration_json, cls)
        directory = self.directory(collection)
        index: Optional[IndexSegment] = None
        with self._files(collection):
            if directory is not None and directory.exists() and not directory.is_dir():
                logger.warning(
                    "Index path %s of collection %r is not a directory; replacing it with an index rebuilt "
                    "from SQLite. No data is lost.", directory, collection.name,
                )
                directory.unlink()
            if directory is not None and directory.is_dir():
                try:
                    index = cls.load(dimension, space, config, directory)
                except CorruptIndexError as e:
                    logger.warning(
                        "Index for collection %r is corrupt (%s); rebuilding it from SQLite. No data is lost.",
                        collection.name,
                        e,
                    )
                    shutil.rmtree(directory, ignore_errors=True)
                    index = None
                if index is not None:
                    index = self._usable(collection, index, directory)
            if index is None:
                if directory is not None:
                    directory.mkdir(parents=True, exist_ok=True)
                index = cls(dimension, space, config, directory)
        return index

    def _usable(self, collection: CollectionModel, index: IndexSegment, directory: Path) -> Optional[IndexSegment]:
        """The loaded index, or None (files removed) when SQLite cannot bring it up to date."""
        with self.store.read() as conn:
            current = catalog.collection_seq(conn, collection.internal_id) or 0
            pruned = rec.deletions_pruned_upto(conn, collection.internal_id)
        if index.applied_seq > current:
            why = f"it is ahead of SQLite (seq {index.applied_seq} > {current})"
        elif index.applied_seq < pruned:
            why = f"it is older (seq {index.applied_seq}) than the deletion log, which starts after seq {pruned}"
        else:
            return index
        logger.warning("Index for collection %r is unusable: %s; rebuilding it from SQLite.", collection.name, why)
        index.close()
        shutil.rmtree(directory, ignore_errors=True)
        return None

    def _catch_up(self, seg: Segment) -> None:
        """Applies what SQLite has and the index lacks (caller holds the collection's write lock)."""
        with self._files(seg.collection):
            while not self._apply_changes(seg):
                # Another process pruned deletions this index never applied: take the
                # persisted index (at or past the pruned seq) or rebuild, then catch up.
                self._reload(seg)
        self._prune(seg)

    def _apply_changes(self, seg: Segment) -> bool:
        """Streams newer records and logged deletions into the index, in chunks, from one
        read snapshot; False (nothing applied) when the deletion log no longer reaches
        back to the index's seq."""
        with self.store.read() as conn:
            applied = seg.index.applied_seq
            if self.store.persistent and 0 < applied < rec.deletions_pruned_upto(conn, seg.cid):
                return False
            target = catalog.collection_seq(conn, seg.cid)
            if target is None or applied >= target:
                return True
            seg.lock.acquire_write()
            try:
                deleted = rec.deleted_since(conn, seg.cid, applied)
                if len(deleted):
                    seg.index.delete(deleted, applied)
                # Chunks are applied at the old seq, so a persist between chunks never
                # claims records that are not in the index yet; the target is set last.
                for rids, blobs in rec.changed_since(conn, seg.cid, applied):
                    seg.index.add(rids, rec.embeddings_from_blobs(blobs, seg.dimension), applied)
                seg.index.add(np.zeros(0, dtype=np.int64), np.zeros((0, seg.dimension), dtype=np.float32), target)
                seg.index.persist()
            finally:
                seg.lock.release_write()
        return True

    def _reload(self, seg: Segment) -> None:
        """Replaces the in-memory index with the persisted one, or an empty one to rebuild."""
        seg.lock.acquire_write()
        try:
            seg.index.close()
            seg.index = self._open(seg.collection, seg.dimension)
        finally:
            seg.lock.release_write()

    def apply(
        self, collection: CollectionModel, seq: int, fn: Callable[[IndexSegment], None], dimension: Optional[int]
    ) -> None:
        """Applies a batch committed at ``seq`` to the index (caller holds the collection's write lock).

        When the index has not applied every earlier seq (the segment is not open
        yet, or another process wrote since), it is caught up from SQLite instead,
        which already holds this batch, so ``fn`` is not needed then.
        """
        seg = self._segments.get(collection.internal_id)
        if seg is None:
            if dimension is not None:
                self._open_current(collection, dimension)
            return
        if seg.index.applied_seq != seq - 1:
            self._catch_up(seg)
            return
        with self._files(collection):
            seg.lock.acquire_write()
            try:
                fn(seg.index)
            finally:
                seg.lock.release_write()

    def _prune(self, seg: Segment) -> None:
        # The deletion log is needed only until a persisted index has applied it; a
        # persist never replaces a newer persisted index, so the files are at least here.
        if self.store.persistent:
            with self.store.write() as conn:
                rec.prune_deletions(conn, seg.cid, seg.index.applied_seq)

    def update_config(self, collection: CollectionModel, configuration: Dict[str, Any]) -> None:
        seg = self._segments.get(collection.internal_id)
        if seg is not None:
            config = segment_config(configuration, type(seg.index))
            seg.lock.acquire_write()
            try:
                seg.index.update_config(config)
            finally:
                seg.lock.release_write()

    def drop(self, collection: CollectionModel) -> None:
        """Forgets a deleted collection's index and removes its files."""
        with self._lock:
            seg = self._segments.pop(collection.internal_id, None)
            self._write_locks.pop(collection.internal_id, None)
        if seg is not None:
            seg.index.close()
        directory = self.directory(collection)
        if directory is not None:
            with self._files(collection):
                shutil.rmtree(directory, ignore_errors=True)

    def drop_cached(self, collection: CollectionModel) -> None:
        """Forgets the in-memory index (its files stay); the next use reloads and catches up."""
        with self._lock:
            seg = self._segments.pop(collection.internal_id, None)
        if seg is not None:
            seg.index.close()

    def rebuild(self, collection: CollectionModel) -> None:
        """Drops the index so the next use rebuilds it from SQLite (vacuum uses this)."""
        self.drop(collection)

    def close(self) -> None:
        with self._lock:
            segments = list(self._segments.values())
            self._segments.clear()
        for seg in segments:
            try:
                with self.write_lock(seg.cid):
                    # Catch up first: a stale index persisted as is would be skipped anyway
                    # (a newer one is on disk) and pruning past it would strand it.
                    self._catch_up(seg)
                    with self._files(seg.collection):
                        seg.index.persist()
                self._prune(seg)
            finally:
                seg.index.close()
