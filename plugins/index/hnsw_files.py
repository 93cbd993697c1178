"""hnswlib graph files without the vectors that storage already holds.

hnswlib's own file stores every element's vector beside its links: at 384
dimensions that is 1,536 of each element's 1,676 bytes, and SQLite holds the
same vectors as the system of record. So a persisted graph is split:

- ``graph.links``: hnswlib's file with the vector bytes cut out of every level-0
  row (header, rows of links + label, upper-level links: all as hnswlib wrote them);
- ``graph.kept``: the vectors of the elements storage cannot give back (deleted
  elements, and elements of records updated since, whose graph vector is the
  old one): searches still route through them.

Loading assembles hnswlib's level-0 block in memory (links and labels from
``graph.links``; each live element's vector from storage, normalised again for
cosine, bit for bit as hnswlib does it) and hands it to hnswlib as its pickle
state (``hnswlib.Index(params=...)``), which copies it once: no file is written
and parsed again. A record deleted since the persist has no vector in storage any
more: its element (which catch-up marks deleted) takes the vector of its first
level-0 neighbour that has one, so it still routes searches to the right region.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import struct
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import hnswlib
import numpy as np

from huedb.index import CorruptIndexError

#: hnswlib 0.8 header: offsetLevel0, max_elements, cur_element_count, size_data_per_element,
#: label_offset, offsetData (size_t), maxlevel (int), enterpoint (uint), maxM, maxM0, M (size_t),
#: mult (double), ef_construction (size_t)
HEADER = struct.Struct("<6QiI3QdQ")
CHUNK_ROWS = 4096
#: graph rows per vector fetch when joining: SQLite's range read returns up to 512 rows
#: from one statement as a view on its blob, without copying them
JOIN_ROWS = 512
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

    def params(self, space: str, dim: int, capacity: int) -> dict[str, Any]:
        """hnswlib's pickle state (``Index(params=...)``) for this header, without the arrays."""
        _, _, count, row, label_at, data_at, max_level, entry, max_m, max_m0, m, mult, ef_construction = self.fields
        return {
            "ser_version": 1,
            "space": space,
            "dim": dim,
            "index_inited": True,
            "ep_added": True,
            "normalize": space == "cosine",
            "num_threads": 1,
            "seed": 100,  # hnswlib's default; it seeds the levels of elements added later
            "offset_level0": 0,
            "max_elements": capacity,
            "cur_element_count": count,
            "size_data_per_element": row,
            "label_offset": label_at,
            "offset_data": data_at,
            "max_level": max_level,
            "enterpoint_node": entry,
            "max_M": max_m,
            "max_M0": max_m0,
            "M": m,
            "mult": mult,
            "ef_construction": ef_construction,
            "ef": 10,
            "has_deletions": True,  # hnswlib then counts the elements marked deleted
            "size_links_per_element": self.links_size,
            "allow_replace_deleted": False,
        }

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
) -> hnswlib.Index:
    """The hnswlib index ``split`` wrote, with live vectors taken from ``fetch``.

    ``sha256`` (path -> hex digest) checks the two files: the bytes read are hashed on a
    second thread while this one reads the vectors from storage, and hnswlib gets the
    graph only once both match."""
    if not strippable(space, dim):
        raise CorruptIndexError(
            f"this hnswlib build normalises {space} vectors of dimension {dim} other than {links} assumes"
        )
    data, kept_data = links.read_bytes(), kept.read_bytes()
    with ThreadPoolExecutor(max_workers=1) as worker:
        checks = [
            worker.submit(_check_digest, p, b, (sha256 or {}).get(p)) for p, b in ((links, data), (kept, kept_data))
        ]
        try:
            level0, labels, upper = _assemble(links, data, kept, kept_data, dim, space, fetch, worker)
        except Exception:
            for check in checks:
                check.result()  # a file that is not what was written explains the failure best
            raise
        for check in checks:
            check.result()
    layout = Layout(data[: HEADER.size], dim)
    capacity = max(layout.max_elements, max_elements)
    levels, link_lists = _upper_levels(upper, layout, capacity)
    upper.release()
    del data, kept_data, upper  # the files' bytes go before hnswlib makes its copy: a lower peak
    params = layout.params(space, dim, capacity)
    params.update(
        # reversed: hnswlib keeps the first of equal labels, its file loader the last
        label_lookup_external=labels[::-1].astype(np.uint64),
        label_lookup_internal=np.arange(layout.count, dtype=np.uint32)[::-1].copy(),
        element_levels=levels,
        data_level0=level0.reshape(-1).view(np.int8),
        link_lists=link_lists,
    )
    try:
        return hnswlib.Index(params=params)
    except Exception as e:  # noqa: BLE001 - any loader failure means "rebuild"
        raise CorruptIndexError(f"hnswlib could not load the graph joined from {links}: {e}") from e


def _check_digest(path: Path, data: bytes, expected: str | None) -> None:
    if expected is not None and hashlib.sha256(data).hexdigest() != expected:  # hashlib drops the GIL
        raise CorruptIndexError(f"index file {path} is corrupt: SHA-256 mismatch")


def _assemble(
    links: Path,
    data: bytes,
    kept: Path,
    kept_data: bytes,
    dim: int,
    space: str,
    fetch: VectorSource,
    worker: ThreadPoolExecutor,
) -> tuple[np.ndarray, np.ndarray, memoryview]:
    """(hnswlib's level-0 block: links, vector and label per element; the labels; the file's
    upper-level part). The links are copied on ``worker`` while the vectors are fetched here."""
    try:
        with io.BytesIO(kept_data) as f:
            kept_ids = np.load(f, allow_pickle=False)
            kept_vectors = np.load(f, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise CorruptIndexError(f"hnswlib kept vectors in {kept} are unreadable: {e}") from e
    if len(data) < HEADER.size:
        raise CorruptIndexError(f"hnswlib graph file {links} is truncated")
    layout = Layout(data[: HEADER.size], dim)
    count, level0_end = layout.count, HEADER.size + layout.count * layout.short
    if len(data) < level0_end:
        raise CorruptIndexError(f"hnswlib graph file {links} is truncated")
    if kept_vectors.shape[1:] != (layout.vec,) or len(kept_ids) != len(kept_vectors):
        raise CorruptIndexError(f"hnswlib kept vectors in {kept} do not match the graph")
    if len(kept_ids) and (kept_ids.min() < 0 or kept_ids.max() >= count):
        raise CorruptIndexError(f"hnswlib kept vectors in {kept} name elements the graph lacks")
    short = np.frombuffer(data, dtype=np.uint8, count=count * layout.short, offset=HEADER.size)
    short = short.reshape(count, layout.short)
    level0 = np.empty((count, layout.row), dtype=np.uint8)

    def copy_links() -> None:  # numpy copies without the GIL: this runs beside the fetches
        level0[:, : layout.data_at] = short[:, : layout.data_at]
        level0[:, layout.data_at + layout.vec :] = short[:, layout.data_at :]

    links_copied = worker.submit(copy_links)
    vecs = level0[:, layout.data_at : layout.data_at + layout.vec]
    labels = layout.labels(short, stripped=True)
    vecs[kept_ids] = kept_vectors
    from_storage = np.ones(count, dtype=bool)
    from_storage[kept_ids] = False
    placed = []  # the worker normalises and places each chunk while this thread reads the next
    for start in range(0, count, JOIN_ROWS):
        stop = min(count, start + JOIN_ROWS)
        wanted = np.flatnonzero(from_storage[start:stop]) + start
        if len(wanted):
            found, ok = fetch(labels[wanted])
            placed.append(worker.submit(_place, vecs, start, stop, wanted, found, ok, space))
    links_copied.result()
    missing = [row for chunk in placed for row in chunk.result()]
    _fill_missing(level0, layout, missing)
    return level0, labels, memoryview(data)[level0_end:]


def _place(
    vecs: np.ndarray, start: int, stop: int, wanted: np.ndarray, found: np.ndarray, ok: np.ndarray, space: str
) -> list[int]:
    """Writes fetched vectors into their rows (as hnswlib stores them); returns the rows
    storage had no vector for (zeroed)."""
    found = normalized(found) if space == "cosine" else np.ascontiguousarray(found, dtype=np.float32)
    if len(wanted) == stop - start and ok.all():  # the usual case: a slice, no fancy indexing
        vecs[start:stop] = found.view(np.uint8)
        return []
    vecs[wanted[ok]] = found[ok].view(np.uint8)
    vecs[wanted[~ok]] = 0
    return wanted[~ok].tolist()


#: a run of elements without upper levels: their size words are zero
_ZEROS = re.compile(rb"\x00*")


def _upper_levels(tail: memoryview, layout: Layout, capacity: int) -> tuple[np.ndarray, np.ndarray]:
    """(each element's level, the upper-level link lists concatenated), as hnswlib's pickle
    state holds them, from the file's tail: per element a byte count, then that many bytes."""
    levels = np.zeros(capacity, dtype=np.int32)
    blocks: list[memoryview] = []
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
        levels[element] = size // layout.links_size
        blocks.append(tail[4 * word + 4 : end])
        element, word = element + 1, end // 4
    if 4 * word != total:
        raise CorruptIndexError("hnswlib graph file has bytes after its last link list")
    return levels, np.frombuffer(b"".join(blocks), dtype=np.int8)


def _fill_missing(level0: np.ndarray, layout: Layout, missing: list[int]) -> None:
    """Gives each element whose record is gone the vector of a level-0 neighbour that has one."""
    gone = set(missing)
    vecs = level0[:, layout.data_at : layout.data_at + layout.vec]
    for row in missing:
        count = int(level0[row, :4].view("<u4")[0] & 0xFFFF)
        neighbours = level0[row, 4 : 4 + 4 * count].view("<u4").tolist()
        donor = next((n for n in neighbours if n not in gone and n < layout.count), None)
        if donor is None:
            raise CorruptIndexError("a deleted graph element has no neighbour to take a vector from")
        vecs[row] = vecs[donor]
