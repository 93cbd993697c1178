"""The shared workload: vectors, queries, metadata, documents and exact answers.

Everything derives from one seed, so every engine (and every run with the same
options) sees identical data. The parent generates the arrays once and saves
them as .npy files that the engine subprocesses memory-map. Ingest reads its
batches with ``Workload.rows`` instead: pages touched through the mapping stay
in the process's RSS, so a 1M ingest would show all 1.5 GB of its vectors.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

import numpy as np

K = 10
# Filters of the figures; the masks below must select exactly what these select.
FILTER_10PCT: dict = {"k": 3}
FILTER_1PCT: dict = {"m": 7}
GET_AND_FILTER: dict = {"$and": [{"k": 3}, {"s": "v2"}]}
CONTAINS_TOKEN = "t007q"  # in documents with i % 1000 == 7 (0.1% of rows)
CONTAINS_MANY_TOKEN = "with amber"  # in documents with i % 13 == 0 (7.7% of rows)

_TOPIC_WORDS = (
    "amber",
    "basalt",
    "cedar",
    "delta",
    "ember",
    "fjord",
    "granite",
    "harbor",
    "indigo",
    "juniper",
    "kelp",
    "lantern",
    "meadow",
)
# Plain English words: ~1 wordpiece each, so 34 words ~ 40 tokens with specials.
_EMBED_WORDS = (
    "the quick brown fox jumps over lazy dog while small birds sing in tall "
    "green trees near river bank where children play games after school and "
    "parents read news about weather markets sports science music travel food "
    "history art health city ocean mountain garden library window morning night"
).split()


@dataclass(frozen=True)
class WorkloadParams:
    n: int = 50_000
    dim: int = 384
    seed: int = 42
    batch: int = 5_000
    queries: int = 300
    latent_dim: int = 32
    clusters: int = 64
    embed_docs: int = 256

    def validate(self) -> None:
        for name in ("n", "dim", "batch", "queries", "embed_docs"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        if self.dim < 2:
            raise ValueError(f"--dim must be >= 2, got {self.dim}")


def generate_vectors(p: WorkloadParams) -> tuple[np.ndarray, np.ndarray]:
    """Embedding-like unit vectors: a gaussian mixture in `latent_dim` dims,
    lifted to `dim` by a random linear map, plus small isotropic noise.

    Data and queries use separate random streams from the same mixture, so the
    queries are fresh points of the data distribution (not data points) and do
    not change when only --n changes.
    """
    model_ss, data_ss, query_ss = np.random.SeedSequence(p.seed).spawn(3)
    model = np.random.default_rng(model_ss)
    latent = min(p.latent_dim, p.dim)
    centers = model.normal(size=(p.clusters, latent)).astype(np.float32)
    lift = (model.normal(size=(latent, p.dim)) / np.sqrt(latent)).astype(np.float32)

    def sample(rng: np.random.Generator, count: int) -> np.ndarray:
        which = rng.integers(0, p.clusters, size=count)
        z = centers[which] + 0.35 * rng.standard_normal((count, latent), dtype=np.float32)
        x = z @ lift + 0.05 * rng.standard_normal((count, p.dim), dtype=np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        return np.ascontiguousarray(x, dtype=np.float32)

    return sample(np.random.default_rng(data_ss), p.n), sample(np.random.default_rng(query_ss), p.queries)


def ids(start: int, stop: int) -> list[str]:
    return [str(i) for i in range(start, stop)]


def metadatas(start: int, stop: int) -> list[dict]:
    return [{"k": i % 10, "m": i % 100, "s": "v" + str(i % 7)} for i in range(start, stop)]


def documents(start: int, stop: int) -> list[str]:
    return [f"doc {i} about topic {i % 50} with {_TOPIC_WORDS[i % 13]} t{i % 1000:03d}q" for i in range(start, stop)]


def mask_10pct(n: int) -> np.ndarray:
    return np.arange(n) % 10 == 3


def mask_1pct(n: int) -> np.ndarray:
    return np.arange(n) % 100 == 7


def mask_get_and(n: int) -> np.ndarray:
    i = np.arange(n)
    return (i % 10 == 3) & (i % 7 == 2)


def contains_count(n: int) -> int:
    return int(np.count_nonzero(np.arange(n) % 1000 == 7))


def contains_many_count(n: int) -> int:
    return int(np.count_nonzero(np.arange(n) % 13 == 0))


def embed_documents(count: int, seed: int) -> list[str]:
    """`count` deterministic ~40-token English sentences for the EF figure."""
    rng = np.random.default_rng(seed + 1)
    words = np.asarray(_EMBED_WORDS)
    picks = rng.integers(0, len(words), size=(count, 34))
    return [" ".join(row) + "." for row in words[picks]]


def exact_top_k(queries: np.ndarray, data: np.ndarray, k: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Row indices of the k nearest data rows (squared L2) per query, nearest first;
    only rows where `mask` is true are candidates. Width is min(k, candidates)."""
    rows = np.arange(len(data)) if mask is None else np.flatnonzero(mask)
    cand = np.asarray(data[rows], dtype=np.float32)
    take = min(k, len(rows))
    out = np.empty((len(queries), take), dtype=np.int64)
    if take == 0:
        return out
    sq = (cand * cand).sum(1)
    for s in range(0, len(queries), 256):  # bounded memory: 256 x N distances at a time
        q = np.asarray(queries[s : s + 256], dtype=np.float32)
        d = sq[None, :] - 2.0 * (q @ cand.T)  # |q|^2 is constant per row: ranking unchanged
        part = (
            np.argpartition(d, take - 1, axis=1)[:, :take]
            if take < len(rows)
            else np.broadcast_to(np.arange(len(rows)), d.shape)
        )
        order = np.argsort(np.take_along_axis(d, part, axis=1), axis=1, kind="stable")
        out[s : s + len(q)] = rows[np.take_along_axis(part, order, axis=1)]
    return out


def recall(returned: list[np.ndarray], truth: np.ndarray) -> float:
    """Mean over queries of |returned ∩ truth| / |truth|."""
    if truth.shape[1] == 0:
        return 1.0
    hits = [len(np.intersect1d(r, t, assume_unique=True)) for r, t in zip(returned, truth)]
    return float(np.mean(hits) / truth.shape[1])


class Workload:
    """The saved workload in `root`, memory-mapped."""

    FILES = ("vectors", "queries", "truth_all", "truth_10pct", "truth_1pct")
    vectors: np.memmap  # and the other FILES, set in __init__

    def __init__(self, root: str) -> None:
        with open(os.path.join(root, "params.json")) as f:
            self.params = WorkloadParams(**json.load(f))
        self.root = root
        for name in self.FILES:
            setattr(self, name, np.load(os.path.join(root, name + ".npy"), mmap_mode="r"))

    def rows(self, start: int, stop: int) -> np.ndarray:
        """A copy of ``vectors[start:stop]`` read from the file, not through the mapping: the
        process then holds one batch of caller data, as a loader streaming from disk would."""
        v = self.vectors
        out = np.empty((stop - start, v.shape[1]), dtype=v.dtype)
        with open(os.path.join(self.root, "vectors.npy"), "rb") as f:
            f.seek(v.offset + start * v.shape[1] * v.dtype.itemsize)
            if f.readinto(out.data.cast("B")) != out.nbytes:
                raise ValueError(f"workload vectors in {self.root} end before row {stop}")
        return out

    @staticmethod
    def create(root: str, p: WorkloadParams) -> Workload:
        p.validate()
        os.makedirs(root, exist_ok=True)
        data, queries = generate_vectors(p)
        arrays = {
            "vectors": data,
            "queries": queries,
            "truth_all": exact_top_k(queries, data, K),
            "truth_10pct": exact_top_k(queries, data, K, mask_10pct(p.n)),
            "truth_1pct": exact_top_k(queries, data, K, mask_1pct(p.n)),
        }
        for name, arr in arrays.items():
            np.save(os.path.join(root, name + ".npy"), arr)
        with open(os.path.join(root, "params.json"), "w") as f:
            json.dump(asdict(p), f)
        return Workload(root)
