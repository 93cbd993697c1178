"""``annoy``: random-projection forest segment with a mutable exact delta.

An annoy forest cannot change once built, so the segment keeps:

* ``_table``: every live vector (numpy), used for exact re-ranking and the delta;
* the forest, built over a snapshot of the table sorted by label (item i is
  ``_forest_labels[i]``), plus a tombstone per item whose label was deleted or
  re-added since the build;
* ``_delta``: labels whose current vector is not in the forest (searched exactly).

Queries over-fetch forest candidates, drop tombstones, re-rank the rest with
exact numpy distances and merge them with the exact delta results, so every
returned distance is exact for the space. When a query finds delta +
tombstones above ``max(rebuild_threshold, rebuild_fraction * forest size)`` it
first rebuilds the forest from the table: checking at query time means a bulk
load builds once, and the fraction keeps interleaved rebuilds amortised O(n).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from annoy import AnnoyIndex

from huedb.hookspecs import hookimpl
from huedb.index import exact_search_limit
from huedb_plugins.index import atomic
from huedb_plugins.index.common import (
    Result,
    as_labels,
    as_vectors,
    candidate_distances,
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

METRICS = {"l2": "euclidean", "cosine": "angular", "ip": "dot"}
SEED = 42  # reproducible forests

from huedb_plugins.index.common import float_in_range, int_in_range  # noqa: E402

# Documented ranges (docs/index-plugins.md, "Configuration ranges").
SPEC = {
    "n_trees": (50, int_in_range(1, 1000)),  # memory and build time grow with every tree
    "search_k": (-1, int_in_range(-1, 2**31 - 1)),  # annoy takes a C int
    "overfetch": (20, int_in_range(1, 1000)),
    "rebuild_threshold": (1000, int_in_range(1, 100_000_000)),
    "rebuild_fraction": (0.1, float_in_range(0.0, 1.0)),
    "n_jobs": (-1, int_in_range(-1, 1024)),
}


class AnnoySegment:
    """annoy forest + exact delta, exact re-ranking."""

    name: ClassVar[str] = "annoy"
    mutable_params: ClassVar[tuple[str, ...]] = (
        "n_trees",
        "search_k",
        "overfetch",
        "rebuild_threshold",
        "rebuild_fraction",
        "n_jobs",
    )

    def __init__(self, dimension: int, space: str, config: dict[str, Any], directory: Path | None) -> None:
        self._dim = check_dimension(dimension)
        self._space = check_space(space)
        self._cfg = resolve_config(self.name, self._space, config, SPEC)
        if self._cfg["n_jobs"] == 0:
            self._cfg["n_jobs"] = -1
        self._dir = Path(directory) if directory is not None else None
        self._seq = 0
        self._table = VectorTable(self._dim)
        self._forest: AnnoyIndex | None = None
        self._forest_labels = np.empty(0, dtype=np.int64)  # sorted; item i -> label
        self._tomb = np.empty(0, dtype=bool)
        self._n_tomb = 0
        self._delta = np.empty(0, dtype=np.int64)  # sorted labels served exactly
        self._forest_entry: dict[str, Any] | None = None  # manifest entry of the saved forest

    # -- persistence -------------------------------------------------------
    @classmethod
    def persisted_seq(cls, directory: Path) -> int | None:
        return atomic.persisted_seq(directory, cls.name)

    @classmethod
    def load(cls, dimension: int, space: str, config: dict[str, Any], directory: Path) -> AnnoySegment | None:
        manifest = atomic.read_manifest(directory, cls.name)
        if manifest is None:
            return None
        atomic.check_meta(manifest, dimension=dimension, space=space)
        seg = cls(dimension, space, config, directory)
        labels = atomic.load_npy(directory, manifest, "labels.npy")
        vectors = atomic.load_npy(directory, manifest, "vectors.npy")
        forest_labels = atomic.load_npy(directory, manifest, "forest_labels.npy")
        tomb = atomic.load_npy(directory, manifest, "tomb.npy")
        delta = atomic.load_npy(directory, manifest, "delta.npy")
        if (
            vectors.shape != (len(labels), dimension)
            or tomb.shape != forest_labels.shape
            or len(labels) != manifest.get("count")
        ):
            raise atomic.CorruptIndexError(f"annoy index in {directory} has inconsistent arrays")
        if len(forest_labels):
            path = atomic.verified_path(directory, manifest, "forest.ann")
            forest = AnnoyIndex(dimension, METRICS[space])
            try:
                ok = forest.load(str(path))
            except Exception as e:  # noqa: BLE001 - any loader failure means "rebuild"
                raise atomic.CorruptIndexError(f"annoy could not load {path}: {e}") from e
            if ok is False or forest.get_n_items() != len(forest_labels):
                raise atomic.CorruptIndexError(f"annoy forest {path} does not match its labels")
            seg._forest = forest
            seg._forest_entry = manifest["files"]["forest.ann"]
        seg._table = VectorTable.from_arrays(labels.astype(np.int64), vectors.astype(np.float32))
        seg._forest_labels = forest_labels.astype(np.int64)
        seg._tomb = tomb.astype(bool)
        seg._n_tomb = int(seg._tomb.sum())
        seg._delta = delta.astype(np.int64)
        seg._seq = int(manifest["applied_seq"])
        return seg

    def persist(self) -> None:
        if self._dir is None:
            return
        files: dict[str, atomic.FileSource] = {
            "labels.npy": atomic.npy_writer(self._table.labels),
            "vectors.npy": atomic.npy_writer(self._table.vectors),
            "forest_labels.npy": atomic.npy_writer(self._forest_labels),
            "tomb.npy": atomic.npy_writer(self._tomb),
            "delta.npy": atomic.npy_writer(self._delta),
        }
        if self._forest is not None:
            # a forest is immutable: save it once per build, then keep referencing that file
            if self._forest_entry is not None and (self._dir / self._forest_entry["file"]).is_file():
                files["forest.ann"] = self._forest_entry
            else:
                forest = self._forest
                files["forest.ann"] = lambda p: forest.save(str(p))
        manifest = atomic.write_generation(
            self._dir,
            self.name,
            files,
            {
                "applied_seq": self._seq,
                "dimension": self._dim,
                "space": self._space,
                "count": len(self._table),
                "n_trees": self._forest.get_n_trees() if self._forest is not None else None,
            },
        )
        if manifest is not None:  # None: a newer index from another process is on disk
            self._forest_entry = manifest["files"].get("forest.ann")

    # -- protocol ----------------------------------------------------------
    @property
    def applied_seq(self) -> int:
        return self._seq

    @property
    def forest_size(self) -> int:
        """Items in the current forest, tombstones included (0 before the first build)."""
        return len(self._forest_labels)

    @property
    def pending(self) -> int:
        """Delta items plus tombstones: the work the next rebuild absorbs."""
        return len(self._delta) + self._n_tomb

    def add(self, labels: np.ndarray, vectors: np.ndarray, seq: int) -> None:
        labels, vectors = check_add(labels, vectors, self._dim)
        labels, vectors = dedupe_last(labels, vectors)
        self._table.upsert(labels, vectors)
        self._bury(labels)
        self._delta = np.union1d(self._delta, labels)
        self._seq = max(self._seq, int(seq))

    def advance(self, seq: int) -> None:
        self._seq = max(self._seq, int(seq))

    def delete(self, labels: np.ndarray, seq: int) -> None:
        labels = as_labels(labels)
        gone = self._table.remove(labels)
        self._bury(gone)
        self._delta = np.setdiff1d(self._delta, gone, assume_unique=True)
        self._seq = max(self._seq, int(seq))

    def query(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        q = as_vectors(queries, self._dim, "query embeddings")
        k = check_k(k)
        allowed = check_allowed(allowed)
        nq = len(q)
        if k == 0 or nq == 0 or len(self._table) == 0:
            return empty_result(nq, k)
        if allowed is not None:
            allowed = allowed[self._table.contains(allowed)]
            if len(allowed) <= exact_search_limit(k, len(self._table)):
                return self._exact(q, allowed, k)
        self._maybe_rebuild()  # at query time, so a bulk load builds the forest once
        if allowed is None:
            delta = self._delta
            forest_eligible = len(self._forest_labels) - self._n_tomb
        else:
            delta = np.intersect1d(allowed, self._delta, assume_unique=True)
            forest_eligible = len(allowed) - len(delta)
        parts = [self._exact(q, delta, k)]
        if forest_eligible > 0:
            parts.append(self._forest_search(q, k, allowed, forest_eligible))
        return merge_topk(parts, k, nq)

    def get_vectors(self, labels: np.ndarray) -> np.ndarray:
        return self._table.get(as_labels(labels))

    def count(self) -> int:
        return len(self._table)

    def update_config(self, config: dict[str, Any]) -> None:
        """n_trees applies from the next rebuild; the other keys immediately."""
        self._cfg.update(config_changes(self.name, self._space, self._cfg, config, self.mutable_params, SPEC))

    def close(self) -> None:
        if self._forest is not None:
            self._forest.unload()
        self.__init__(self._dim, self._space, self._cfg, self._dir)

    def rebuild(self) -> None:
        """Builds a fresh forest over every live vector; the delta and tombstones empty."""
        order = np.argsort(self._table.labels, kind="stable")
        labels = self._table.labels[order]
        vectors = self._table.vectors[order]
        if self._forest is not None:
            self._forest.unload()
        forest = None
        if len(labels):
            forest = AnnoyIndex(self._dim, METRICS[self._space])
            forest.set_seed(SEED)
            for i, v in enumerate(vectors):  # annoy has no batch insert
                forest.add_item(i, v)
            forest.build(self._cfg["n_trees"], n_jobs=self._cfg["n_jobs"])
        self._forest = forest
        self._forest_entry = None
        self._forest_labels = labels.copy()
        self._tomb = np.zeros(len(labels), dtype=bool)
        self._n_tomb = 0
        self._delta = np.empty(0, dtype=np.int64)

    # -- internals ---------------------------------------------------------
    def _bury(self, labels: np.ndarray) -> None:
        """Tombstones the forest items of ``labels`` (their vectors changed or went away)."""
        if len(self._forest_labels) == 0 or len(labels) == 0:
            return
        pos = np.minimum(np.searchsorted(self._forest_labels, labels), len(self._forest_labels) - 1)
        items = pos[self._forest_labels[pos] == labels]
        fresh = items[~self._tomb[items]]
        self._tomb[fresh] = True
        self._n_tomb += len(np.unique(fresh))

    def _maybe_rebuild(self) -> None:
        limit = max(self._cfg["rebuild_threshold"], self._cfg["rebuild_fraction"] * len(self._forest_labels))
        if self.pending > limit:
            self.rebuild()

    def _exact(self, q: np.ndarray, labels: np.ndarray, k: int) -> Result:
        if len(labels) == 0:
            return empty_result(len(q), k)
        return exact_topk(q, self._table.get(labels), labels, k, self._space)

    def _forest_search(self, q: np.ndarray, k: int, allowed: np.ndarray | None, eligible: int) -> Result:
        """Over-fetched forest candidates, tombstones/ineligible dropped, re-ranked exactly."""
        m = len(self._forest_labels)
        want = min(k, eligible)
        usable = eligible / m  # share of forest items a query may return
        fetch = min(m, math.ceil(max(k * self._cfg["overfetch"], k + 10) / usable))
        search_k = self._cfg["search_k"]  # -1: annoy's default, fetch * n_trees nodes
        if fetch >= m // 2:  # the forest would visit most items anyway
            return self._exact(q, self._forest_eligible(allowed), k)
        items = np.full((len(q), fetch), -1, dtype=np.int64)
        for i, v in enumerate(q):  # annoy answers one query per call
            found = self._forest.get_nns_by_vector(v, fetch, search_k=search_k)
            items[i, : len(found)] = found
        labels = np.where(items >= 0, self._forest_labels[np.maximum(items, 0)], -1)
        ok = (items >= 0) & ~self._tomb[np.maximum(items, 0)]
        if allowed is not None:
            pos = np.minimum(np.searchsorted(allowed, labels), len(allowed) - 1)
            ok &= allowed[pos] == labels
        labels = np.where(ok, labels, -1)
        rows = self._table.find(np.where(ok, labels, 0).ravel()).reshape(labels.shape)
        dists = candidate_distances(q, self._table.vectors[np.maximum(rows, 0)], self._space)
        result = merge_topk([(labels, np.where(ok, dists, np.inf).astype(np.float32))], k, len(q))
        short = (result[0][:, :want] < 0).any(axis=1)
        if short.any():  # too few eligible candidates: answer those queries exactly
            exact = self._exact(q[short], self._forest_eligible(allowed), k)
            result[0][short], result[1][short] = exact
        return result

    def _forest_eligible(self, allowed: np.ndarray | None) -> np.ndarray:
        live = self._forest_labels[~self._tomb]
        return live if allowed is None else np.intersect1d(live, allowed, assume_unique=True)


@hookimpl
def register_index_segments(register):
    register(AnnoySegment)
