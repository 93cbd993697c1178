"""Child processes of ``python -m bench.hybrid``: one engine each, timed over the same queries.

huedb: a collection whose schema has a BM25 sparse index filled from the documents
(``SparseVectorIndexConfig(source_key="#document", ChromaBm25EmbeddingFunction(), bm25=True)``),
its vectors in the default HNSW index; each query runs a dense Knn, a BM25 Knn (text, embedded
by the client) and a hybrid ``Rrf`` of both through ``collection.search``, interleaved so the
three share the machine's noise.

LanceDB: a table of (id, vector, text) with its native full-text index; each query runs a vector
search, a full-text search and a hybrid search reranked with its ``RRFReranker``, interleaved
the same way. Without ``--lancedb-index`` its vector search is exact (no vector index).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable

import numpy as np

from bench import workload as wlm

K = wlm.K
#: candidates each side of a hybrid query brings to the fusion
FUSE = 50


def _timed(fn: Callable, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - t, out


def _p50(samples: list[float]) -> float:
    return float(np.percentile(samples, 50)) * 1000.0


def _batches(wl: wlm.Workload):
    p = wl.params
    for s in range(0, p.n, p.batch):
        e = min(s + p.batch, p.n)
        yield s, e


def run_huedb(wl: wlm.Workload, texts: list[str], path: str) -> dict:
    import huedb
    from huedb import K as Key
    from huedb import Knn, Rrf, Schema, Search, SparseVectorIndexConfig
    from huedb.utils.embedding_functions import ChromaBm25EmbeddingFunction

    config = SparseVectorIndexConfig(
        source_key="#document", embedding_function=ChromaBm25EmbeddingFunction(), bm25=True
    )
    client = huedb.PersistentClient(path)
    col = client.create_collection("hybrid", schema=Schema().create_index(config, key="bm25"), embedding_function=None)
    ingest = 0.0
    for s, e in _batches(wl):
        batch = dict(ids=wlm.ids(s, e), embeddings=np.asarray(wl.vectors[s:e]), documents=wlm.documents(s, e))
        dt, _ = _timed(col.add, **batch)  # includes the client's BM25 embedding of the documents
        ingest += dt

    def ids(result) -> np.ndarray:
        return np.fromiter(map(int, result["ids"][0]), dtype=np.int64)

    lat: dict[str, list[float]] = {"dense": [], "sparse": [], "hybrid": [], "query": []}
    dense_got, hybrid_got = [], []
    queries = np.asarray(wl.queries)
    col.search(Search().rank(Knn(query=queries[0].tolist(), limit=K)).limit(K))  # warm the index
    for q, text in zip(queries, texts):
        vec = q.tolist()
        dense = Search().rank(Knn(query=vec, limit=K)).limit(K).select(Key.SCORE)
        sparse = Search().rank(Knn(query=text, key="bm25", limit=K)).limit(K).select(Key.SCORE)
        # default: a record one list misses ranks just past its end, so the union of both lists is fused
        fused = Rrf(
            [
                Knn(query=vec, limit=FUSE, return_rank=True, default=float(FUSE)),
                Knn(query=text, key="bm25", limit=FUSE, return_rank=True, default=float(FUSE)),
            ]
        )
        hybrid = Search().rank(fused).limit(K).select(Key.SCORE)
        dt, r = _timed(col.search, dense)
        lat["dense"].append(dt)
        dense_got.append(ids(r))
        dt, _ = _timed(col.search, sparse)
        lat["sparse"].append(dt)
        dt, r = _timed(col.search, hybrid)
        lat["hybrid"].append(dt)
        hybrid_got.append(ids(r))
        dt, _ = _timed(col.query, query_embeddings=[q], n_results=K, include=[])
        lat["query"].append(dt)
    return {
        "version": f"huedb {huedb.__version__}",
        "ingest_s": ingest,
        "dense_p50_ms": _p50(lat["dense"]),
        "sparse_p50_ms": _p50(lat["sparse"]),
        "hybrid_p50_ms": _p50(lat["hybrid"]),
        "query_p50_ms": _p50(lat["query"]),
        "dense_recall_at_10": wlm.recall(dense_got, np.asarray(wl.truth_all)),
        "hybrid_found": float(np.mean([len(g) for g in hybrid_got])),
    }


def run_lancedb(wl: wlm.Workload, texts: list[str], path: str, index: bool) -> dict:
    import lancedb
    import pyarrow as pa
    from lancedb.rerankers import RRFReranker

    dim = wl.params.dim
    db = lancedb.connect(path)
    schema = pa.schema([("id", pa.int64()), ("vector", pa.list_(pa.float32(), dim)), ("text", pa.string())])
    table = db.create_table("hybrid", schema=schema)
    ingest = 0.0
    for s, e in _batches(wl):
        vectors = np.asarray(wl.vectors[s:e], dtype=np.float32)
        data = pa.table(
            {
                "id": pa.array(np.arange(s, e, dtype=np.int64)),
                "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), dim),
                "text": pa.array(wlm.documents(s, e)),
            }
        )
        dt, _ = _timed(table.add, data)
        ingest += dt
    dt, _ = _timed(table.create_fts_index, "text")
    ingest += dt
    if index:
        dt, _ = _timed(table.create_index, metric="l2", index_type="IVF_HNSW_SQ")
        ingest += dt
    reranker = RRFReranker()

    def ids(rows: list[dict]) -> np.ndarray:
        return np.asarray([r["id"] for r in rows], dtype=np.int64)

    lat: dict[str, list[float]] = {"dense": [], "sparse": [], "hybrid": []}
    dense_got = []
    queries = np.asarray(wl.queries)
    table.search(queries[0]).limit(K).to_list()  # warm up

    def dense(q: np.ndarray) -> list[dict]:
        return table.search(q).limit(K).select(["id"]).to_list()

    def fts(text: str) -> list[dict]:
        return table.search(text, query_type="fts").limit(K).select(["id"]).to_list()

    def hybrid(q: np.ndarray, text: str) -> list[dict]:
        return table.search(query_type="hybrid").vector(q).text(text).rerank(reranker).limit(K).select(["id"]).to_list()

    for q, text in zip(queries, texts):
        dt, rows = _timed(dense, q)
        lat["dense"].append(dt)
        dense_got.append(ids(rows))
        dt, _ = _timed(fts, text)
        lat["sparse"].append(dt)
        dt, _ = _timed(hybrid, q, text)
        lat["hybrid"].append(dt)
    return {
        "version": f"lancedb {lancedb.__version__}" + (" (IVF_HNSW_SQ)" if index else " (exact vectors)"),
        "ingest_s": ingest,
        "dense_p50_ms": _p50(lat["dense"]),
        "sparse_p50_ms": _p50(lat["sparse"]),
        "hybrid_p50_ms": _p50(lat["hybrid"]),
        "dense_recall_at_10": wlm.recall(dense_got, np.asarray(wl.truth_all)),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.hybrid_engines")
    ap.add_argument("--engine", required=True, choices=["huedb", "lancedb", "lancedb-index"])
    ap.add_argument("--workload", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    wl = wlm.Workload(a.workload)
    with open(os.path.join(a.workload, "query_texts.json")) as f:
        texts = json.load(f)
    if a.engine == "huedb":
        out = run_huedb(wl, texts, a.data)
    else:
        out = run_lancedb(wl, texts, a.data, index=a.engine == "lancedb-index")
    with open(a.out, "w") as f:
        json.dump(out, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
