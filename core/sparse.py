"""SparseVector: a sparse vector as a metadata value, and its JSON form (chromadb's).

This module imports nothing from huedb, so validation, storage, the wire codec and the
clients can all use it without a layering back-edge (``huedb.api.types`` re-exports it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

#: the key and value that mark a sparse vector in JSON: ``{"#type": "sparse_vector", ...}``
TYPE_KEY = "#type"
SPARSE_VECTOR_TYPE_VALUE = "sparse_vector"


@dataclass
class SparseVector:
    """A sparse vector: strictly ascending non-negative ``indices`` and their ``values``
    (optionally a label per index). Serialised as chromadb does, with ``"#type": "sparse_vector"``.

    A metadata value of this type is stored with the record and indexed for sparse Knn search."""

    indices: list[int]
    values: list[float]
    labels: list[str] | None = None

    def __post_init__(self) -> None:
        if len(self.indices) != len(self.values):
            raise ValueError(
                f"SparseVector indices and values must have the same length, "
                f"got {len(self.indices)} indices and {len(self.values)} values"
            )
        if self.labels is not None and len(self.labels) != len(self.indices):
            raise ValueError(
                f"SparseVector labels must have the same length as indices and values, "
                f"got {len(self.labels)} labels, {len(self.indices)} indices"
            )
        for i, index in enumerate(self.indices):
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
                raise ValueError(f"SparseVector indices must be integers, got {type(index).__name__} at position {i}")
            if index < 0:
                raise ValueError(f"SparseVector indices must be non-negative, got {index} at position {i}")
            if i and index <= self.indices[i - 1]:
                raise ValueError(
                    f"SparseVector indices must be sorted in strictly ascending order, "
                    f"found indices[{i}]={index} <= indices[{i - 1}]={self.indices[i - 1]}"
                )
        for i, value in enumerate(self.values):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise ValueError(f"SparseVector values must be numbers, got {type(value).__name__} at position {i}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            TYPE_KEY: SPARSE_VECTOR_TYPE_VALUE,
            "indices": list(self.indices),
            "values": list(self.values),
        }
        if self.labels is not None:
            out["tokens"] = list(self.labels)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SparseVector:
        if data.get(TYPE_KEY) != SPARSE_VECTOR_TYPE_VALUE:
            raise ValueError(f"Expected {TYPE_KEY}={SPARSE_VECTOR_TYPE_VALUE!r}, got {data.get(TYPE_KEY)!r}")
        return cls(indices=list(data["indices"]), values=list(data["values"]), labels=data.get("tokens"))


SparseVectors = list[SparseVector]


def _sparse_hook(obj: dict[str, Any]) -> Any:
    return SparseVector.from_dict(obj) if obj.get(TYPE_KEY) == SPARSE_VECTOR_TYPE_VALUE else obj


def json_default(value: Any) -> Any:
    """``json.dumps(default=...)`` for read metadata: a SparseVector in its ``#type`` JSON form."""
    if isinstance(value, SparseVector):
        return value.to_dict()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def loads_metadata_list(text: str) -> list[Any]:
    """A JSON array of metadata (objects or null) as dicts whose sparse vector values are
    SparseVector objects. The marker's absence from the text (one C-speed scan) skips the
    decoding hook: a get of 14,286 records spent ~3 ms walking dicts that held none."""
    if SPARSE_VECTOR_TYPE_VALUE not in text:
        return json.loads(text)
    # metadata keys starting with '#' are refused, so only a value can carry the marker
    return json.loads(text, object_hook=_sparse_hook)


def decode_sparse_values(metadatas: Any) -> Any:
    """Sparse vector values (``{"#type": "sparse_vector", ...}``) in result metadata already
    parsed from JSON (the HTTP client's; a list of dicts, or a list of lists of them for a
    query or search) become SparseVector objects, in place; returns ``metadatas``."""
    for md in metadatas or ():
        if isinstance(md, list):
            decode_sparse_values(md)
        elif md:
            for key, value in md.items():
                if isinstance(value, dict):
                    md[key] = _sparse_hook(value)
    return metadatas
