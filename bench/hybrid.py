"""``python -m bench.hybrid``: BM25 and hybrid (dense + BM25, RRF) search on huedb, and LanceDB's
native full-text hybrid search with its RRF reranker, on the bench workload (its vectors and
documents), in one run.

Each engine runs in its own subprocess, one after the other, over the same queries: a query
vector of the workload and a text of three of the documents' terms (a topic word, a ``tNNNq``
token and a topic number). The figures that matter are ratios within the run (the machine may
be shared and noisy): BM25 p50 / dense p50, and hybrid p50 / (dense p50 + BM25 p50).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

from bench import workload as wlm
from bench.runner import _child_env

ENGINES = ("huedb", "lancedb", "lancedb-index")


def query_texts(p: wlm.WorkloadParams) -> list[str]:
    rng = np.random.default_rng(p.seed + 2)
    rows = rng.integers(0, p.n, size=p.queries)
    topics = wlm._TOPIC_WORDS
    return [f"{topics[r % 13]} t{r % 1000:03d}q topic {r % 50}" for r in rows.tolist()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    d = wlm.WorkloadParams()
    ap = argparse.ArgumentParser(prog="python -m bench.hybrid", description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=d.n, help=f"records (default {d.n})")
    ap.add_argument("--dim", type=int, default=d.dim, help=f"dimension (default {d.dim})")
    ap.add_argument("--batch", type=int, default=d.batch, help=f"add() batch size (default {d.batch})")
    ap.add_argument("--queries", type=int, default=200, help="queries, k=10 (default 200)")
    ap.add_argument("--seed", type=int, default=d.seed, help=f"workload seed (default {d.seed})")
    ap.add_argument(
        "--lancedb-python",
        default=None,
        metavar="PATH",
        help="interpreter that can import lancedb (a separate venv); LanceDB is skipped without it",
    )
    ap.add_argument(
        "--lancedb-index",
        action="store_true",
        help="also run LanceDB with an IVF_HNSW_SQ vector index (default: its exact vector search only)",
    )
    ap.add_argument("--json", dest="json_path", default=None, metavar="PATH", help="write the results as JSON")
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per engine (default 3600)")
    return ap.parse_args(argv)


def _run_child(python: str, engine: str, root: str, timeout: float) -> dict:
    data, out = os.path.join(root, f"data-{engine}"), os.path.join(root, f"{engine}.json")
    cmd = [python, "-m", "bench.hybrid_engines", "--engine", engine, "--workload", root, "--data", data, "--out", out]
    done = subprocess.run(cmd, env=_child_env(), timeout=timeout, capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": done.stderr[-2000:]}
    with open(out) as f:
        return json.load(f)


def table(results: dict[str, dict]) -> str:
    rows = [
        "| engine | dense p50 ms | BM25/FTS p50 ms | hybrid p50 ms | BM25 / dense | hybrid / (dense + BM25) "
        "| dense recall@10 | ingest s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        if "error" in r:
            rows.append(f"| {name} | failed: {r['error'].strip().splitlines()[-1][:80]} |||||||")
            continue
        d, s, h = r["dense_p50_ms"], r["sparse_p50_ms"], r["hybrid_p50_ms"]
        rows.append(
            f"| {r['version']} | {d:.2f} | {s:.2f} | {h:.2f} | {s / d:.2f} | {h / (d + s):.2f} "
            f"| {r['dense_recall_at_10']:.3f} | {r['ingest_s']:.1f} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    params = wlm.WorkloadParams(n=a.n, dim=a.dim, seed=a.seed, batch=a.batch, queries=a.queries)
    root = tempfile.mkdtemp(prefix="huedb-hybrid-")
    try:
        wlm.Workload.create(root, params)
        with open(os.path.join(root, "query_texts.json"), "w") as f:
            json.dump(query_texts(params), f)
        engines = {"huedb": sys.executable}
        if a.lancedb_python:
            engines["lancedb"] = a.lancedb_python
            if a.lancedb_index:
                engines["lancedb-index"] = a.lancedb_python
        results = {}
        for engine, python in engines.items():
            print(f"running {engine} (N={a.n}, {a.queries} queries)...", file=sys.stderr, flush=True)
            results[engine] = _run_child(python, engine, root, a.timeout)
        print(table(results))
        if a.json_path:
            with open(a.json_path, "w") as f:
                json.dump({"params": vars(a), "results": results}, f, indent=1)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
