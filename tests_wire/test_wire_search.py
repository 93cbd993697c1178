"""The real chromadb 1.5.9 client's ``collection.search`` against ``huedb run`` returns what
embedded huedb returns for the same records and searches: a filtered dense Knn, a hybrid Rrf
of a dense and a sparse Knn, a GroupBy, and a batch of 3 searches.

The embedded side runs in huedb's venv (tests_wire/embedded_search.py): this venv has only
chromadb-client."""

from __future__ import annotations

import json
import subprocess

import numpy as np
from chromadb.api.types import SparseVector
from chromadb.execution.expression import GroupBy, K, Knn, MinK, Rrf, Search
from test_wire_compat import REPO, SERVER_PYTHON, client, server  # noqa: F401 - pytest fixtures

N = 40


def _records() -> list[dict]:
    rng = np.random.default_rng(7)
    out = []
    for i in range(N):
        idx = sorted(rng.choice(10, size=3, replace=False).tolist())
        out.append(
            {
                "id": f"w{i:02d}",
                "embedding": rng.random(3).round(4).tolist(),
                "document": f"document {i} about {'cats' if i % 2 else 'dogs'}",
                "metadata": {
                    "cat": i % 4,
                    "year": 2020 + i % 5,
                    "sp": {
                        "#type": "sparse_vector",
                        "indices": idx,
                        "values": [round(float(v), 2) + 0.1 for v in rng.random(3)],
                    },
                },
            }
        )
    return out


def _batches() -> list[list[Search]]:
    dense = Knn(query=[0.5, 0.5, 0.5], limit=10)
    sparse = Knn(query=SparseVector(indices=[1, 4, 7], values=[1.0, 0.5, 2.0]), key="sp", limit=10, return_rank=True)
    hybrid = Rrf([Knn(query=[0.2, 0.8, 0.1], limit=15, return_rank=True), sparse], weights=[0.6, 0.4])
    return [
        [
            Search()
            .where((K("year") >= 2022) & K.DOCUMENT.contains("cats"))
            .rank(dense)
            .select("#score", "#document", "year")
        ],
        [Search().rank(hybrid).limit(8).select("#score", "#metadata")],
        [
            Search()
            .rank(dense)
            .group_by(GroupBy(keys=K("cat"), aggregate=MinK(keys=K.SCORE, k=2)))
            .select("#score", "cat")
        ],
        [
            Search().where(K.ID.is_in(["w01", "w02", "w03", "w30"])).select("#embedding"),
            Search().rank(dense * 0.5 + Knn(query=[0.9, 0.1, 0.1], default=2.0)).limit(5, offset=1).select("#score"),
            Search()
            .rank(hybrid)
            .group_by(GroupBy(keys=[K("year")], aggregate=MinK(keys=[K.SCORE], k=1)))
            .select("#score", "year"),
        ],
    ]


def _embedded(records: list[dict], batches: list[list[Search]], schema: dict | None = None) -> list[dict]:
    payload = {"records": records, "batches": [[s.to_dict() for s in b] for b in batches], "schema": schema}
    done = subprocess.run(
        [SERVER_PYTHON, str(REPO / "tests_wire" / "embedded_search.py")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=str(REPO),
        check=True,
    )
    return json.loads(done.stdout)


def _plain(result: dict) -> dict:
    out = json.loads(
        json.dumps(
            {k: result[k] for k in ("ids", "documents", "embeddings", "metadatas", "scores")},
            default=lambda v: v.to_dict(),
        )
    )
    return out


def _close(a, b) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(a - b) <= 1e-5 * max(1.0, abs(b))
    return a == b


def test_chromadb_client_search_matches_embedded_huedb(client):  # noqa: F811
    records = _records()
    col = client.create_collection("wire-search", embedding_function=None)
    col.add(
        ids=[r["id"] for r in records],
        embeddings=[r["embedding"] for r in records],
        documents=[r["document"] for r in records],
        metadatas=[{**r["metadata"], "sp": SparseVector.from_dict(r["metadata"]["sp"])} for r in records],
    )
    batches = _batches()
    expected = _embedded(records, batches)
    for batch, want in zip(batches, expected):
        got = col.search(batch if len(batch) > 1 else batch[0])
        assert len(got["ids"]) == len(batch)
        assert got["ids"] == want["ids"]
        assert all(ids for ids in got["ids"][:3]), "every search of the comparison finds records"
        assert _close(_plain(got), _plain(want)), (batch, got, want)
        rows = got.rows()
        assert [[r["id"] for r in per] for per in rows] == want["ids"]
