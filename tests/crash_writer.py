"""Child process for tests/test_crash_safety.py: a long ingest that gets kill -9'd.

Usage: python crash_writer.py PATH START_BATCH [N_BATCHES]

Writes batches START_BATCH, START_BATCH+1, ... into collection "crash" and
prints "ACK n" (flushed) only after ``add()`` for batch n has returned, so the
parent knows exactly which batches were acknowledged when it kills us.
The data of each batch is a pure function of its number (see ``batch``), so
the parent can check every acknowledged record byte for byte.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

BATCH_SIZE = 50
DIM = 8


def batch(n: int) -> dict[str, Any]:
    """The deterministic content of batch ``n``."""
    rng = np.random.default_rng(n)
    ids: list[str] = [f"b{n}-{i}" for i in range(BATCH_SIZE)]
    return {
        "ids": ids,
        "embeddings": rng.normal(size=(BATCH_SIZE, DIM)).astype(np.float32),
        "documents": [f"batch {n} record {i} " + "x" * (i * 7 % 200) for i in range(BATCH_SIZE)],
        "metadatas": [{"batch": n, "i": i, "tag": f"t{i % 5}"} for i in range(BATCH_SIZE)],
    }


def main() -> None:
    import huedb

    path = sys.argv[1]
    start = int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
    client = huedb.PersistentClient(path=path)
    col = client.get_or_create_collection("crash", embedding_function=None)
    print("READY", flush=True)
    for n in range(start, start + count):
        col.add(**batch(n))
        print(f"ACK {n}", flush=True)
        if n % 7 == 0:
            # Mix in other writes so the kill can land in them too.
            col.update(ids=[f"b{n}-0"], metadatas=[{"batch": n, "i": 0, "tag": "t0"}])
            col.query(query_embeddings=batch(n)["embeddings"][:1], n_results=3)
    client.close()


if __name__ == "__main__":
    main()
