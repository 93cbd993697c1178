"""Differences found by running chromadb 1.5.9's own test suite against huedb (docs/chroma-tests.md).

Each test states what chromadb 1.5.9 does (observed in a scratch venv) and checks huedb does the same.
"""

from __future__ import annotations

from typing import Any

import huedb
from huedb.api.types import DataLoader


# -- DataLoader is generic, as chromadb's: DataLoader[List[Optional[Image]]] is Chroma's documented base
def test_data_loader_is_subscriptable_and_a_subclass_loads(client):
    class UpperLoader(DataLoader[list[Any]]):
        def __call__(self, uris):
            return [None if u is None else u.upper() for u in uris]

    loader = UpperLoader()
    assert isinstance(loader, huedb.DataLoader)
    assert loader(["a", None]) == ["A", None]
    col = client.create_collection("loaded", embedding_function=None, data_loader=loader)
    col.add(ids=["1"], uris=["x"], embeddings=[[1.0, 2.0]])
    assert col.get(ids=["1"], include=["data"])["data"] == ["X"]
