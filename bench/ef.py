"""The default-EF mode: ``python -m bench ef``.

Three ways to embed the same ``--docs`` sentences with the same all-MiniLM-L6-v2 weights,
in calls of ``--batches`` documents each, on ``--threads`` threads:

- **floor**: bare ``onnxruntime`` ``session.run`` over the batches huedb's EF feeds
  (pre-tokenized, length-sorted, padded per batch), on huedb's ONNX graph with the
  same session options: the model's own cost, no tokenizing or Python around it;
- **huedb**: ``huedb.utils.embedding_functions.DefaultEmbeddingFunction()``, one call
  per batch of documents (tokenizing, padding, pooling and normalising included);
- **sentence-transformers**: ``SentenceTransformer(<the model directory>, device="cpu")``
  with ``torch.set_num_threads(--threads)``, ``encode(batch, batch_size=len(batch))``.

Each figure is the best of ``--repeats`` passes over all documents after one warm-up
pass (best-of: the machine is shared, and the minimum is the least disturbed pass).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable

import numpy as np

from bench import workload


def _threads_default() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


#: ``--clock``: wall time, or this process's CPU time (all its threads): with ``--threads 1``
#: CPU time is the work done, which other load on a shared machine disturbs far less
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def _best(fn: Callable[[], None], repeats: int, clock: Callable[[], float] = time.perf_counter) -> float:
    fn()  # warm-up: sessions, allocator, caches
    best = float("inf")
    for _ in range(repeats):
        t0 = clock()
        fn()
        best = min(best, clock() - t0)
    return best


def _calls(docs: list[str], batch: int) -> list[list[str]]:
    return [docs[i : i + batch] for i in range(0, len(docs), batch)]


def run(
    docs: list[str], batches: list[int], threads: int, repeats: int, with_st: bool = True, clock: str = "wall"
) -> dict:
    from huedb.utils.embedding_functions import DefaultEmbeddingFunction

    model_source = importlib.import_module("huedb_plugins.embedding.model_source")
    onnx_minilm = importlib.import_module("huedb_plugins.embedding.onnx_minilm")
    ef = DefaultEmbeddingFunction()
    ef._ef = onnx_minilm.ONNXMiniLM_L6_V2(num_threads=threads)  # the default EF, with the thread count stated
    runtime = ef._ef._get()
    session, feeds_of = runtime.session, runtime.feeds
    files = model_source.resolve_model(None, None, None)
    out: dict = {"threads": threads, "docs": len(docs), "repeats": repeats, "clock": clock, "figures": {}}
    timer = CLOCKS[clock]
    out["session"] = {
        "intra_op_num_threads": session.get_session_options().intra_op_num_threads,
        "inter_op_num_threads": session.get_session_options().inter_op_num_threads,
        "providers": session.get_providers(),
        "internal_batch": runtime.batch_size,
    }

    st_model = None
    if not with_st:
        out["sentence_transformers"] = {"error": "skipped (--no-sentence-transformers)"}
    else:
        st_model = _sentence_transformer(files.directory, threads, out)

    for batch in batches:
        calls = _calls(docs, batch)
        feeds = [feeds_of(call) for call in calls]  # pre-tokenized: the floor times session.run only

        def floor(feeds: list = feeds) -> None:
            for per_call in feeds:
                for feed in per_call:
                    session.run([runtime.output], feed)

        def huedb(calls: list = calls) -> None:
            for call in calls:
                ef(call)

        fig = {"floor_s": _best(floor, repeats, timer), "huedb_s": _best(huedb, repeats, timer)}
        if st_model is not None:

            def st(calls: list = calls, batch: int = batch) -> None:
                for call in calls:
                    st_model.encode(call, batch_size=batch, convert_to_numpy=True, normalize_embeddings=True)

            fig["sentence_transformers_s"] = _best(st, repeats, timer)
        for key in [k for k in fig if k.endswith("_s")]:
            fig[key[:-2] + "_docs_per_s"] = len(docs) / fig[key]
        fig["huedb_x_floor"] = fig["huedb_s"] / fig["floor_s"]
        if "sentence_transformers_s" in fig:
            fig["huedb_x_sentence_transformers"] = fig["huedb_s"] / fig["sentence_transformers_s"]
        out["figures"][str(batch)] = fig

    if st_model is not None:  # same weights, same vectors
        mine = np.asarray(ef(docs[:64]), dtype=np.float64)
        theirs = st_model.encode(docs[:64], normalize_embeddings=True, convert_to_numpy=True).astype(np.float64)
        out["min_cosine_vs_sentence_transformers"] = float(np.min(np.sum(mine * theirs, axis=1)))
    return out


def _sentence_transformer(directory, threads: int, out: dict):  # noqa: ANN001, ANN202 - optional imports
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        out["sentence_transformers"] = {"error": f"not installed: {e}"}
        return None
    torch.set_num_threads(threads)
    model = SentenceTransformer(str(directory), device="cpu")
    out["sentence_transformers"] = {"torch": torch.__version__, "torch_threads": torch.get_num_threads()}
    return model


def render(result: dict) -> str:
    head = ["batch", "floor docs/s", "huedb docs/s", "huedb x floor (time)", "s-t docs/s", "huedb x s-t (time)"]
    rows = [head]
    for batch, f in result["figures"].items():
        st = f.get("sentence_transformers_docs_per_s")
        rows.append(
            [
                batch,
                f"{f['floor_docs_per_s']:.0f}",
                f"{f['huedb_docs_per_s']:.0f}",
                f"{f['huedb_x_floor']:.3f}x",
                "n/a" if st is None else f"{st:.0f}",
                "n/a" if st is None else f"{f['huedb_x_sentence_transformers']:.3f}x",
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    s = result["session"]
    lines.append(
        f"clock: {result['clock']}; threads: onnxruntime intra_op {s['intra_op_num_threads']}, "
        f"inter_op {s['inter_op_num_threads']}, "
        f"providers {s['providers']}; huedb's internal batch {s['internal_batch']}; "
        f"sentence-transformers: {result['sentence_transformers']}"
    )
    if "min_cosine_vs_sentence_transformers" in result:
        lines.append(f"min cosine huedb vs sentence-transformers: {result['min_cosine_vs_sentence_transformers']:.8f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench ef", description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=512, help="documents (~40 tokens each; default 512)")
    ap.add_argument("--batches", default="32,256", help="documents per call, comma list (default 32,256)")
    ap.add_argument("--threads", type=int, default=_threads_default(), help="threads (default: CPUs available)")
    ap.add_argument("--repeats", type=int, default=3, help="timed passes; the best counts (default 3)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--clock", choices=sorted(CLOCKS), default="wall", help="wall (default) or cpu time")
    ap.add_argument(
        "--no-sentence-transformers", dest="with_st", action="store_false", help="skip the torch comparison"
    )
    ap.add_argument("--json", dest="json_path", default=None, metavar="PATH")
    args = ap.parse_args(argv)
    docs = workload.embed_documents(args.docs, args.seed)
    result = run(docs, [int(b) for b in args.batches.split(",")], args.threads, args.repeats, args.with_st, args.clock)
    result["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count(), "load": os.getloadavg()}
    print(render(result))
    if args.json_path:
        with open(args.json_path, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
