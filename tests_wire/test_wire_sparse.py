"""Sparse vector metadata through the real chromadb 1.5.9 client against ``huedb run``: sent as
chromadb's SparseVector, returned by get, query and search as chromadb's SparseVector (the
server encodes them in their ``#type`` JSON form), next to plain values that only spell the
marker."""

from __future__ import annotations

from chromadb import SparseVector
from chromadb.execution.expression import K, Knn, Search
from test_wire_compat import client, server  # noqa: F401 - pytest fixtures


def test_sparse_vector_metadata_round_trips(client):  # noqa: F811
    col = client.create_collection("wire-sparse", embedding_function=None)
    sv = SparseVector(indices=[1, 7], values=[0.5, 2.0])
    col.add(
        ids=["a", "b"],
        embeddings=[[1.0, 0.0], [0.0, 1.0]],
        metadatas=[{"sv": sv, "n": 1}, {"note": "sparse_vector", "n": 2}],
    )
    got = col.get(ids=["a", "b"], include=["metadatas"])["metadatas"]
    assert got == [{"sv": sv, "n": 1}, {"note": "sparse_vector", "n": 2}]
    assert isinstance(got[0]["sv"], SparseVector)
    queried = col.query(query_embeddings=[[1.0, 0.0]], n_results=2, include=["metadatas"])["metadatas"]
    assert queried == [[{"sv": sv, "n": 1}, {"note": "sparse_vector", "n": 2}]]
    found = col.search(Search().rank(Knn(query=[1.0, 0.0], limit=1)).limit(1).select(K.METADATA))
    assert found["metadatas"] == [[{"sv": sv, "n": 1}]]
    assert isinstance(found["metadatas"][0][0]["sv"], SparseVector)
