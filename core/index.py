"""The IndexSegment protocol: a vector index derived from SQLite.

SQLite is the system of record. An index segment is a cache of the vectors that
can always be rebuilt from it: it records the last applied sequence number so
the core can tell whether it is current, stale (catch up) or corrupt (rebuild).
Implementations are plugins (``plugins/index`` or third-party packages).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

if TYPE_CHECKING:
    import filelock  # for the annotation; index_lock imports it when called


class CorruptIndexError(Exception):
    """An index file exists but cannot be trusted; the core rebuilds it from SQLite."""


class IndexSegment(Protocol):
    """A vector index over one collection.

    The core holds one lock per segment around every call, so an implementation need
    not be thread-safe. Labels are int64 record ids assigned by the core (never reused). ``add``
    replaces the vector of a label that is already present, so it also serves
    updates. Distances are exact per space: ``l2`` squared L2, ``ip`` 1 - a.b,
    ``cosine`` 1 - cos.

    Optional: a plugin whose class sets ``vectors_from_storage = True`` gets
    ``load(..., vectors=fetch)`` (``fetch(labels) -> (vectors, found mask)``, read from the
    storage snapshot being loaded against) and an instance attribute ``strip_vectors``
    (set by the core when the segment has a directory), so its files may leave out the
    vectors storage already holds (hnswlib does: docs/index-plugins.md).
    """

    #: registry name, e.g. "hnswlib"
    name: ClassVar[str]
    #: config keys that ``update_config`` accepts after creation
    mutable_params: ClassVar[tuple[str, ...]]
    #: which section of the collection configuration configures this plugin (default "index")
    config_section: ClassVar[str]

    def __init__(self, dimension: int, space: str, config: dict[str, Any], directory: Path | None) -> None: ...

    @classmethod
    def persisted_seq(cls, directory: Path) -> int | None:
        """The ``applied_seq`` persisted under ``directory`` without loading the index (None:
        nothing persisted); raises CorruptIndexError. Optional: the core falls back to
        ``load`` (``huedb doctor`` uses it to report an index's state)."""
        ...

    @classmethod
    def load(cls, dimension: int, space: str, config: dict[str, Any], directory: Path) -> IndexSegment | None:
        """Opens the persisted index under ``directory``; None if there is none.

        Raises CorruptIndexError when a file is present but truncated or corrupt.
        """
        ...

    @property
    def applied_seq(self) -> int:
        """Sequence number of the last write applied to this index."""
        ...

    def add(self, labels: np.ndarray, vectors: np.ndarray, seq: int) -> None:
        """Inserts or replaces vectors (float32, shape (n, dimension))."""
        ...

    def delete(self, labels: np.ndarray, seq: int) -> None:
        """Removes labels; unknown labels are ignored."""
        ...

    def advance(self, seq: int) -> None:
        """Records that every write up to ``seq`` is applied. The core calls it last when it
        catches an index up: the chunks before it are applied at the old seq, so a persist
        in between never claims records the index does not hold yet."""
        ...

    def query(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """k nearest labels and distances per query, shape (nq, k).

        With ``allowed`` (sorted int64 labels), only those labels are eligible.
        Rows are padded with label -1 and distance +inf when fewer match.
        """
        ...

    def get_vectors(self, labels: np.ndarray) -> np.ndarray:
        """The stored vectors of ``labels`` (all present), float32 (n, dimension)."""
        ...

    def count(self) -> int: ...

    def persist(self) -> None:
        """Writes the index to its directory atomically (write then rename). No-op in memory.

        Several processes may share the directory: a persist must never replace a
        persisted index whose ``applied_seq`` is newer than this one's (the built-in
        plugins get this from ``huedb_plugins.index.atomic``)."""
        ...

    def update_config(self, config: dict[str, Any]) -> None:
        """Applies changed runtime parameters (only keys in ``mutable_params``)."""
        ...

    def close(self) -> None: ...


def sorted_unique(labels: np.ndarray) -> np.ndarray:
    """``labels`` sorted without duplicates; input that already is (the usual case:
    rid sets from SQLite) comes back as is after one linear check."""
    if len(labels) < 2 or (labels[1:] > labels[:-1]).all():
        return labels
    return np.unique(labels)


def index_lock_path(directory: Path) -> Path:
    """The cross-process lock file of the index files under ``directory`` (a sibling, so
    removing the directory never removes a lock another process is waiting on)."""
    directory = Path(directory)
    return directory.with_name(f".{directory.name}.lock")


def index_lock(directory: Path) -> filelock.FileLock:
    """The lock that every process holds while it reads, writes or removes the index
    files under ``directory``. Reentrant in one thread; exclusive across threads and
    processes. The core takes it around every index call that may touch files, so
    plugins need no locking of their own."""
    import filelock

    return filelock.FileLock(str(index_lock_path(directory)), is_singleton=True)


#: A filtered query with at most ``exact_search_limit(k, total)`` candidates is answered
#: by exact search over the stored vectors (recall 1.0, and cheaper than a filtered graph
#: walk at that size). The core makes this decision; an index plugin called by the core
#: only sees larger allowed sets, and plugins use the same function when called directly.
EXACT_SEARCH_MIN = 2000
EXACT_SEARCH_PER_K = 20
EXACT_SEARCH_FRACTION = 0.01


def exact_search_limit(k: int, total: int) -> int:
    return max(EXACT_SEARCH_MIN, EXACT_SEARCH_PER_K * k, int(EXACT_SEARCH_FRACTION * total))
