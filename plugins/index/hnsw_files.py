"""hnswlib graph files without the vectors that storage already holds.

hnswlib's own file stores every element's vector beside its links: at 384
dimensions that is 1,536 of each element's 1,676 bytes, and SQLite holds the
same vectors as the system of record. So a persisted graph is split:

- ``graph.links``: hnswlib's file with the vector bytes cut out of every level-0
  row (header, rows of links + label, upper-level links: all as hnswlib wrote them);
- ``graph.kept``: the vectors of the elements storage cannot give back (deleted
  elements, and elements of records updated since, whose graph vector is the
  old one): searches still route through them.

Loading streams the rows back together, taking each live element's vector from
storage (normalised again for cosine, bit for bit as hnswlib does it), into a memory
file (``memfd``; a temporary file where there is none) that ``load_index`` reads. A
record deleted since the persist has no vector in storage any more: its element (which
catch-up marks deleted) takes the vector of its first level-0 neighbour that has one,
so it still routes searches to the right region.
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path

import hnswlib
import numpy as np

from huedb.index import CorruptIndexError

#: hnswlib 0.8 header: offsetLevel0, max_elements, cur_element_count, size_data_per_element,
#: label_offset, offsetData (size_t), maxlevel (int), enterpoint (uint), maxM, maxM0, M (size_t),
#: mult (double), ef_construction (size_t)
HEADER = struct.Struct("<6QiI3QdQ")
CHUNK_ROWS = 4096
KEPT_DTYPE = "<i8"

#: graph labels -> (vectors, one row per label, as given to add(); mask of the labels found)
VectorSource = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


class Layout:
    def __init__(self, header: bytes, dim: int) -> None:
        fields = HEADER.unpack(header)
        self.header = header
        self.count, self.row, self.label_at, self.data_at = fields[2], fields[3], fields[4], fields[5]
        self.vec = dim * 4
        if fields[0] != 0 or self.data_at + self.vec > self.label_at or self.label_at + 8 != self.row:
            raise CorruptIndexError(f"hnswlib graph header does not match dimension {dim}")
        self.short = self.row - self.vec  # a row without its vector

    def labels(self, rows: np.ndarray, stripped: bool) -> np.ndarray:
        at = self.label_at - (self.vec if stripped else 0)
        return np.ascontiguousarray(rows[:, at : at + 8]).view("<u8").ravel().astype(np.int64)


def _read_exact(f, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise CorruptIndexError(f"hnswlib graph file {f.name} is truncated")
    return data


def split(index: hnswlib.Index, dim: int, live: np.ndarray, scratch: Path, links: Path, kept: Path) -> None:
    """Writes ``index`` as a links file plus the vectors of elements not in ``live`` (graph labels
    whose vectors storage holds). ``scratch`` is a temporary path for hnswlib's own file."""
    index.save_index(str(scratch))
    live = np.sort(np.asarray(live, dtype=np.int64))
    kept_rows: list[np.ndarray] = []
    kept_vectors: list[np.ndarray] = []
    try:
        with open(scratch, "rb") as src, open(links, "wb") as out:
            layout = Layout(_read_exact(src, HEADER.size), dim)
            out.write(layout.header)
            for start in range(0, layout.count, CHUNK_ROWS):
                m = min(CHUNK_ROWS, layout.count - start)
                rows = np.frombuffer(_read_exact(src, m * layout.row), dtype=np.uint8).reshape(m, layout.row)
                labels = layout.labels(rows, stripped=False)
                pos = np.minimum(np.searchsorted(live, labels), max(len(live) - 1, 0))
                inline = ~(live[pos] == labels) if len(live) else np.ones(m, dtype=bool)
                if inline.any():
                    kept_rows.append(np.flatnonzero(inline) + start)
                    kept_vectors.append(rows[inline, layout.data_at : layout.data_at + layout.vec])
                out.write(np.concatenate([rows[:, : layout.data_at], rows[:, layout.data_at + layout.vec :]], axis=1))
            while block := src.read(1 << 20):  # upper-level links
                out.write(block)
    finally:
        scratch.unlink(missing_ok=True)
    ids = np.concatenate(kept_rows) if kept_rows else np.zeros(0, dtype=np.int64)
    vectors = np.concatenate(kept_vectors) if kept_vectors else np.zeros((0, dim * 4), dtype=np.uint8)
    with open(kept, "wb") as f:
        np.save(f, ids.astype(KEPT_DTYPE), allow_pickle=False)
        np.save(f, vectors, allow_pickle=False)


def normalized(vectors: np.ndarray) -> np.ndarray:
    """What hnswlib stores for a cosine vector: the same float32 steps, summed in order."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(vectors) == 0:
        return vectors
    squares = np.cumsum(vectors * vectors, axis=1, dtype=np.float32)[:, -1]
    inverse = np.float32(1.0) / (np.sqrt(squares, dtype=np.float32) + np.float32(1e-30))
    return vectors * inverse[:, None]


def join(
    links: Path, kept: Path, dim: int, space: str, fetch: VectorSource, scratch_dir: Path, max_elements: int = 0
) -> hnswlib.Index:
    """The hnswlib index ``split`` wrote, with live vectors taken from ``fetch``."""
    with open(kept, "rb") as f:
        kept_ids = np.load(f, allow_pickle=False)
        kept_vectors = np.load(f, allow_pickle=False)
    fd, path, tmp = _scratch_file(scratch_dir)
    try:
        with open(links, "rb") as src, os.fdopen(os.dup(fd), "wb") as out:
            layout = Layout(_read_exact(src, HEADER.size), dim)
            if kept_vectors.shape[1:] != (layout.vec,) or len(kept_ids) != len(kept_vectors):
                raise CorruptIndexError(f"hnswlib kept vectors in {kept} do not match the graph")
            out.write(layout.header)
            missing: list[tuple[int, np.ndarray]] = []
            for start in range(0, layout.count, CHUNK_ROWS):
                m = min(CHUNK_ROWS, layout.count - start)
                rows = np.frombuffer(_read_exact(src, m * layout.short), dtype=np.uint8).reshape(m, layout.short)
                full = np.empty((m, layout.row), dtype=np.uint8)
                full[:, : layout.data_at] = rows[:, : layout.data_at]
                full[:, layout.data_at + layout.vec :] = rows[:, layout.data_at :]
                vecs = full[:, layout.data_at : layout.data_at + layout.vec]
                lo, hi = np.searchsorted(kept_ids, [start, start + m])
                inline = np.zeros(m, dtype=bool)
                inline[kept_ids[lo:hi] - start] = True
                vecs[inline] = kept_vectors[lo:hi]
                wanted = np.flatnonzero(~inline)
                if len(wanted):
                    found, ok = fetch(layout.labels(rows[wanted], stripped=True))
                    found = normalized(found) if space == "cosine" else np.ascontiguousarray(found, dtype=np.float32)
                    if ok.all():
                        vecs[wanted] = found.view(np.uint8)
                    else:
                        vecs[wanted[ok]] = found[ok].view(np.uint8)
                    for row in wanted[~ok].tolist():
                        vecs[row] = 0
                        missing.append((start + row, rows[row, : layout.data_at]))
                out.write(full)
            while block := src.read(1 << 20):
                out.write(block)
        _fill_missing(fd, layout, missing)
        index = hnswlib.Index(space=space, dim=dim)
        try:
            index.load_index(path, max_elements=max_elements)  # 0: the capacity it was saved with
        except Exception as e:  # noqa: BLE001 - any loader failure means "rebuild"
            raise CorruptIndexError(f"hnswlib could not load the graph joined from {links}: {e}") from e
        return index
    finally:
        os.close(fd)
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def _fill_missing(fd: int, layout: Layout, missing: list[tuple[int, np.ndarray]]) -> None:
    """Gives each element whose record is gone the vector of a level-0 neighbour that has one."""
    gone = {row for row, _ in missing}
    for row, link_bytes in missing:
        count = int(link_bytes[:4].view("<u4")[0] & 0xFFFF)
        neighbours = link_bytes[4 : 4 + 4 * count].view("<u4").tolist()
        donor = next((n for n in neighbours if n not in gone and n < layout.count), None)
        if donor is None:
            raise CorruptIndexError("a deleted graph element has no neighbour to take a vector from")
        vector = os.pread(fd, layout.vec, HEADER.size + donor * layout.row + layout.data_at)
        os.pwrite(fd, vector, HEADER.size + row * layout.row + layout.data_at)


def _scratch_file(directory: Path) -> tuple[int, str, Path | None]:
    """(fd, a path hnswlib can open, the temp file to remove or None)."""
    if hasattr(os, "memfd_create") and Path("/proc/self/fd").is_dir():
        fd = os.memfd_create("huedb-hnsw-graph")
        return fd, f"/proc/self/fd/{fd}", None
    fd, name = tempfile.mkstemp(prefix=".hnswlib.join.", suffix=".tmp", dir=directory)
    return fd, name, Path(name)
