"""``exact``: brute-force index segment (numpy matrix + labels), recall 1.0.

Good for small collections and as a reference for the approximate plugins.
Persisted as two ``.npy`` files under a checksummed manifest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from huedb.hookspecs import hookimpl
from huedb_plugins.index import atomic
from huedb_plugins.index.common import (
    as_labels,
    as_vectors,
    check_add,
    check_allowed,
    check_dimension,
    check_k,
    check_space,
    empty_result,
    exact_topk,
)
from huedb_plugins.index.vector_table import VectorTable


class ExactSegment:
    """Every query scans all (or all allowed) vectors."""

    name: ClassVar[str] = "exact"
    mutable_params: ClassVar[tuple[str, ...]] = ()

    def __init__(self, dimension: int, space: str, config: dict[str, Any], directory: Path | None) -> None:
        # exact has no settings; whatever index config the collection carries is irrelevant to it
        self._dim = check_dimension(dimension)
        self._space = check_space(space)
        self._dir = Path(directory) if directory is not None else None
        self._table = VectorTable(self._dim)
        self._seq = 0

    @classmethod
    def persisted_seq(cls, directory: Path) -> int | None:
        return atomic.persisted_seq(directory, cls.name)

    @classmethod
    def load(cls, dimension: int, space: str, config: dict[str, Any], directory: Path) -> ExactSegment | None:
        manifest = atomic.read_manifest(directory, cls.name)
        if manifest is None:
            return None
        atomic.check_meta(manifest, dimension=dimension, space=space)
        labels = atomic.load_npy(directory, manifest, "labels.npy")
        vectors = atomic.load_npy(directory, manifest, "vectors.npy")
        if labels.ndim != 1 or vectors.shape != (len(labels), dimension) or len(labels) != manifest.get("count"):
            raise atomic.CorruptIndexError(f"exact index in {directory} has inconsistent arrays")
        seg = cls(dimension, space, config, directory)
        seg._table = VectorTable.from_arrays(labels.astype(np.int64), vectors.astype(np.float32))
        seg._seq = int(manifest["applied_seq"])
        return seg

    @property
    def applied_seq(self) -> int:
        return self._seq

    def add(self, labels: np.ndarray, vectors: np.ndarray, seq: int) -> None:
        labels, vectors = check_add(labels, vectors, self._dim)
        self._table.upsert(labels, vectors)
        self._seq = max(self._seq, int(seq))

    def advance(self, seq: int) -> None:
        self._seq = max(self._seq, int(seq))

    def delete(self, labels: np.ndarray, seq: int) -> None:
        labels = as_labels(labels)
        self._table.remove(labels)
        self._seq = max(self._seq, int(seq))

    def query(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        q = as_vectors(queries, self._dim, "query embeddings")
        k = check_k(k)
        allowed = check_allowed(allowed)
        if allowed is None:
            return exact_topk(q, self._table.vectors, self._table.labels, k, self._space)
        rows = self._table.find(allowed)
        rows = rows[rows >= 0]
        if len(rows) == 0:
            return empty_result(len(q), k)
        return exact_topk(q, self._table.vectors[rows], self._table.labels[rows], k, self._space)

    def get_vectors(self, labels: np.ndarray) -> np.ndarray:
        return self._table.get(as_labels(labels))

    def count(self) -> int:
        return len(self._table)

    def persist(self) -> None:
        if self._dir is None:
            return
        atomic.write_generation(
            self._dir,
            self.name,
            {
                "labels.npy": atomic.npy_writer(self._table.labels),
                "vectors.npy": atomic.npy_writer(self._table.vectors),
            },
            {"applied_seq": self._seq, "dimension": self._dim, "space": self._space, "count": len(self._table)},
        )

    def update_config(self, config: dict[str, Any]) -> None:
        """Nothing to tune: exact search has no parameters."""

    def close(self) -> None:
        self._table = VectorTable(self._dim)


@hookimpl
def register_index_segments(register):
    register(ExactSegment)
