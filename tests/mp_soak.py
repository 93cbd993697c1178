"""One process of the multi-process soak (tests/test_multiprocess.py).

``python mp_soak.py PATH writer N SECONDS OUT`` adds, upserts and deletes its own
records (ids prefixed ``wN-``) in the shared collection and in its own one, for
SECONDS, then writes its final state to OUT: the live records' vectors and, for
each deleted id, the monotonic time after its delete was committed.

``python mp_soak.py PATH reader 0 SECONDS OUT`` queries and counts the shared
collection, logging each query's start time and the ids it returned.

Any exception ends the process with a non-zero exit code.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

import huedb

DIM = 16
SHARED = "shared"


def _collection(client, name: str):
    return client.get_or_create_collection(name, embedding_function=None)


def writer(client, n: int, seconds: float) -> dict:
    rng = np.random.default_rng(n)
    cols = {SHARED: _collection(client, SHARED), f"own{n}": _collection(client, f"own{n}")}
    live = {name: {} for name in cols}
    deleted = {name: {} for name in cols}
    counter = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        name = SHARED if rng.random() < 0.6 else f"own{n}"
        col, mine = cols[name], live[name]
        op = rng.choice(["add", "add", "upsert", "delete"])
        size = int(rng.integers(1, 30))
        if op == "add" or len(mine) < size:
            ids = [f"w{n}-{counter + i}" for i in range(size)]
            counter += size
            vecs = rng.normal(size=(size, DIM)).astype(np.float32)
            col.add(ids=ids, embeddings=vecs)
        elif op == "upsert":
            ids = list(rng.choice(sorted(mine), size, replace=False))
            ids += [f"w{n}-{counter}"]  # one new record per upsert, too
            counter += 1
            vecs = rng.normal(size=(len(ids), DIM)).astype(np.float32)
            col.upsert(ids=ids, embeddings=vecs)
        else:
            ids = list(rng.choice(sorted(mine), size, replace=False))
            col.delete(ids=ids)
            done = time.monotonic()
            for i in ids:
                del mine[i]
                deleted[name][i] = done
            continue
        for i, v in zip(ids, vecs):
            mine[i] = v.tolist()
    return {"live": live, "deleted": deleted}


def reader(client, seconds: float) -> dict:
    rng = np.random.default_rng(1000)
    col = _collection(client, SHARED)
    log = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        start = time.monotonic()
        q = rng.normal(size=(4, DIM)).astype(np.float32)
        if col.count():
            res = col.query(query_embeddings=q, n_results=10, include=["distances"])
            log.append([start, [i for row in res["ids"] for i in row]])
        col.get(limit=5)
    return {"queries": log}


def main() -> None:
    path, role, n, seconds, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
    client = huedb.PersistentClient(path=path)
    result = writer(client, n, seconds) if role == "writer" else reader(client, seconds)
    client.close()
    with open(out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
