"""A dense label -> vector table in numpy, shared by the index plugins.

Rows live in one float32 matrix with amortised growth; a sorted copy of the
labels (with each label's row) answers lookups with ``searchsorted``. Every
operation works on whole batches: no per-record Python loops.
"""

from __future__ import annotations

import numpy as np

from huedb.errors import NotFoundError


def dedupe_last(labels: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keeps the last occurrence of each label (a later write wins), in input order."""
    if len(labels) < 2:
        return labels, vectors
    _, first_in_reversed = np.unique(labels[::-1], return_index=True)
    if len(first_in_reversed) == len(labels):
        return labels, vectors
    keep = np.sort(len(labels) - 1 - first_in_reversed)
    return labels[keep], vectors[keep]


class VectorTable:
    """float32 rows (or ``dtype`` rows, e.g. int64 ids) keyed by unique int64 labels."""

    def __init__(self, dimension: int, dtype: np.typing.DTypeLike = np.float32) -> None:
        self.dimension = dimension
        self.dtype = np.dtype(dtype)
        self._vectors = np.empty((0, dimension), dtype=self.dtype)
        self._labels = np.empty(0, dtype=np.int64)
        self._n = 0
        self._keys = np.empty(0, dtype=np.int64)  # sorted labels
        self._rows = np.empty(0, dtype=np.int64)  # row of each sorted label

    def __len__(self) -> int:
        return self._n

    @property
    def labels(self) -> np.ndarray:
        """Labels in row order (a view: copy before mutating the table)."""
        return self._labels[: self._n]

    @property
    def vectors(self) -> np.ndarray:
        """Vectors in row order (a view: copy before mutating the table)."""
        return self._vectors[: self._n]

    @property
    def sorted_labels(self) -> np.ndarray:
        return self._keys

    def find(self, labels: np.ndarray) -> np.ndarray:
        """Row of each label, -1 where absent."""
        labels = np.asarray(labels, dtype=np.int64)
        if len(self._keys) == 0 or len(labels) == 0:
            return np.full(len(labels), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self._keys, labels), len(self._keys) - 1)
        return np.where(self._keys[pos] == labels, self._rows[pos], -1)

    def contains(self, labels: np.ndarray) -> np.ndarray:
        return self.find(labels) >= 0

    def get(self, labels: np.ndarray) -> np.ndarray:
        rows = self.find(labels)
        if (rows < 0).any():
            missing = np.asarray(labels)[rows < 0][:10].tolist()
            raise NotFoundError(f"labels not in the index: {missing}")
        return self._vectors[rows]

    def upsert(self, labels: np.ndarray, vectors: np.ndarray) -> None:
        labels, vectors = dedupe_last(np.asarray(labels, dtype=np.int64), np.asarray(vectors, dtype=self.dtype))
        rows = self.find(labels)
        present = rows >= 0
        self._vectors[rows[present]] = vectors[present]
        new = ~present
        m = int(new.sum())
        if m == 0:
            return
        start = self._n
        self._reserve(start + m)
        all_new = m == len(labels)  # the common case: no copies of the input
        self._vectors[start : start + m] = vectors if all_new else vectors[new]
        new_labels = labels if all_new else labels[new]
        self._labels[start : start + m] = new_labels
        order = np.argsort(new_labels, kind="stable")
        new_labels = new_labels[order]
        new_rows = np.arange(start, start + m, dtype=np.int64)[order]
        at = np.searchsorted(self._keys, new_labels)
        self._keys = np.insert(self._keys, at, new_labels)
        self._rows = np.insert(self._rows, at, new_rows)
        self._n = start + m

    def remove(self, labels: np.ndarray) -> np.ndarray:
        """Removes the labels that are present; returns them (sorted)."""
        labels = np.unique(np.asarray(labels, dtype=np.int64))
        rows = self.find(labels)
        hit = rows >= 0
        gone, rows = labels[hit], rows[hit]
        if len(gone) == 0:
            return gone
        # Fill the holes below the new size with the surviving tail rows (swap-remove).
        size = self._n - len(rows)
        holes = np.sort(rows[rows < size])
        tail = np.arange(size, self._n, dtype=np.int64)
        movers = tail[~np.isin(tail, rows)]
        self._vectors[holes] = self._vectors[movers]
        self._labels[holes] = self._labels[movers]
        pos = np.searchsorted(self._keys, gone)
        self._keys = np.delete(self._keys, pos)
        self._rows = np.delete(self._rows, pos)
        if len(holes):
            self._rows[np.searchsorted(self._keys, self._labels[holes])] = holes
        self._n = size
        return gone

    def clear(self) -> None:
        self.__init__(self.dimension, self.dtype)

    def _reserve(self, needed: int) -> None:
        capacity = len(self._labels)
        if needed <= capacity:
            return
        capacity = max(needed, capacity + capacity // 2 + 16)
        vectors = np.empty((capacity, self.dimension), dtype=self.dtype)
        labels = np.empty(capacity, dtype=np.int64)
        vectors[: self._n] = self._vectors[: self._n]
        labels[: self._n] = self._labels[: self._n]
        self._vectors, self._labels = vectors, labels

    @classmethod
    def from_arrays(cls, labels: np.ndarray, vectors: np.ndarray) -> VectorTable:
        table = cls(vectors.shape[1], vectors.dtype)
        table.upsert(labels, vectors)
        return table
