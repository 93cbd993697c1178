"""Engine subprocess: runs the workload on one engine and writes its figures.

    python -m bench.engines --engine huedb --workload W --data D --out F

Engines: ``floor`` (raw hnswlib: the index alone), ``huedb`` and ``chroma``
(both driven through the same chromadb-compatible client API), and on PostgreSQL
``huedb-postgres`` and its floor ``pgvector-floor`` (bench/pg_engines.py). The results
file is rewritten after every phase, so a child that crashes or times out
still leaves the figures it got.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable

import numpy as np

from bench import workload as wlm
from bench.pg_engines import PgvectorFloor, database_bytes, huedb_postgres_client
from bench.workload import Workload

COLLECTION = "bench"
HNSW = {"space": "l2", "max_neighbors": 16, "ef_construction": 100, "ef_search": 100}


def _p(samples: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(samples) * 1000.0, q))


def _timed(fn: Callable, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - t0, out


def _disk_bytes(path: str) -> int:
    """Allocated bytes under `path` (like du), not apparent sizes."""
    if os.path.isfile(path):
        return os.stat(path).st_blocks * 512
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            try:
                total += os.stat(os.path.join(dirpath, f)).st_blocks * 512
            except FileNotFoundError:  # e.g. a journal removed while we walk
                pass
    return total


def _status_mb(key: str) -> float | None:
    """A ``/proc/self/status`` memory line (``VmHWM``, ``VmRSS``) in MB, None off Linux."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return None


def _peak_rss_mb() -> float:
    """This process's peak RSS. On Linux ru_maxrss survives fork+exec, so a
    child would report its parent's RSS when that is larger; VmHWM belongs to
    the process's own address space, which exec replaces."""
    hwm = _status_mb("VmHWM")
    if hwm is not None:
        return max(hwm, _PEAK_BEFORE_RESET)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024.0 * 1024.0) if sys.platform == "darwin" else rss / 1024.0  # bytes vs KiB


_PEAK_BEFORE_RESET = 0.0


def _reset_peak_rss() -> bool:
    """Resets VmHWM to the current RSS (Linux ``clear_refs``), so the next reading is the
    peak from now on; ``_peak_rss_mb`` still reports the process's whole peak."""
    global _PEAK_BEFORE_RESET
    _PEAK_BEFORE_RESET = _peak_rss_mb()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def hnsw_index_bytes(n: int, dim: int, m: int) -> float:
    """hnswlib's bytes for ``n`` elements, as its saved file holds them: a 96-byte header; per
    element ``size_data_per_element`` (level-0 links: a count and 2m ids; the float32 vector;
    the 8-byte label) and a 4-byte size of its upper levels; upper levels of m ids and a count
    each, on average 1/(m-1) per element (hnswlib draws levels with P(level >= l) = m**-l)."""
    size_data_per_element = (2 * m + 1) * 4 + dim * 4 + 8
    return 96 + n * (size_data_per_element + 4 + (m + 1) * 4 / (m - 1))


class Floor:
    """Raw hnswlib with huedb's default build parameters: the lower bound."""

    name = "floor"

    def __init__(self, wl: Workload, data_dir: str, threads: int) -> None:
        import hnswlib

        self.hnswlib, self.wl, self.threads = hnswlib, wl, threads
        self.path = os.path.join(data_dir, "index.bin")
        self.index = self._new_index()
        self.index.init_index(
            max_elements=wl.params.n, M=HNSW["max_neighbors"], ef_construction=HNSW["ef_construction"]
        )
        self.index.set_num_threads(threads)

    def _new_index(self):
        return self.hnswlib.Index(space=HNSW["space"], dim=self.wl.params.dim)

    def version(self) -> str:
        from importlib.metadata import version

        return "hnswlib " + version("hnswlib")

    def ingest(self) -> float:
        p = self.wl.params
        spent = 0.0
        for s in range(0, p.n, p.batch):
            e = min(s + p.batch, p.n)
            batch, labels = self.wl.rows(s, e), np.arange(s, e)
            dt, _ = _timed(self.index.add_items, batch, labels)
            spent += dt
        self.index.set_ef(HNSW["ef_search"])
        return spent

    def query(self, q: np.ndarray, where: dict | None = None) -> np.ndarray:
        if where is not None:
            raise NotImplementedError("the floor has no metadata; its filtered reference is its unfiltered query")
        labels, _ = self.index.knn_query(q[None, :], k=wlm.K)
        return labels[0].astype(np.int64)

    def close(self) -> None:
        self.index.save_index(self.path)  # untimed: the floor's "disk" is its saved index
        self.index = None
        gc.collect()

    def reopen(self) -> None:
        self.index = self._new_index()
        self.index.load_index(self.path, max_elements=self.wl.params.n)
        self.index.set_ef(HNSW["ef_search"])
        self.index.set_num_threads(self.threads)

    def disk_path(self) -> str:
        return self.path

    def disk_bytes(self) -> int:
        return _disk_bytes(self.path)

    def embedding_function(self):
        raise NotImplementedError("the floor has no embedding function")


class ClientEngine:
    """huedb or Chroma through the chromadb client API (module name differs)."""

    def __init__(
        self, name: str, module: str, wl: Workload, data_dir: str, threads: int, postgres_url: str | None = None
    ) -> None:
        self.name, self.module_name, self.wl, self.path = name, module, wl, data_dir
        self.postgres_url = postgres_url  # huedb-postgres: huedb on its postgres storage backend
        self.mod = importlib.import_module(module)
        self.hnsw = dict(HNSW, num_threads=threads)
        self.client = self._open()
        self.col = self.client.create_collection(COLLECTION, configuration={"hnsw": self.hnsw})

    def version(self) -> str:
        return f"{self.module_name} {getattr(self.mod, '__version__', '?')}"

    def ingest(self) -> float:
        p = self.wl.params
        spent = 0.0
        for s in range(0, p.n, p.batch):
            e = min(s + p.batch, p.n)
            # Each batch's lists are built outside the timed call, as a streaming loader
            # would: the API takes Python lists, and building them is not ingest. Building
            # all N up front would also add their memory (~35 MB at N=50,000) to peak RSS.
            batch = dict(
                ids=wlm.ids(s, e),
                embeddings=self.wl.rows(s, e),
                metadatas=wlm.metadatas(s, e),
                documents=wlm.documents(s, e),
            )
            dt, _ = _timed(self.col.add, **batch)
            spent += dt
        return spent

    def query(self, q: np.ndarray, where: dict | None = None) -> np.ndarray:
        kw = {"where": where} if where is not None else {}
        res = self.col.query(query_embeddings=[q], n_results=wlm.K, include=[], **kw)
        return np.fromiter(map(int, res["ids"][0]), dtype=np.int64)

    def get(self, where: dict) -> int:
        return len(self.col.get(where=where, include=["metadatas"])["ids"])

    def contains(self, token: str, limit: int) -> list[str]:
        return self.col.get(where_document={"$contains": token}, limit=limit, include=["documents"])["documents"]

    def contains_many(self, token: str) -> int:
        return len(self.col.get(where_document={"$contains": token}, include=[])["ids"])

    def close(self) -> None:
        client = self.client
        self.client = self.col = None
        if hasattr(client, "close"):
            client.close()
        # Chroma caches one system per path: without this, "reopen" reuses it.
        if hasattr(type(client), "clear_system_cache"):
            type(client).clear_system_cache()
        del client
        gc.collect()

    def _open(self):
        if self.postgres_url is not None:
            return huedb_postgres_client(self.postgres_url)
        return self.mod.PersistentClient(path=self.path)

    def reopen(self) -> None:
        self.client = self._open()
        self.col = self.client.get_collection(COLLECTION)

    def disk_path(self) -> str:
        return self.path

    def disk_bytes(self) -> int:
        return database_bytes(self.postgres_url) if self.postgres_url else _disk_bytes(self.path)

    def embedding_function(self):
        if self.postgres_url is not None:
            raise NotImplementedError("the same embedding function as huedb (the storage backend does not embed)")
        ef_mod = importlib.import_module(self.module_name + ".utils.embedding_functions")
        return ef_mod.DefaultEmbeddingFunction()


class Results:
    """Figures so far, rewritten to `path` after each phase."""

    def __init__(self, path: str, engine: str) -> None:
        self.path = path
        self.data: dict = {
            "engine": engine,
            "version": None,
            "python": sys.executable,
            "python_version": platform.python_version(),
            "figures": {},
            "notes": {},
            "checks": {},
            "phase": "start",
            "complete": False,
        }
        self.flush()

    def phase(self, name: str) -> None:
        self.data["phase"] = name
        self.flush()

    def set(self, **figures: float) -> None:
        self.data["figures"].update(figures)
        self.flush()

    def na(self, figure: str, why: str) -> None:
        self.data["figures"][figure] = None
        self.data["notes"][figure] = why
        self.flush()

    def flush(self) -> None:
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.data, f, indent=1)
        os.replace(tmp, self.path)


def run(engine, wl: Workload, res: Results) -> None:
    p = wl.params
    queries = wl.queries
    res.data["version"] = engine.version()
    is_floor = isinstance(engine, Floor | PgvectorFloor)

    res.phase("ingest")
    first_query = np.array(queries[0])
    gc.collect()
    reset = _reset_peak_rss()
    before = _status_mb("VmRSS")
    t = engine.ingest()  # seconds inside the engine's add calls
    t_first, _ = _timed(engine.query, first_query)  # counts any deferred indexing
    res.set(ingest_s=t + t_first)
    res.set(ingest_peak_rss_mb=_peak_rss_mb())  # the reopen below may raise the final peak
    if reset and before is not None:
        # What ingest held beyond the index itself: caller batches, buffers, caches, copies.
        over = _status_mb("VmHWM") - before - hnsw_index_bytes(p.n, p.dim, HNSW["max_neighbors"]) / 2**20
        res.set(ingest_over_index_mb=over, ingest_over_index_batches=over * 2**20 / (p.batch * p.dim * 4))
    else:
        for fig in ("ingest_over_index_mb", "ingest_over_index_batches"):
            res.na(fig, "needs /proc/self/status and clear_refs (Linux)")

    res.phase("query")
    lat, got = [], []
    for q in np.asarray(queries):
        dt, ids = _timed(engine.query, q)
        lat.append(dt)
        got.append(ids)
    first_answer = got[0]
    res.set(query_p50_ms=_p(lat, 50), query_p95_ms=_p(lat, 95), recall_at_10=wlm.recall(got, np.asarray(wl.truth_all)))

    for label, where, truth in (("10pct", wlm.FILTER_10PCT, wl.truth_10pct), ("1pct", wlm.FILTER_1PCT, wl.truth_1pct)):
        res.phase(f"filtered_{label}")
        if is_floor:
            for fig in (f"filtered_{label}_p50_ms", f"filtered_{label}_recall", f"filtered_{label}_first_ms"):
                res.na(fig, "no metadata; reference is the floor's unfiltered query p50")
            continue
        lat, got = [], []
        for q in np.asarray(queries):
            dt, ids = _timed(engine.query, q, where)
            lat.append(dt)
            got.append(ids)
        res.set(
            **{
                f"filtered_{label}_p50_ms": _p(lat, 50),
                f"filtered_{label}_recall": wlm.recall(got, np.asarray(truth)),
                f"filtered_{label}_first_ms": lat[0] * 1000,
            }
        )

    reps = max(5, min(50, p.queries))
    res.phase("get_and")
    if is_floor:
        res.na("get_and_p50_ms", "no metadata")
        res.na("get_and_first_ms", "no metadata")
        res.na("contains_p50_ms", "no documents")
        res.na("contains_many_p50_ms", "no documents")
    else:
        lat, counts = [], set()
        for _ in range(reps):
            dt, count = _timed(engine.get, wlm.GET_AND_FILTER)
            lat.append(dt)
            counts.add(count)
        res.data["checks"]["get_and_rows"] = {
            "expected": int(wlm.mask_get_and(p.n).sum()),
            "got": sorted(counts)[0] if len(counts) == 1 else sorted(counts),
        }
        res.set(get_and_p50_ms=_p(lat, 50), get_and_first_ms=lat[0] * 1000)

        res.phase("contains")
        lat, docs = [], []
        for _ in range(reps):
            dt, docs = _timed(engine.contains, wlm.CONTAINS_TOKEN, wlm.K)
            lat.append(dt)
        res.data["checks"]["contains_rows"] = {
            "expected": min(wlm.K, wlm.contains_count(p.n)),
            "got": len(docs) if all(wlm.CONTAINS_TOKEN in d for d in docs) else "rows without the token",
        }
        res.set(contains_p50_ms=_p(lat, 50))

        res.phase("contains_many")
        lat, counts = [], set()
        for _ in range(reps):
            dt, count = _timed(engine.contains_many, wlm.CONTAINS_MANY_TOKEN)
            lat.append(dt)
            counts.add(count)
        res.data["checks"]["contains_many_rows"] = {
            "expected": wlm.contains_many_count(p.n),
            "got": sorted(counts)[0] if len(counts) == 1 else sorted(counts),
        }
        res.set(contains_many_p50_ms=_p(lat, 50))

    res.phase("reopen")
    engine.close()
    t_open, _ = _timed(engine.reopen)
    t_q, ids = _timed(engine.query, np.asarray(queries[0]))
    # The persisted index must answer as before closing (same graph, same ef).
    overlap = len(np.intersect1d(ids, first_answer)) / max(1, len(first_answer))
    res.data["checks"]["reopen_answer_overlap"] = {"expected": 1.0, "got": overlap}
    res.set(reopen_first_query_ms=(t_open + t_q) * 1000.0)
    res.set(disk_mb=engine.disk_bytes() / 1e6)
    res.set(peak_rss_mb=_peak_rss_mb())  # before the EF phase, which loads a model

    res.phase("embed")
    try:
        ef = engine.embedding_function()
        docs = wlm.embed_documents(p.embed_docs, p.seed)
        ef(docs[:8])  # first call loads the model: not part of throughput
        t, out = _timed(ef, docs)
        if len(out) != len(docs):
            raise RuntimeError(f"embedded {len(out)} of {len(docs)} documents")
        res.set(embed_docs_per_s=len(docs) / t)
    except Exception as e:  # not available (yet) or offline: a figure, not a failure
        res.na("embed_docs_per_s", f"{type(e).__name__}: {e}"[:300])
    res.data["complete"] = True
    res.phase("done")


ENGINE_NAMES = ["floor", "huedb", "chroma", "huedb-postgres", "pgvector-floor"]


def make_engine(name: str, wl: Workload, data_dir: str, threads: int, postgres_url: str | None = None):
    if name in ("huedb-postgres", "pgvector-floor") and not postgres_url:
        raise ValueError(f"{name} needs --postgres-url")
    if name == "huedb-postgres":
        return ClientEngine("huedb-postgres", "huedb", wl, data_dir, threads, postgres_url)
    if name == "pgvector-floor":
        return PgvectorFloor(wl, postgres_url)
    if name == "floor":
        return Floor(wl, data_dir, threads)
    if name == "huedb":
        return ClientEngine("huedb", "huedb", wl, data_dir, threads)
    if name == "chroma":
        return ClientEngine("chroma", "chromadb", wl, data_dir, threads)
    raise ValueError(f"unknown engine {name!r}; expected one of {', '.join(ENGINE_NAMES)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.engines", description=__doc__.splitlines()[0])
    ap.add_argument("--engine", required=True, choices=ENGINE_NAMES)
    ap.add_argument("--postgres-url", default=None, help="the database of a PostgreSQL engine")
    ap.add_argument("--workload", required=True, help="directory written by Workload.create")
    ap.add_argument("--data", required=True, help="empty directory for the engine's files")
    ap.add_argument("--out", required=True, help="results JSON path")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args(argv)
    wl = Workload(a.workload)
    res = Results(a.out, a.engine)
    res.phase("setup")
    run(make_engine(a.engine, wl, a.data, a.threads, a.postgres_url), wl, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
