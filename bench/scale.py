"""The scale-curve mode: ``python -m bench scale``.

Runs the standard benchmark (``python -m bench``) once per ``--ns`` size, each in its own
subprocess with its own workload, records every run's full JSON in one curve file, and
plots time and memory against N for every engine (matplotlib, a PNG):

    python -m bench scale --ns 10000,100000,1000000 --chroma-python /path/to/python \\
        --json docs/bench-scale.json --png docs/bench-scale.png

Sizes are run smallest first; a size whose run fails is recorded with its error and the
curve goes on. ``--plot-only`` redraws the PNG from an existing curve file.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time

#: (figure key, axis label) of the panels, in order
PANELS = [
    ("ingest_s", "ingest (s)"),
    ("query_p50_ms", "query p50 (ms)"),
    ("filtered_10pct_p50_ms", "filtered 10% p50 (ms)"),
    ("reopen_first_query_ms", "reopen + first query (ms)"),
    ("peak_rss_mb", "peak RSS (MB)"),
    ("disk_mb", "disk (MB)"),
]
COLORS = {"floor": "#555555", "huedb": "#1f77b4", "chroma": "#ff7f0e"}


def run_curve(ns: list[int], passthrough: list[str], log=print) -> dict:  # noqa: ANN001 - a print-like
    curve: dict = {"ns": ns, "args": passthrough, "runs": {}}
    for n in ns:
        with tempfile.TemporaryDirectory(prefix="huedb-scale-") as tmp:
            out = os.path.join(tmp, "run.json")
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "bench", "--n", str(n), "--json", out, *passthrough],
                capture_output=True,
                text=True,
            )
            run = json.load(open(out)) if os.path.exists(out) else {}
            run["wall_s"] = time.perf_counter() - t0
            run["stdout"] = proc.stdout
            if proc.returncode != 0:
                run["error"] = proc.stderr[-4000:] or f"exit status {proc.returncode}"
            curve["runs"][str(n)] = run
            log(f"n={n:,}: {'FAILED' if proc.returncode else 'done'} ({run['wall_s']:.0f}s)")
            log(proc.stdout)
    return curve


def series(curve: dict, engine: str, key: str) -> tuple[list[int], list[float]]:
    """(N values, figure values) of one engine where the run has the figure."""
    xs, ys = [], []
    for n, run in sorted(curve["runs"].items(), key=lambda kv: int(kv[0])):
        value = run.get("engines", {}).get(engine, {}).get("figures", {}).get(key)
        if value is not None:
            xs.append(int(n))
            ys.append(float(value))
    return xs, ys


def plot(curve: dict, png: str) -> None:
    matplotlib = importlib.import_module("matplotlib")  # optional: only --png needs it (the [test] extra has it)
    matplotlib.use("Agg")
    plt = importlib.import_module("matplotlib.pyplot")

    engines = sorted({e for run in curve["runs"].values() for e in run.get("engines", {})})
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5))
    for ax, (key, label) in zip(axes.flat, PANELS):
        for engine in engines:
            xs, ys = series(curve, engine, key)
            if xs:
                ax.plot(xs, ys, marker="o", label=engine, color=COLORS.get(engine))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("N (vectors, 384-d)")
        ax.set_title(label)
        ax.grid(True, which="both", alpha=0.3)
    axes.flat[0].legend()
    measured = ", ".join(f"{int(n):,}" for n in sorted(curve["runs"], key=int) if not curve["runs"][n].get("error"))
    fig.suptitle(f"huedb, raw hnswlib (floor) and Chroma vs N; measured points: N = {measured}")
    fig.tight_layout()
    fig.savefig(png, dpi=90)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench scale", description=__doc__.split("\n\n")[0])
    ap.add_argument("--ns", default="10000,100000,1000000", help="sizes, comma list (default 10000,100000,1000000)")
    ap.add_argument(
        "--json", dest="json_path", required=True, metavar="PATH", help="the curve file (read with --plot-only)"
    )
    ap.add_argument("--png", default=None, metavar="PATH", help="draw the curve here (needs matplotlib)")
    ap.add_argument("--plot-only", action="store_true", help="redraw --png from the --json curve; run nothing")
    args, passthrough = ap.parse_known_args(argv)  # the rest goes to every `python -m bench` run
    if args.plot_only:
        with open(args.json_path) as f:
            curve = json.load(f)
    else:
        ns = sorted(int(n) for n in args.ns.split(","))
        curve = run_curve(ns, passthrough, log=lambda m: print(m, file=sys.stderr, flush=True))
        with open(args.json_path, "w") as f:
            json.dump(curve, f, indent=1)
    if args.png:
        plot(curve, args.png)
    return 1 if any(run.get("error") for run in curve["runs"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
