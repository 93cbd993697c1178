"""``example_flat``: a tiny brute-force index segment (exact search in numpy).

It implements the whole IndexSegment protocol of ``huedb.index``: upserting
add, delete, filtered query, get_vectors, count, atomic persist and load
(with CorruptIndexError for a damaged file), and the applied sequence number.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from huedb.distance import exact_search
from huedb.errors import InvalidArgumentError, InvalidDimensionException, NotFoundError
from huedb.hookspecs import hookimpl
from huedb.index import CorruptIndexError

FILENAME = "example_flat.npz"
SPACES = ("l2", "ip", "cosine")


class ExampleFlatSegment:
    name: ClassVar[str] = "example_flat"
    mutable_params: ClassVar[tuple[str, ...]] = ()

    def __init__(self, dimension: int, space: str, config: dict[str, Any], directory: Path | None) -> None:
        if isinstance(dimension, bool) or not isinstance(dimension, (int, np.integer)) or dimension < 1:
            raise InvalidArgumentError(f"example_flat: dimension must be a positive integer, got {dimension!r}")
        if space not in SPACES:
            raise InvalidArgumentError(f"example_flat: unknown space {space!r}; expected one of {', '.join(SPACES)}")
        self.dimension = int(dimension)
        self.space = space
        self.directory = Path(directory) if directory is not None else None
        self._labels = np.zeros(0, dtype=np.int64)
        self._vectors = np.zeros((0, self.dimension), dtype=np.float32)
        self._seq = 0

    @classmethod
    def load(cls, dimension: int, space: str, config: dict[str, Any], directory: Path) -> ExampleFlatSegment | None:
        path = Path(directory) / FILENAME
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                labels = data["labels"].astype(np.int64)
                vectors = data["vectors"].astype(np.float32)
                meta = json.loads(str(data["meta"]))
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as e:
            raise CorruptIndexError(f"example_flat index {path} cannot be read: {e}") from e
        if (
            meta.get("dimension") != dimension
            or meta.get("space") != space
            or vectors.shape != (len(labels), dimension)
        ):
            raise CorruptIndexError(f"example_flat index {path} does not match dimension {dimension} / space {space!r}")
        seg = cls(dimension, space, config, directory)
        seg._labels, seg._vectors, seg._seq = labels, vectors, int(meta["applied_seq"])
        return seg

    @property
    def applied_seq(self) -> int:
        return self._seq

    def _as_vectors(self, vectors: Any) -> np.ndarray:
        arr = np.asarray(vectors, dtype=np.float32)
        if arr.ndim == 1 and arr.size == self.dimension:
            arr = arr[None, :]
        if arr.ndim != 2 or (arr.shape[0] and arr.shape[1] != self.dimension):
            raise InvalidDimensionException(
                f"Collection expecting embedding with dimension of {self.dimension}, got shape {arr.shape}"
            )
        if not np.isfinite(arr).all():
            raise InvalidArgumentError("example_flat: vectors contain NaN or infinite values")
        return arr.reshape(-1, self.dimension)

    def add(self, labels: np.ndarray, vectors: np.ndarray, seq: int) -> None:
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
        vectors = self._as_vectors(vectors)
        if len(labels) != len(vectors):
            raise InvalidArgumentError(f"example_flat: {len(labels)} labels but {len(vectors)} vectors")
        if len(labels) and labels.min() < 0:  # -1 is the padding label of query results
            raise InvalidArgumentError(f"example_flat: labels must be non-negative, got {int(labels.min())}")
        # Within one batch the last vector of a label wins.
        _, last_from_end = np.unique(labels[::-1], return_index=True)
        keep = len(labels) - 1 - last_from_end
        labels, vectors = labels[keep], vectors[keep]
        stay = ~np.isin(self._labels, labels)
        self._labels = np.concatenate([self._labels[stay], labels])
        self._vectors = np.concatenate([self._vectors[stay], vectors])
        self._seq = max(self._seq, int(seq))

    def delete(self, labels: np.ndarray, seq: int) -> None:
        stay = ~np.isin(self._labels, np.asarray(labels, dtype=np.int64))
        self._labels, self._vectors = self._labels[stay], self._vectors[stay]
        self._seq = max(self._seq, int(seq))

    def advance(self, seq: int) -> None:
        self._seq = max(self._seq, int(seq))

    def query(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        q = self._as_vectors(queries)
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise InvalidArgumentError(f"example_flat: k must be a non-negative integer, got {k!r}")
        labels, vectors = self._labels, self._vectors
        if allowed is not None:
            mask = np.isin(labels, np.asarray(allowed, dtype=np.int64))
            labels, vectors = labels[mask], vectors[mask]
        return exact_search(q, vectors, labels, int(k), self.space)

    def get_vectors(self, labels: np.ndarray) -> np.ndarray:
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
        order = np.argsort(self._labels, kind="stable")
        pos = np.searchsorted(self._labels, labels, sorter=order)
        pos = np.minimum(pos, max(len(order) - 1, 0))
        rows = order[pos] if len(order) else pos
        if len(labels) and (len(order) == 0 or not np.array_equal(self._labels[rows], labels)):
            missing = sorted(set(labels.tolist()) - set(self._labels.tolist()))
            raise NotFoundError(f"example_flat: labels {missing[:10]} are not in the index")
        return self._vectors[rows] if len(labels) else np.zeros((0, self.dimension), dtype=np.float32)

    def count(self) -> int:
        return int(len(self._labels))

    def persist(self) -> None:
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        if self._persisted_seq() >= self._seq:
            return  # another process sharing the directory persisted a newer state: never roll it back
        meta = json.dumps({"applied_seq": self._seq, "dimension": self.dimension, "space": self.space})
        tmp = self.directory / (FILENAME + ".tmp")
        with open(tmp, "wb") as f:
            np.savez(f, labels=self._labels, vectors=self._vectors, meta=np.array(meta))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.directory / FILENAME)  # readers see the old or the new file, never half of one

    def _persisted_seq(self) -> int:
        """applied_seq of the index on disk; -1 when there is none or it cannot be read."""
        try:
            with np.load(self.directory / FILENAME, allow_pickle=False) as data:
                return int(json.loads(str(data["meta"]))["applied_seq"])
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
            return -1

    def update_config(self, config: dict[str, Any]) -> None:
        """Nothing to tune: exact search has no parameters."""

    def close(self) -> None:
        self._labels = np.zeros(0, dtype=np.int64)
        self._vectors = np.zeros((0, self.dimension), dtype=np.float32)


@hookimpl
def register_index_segments(register):
    register(ExampleFlatSegment)
