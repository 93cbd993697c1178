"""hnswlib graph files without the vectors that storage already holds.

hnswlib's own file stores every element's vector beside its links: at 384
dimensions that is 1,536 of each element's 1,676 bytes, and SQLite holds the
same vectors as the system of record. So a persisted graph is split:

- ``graph.links``: hnswlib's file with the vector bytes cut out of every level-0
  row (header, rows of links + label, upper-level links: all as hnswlib wrote them);
- ``graph.kept``: the vectors of the elements storage cannot give back (deleted
  elements, and elements of records updated since, whose graph vector is the
  old one): searches still route through them.

Loading writes hnswlib's own file again, a block of rows at a time, to a temp file
in the segment's directory: links and labels from ``graph.links``, each live
element's vector from storage (normalised again for cosine, bit for bit as hnswlib
does it), the kept vectors, the upper-level links. hnswlib's ``load_index`` reads
it and the file is removed (also when loading fails; a crash leaves a
``.hnswlib.*.tmp`` file that the next persist sweeps). The process so holds the graph
once (hnswlib's) and two blocks beside it (one read, one written): the file's pages are
the kernel's page cache, which it can evict, not the process's memory. (Handing hnswlib
the assembled graph as its pickle state held it twice: hnswlib copies the array it is
given.) The files' SHA-256 is checked over the bytes read before hnswlib reads the
file; where the directory has no room for it, the file is an in-memory one (a Linux memfd: the
process then holds the graph twice while it loads). A record deleted since the
persist has no vector in storage any more: its element (which catch-up marks
deleted) takes the vector of its first level-0 neighbour that has one, so it still
routes searches to the right region.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import io
import os
import re
import shutil
import struct
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

import hnswlib
import numpy as np

from huedb.index import CorruptIndexError

#: hnswlib 0.8 header: offsetLevel0, max_elements, cur_element_count, size_data_per_element,
#: label_offset, offsetData (size_t), maxlevel (int), enterpoint (uint), maxM, maxM0, M (size_t),
#: mult (double), ef_construction (size_t)
HEADER = struct.Struct("<6QiI3QdQ")
#: rows of hnswlib's file per read when splitting: 1.7 MB at 384 dimensions (a persist runs
#: inside add(), whose peak memory this adds to)
CHUNK_ROWS = 1024
#: graph rows per vector fetch when joining: SQLite's range read returns up to 512 rows
#: from one statement as a view on its blob, without copying them
JOIN_ROWS = 512
#: graph rows per block of the joined file: the join holds two blocks (one being read, one
#: written), 3.4 MB at 384 dimensions, beside the graph hnswlib loads
JOIN_BLOCK = 1024
KEPT_DTYPE = "<i8"

#: graph labels -> (vectors, one row per label, as given to add(); mask of the labels found)
VectorSource = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


class Layout:
    def __init__(self, header: bytes, dim: int) -> None:
        fields = HEADER.unpack(header)
        self.header, self.fields = header, fields
        self.max_elements, self.count, self.row, self.label_at, self.data_at = fields[1:6]
        self.vec = dim * 4
        self.links_size = fields[8] * 4 + 4  # one upper level: a count word and maxM links
        if fields[0] != 0 or self.data_at + self.vec > self.label_at or self.label_at + 8 != self.row:
            raise CorruptIndexError(f"hnswlib graph header does not match dimension {dim}")
        if self.count > self.max_elements:
            raise CorruptIndexError("hnswlib graph header counts more elements than its capacity")
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
    """What hnswlib stores for a cosine vector: the same float32 steps, summed in order
    (bit for bit where ``reproduces_cosine`` says so)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(vectors) == 0:
        return vectors
    squares = np.cumsum(vectors * vectors, axis=1, dtype=np.float32)[:, -1]
    inverse = np.float32(1.0) / (np.sqrt(squares, dtype=np.float32) + np.float32(1e-30))
    return vectors * inverse[:, None]


@functools.cache
def reproduces_cosine(dim: int) -> bool:
    """Whether ``normalized`` gives exactly the vectors this hnswlib build stores for cosine at
    this dimension. A native build sums some dimensions (here: those not a multiple of 8) in
    another order; a cosine graph of such a dimension is then persisted with its vectors.
    A rare mismatch can hide from a probe, so dimensions not a multiple of 8 are not probed."""
    if dim % 8:
        return False
    probe = np.random.default_rng(dim).normal(size=(512, dim)).astype(np.float32)
    index = hnswlib.Index(space="cosine", dim=dim)
    index.init_index(max_elements=len(probe), M=2, ef_construction=2)
    index.add_items(probe, np.arange(len(probe)), num_threads=1)
    stored = np.asarray(index.get_items(np.arange(len(probe)), return_type="numpy"), dtype=np.float32)
    return bool(np.array_equal(stored, normalized(probe)))


def strippable(space: str, dim: int) -> bool:
    """Whether a graph of this space and dimension can leave its vectors to storage."""
    return space != "cosine" or reproduces_cosine(dim)


def join(
    links: Path,
    kept: Path,
    dim: int,
    space: str,
    fetch: VectorSource,
    max_elements: int = 0,
    sha256: dict[Path, str] | None = None,
    scratch: Path | None = None,
) -> hnswlib.Index:
    """The hnswlib index ``split`` wrote, with live vectors taken from ``fetch``.

    The joined file is written to ``scratch`` (default: a temp file beside ``links``), loaded
    by hnswlib and removed, also on failure. ``sha256`` (path -> hex digest) checks the two
    files over the bytes read: hnswlib gets the graph only once both match."""
    if not strippable(space, dim):
        raise CorruptIndexError(
            f"this hnswlib build normalises {space} vectors of dimension {dim} other than {links} assumes"
        )
    digests = sha256 or {}
    scratch = scratch or links.with_name(f".{links.name}.{uuid.uuid4().hex}.join.tmp")
    in_memory = None
    if not _has_room(links, scratch, dim):
        # A full disk must not make the collection unreadable: the joined file then lives in
        # memory, and the process holds the graph twice while hnswlib reads it.
        in_memory = _memory_file(scratch)
        scratch = Path(f"/proc/self/fd/{in_memory}")
    try:
        try:
            with open(scratch, "w+b") as out:
                layout, read = _write_joined(links, kept, out, dim, space, fetch)
        except Exception:
            _check_files(digests, links, kept)  # a file that is not what was written explains the failure best
            raise
        for path, digest in read.items():
            if digests.get(path, digest) != digest:
                raise CorruptIndexError(f"index file {path} is corrupt: SHA-256 mismatch")
        index = hnswlib.Index(space=space, dim=dim)
        try:
            index.load_index(str(scratch), max_elements=max(layout.max_elements, max_elements))
        except Exception as e:  # noqa: BLE001 - any loader failure means "rebuild"
            raise CorruptIndexError(f"hnswlib could not load the graph joined from {links}: {e}") from e
    finally:
        if in_memory is None:
            scratch.unlink(missing_ok=True)
        else:
            os.close(in_memory)
    return index


def _has_room(links: Path, scratch: Path, dim: int) -> bool:
    """Whether ``scratch``'s file system can take the joined file (``links`` with its vectors
    put back), checked before writing rather than failing halfway."""
    with open(links, "rb") as f:
        header = f.read(HEADER.size)
    size = links.stat().st_size
    try:
        layout = Layout(header, dim)
    except (CorruptIndexError, struct.error):
        return True  # join reports the damage (after its SHA-256 check)
    if HEADER.size + layout.count * layout.short > size:
        return True  # a count the file cannot hold: the same
    return shutil.disk_usage(scratch.parent).free >= size + layout.count * layout.vec


def _memory_file(scratch: Path) -> int:
    """A file descriptor of an anonymous in-memory file (Linux ``memfd``) for the joined graph."""
    if not hasattr(os, "memfd_create"):
        raise OSError(
            errno.ENOSPC,
            f"loading the index needs free space in {scratch.parent} for a temporary file about the "
            "size of the graph with its vectors: free some space there and open the collection again",
        )
    return os.memfd_create("huedb-hnsw-join")


def _check_files(digests: dict[Path, str], *paths: Path) -> None:
    """Raises CorruptIndexError for the first of ``paths`` whose SHA-256 is not the expected one."""
    for path in paths:
        if path not in digests:
            continue
        h = hashlib.sha256()
        try:
            with open(path, "rb") as f:
                while block := f.read(1 << 20):
                    h.update(block)
        except OSError:
            continue  # unreadable: the caller's own error says so
        if h.hexdigest() != digests[path]:
            raise CorruptIndexError(f"index file {path} is corrupt: SHA-256 mismatch")


def _read_kept(kept: Path, data: bytes) -> tuple[np.ndarray, np.ndarray]:
    try:
        with io.BytesIO(data) as f:
            ids = np.load(f, allow_pickle=False)
            vectors = np.load(f, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise CorruptIndexError(f"hnswlib kept vectors in {kept} are unreadable: {e}") from e
    if ids.ndim != 1 or vectors.ndim != 2 or len(ids) != len(vectors):
        raise CorruptIndexError(f"hnswlib kept vectors in {kept} do not match the graph")
    order = np.argsort(ids, kind="stable")
    return ids[order].astype(np.int64), vectors[order]


def _write_joined(
    links: Path, kept: Path, out: BinaryIO, dim: int, space: str, fetch: VectorSource
) -> tuple[Layout, dict[Path, str]]:
    """Writes hnswlib's file of the graph to ``out``: the header, the level-0 rows (links,
    vector, label) JOIN_BLOCK at a time, the upper-level links. Returns the layout and the
    SHA-256 of the bytes read from ``links`` and ``kept``. A second thread hashes, places the
    vectors and writes each block while this one reads the next from ``links`` and storage
    (hashlib, numpy, file writes and SQLite release the GIL)."""
    kept_data = kept.read_bytes()
    kept_ids, kept_vectors = _read_kept(kept, kept_data)
    links_hash = hashlib.sha256()
    missing: list[int] = []
    with open(links, "rb") as src, ThreadPoolExecutor(max_workers=1) as worker:
        kept_digest = worker.submit(lambda: hashlib.sha256(kept_data).hexdigest())
        header = _read_exact(src, HEADER.size)
        links_hash.update(header)
        layout = Layout(header, dim)
        count = layout.count
        if kept_vectors.shape[1] != layout.vec or (len(kept_ids) and (kept_ids[0] < 0 or kept_ids[-1] >= count)):
            raise CorruptIndexError(f"hnswlib kept vectors in {kept} do not match the graph")
        from_storage = np.ones(count, dtype=bool)
        from_storage[kept_ids] = False
        out.write(header)
        writer = _BlockWriter(out, links_hash, layout, space)
        pending: Future[list[int]] | None = None
        for start in range(0, count, JOIN_BLOCK):
            stop = min(count, start + JOIN_BLOCK)
            short = np.frombuffer(_read_exact(src, (stop - start) * layout.short), dtype=np.uint8)
            short = short.reshape(stop - start, layout.short)
            labels = layout.labels(short, stripped=True)
            fetched = []
            for at in range(start, stop, JOIN_ROWS):
                wanted = np.flatnonzero(from_storage[at : min(stop, at + JOIN_ROWS)]) + at
                if len(wanted):
                    fetched.append((wanted - start, *fetch(labels[wanted - start])))
            lo, hi = np.searchsorted(kept_ids, [start, stop])
            inline = (kept_ids[lo:hi] - start, kept_vectors[lo:hi])
            if pending is not None:
                missing += pending.result()  # one block in flight: the join holds at most two
            pending = worker.submit(writer.write, start, short, inline, fetched)
        if pending is not None:
            missing += pending.result()
        tail = src.read()  # upper-level links: a size word per element, then its lists
        links_hash.update(tail)
        _check_upper_levels(memoryview(tail), layout)
        out.write(tail)
        kept_hex = kept_digest.result()
    out.flush()
    _fill_missing(out, layout, missing)
    return layout, {links: links_hash.hexdigest(), kept: kept_hex}


class _BlockWriter:
    """Writes hnswlib's level-0 rows block by block, on one thread, through one reused buffer
    (a fresh block each time would fault its pages in again)."""

    def __init__(self, out: BinaryIO, links_hash: Any, layout: Layout, space: str) -> None:
        self.out, self.links_hash, self.layout, self.space = out, links_hash, layout, space
        self.buffer = np.empty((min(JOIN_BLOCK, layout.count), layout.row), dtype=np.uint8)

    def write(
        self,
        start: int,
        short: np.ndarray,
        inline: tuple[np.ndarray, np.ndarray],
        fetched: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    ) -> list[int]:
        """Writes the rows of graph rows ``start:start+len(short)``: links and label from ``short``,
        vectors from ``inline`` (kept) and ``fetched`` (storage; placed as hnswlib stores them).
        Returns the rows storage had no vector for (zeroed)."""
        layout = self.layout
        self.links_hash.update(short)
        rows = self.buffer[: len(short)]
        rows[:, : layout.data_at] = short[:, : layout.data_at]
        rows[:, layout.data_at + layout.vec :] = short[:, layout.data_at :]
        vecs = rows[:, layout.data_at : layout.data_at + layout.vec]
        vecs[inline[0]] = inline[1]
        missing: list[int] = []
        for wanted, found, ok in fetched:
            found = normalized(found) if self.space == "cosine" else np.ascontiguousarray(found, dtype=np.float32)
            if ok.all() and wanted[-1] - wanted[0] == len(wanted) - 1:  # the usual case: a slice
                vecs[wanted[0] : wanted[-1] + 1] = found.view(np.uint8)
                continue
            vecs[wanted[ok]] = found[ok].view(np.uint8)
            vecs[wanted[~ok]] = 0
            missing += (wanted[~ok] + start).tolist()
        self.out.write(rows)
        return missing


#: a run of elements without upper levels: their size words are zero
_ZEROS = re.compile(rb"\x00*")


def _check_upper_levels(tail: memoryview, layout: Layout) -> None:
    """Checks the file's tail, hnswlib's upper-level link lists: per element a byte count (a
    whole number of levels), then that many bytes, and nothing after the last element."""
    element = word = 0  # word: position in 4-byte units (every size is a multiple of 4)
    total = len(tail)
    while True:
        run = (_ZEROS.match(tail, 4 * word).end() - 4 * word) // 4  # whole zero words: elements at level 0
        run = min(run, layout.count - element)
        element, word = element + run, word + run
        if element == layout.count:
            break
        size = int.from_bytes(tail[4 * word : 4 * word + 4], "little")
        end = 4 * word + 4 + size
        if size % layout.links_size or end > total:
            raise CorruptIndexError("hnswlib graph file has a damaged upper-level link list")
        element, word = element + 1, end // 4
    if 4 * word != total:
        raise CorruptIndexError("hnswlib graph file has bytes after its last link list")


def _fill_missing(out: BinaryIO, layout: Layout, missing: list[int]) -> None:
    """Gives each element whose record is gone (its row in the joined file ``out``) the vector
    of a level-0 neighbour that has one."""
    gone = set(missing)
    fd = out.fileno()

    def at(row: int) -> int:
        return HEADER.size + row * layout.row

    for row in missing:
        head = os.pread(fd, layout.data_at, at(row))
        count = min(int.from_bytes(head[:4], "little") & 0xFFFF, layout.data_at // 4 - 1)
        neighbours = np.frombuffer(head, dtype="<u4", count=count, offset=4).tolist()
        donor = next((n for n in neighbours if n not in gone and n < layout.count), None)
        if donor is None:
            raise CorruptIndexError("a deleted graph element has no neighbour to take a vector from")
        os.pwrite(fd, os.pread(fd, layout.vec, at(donor) + layout.data_at), at(row) + layout.data_at)
