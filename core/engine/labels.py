"""Index labels of a forked collection.

A fork copies its source's index files instead of rebuilding them, so its index keeps
the source's labels, while its records get fresh rids (rids are unique across the
whole store): ``rid = label + offset``, with the offset the storage backend keeps for
the collection (``ReadTx.label_offset``; 0 for a collection that is no fork). The
engine sees rids only: ``OffsetLabels`` translates at the index boundary.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from huedb.index import IndexSegment


class OffsetLabels:
    """An IndexSegment whose labels are shifted by ``offset`` (rid = label + offset)."""

    def __init__(self, inner: IndexSegment, offset: int) -> None:
        self.inner = inner
        self.offset = offset

    @property
    def applied_seq(self) -> int:
        return self.inner.applied_seq

    def add(self, labels: np.ndarray, vectors: np.ndarray, seq: int) -> None:
        self.inner.add(np.asarray(labels, dtype=np.int64) - self.offset, vectors, seq)

    def delete(self, labels: np.ndarray, seq: int) -> None:
        self.inner.delete(np.asarray(labels, dtype=np.int64) - self.offset, seq)

    def query(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        inner_allowed = None if allowed is None else np.asarray(allowed, dtype=np.int64) - self.offset
        labels, distances = self.inner.query(queries, k, inner_allowed)
        labels = np.asarray(labels, dtype=np.int64)
        return np.where(labels >= 0, labels + self.offset, labels), distances  # -1 pads stay -1

    def get_vectors(self, labels: np.ndarray) -> np.ndarray:
        return self.inner.get_vectors(np.asarray(labels, dtype=np.int64) - self.offset)

    def __getattr__(self, name: str) -> Any:  # advance, count, persist, update_config, close, ...
        return getattr(self.inner, name)


def with_offset(index: IndexSegment, offset: int) -> IndexSegment:
    """``index`` as the engine sees it: its labels shifted when the collection is a fork. The
    wrapper's class carries the plugin's class attributes (config_section, name, ...)."""
    if not offset:
        return index
    plugin = type(index)
    attrs = {a: getattr(plugin, a) for a in ("name", "config_section", "mutable_params") if hasattr(plugin, a)}
    return type(f"OffsetLabels[{plugin.__name__}]", (OffsetLabels,), attrs)(index, offset)
