"""``hnswlib``: HNSW graph index segment (the default), with a brute-force write buffer.

New and updated vectors first go to a numpy buffer searched exactly; once it
holds ``batch_size`` items they are added to the graph in one ``add_items``
call. A label whose vector moves to the buffer is marked deleted in the graph
(``add_items`` of that label later unmarks and updates it in place), so the
graph and the buffer never both answer for one label. Queries merge both.

A record's graph label is its record id. An update marks the old graph element
deleted and, on the next flush, inserts the new vector as a fresh element with a
label from ``MOVED_BASE`` up (a small map translates those back): hnswlib's
in-place update repairs the graph less well than an insert, and recall after
heavy upserts dropped. Deleted elements keep their vectors, so searches still
route through them; when they outnumber the live ones the graph is rebuilt from
the live vectors (and so loses the deleted ones), as vacuum also does.
"""

from __future__ import annotations

import math
import os
import uuid
from pathlib import Path
from typing import Any, ClassVar

import hnswlib
import numpy as np

from huedb.distance import row_norms
from huedb.hookspecs import hookimpl
from huedb.index import exact_search_limit
from huedb_plugins.index import atomic, hnsw_files, post_filter
from huedb_plugins.index.common import (
    Result,
    as_labels,
    as_vectors,
    check_add,
    check_allowed,
    check_dimension,
    check_k,
    check_space,
    config_changes,
    empty_result,
    exact_topk,
    merge_topk,
    resolve_config,
)
from huedb_plugins.index.vector_table import VectorTable, dedupe_last

#: graph slots reserved when the graph is first created
INITIAL_CAPACITY = 1000
#: graph labels of records re-inserted after an update start here (record ids stay far below)
MOVED_BASE = 1 << 62
#: the graph is rebuilt when it holds more deleted elements than this and than live ones
COMPACT_MIN_DEAD = 1000

# Chroma's hnsw section is this plugin's config: its defaults, ranges and mutability come
# from the core's one table (huedb.configuration.HNSW_PARAMS).
from huedb.configuration import HNSW_MUTABLE, HNSW_PARAMS  # noqa: E402
from huedb_plugins.index.common import float_in_range, int_in_range  # noqa: E402

SPEC = {
    key: (
        p.default,
        int_in_range(int(p.low), int(p.high)) if p.integer else float_in_range(p.low, p.high, inclusive_low=True),
    )
    for key, p in HNSW_PARAMS.items()
}


class HnswlibSegment:
    """hnswlib graph + exact buffer; labels are the hnswlib ids."""

    name: ClassVar[str] = "hnswlib"
    #: this plugin is configured by the collection's configuration["hnsw"] section
    config_section: ClassVar[str] = "hnsw"
    mutable_params: ClassVar[tuple[str, ...]] = HNSW_MUTABLE
    #: the core passes ``load(..., vectors=...)`` (record ids -> vectors from storage) and sets
    #: ``strip_vectors``: persisted graphs then leave out the vectors storage holds (hnsw_files)
    vectors_from_storage: ClassVar[bool] = True

    def __init__(self, dimension: int, space: str, config: dict[str, Any], directory: Path | None) -> None:
        self._dim = check_dimension(dimension)
        self._space = check_space(space)
        self._cfg = resolve_config(self.name, self._space, config, SPEC)
        self._dir = Path(directory) if directory is not None else None
        self._seq = 0
        self._buffer = VectorTable(self._dim)
        # live graph labels -> original vector norm (hnswlib stores cosine vectors normalised)
        self._live = VectorTable(1)
        self._init_moved()
        self._index: hnswlib.Index | None = None
        self._unsynced = 0  # writes since the last persist
        self.strip_vectors = False  # persist graphs without the vectors storage holds

    # -- persistence -------------------------------------------------------
    @classmethod
    def persisted_seq(cls, directory: Path) -> int | None:
        return atomic.persisted_seq(directory, cls.name)

    @classmethod
    def load(
        cls,
        dimension: int,
        space: str,
        config: dict[str, Any],
        directory: Path,
        vectors: hnsw_files.VectorSource | None = None,
    ) -> HnswlibSegment | None:
        """``vectors`` gives the stored vectors of record ids: needed to load a graph persisted
        with ``strip_vectors`` (CorruptIndexError without it, so the core rebuilds)."""
        manifest = atomic.read_manifest(directory, cls.name)
        if manifest is None:
            return None
        atomic.check_meta(manifest, dimension=dimension, space=space)
        seg = cls(dimension, space, config, directory)
        live_labels = atomic.load_npy(directory, manifest, "live_labels.npy")
        live_norms = atomic.load_npy(directory, manifest, "live_norms.npy")
        buf_labels = atomic.load_npy(directory, manifest, "buffer_labels.npy")
        buf_vectors = atomic.load_npy(directory, manifest, "buffer_vectors.npy")
        if (
            live_norms.shape != (len(live_labels), 1)
            or buf_vectors.shape != (len(buf_labels), dimension)
            or len(live_labels) + len(buf_labels) != manifest.get("count")
        ):
            raise atomic.CorruptIndexError(f"hnswlib index in {directory} has inconsistent arrays")
        if "moved_slots.npy" in manifest["files"]:  # absent in files written before updates moved
            moved_ids = atomic.load_npy(directory, manifest, "moved_ids.npy").astype(np.int64)
            moved_slots = atomic.load_npy(directory, manifest, "moved_slots.npy").astype(np.int64)
            if moved_ids.shape != moved_slots.shape:
                raise atomic.CorruptIndexError(f"hnswlib index in {directory} has inconsistent moved labels")
            seg._set_moved(moved_ids, moved_slots)
            seg._retired = atomic.load_npy(directory, manifest, "retired.npy").astype(np.int64)
            seg._next_slot = int(manifest.get("next_slot", MOVED_BASE))
        if "graph.bin" in manifest["files"]:
            path = atomic.verified_path(directory, manifest, "graph.bin")  # before hnswlib touches it
            index = hnswlib.Index(space=space, dim=dimension)
            try:
                index.load_index(str(path))
            except Exception as e:  # noqa: BLE001 - any loader failure means "rebuild"
                raise atomic.CorruptIndexError(f"hnswlib could not load {path}: {e}") from e
            if index.get_current_count() - len(live_labels) < 0:
                raise atomic.CorruptIndexError(f"hnswlib graph {path} holds fewer items than recorded")
            seg._index = index
            seg._apply_runtime_params()
        elif "graph.links" in manifest["files"]:
            seg._index = seg._join(manifest, vectors)
            seg._apply_runtime_params()
        elif len(live_labels):
            raise atomic.CorruptIndexError(f"hnswlib index in {directory} lists graph items but no graph file")
        seg._live = VectorTable.from_arrays(live_labels.astype(np.int64), live_norms.astype(np.float32))
        seg._buffer = VectorTable.from_arrays(buf_labels.astype(np.int64), buf_vectors.astype(np.float32))
        seg._seq = int(manifest["applied_seq"])
        seg.strip_vectors = vectors is not None
        return seg

    def _join(self, manifest: dict[str, Any], vectors: hnsw_files.VectorSource | None) -> hnswlib.Index:
        assert self._dir is not None
        if vectors is None:
            raise atomic.CorruptIndexError(f"hnswlib graph in {self._dir} needs its vectors from storage")
        links, links_sha = atomic.sized_path(self._dir, manifest, "graph.links")
        kept, kept_sha = atomic.sized_path(self._dir, manifest, "graph.kept")  # join checks both digests

        def by_slot(slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return vectors(self._ids_of(slots))

        return hnsw_files.join(links, kept, self._dim, self._space, by_slot, sha256={links: links_sha, kept: kept_sha})

    def persist(self) -> None:
        if self._dir is None:
            return
        files: dict[str, atomic.FileSource] = {
            "live_labels.npy": atomic.npy_writer(self._live.labels),
            "live_norms.npy": atomic.npy_writer(self._live.vectors),
            "buffer_labels.npy": atomic.npy_writer(self._buffer.labels),
            "buffer_vectors.npy": atomic.npy_writer(self._buffer.vectors),
            "moved_ids.npy": atomic.npy_writer(self._slots.labels),
            "moved_slots.npy": atomic.npy_writer(self._slots.vectors[:, 0]),
            "retired.npy": atomic.npy_writer(self._retired),
        }
        if self._index is not None and self.strip_vectors and hnsw_files.strippable(self._space, self._dim):
            files.update(self._split_graph())
        elif self._index is not None:
            index = self._index
            files["graph.bin"] = lambda p: index.save_index(str(p))
        atomic.write_generation(
            self._dir,
            self.name,
            files,
            {
                "applied_seq": self._seq,
                "dimension": self._dim,
                "space": self._space,
                "count": self.count(),
                "max_neighbors": self._cfg["max_neighbors"],
                "ef_construction": self._cfg["ef_construction"],
                "next_slot": self._next_slot,
            },
        )
        self._unsynced = 0

    def _split_graph(self) -> dict[str, atomic.FileSource]:
        """The graph as links + kept vectors (hnsw_files), written to temp files now and
        moved into the generation by write_generation."""
        assert self._dir is not None and self._index is not None
        tag = uuid.uuid4().hex
        links, kept = (self._dir / f".{self.name}.{tag}.{part}.tmp" for part in ("links", "kept"))
        live = self._slot_of(self._live.labels)
        try:
            hnsw_files.split(self._index, self._dim, live, self._dir / f".{self.name}.{tag}.full.tmp", links, kept)
        except BaseException:
            links.unlink(missing_ok=True)
            kept.unlink(missing_ok=True)
            raise
        return {"graph.links": lambda p: os.replace(links, p), "graph.kept": lambda p: os.replace(kept, p)}

    # -- protocol ----------------------------------------------------------
    @property
    def applied_seq(self) -> int:
        return self._seq

    @property
    def capacity(self) -> int:
        """Graph slots currently allocated (0 before the first flush)."""
        return 0 if self._index is None else self._index.get_max_elements()

    @property
    def buffered(self) -> int:
        """Items waiting in the brute-force buffer."""
        return len(self._buffer)

    def add(self, labels: np.ndarray, vectors: np.ndarray, seq: int) -> None:
        labels, vectors = check_add(labels, vectors, self._dim)
        labels, vectors = dedupe_last(labels, vectors)
        gone = self._live.remove(labels)  # the buffer answers for them now
        self._mark_deleted(gone)
        if len(gone):  # their graph elements are dead: the flush inserts them anew
            self._retired = np.union1d(self._retired, gone)
        if len(self._buffer) == 0 and len(labels) >= self._cfg["batch_size"] and not self._compacting():
            self._flush(labels, vectors)  # a whole batch goes straight in: no buffer copy
        else:
            self._buffer.upsert(labels, vectors)
            if len(self._buffer) >= self._cfg["batch_size"]:
                self._flush()
        self._seq = max(self._seq, int(seq))
        self._wrote(len(labels))

    def advance(self, seq: int) -> None:
        self._seq = max(self._seq, int(seq))

    def delete(self, labels: np.ndarray, seq: int) -> None:
        labels = as_labels(labels)
        removed = len(self._buffer.remove(labels))
        gone = self._live.remove(labels)
        self._mark_deleted(gone)
        if len(self._retired):  # a deleted record never comes back
            self._retired = np.setdiff1d(self._retired, labels, assume_unique=False)
        self._seq = max(self._seq, int(seq))
        self._wrote(removed + len(gone))

    def query(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        q = as_vectors(queries, self._dim, "query embeddings")
        k = check_k(k)
        allowed = check_allowed(allowed)
        nq = len(q)
        if k == 0 or nq == 0 or self.count() == 0:
            return empty_result(nq, k)
        if allowed is None:
            parts = [exact_topk(q, self._buffer.vectors, self._buffer.labels, k, self._space)]
            if len(self._live):
                parts.append(self._graph_search(q, min(k, len(self._live)), None))
            return merge_topk(parts, k, nq)
        buf_rows = self._buffer.find(allowed)
        buf_rows = buf_rows[buf_rows >= 0]
        parts = [exact_topk(q, self._buffer.vectors[buf_rows], self._buffer.labels[buf_rows], k, self._space)]
        if len(allowed) > exact_search_limit(k, self.count()):
            # No membership test of every allowed label here (2-4 ms for 100,000 of 1M): a
            # post-filter only checks the graph's answers against them, and a walk narrows
            # them to the graph's labels itself.
            parts.append(self._graph_search(q, k, allowed))
        else:
            graph_allowed = allowed[self._live.contains(allowed)]
            if len(graph_allowed):
                parts.append(exact_topk(q, self._graph_vectors(graph_allowed), graph_allowed, k, self._space))
        return merge_topk(parts, k, nq)

    def get_vectors(self, labels: np.ndarray) -> np.ndarray:
        labels = as_labels(labels)
        out = np.empty((len(labels), self._dim), dtype=np.float32)
        in_buffer = self._buffer.contains(labels)
        out[in_buffer] = self._buffer.get(labels[in_buffer])
        rest = labels[~in_buffer]
        if len(rest):
            self._live.get(rest)  # raises NotFoundError for unknown labels
            out[~in_buffer] = self._graph_vectors(rest)
        return out

    def count(self) -> int:
        return len(self._buffer) + len(self._live)

    def update_config(self, config: dict[str, Any]) -> None:
        changed = config_changes(self.name, self._space, self._cfg, config, self.mutable_params, SPEC)
        self._cfg.update(changed)
        self._apply_runtime_params()
        if len(self._buffer) >= self._cfg["batch_size"]:
            self._flush()

    def close(self) -> None:
        """Releases memory; call persist() first to keep unsynced writes on disk."""
        self._index = None
        self._buffer = VectorTable(self._dim)
        self._live = VectorTable(1)
        self._init_moved()

    # -- internals ---------------------------------------------------------
    def _apply_runtime_params(self) -> None:
        if self._index is not None:
            self._index.set_num_threads(self._cfg["num_threads"])
            self._index.set_ef(self._cfg["ef_search"])

    def _wrote(self, n: int) -> None:
        self._unsynced += n
        # Each persist rewrites the whole graph, so a large index waits for a quarter of its
        # size in new writes: bytes written stay linear in the index size, not quadratic.
        due = max(self._cfg["sync_threshold"], self.count() // 4)
        if self._dir is not None and self._unsynced >= due:
            self.persist()

    def _init_moved(self) -> None:
        self._slots = VectorTable(1, np.int64)  # record id -> graph label, for moved records only
        self._owners = VectorTable(1, np.int64)  # graph label -> record id (the inverse)
        self._retired = np.empty(0, dtype=np.int64)  # sorted ids whose graph element is dead
        self._next_slot = MOVED_BASE

    def _set_moved(self, ids: np.ndarray, slots: np.ndarray) -> None:
        self._slots.upsert(ids, slots[:, None])
        self._owners.upsert(slots, ids[:, None])

    def _slot_of(self, ids: np.ndarray) -> np.ndarray:
        """Graph labels of live graph records."""
        if len(self._slots) == 0:
            return ids
        rows = self._slots.find(ids)
        hit = rows >= 0
        if not hit.any():
            return ids
        out = ids.copy()
        out[hit] = self._slots.vectors[rows[hit], 0]
        return out

    def _ids_of(self, found: np.ndarray) -> np.ndarray:
        """Record ids of graph search results (padding -1 stays)."""
        moved = found >= MOVED_BASE
        if moved.any():
            found = found.copy()
            found[moved] = self._owners.get(found[moved])[:, 0]
        return found

    def _mark_deleted(self, labels: np.ndarray) -> None:
        if len(labels) == 0:
            return
        # The element keeps its vector: searches still route through it. (Overwriting it with
        # zeros made every zero vector a hub near all points in l2 and wrecked recall.) A
        # deleted vector leaves memory and the graph file when the graph is compacted or
        # vacuum rebuilds the index from SQLite.
        slots = self._slot_of(labels)
        for slot in slots.tolist():  # hnswlib only deletes one label per call
            self._index.mark_deleted(slot)
        if len(self._slots):
            self._owners.remove(slots[slots >= MOVED_BASE])
            self._slots.remove(labels)

    def _new_slots(self, labels: np.ndarray) -> np.ndarray:
        """Graph labels for a flush: the record id, or a fresh label for a record whose
        earlier graph element is dead (an update)."""
        if len(self._retired) == 0:
            return labels
        again = np.isin(labels, self._retired, assume_unique=True)
        if not again.any():
            return labels
        fresh = np.arange(self._next_slot, self._next_slot + int(again.sum()), dtype=np.int64)
        self._next_slot += len(fresh)
        self._set_moved(labels[again], fresh)
        self._retired = np.setdiff1d(self._retired, labels[again], assume_unique=True)
        slots = labels.copy()
        slots[again] = fresh
        return slots

    def _flush(self, labels: np.ndarray | None = None, vectors: np.ndarray | None = None) -> None:
        """Moves the whole buffer, or the given batch (add() passes one only when the buffer is
        empty and no compaction is due), into the graph in one add_items call."""
        if labels is None or vectors is None:
            labels, vectors = self._buffer.labels, self._buffer.vectors  # views: the buffer is cleared below
        n = len(labels)
        if n == 0:
            return
        if self._compacting():
            self._compact()  # rebuilds from the live graph plus the buffer
            return
        if self._index is None:
            self._index = self._new_graph(max(INITIAL_CAPACITY, n))
        needed = self._index.element_count + n  # an upper bound: at most one new element per item
        capacity = self._index.get_max_elements()
        if needed > capacity:
            self._index.resize_index(max(needed, math.ceil(capacity * self._cfg["resize_factor"])))
        self._index.add_items(vectors, self._new_slots(labels), num_threads=self._cfg["num_threads"])
        self._live.upsert(labels, row_norms(vectors))
        self._buffer.clear()

    def _new_graph(self, capacity: int) -> hnswlib.Index:
        index = hnswlib.Index(space=self._space, dim=self._dim)
        index.init_index(
            max_elements=capacity,
            # hnswlib cannot build M=1 (its level multiplier is 1/ln M); Chroma accepts 1, so it builds with 2
            M=max(2, self._cfg["max_neighbors"]),
            ef_construction=self._cfg["ef_construction"],
        )
        self._index = index
        self._apply_runtime_params()
        return index

    def _compacting(self) -> bool:
        """Whether the next flush rebuilds the graph: deleted elements outnumber live ones."""
        if self._index is None:
            return False
        dead = self._index.element_count - len(self._live)
        return dead > max(COMPACT_MIN_DEAD, len(self._live))

    def _compact(self) -> None:
        """Rebuilds the graph from its live vectors plus the buffer, without deleted elements."""
        live = self._live.labels.copy()
        vectors = np.concatenate([self._graph_vectors(live), self._buffer.vectors])
        labels = np.concatenate([live, self._buffer.labels])
        self._live = VectorTable(1)
        self._init_moved()
        self._buffer = VectorTable(self._dim)
        self._new_graph(max(INITIAL_CAPACITY, len(labels)))
        if len(labels):
            self._index.add_items(vectors, labels, num_threads=self._cfg["num_threads"])
            self._live.upsert(labels, row_norms(vectors))

    def _graph_vectors(self, labels: np.ndarray) -> np.ndarray:
        slots = self._slot_of(labels)
        vectors = np.asarray(self._index.get_items(slots), dtype=np.float32).reshape(len(labels), self._dim)
        if self._space == "cosine":  # hnswlib keeps unit vectors; restore the original length
            vectors = vectors * self._live.get(labels)
        return vectors

    def _live_ef(self) -> int:
        """ef_search scaled up by the share of deleted elements in the graph: deleted
        elements still fill the candidate list, so without this, churn lowers recall."""
        slots, live = self._index.element_count, len(self._live)
        return math.ceil(self._cfg["ef_search"] * slots / max(live, 1))

    def _graph_search(self, q: np.ndarray, k: int, allowed: np.ndarray | None) -> Result:
        """Graph kNN; a filter that allows a large enough share of the graph is applied to an
        unfiltered search's results (post_filter), a rarer one by the filtered walk. ``allowed``
        may hold labels outside the graph (the buffer's): they count towards its share only."""
        wanted = None if allowed is None else post_filter.first_ask(k, len(allowed), len(self._live))
        if allowed is None or wanted is None:
            return self._walk(q, k, allowed)
        labels, dists, short = post_filter.post_filtered(
            self._unfiltered, q, k, allowed, wanted, len(self._live), self._live_ef()
        )
        if len(short):
            labels[short], dists[short] = self._walk(q[short], k, allowed)
        return labels, dists

    def _unfiltered(self, q: np.ndarray, n: int, ef: int) -> Result | None:
        """Record ids and distances of the n nearest graph elements; None when the graph cannot return n."""
        self._index.set_ef(ef)
        try:
            labels, dists = self._index.knn_query(q, k=n, num_threads=self._cfg["num_threads"])
        except RuntimeError:  # "Cannot return the results in a contiguous 2D array"
            return None
        finally:
            self._index.set_ef(self._cfg["ef_search"])
        return self._ids_of(labels.astype(np.int64)), dists.astype(np.float32)

    def _walk(self, q: np.ndarray, k: int, allowed: np.ndarray | None) -> Result:
        """Graph kNN widening ef until k hits come back (fewer: padded when fewer graph labels
        are allowed); exact over the graph as a last resort."""
        if allowed is not None:
            allowed = allowed[self._live.contains(allowed)]
            if len(allowed) < k:
                found = [self._walk_graph(q, len(allowed), allowed)] if len(allowed) else []
                return merge_topk(found, k, len(q))
        return self._walk_graph(q, k, allowed)

    def _walk_graph(self, q: np.ndarray, k: int, allowed: np.ndarray | None) -> Result:
        """The walk itself: ``allowed`` holds graph labels only, at least k of them (None: every element)."""
        allowed_set = None if allowed is None else set(self._slot_of(allowed).tolist())
        keep = None if allowed_set is None else allowed_set.__contains__
        ceiling = max(self._index.element_count, k)
        ef = max(self._live_ef(), k)
        try:
            while True:
                self._index.set_ef(ef)
                try:
                    labels, dists = self._index.knn_query(q, k=k, num_threads=self._cfg["num_threads"], filter=keep)
                    return self._ids_of(labels.astype(np.int64)), dists.astype(np.float32)
                except RuntimeError:  # "Cannot return the results in a contiguous 2D array"
                    if ef >= ceiling:
                        break
                    ef = min(ceiling, ef * 4)
        finally:
            self._index.set_ef(self._cfg["ef_search"])
        eligible = self._live.sorted_labels if allowed is None else allowed
        return exact_topk(q, self._graph_vectors(eligible), eligible, k, self._space)


@hookimpl
def register_index_segments(register):
    register(HnswlibSegment)
