"""Soak: 16 concurrent clients doing mixed add and query for 60 s against one server process."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import huedb
from server_fixtures import ServerProcess

CLIENTS = 16
DURATION_S = 60.0
DIM = 32


@pytest.mark.slow
def test_16_clients_mixed_add_and_query_for_60s(tmp_path):
    with ServerProcess(str(tmp_path / "data")) as server:
        setup = huedb.HttpClient(host="127.0.0.1", port=server.port)
        setup.create_collection("soak", embedding_function=None)
        setup.close()
        errors: list = []
        written: list = [[] for _ in range(CLIENTS)]
        deadline = time.monotonic() + DURATION_S

        def worker(w: int) -> None:
            rng = np.random.default_rng(w)
            try:
                client = huedb.HttpClient(host="127.0.0.1", port=server.port)
                col = client.get_collection("soak", embedding_function=None)
                n = 0
                while time.monotonic() < deadline:
                    ids = [f"w{w}-{n + i}" for i in range(8)]
                    col.add(
                        ids=ids,
                        embeddings=rng.random((8, DIM), dtype=np.float32),
                        metadatas=[{"w": w, "n": n + i} for i in range(8)],
                        documents=ids,
                    )
                    written[w].extend(ids)
                    n += 8
                    res = col.query(
                        query_embeddings=rng.random((2, DIM), dtype=np.float32), n_results=5, where={"w": {"$ne": -1}}
                    )
                    assert len(res["ids"]) == 2
                    mine = col.get(ids=ids[:2])
                    assert mine["ids"] == ids[:2]  # read-your-writes
                client.close()
            except Exception as exc:  # collected and reported below
                errors.append(f"worker {w}: {type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=worker, args=(w,)) for w in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(DURATION_S + 120)
        assert errors == []
        expected = {i for ids in written for i in ids}
        assert len(expected) > CLIENTS * 8
        check = huedb.HttpClient(host="127.0.0.1", port=server.port)
        col = check.get_collection("soak", embedding_function=None)
        assert col.count() == len(expected)
        assert set(col.get(include=[])["ids"]) == expected
        check.close()
