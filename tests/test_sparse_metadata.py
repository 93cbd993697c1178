"""SparseVector as a metadata value: validated, stored with the record, returned as a
SparseVector (embedded and over HTTP), indexed for sparse search, refused in where filters."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

import huedb
from huedb import SparseVector
from huedb.errors import InvalidArgumentError
from huedb.storage.sqlite import SqliteBackend
from huedb.storage.sqlite.schema import SCHEMA_VERSION


def test_sparse_vectors_round_trip_and_follow_writes(client):
    col = client.create_collection("sparse-md")
    col.add(
        ids=["a", "b", "c"],
        embeddings=[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
        metadatas=[
            {"sv": SparseVector(indices=[1, 7], values=[0.5, 2.0]), "n": 1},
            {"sv": {"#type": "sparse_vector", "indices": [7], "values": [3]}},  # chromadb's wire form
            {"sv": SparseVector(indices=[2], values=[1.0], labels=["two"]), "n": 3},
        ],
    )
    got = col.get(include=["metadatas"])["metadatas"]
    assert got[0] == {"sv": SparseVector(indices=[1, 7], values=[0.5, 2.0]), "n": 1}
    assert got[1] == {"sv": SparseVector(indices=[7], values=[3.0])}
    assert got[2]["sv"] == SparseVector(indices=[2], values=[1.0], labels=["two"])
    queried = col.query(query_embeddings=[[1.0, 0.0]], n_results=1, include=["metadatas"])["metadatas"]
    assert queried == [[got[0]]]
    assert col.get(where={"n": 3})["ids"] == ["c"]  # other keys still filter
    with pytest.raises(InvalidArgumentError, match="holds sparse vectors"):
        col.get(where={"sv": {"$eq": 1}})
    with pytest.raises(InvalidArgumentError, match="holds sparse vectors"):
        col.get(where={"$or": [{"n": 1}, {"sv": "x"}]})
    col.update(ids=["a"], metadatas=[{"sv": SparseVector(indices=[9], values=[4.0])}])
    col.upsert(ids=["b"], embeddings=[[0.0, 1.0]], metadatas=[{"sv": None, "n": 2}])
    got = col.get(ids=["a", "b"], include=["metadatas"])["metadatas"]
    assert got == [{"sv": SparseVector(indices=[9], values=[4.0]), "n": 1}, {"n": 2}]


@pytest.mark.parametrize(
    "value, words",
    [
        ({"#type": "sparse_vector", "indices": [3, 1], "values": [1.0, 1.0]}, "strictly ascending"),
        ({"#type": "sparse_vector", "indices": [1], "values": [1.0, 2.0]}, "as many values"),
        ({"#type": "sparse_vector", "indices": [-1], "values": [1.0]}, "non-negative"),
        ({"#type": "sparse_vector", "indices": [1], "values": [float("nan")]}, "finite"),
        ({"#type": "other", "indices": [1], "values": [1.0]}, "SparseVector"),
        ({"indices": [1]}, "SparseVector"),
    ],
)
def test_bad_sparse_values_are_refused(value, words):
    col = huedb.EphemeralClient().get_or_create_collection("sparse-bad")
    with pytest.raises(InvalidArgumentError, match=words):
        col.add(ids=["a"], embeddings=[[1.0]], metadatas=[{"sv": value}])


def test_the_engine_keeps_postings_in_the_records_transaction(tmp_path):
    client = huedb.PersistentClient(path=str(tmp_path / "db"))
    col = client.create_collection("postings")
    col.add(
        ids=["a", "b"],
        embeddings=[[1.0], [2.0]],
        metadatas=[{"sv": SparseVector([1, 2], [1.0, 1.0])}, {"sv": SparseVector([2], [5.0])}],
    )
    col.delete(ids=["b"])
    client.close()
    backend = SqliteBackend(tmp_path / "db")
    with backend.read() as tx:
        cid = tx.collection_by_name("postings", "default_tenant", "default_database").storage_key
        rids, scores = tx.sparse_knn(cid, "sv", np.array([2]), np.array([1.0]), 10, None)
        assert scores.tolist() == [1.0] and len(rids) == 1
    backend.close()


def test_a_version_1_database_file_opens_and_gains_the_sparse_tables(tmp_path):
    path = tmp_path / "db"
    client = huedb.PersistentClient(path=str(path))
    client.create_collection("old").add(ids=["a"], embeddings=[[1.0]], metadatas=[{"n": 1}])
    client.close()
    conn = sqlite3.connect(path / "huedb.sqlite3")  # make it a version-1 file
    conn.executescript(
        "DROP TABLE sparse; DROP TABLE sparse_docs; UPDATE huedb_meta SET value='1' WHERE key='schema_version';"
    )
    conn.close()
    client = huedb.PersistentClient(path=str(path))
    col = client.get_collection("old")
    col.add(ids=["b"], embeddings=[[2.0]], metadatas=[{"sv": SparseVector([4], [2.0])}])
    assert col.get(ids=["b"])["metadatas"] == [{"sv": SparseVector([4], [2.0])}]
    client.close()
    conn = sqlite3.connect(path / "huedb.sqlite3")
    # raised to the current version (3 since issue 17 moved the vectors into their own table)
    assert conn.execute("SELECT value FROM huedb_meta WHERE key='schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    assert conn.execute("SELECT count(*) FROM sparse").fetchone() == (1,)
    conn.close()


def test_the_marker_text_in_a_string_value_stays_a_string(client):
    """Reads decode sparse vectors only when their marker appears in the stored JSON; a string
    that spells it (or a whole #type dict as text) is still returned as the string it was."""
    col = client.create_collection("sparse-marker")
    text = '{"#type": "sparse_vector", "indices": [1], "values": [1.0]}'
    col.add(
        ids=["s", "v", "plain"],
        embeddings=[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
        metadatas=[{"note": "sparse_vector", "raw": text}, {"sv": SparseVector([1], [2.0])}, {"n": 1}],
        documents=["sparse_vector", "doc", "doc"],
    )
    got = col.get(include=["metadatas", "documents"])
    assert got["metadatas"] == [{"note": "sparse_vector", "raw": text}, {"sv": SparseVector([1], [2.0])}, {"n": 1}]
    assert got["documents"][0] == "sparse_vector"
    # the row path (embeddings included) decodes the same way
    rows = col.get(ids=["s", "v"], include=["metadatas", "embeddings"])["metadatas"]
    assert rows == [{"note": "sparse_vector", "raw": text}, {"sv": SparseVector([1], [2.0])}]
    assert col.get(ids=["plain"], include=["metadatas"])["metadatas"] == [{"n": 1}]
