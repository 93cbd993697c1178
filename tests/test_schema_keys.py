"""``collection.schema`` lists the metadata keys the data has held, as chromadb 1.5.9 does
(its "discoverable" keys), on every client kind and storage backend.

Observed on chromadb 1.5.9 (local, persistent): after add/upsert/update with metadata, a
schema read from the server (get_collection, get_or_create_collection, list_collections)
lists each key once per value type seen ("string", "int", "float", "bool"; an array
registers its elements' type), configured as the schema's ``defaults`` entry for that
type. Keys stay after their records are deleted; the Collection object already held keeps
the schema it was fetched with. A key the schema configures keeps its configuration, and a
new value type for it gets the defaults' entry (turned off when the defaults turn it off).
"""

from __future__ import annotations

import pytest

import huedb
from huedb import IntInvertedIndexConfig, Schema, SparseVector, StringInvertedIndexConfig
from huedb.errors import InvalidArgumentError

STRING = {"fts_index": {"enabled": False, "config": {}}, "string_inverted_index": {"enabled": True, "config": {}}}
INT = {"int_inverted_index": {"enabled": True, "config": {}}}
FLOAT = {"float_inverted_index": {"enabled": True, "config": {}}}
BOOL = {"bool_inverted_index": {"enabled": True, "config": {}}}
BUILT_IN = ["#document", "#embedding"]


def _keys(collection) -> dict:
    return collection.schema.serialize_to_json()["keys"]


def test_each_key_is_listed_with_each_value_type_seen(client):
    col = client.create_collection("seen", embedding_function=None)
    assert sorted(_keys(col)) == BUILT_IN
    col.add(
        ids=["1", "2", "3"],
        embeddings=[[1.0, 2.0], [3.0, 4.0], [1.0, 1.0]],
        metadatas=[{"a": 1, "b": "x"}, {"a": "s", "e": [1, 2], "g": ["x"]}, {"h": [1.5], "i": [True], "f": 2.0}],
    )
    keys = _keys(client.get_collection("seen"))
    listed = [*BUILT_IN, "a", "b", "e", "f", "g", "h", "i"]
    assert sorted(keys) == listed
    assert keys["a"] == {"string": STRING, "int": INT}  # two types: both, in Chroma's order
    assert keys["b"] == keys["g"] == {"string": STRING}
    assert keys["e"] == {"int": INT} and keys["f"] == keys["h"] == {"float": FLOAT} and keys["i"] == {"bool": BOOL}
    assert [sorted(c.schema.keys) for c in client.list_collections()] == [listed]
    col.upsert(ids=["4"], embeddings=[[0.0, 1.0]], metadatas=[{"u": 1}])
    col.update(ids=["1"], metadatas=[{"v": False, "a": None}])
    col.add(ids=["5"], embeddings=[[0.0, 1.0]])  # no metadata: nothing new
    fresh = client.get_or_create_collection("seen", embedding_function=None)
    assert sorted(fresh.schema.keys) == [*BUILT_IN, "a", "b", "e", "f", "g", "h", "i", "u", "v"]
    assert _keys(fresh)["v"] == {"bool": BOOL}
    assert col.schema.keys.keys() == {"#document", "#embedding"}  # the object held is not refreshed
    # the keys are listed as Schema objects too, and the filters work on them
    assert fresh.schema.keys["b"].string.string_inverted_index.enabled is True
    assert col.get(where={"b": "x"})["ids"] == ["1"]


def test_keys_stay_after_their_records_are_gone(client):
    col = client.create_collection("stay", embedding_function=None)
    col.add(ids=["1", "2"], embeddings=[[1.0, 2.0], [3.0, 4.0]], metadatas=[{"a": 1}, {"c": 1.5, "d": True}])
    held = client.get_collection("stay")
    col.delete(ids=["1"])
    col.update(ids=["2"], metadatas=[{"c": None, "f": "y"}])
    assert sorted(client.get_collection("stay").schema.keys) == [*BUILT_IN, "a", "c", "d", "f"]
    col.delete(where={"d": True})
    assert col.count() == 0
    assert sorted(client.get_collection("stay").schema.keys) == [*BUILT_IN, "a", "c", "d", "f"]
    assert sorted(held.schema.keys) == [*BUILT_IN, "a", "c", "d"]
    # a collection of the same name made again starts with none
    client.delete_collection("stay")
    assert sorted(client.create_collection("stay", embedding_function=None).schema.keys) == BUILT_IN
    assert sorted(client.get_collection("stay").schema.keys) == BUILT_IN


def test_configured_keys_keep_their_configuration_and_defaults_rule_new_types(client):
    schema = Schema().delete_index(StringInvertedIndexConfig(), key="a").delete_index(IntInvertedIndexConfig())
    col = client.create_collection("configured", schema=schema, embedding_function=None)
    col.add(
        ids=["1", "2"],
        embeddings=[[1.0, 2.0], [3.0, 4.0]],
        metadatas=[{"a": 1, "n": 5}, {"a": "s", "m": 2.0}],
    )
    keys = _keys(client.get_collection("configured"))
    off_int = {"int_inverted_index": {"enabled": False, "config": {}}}
    assert keys["a"] == {"string": {"string_inverted_index": {"enabled": False, "config": {}}}, "int": off_int}
    assert keys["n"] == {"int": off_int} and keys["m"] == {"float": FLOAT}
    for where in ({"n": 5}, {"a": 1}, {"a": "s"}):
        with pytest.raises(InvalidArgumentError, match="indexing is disabled"):
            col.get(where=where)
    assert col.get(where={"m": 2.0})["ids"] == ["2"]


def test_sparse_vector_keys_are_listed_unindexed(client):
    # Chroma local refuses sparse vectors in metadata; huedb keeps them, and lists their key
    # as the schema's value type for them with the defaults' (unindexed) entry.
    col = client.create_collection("sparse_keys", embedding_function=None)
    col.add(ids=["1"], embeddings=[[1.0, 2.0]], metadatas=[{"sp": SparseVector([1, 2], [0.5, 0.5])}])
    unindexed = {"enabled": False, "config": {"embedding_function": {"type": "unknown"}}}
    assert _keys(client.get_collection("sparse_keys"))["sp"] == {"sparse_vector": {"sparse_vector_index": unindexed}}


def test_a_fork_has_its_sources_keys_and_its_own_afterwards(client):
    col = client.create_collection("source", embedding_function=None)
    col.add(ids=["1", "2"], embeddings=[[1.0, 2.0], [3.0, 4.0]], metadatas=[{"a": 1}, {"gone": "x"}])
    col.delete(ids=["2"])
    fork = col.fork("forked")
    assert sorted(fork.schema.keys) == [*BUILT_IN, "a", "gone"]
    fork.add(ids=["3"], embeddings=[[0.0, 1.0]], metadatas=[{"new": 1}])
    assert sorted(client.get_collection("forked").schema.keys) == [*BUILT_IN, "a", "gone", "new"]
    assert sorted(client.get_collection("source").schema.keys) == [*BUILT_IN, "a", "gone"]


def test_the_stored_schema_does_not_take_in_the_keys(tmp_path):
    """Listing keys is a read: modify(configuration=...) stores the creation schema, not the keys."""
    client = huedb.PersistentClient(path=str(tmp_path / "db"))
    col = client.create_collection("mod", embedding_function=None)
    col.add(ids=["1"], embeddings=[[1.0, 2.0]], metadatas=[{"a": 1}])
    client.get_collection("mod").modify(configuration={"hnsw": {"ef_search": 50}})
    api = client._server
    with api.storage.read() as tx:
        assert tx.collection_by_name("mod", "default_tenant", "default_database").schema is None
    assert sorted(client.get_collection("mod").schema.keys) == [*BUILT_IN, "a"]
    client.close()


# -- databases written before the keys were kept -------------------------------------------
MIGRATED_METADATA = [
    {"s": "x", "i": 3, "f": 2.0, "b": True},
    {"s": 1, "li": [1, 2], "lf": [1.5], "ls": ["a"], "lb": [False], "sp": SparseVector([1], [0.5])},
]
MIGRATED_KEYS = {
    "s": ["string", "int"],
    "i": ["int"],
    "f": ["float"],
    "b": ["bool"],
    "li": ["int"],
    "lf": ["float"],
    "ls": ["string"],
    "lb": ["bool"],
    "sp": ["sparse_vector"],
}


def _fill(col) -> None:
    col.add(ids=["1", "2"], embeddings=[[1.0, 2.0], [3.0, 4.0]], metadatas=MIGRATED_METADATA)


def _assert_migrated(col) -> None:
    keys = _keys(col)
    assert {k: list(v) for k, v in keys.items() if not k.startswith("#")} == MIGRATED_KEYS


def test_a_schema_3_sqlite_file_gains_the_keys_of_its_data(tmp_path):
    import sqlite3

    from huedb.storage.sqlite.schema import SCHEMA_VERSION

    path = tmp_path / "db"
    client = huedb.PersistentClient(path=str(path))
    _fill(client.create_collection("old", embedding_function=None))
    client.close()
    conn = sqlite3.connect(path / "huedb.sqlite3")  # back to schema 3: no meta_keys
    conn.executescript("DROP TABLE meta_keys; UPDATE huedb_meta SET value='3' WHERE key='schema_version';")
    conn.close()
    client = huedb.PersistentClient(path=str(path))
    _assert_migrated(client.get_collection("old"))
    client.close()
    conn = sqlite3.connect(path / "huedb.sqlite3")
    assert conn.execute("SELECT value FROM huedb_meta WHERE key='schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    conn.close()


@pytest.mark.postgres
def test_a_schema_2_postgres_database_gains_the_keys_of_its_data(postgres_database):
    import psycopg

    from huedb.config import Settings

    settings = Settings(storage_backend="postgres", postgres_url=postgres_database)
    client = huedb.Client(settings)
    _fill(client.create_collection("old", embedding_function=None))
    client.close()
    with psycopg.connect(postgres_database) as conn:  # back to schema version 2: no meta_keys
        conn.execute("DROP TABLE meta_keys")
        conn.execute("UPDATE huedb_meta SET value = '2' WHERE key = 'schema_version'")
    client = huedb.Client(settings)
    try:
        _assert_migrated(client.get_collection("old"))
        with psycopg.connect(postgres_database) as conn:
            assert conn.execute("SELECT value FROM huedb_meta WHERE key = 'schema_version'").fetchone()[0] == "3"
    finally:
        client.close()
