"""A huedb process driven over stdin/stdout, for tests with several processes on one path.

Each stdin line is a JSON command ``{"op": ..., ...}``; each reply is one JSON line
``{"ok": result}`` or ``{"error": "ErrorClass: message"}``. The process keeps one
PersistentClient open for its whole life, so its index segments stay loaded
between commands, as in a long-running application.
"""

from __future__ import annotations

import json
import sys

import numpy as np

import huedb


def _collection(client, name: str, space: str = "l2"):
    return client.get_or_create_collection(name, embedding_function=None, configuration={"hnsw": {"space": space}})


def run(path: str) -> None:
    client = huedb.PersistentClient(path=path)
    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd.pop("op")
        try:
            if op == "quit":
                client.close()
                print(json.dumps({"ok": True}), flush=True)
                return
            col = _collection(client, cmd.pop("collection"), cmd.pop("space", "l2"))
            if op in ("add", "upsert"):
                getattr(col, op)(ids=cmd["ids"], embeddings=np.asarray(cmd["embeddings"], dtype=np.float32))
                result = True
            elif op == "delete":
                col.delete(ids=cmd["ids"])
                result = True
            elif op == "query":
                res = col.query(query_embeddings=cmd["embeddings"], n_results=cmd["n_results"], include=["distances"])
                result = {"ids": res["ids"], "distances": res["distances"]}
            elif op == "count":
                result = col.count()
            else:
                raise ValueError(f"unknown op {op!r}")
            print(json.dumps({"ok": result}), flush=True)
        except Exception as e:  # noqa: BLE001 - the test decides what an error means
            print(json.dumps({"error": f"{type(e).__name__}: {e}"}), flush=True)


if __name__ == "__main__":
    run(sys.argv[1])
