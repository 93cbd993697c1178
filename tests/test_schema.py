"""Schema and its index configs: built as chromadb 1.5.9 builds them, honoured by
create_collection(schema=...) embedded and over HTTP, persisted, served, and refused where
huedb cannot do what they ask. The expectations were observed on chromadb 1.5.9 locally
(EphemeralClient) in a scratch venv."""

from __future__ import annotations

import httpx
import pytest

import huedb
from huedb import (
    BoolInvertedIndexConfig,
    FloatInvertedIndexConfig,
    FtsIndexConfig,
    HnswIndexConfig,
    IntInvertedIndexConfig,
    Schema,
    SpannIndexConfig,
    SparseVectorIndexConfig,
    StringInvertedIndexConfig,
    VectorIndexConfig,
)
from huedb.errors import InvalidArgumentError

#: Schema().serialize_to_json() on chromadb 1.5.9
CHROMA_DEFAULT_JSON = {
    "defaults": {
        "string": {
            "fts_index": {"enabled": False, "config": {}},
            "string_inverted_index": {"enabled": True, "config": {}},
        },
        "float_list": {
            "vector_index": {
                "enabled": False,
                "config": {"embedding_function": {"name": "default", "type": "known", "config": {}}, "space": "l2"},
            }
        },
        "sparse_vector": {
            "sparse_vector_index": {"enabled": False, "config": {"embedding_function": {"type": "unknown"}}}
        },
        "int": {"int_inverted_index": {"enabled": True, "config": {}}},
        "float": {"float_inverted_index": {"enabled": True, "config": {}}},
        "bool": {"bool_inverted_index": {"enabled": True, "config": {}}},
    },
    "keys": {
        "#document": {
            "string": {
                "fts_index": {"enabled": True, "config": {}},
                "string_inverted_index": {"enabled": False, "config": {}},
            }
        },
        "#embedding": {
            "float_list": {
                "vector_index": {
                    "enabled": True,
                    "config": {
                        "embedding_function": {"name": "default", "type": "known", "config": {}},
                        "source_key": "#document",
                        "space": "l2",
                    },
                }
            }
        },
    },
}


def _same(a, b):
    assert a == b, (a, b)


def test_default_schema_json_is_chromas():
    got = Schema().serialize_to_json()
    _same(got, CHROMA_DEFAULT_JSON)
    assert Schema.deserialize_from_json(got).serialize_to_json() == Schema().serialize_to_json()


def test_per_key_index_is_serialised_alone():
    got = Schema().delete_index(StringInvertedIndexConfig(), key="genre").serialize_to_json()
    assert got["keys"]["genre"] == {"string": {"string_inverted_index": {"enabled": False, "config": {}}}}
    got = Schema().delete_index(StringInvertedIndexConfig()).serialize_to_json()
    assert got["defaults"]["string"]["string_inverted_index"] == {"enabled": False, "config": {}}


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda s: s.delete_index(key="genre"), "Cannot disable all index types for key 'genre'"),
        (lambda s: s.delete_index(), "Cannot disable all indexes. Must specify either config or key."),
        (lambda s: s.create_index(key="genre"), "Cannot enable all index types for key 'genre'"),
        (lambda s: s.create_index(), "Cannot enable all index types globally"),
        (lambda s: s.delete_index(FtsIndexConfig()), "Deleting FTS index is only supported on #document key."),
        (lambda s: s.create_index(FtsIndexConfig(), key="title"), "FTS index can only be enabled on #document"),
        (lambda s: s.delete_index(VectorIndexConfig()), "Deleting vector index is not currently supported."),
        (lambda s: s.delete_index(VectorIndexConfig(), key="#embedding"), "Cannot modify #embedding"),
        (lambda s: s.create_index(VectorIndexConfig(), key="foo"), "Vector index cannot be enabled on specific keys"),
        (lambda s: s.create_index(VectorIndexConfig(), key="#embedding"), "special key '#embedding'"),
        (lambda s: s.create_index(SparseVectorIndexConfig()), "Sparse vector index must be created on a specific"),
        (
            lambda s: s.create_index(SparseVectorIndexConfig(), key="a").create_index(
                SparseVectorIndexConfig(), key="b"
            ),
            "Only one sparse vector index is allowed per collection",
        ),
        (lambda s: s.delete_index(SparseVectorIndexConfig(), key="sp"), "Deleting sparse vector index is not"),
        (
            lambda s: s.create_index(SparseVectorIndexConfig(source_key="#document"), key="sp"),
            "If source_key is provided then embedding_function must also be provided",
        ),
        (lambda s: s.create_index(StringInvertedIndexConfig(), key="#document"), "Only FtsIndexConfig is allowed"),
        (lambda s: s.delete_index(IntInvertedIndexConfig(), key="#year"), "key cannot begin with '#'"),
    ],
)
def test_schema_building_rules_are_chromas(build, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        build(Schema())


def _disabled_schema() -> Schema:
    return (
        Schema()
        .delete_index(StringInvertedIndexConfig(), key="genre")
        .delete_index(IntInvertedIndexConfig(), key="year")
        .delete_index(FtsIndexConfig(), key="#document")
        .delete_index(FloatInvertedIndexConfig())
    )


def _load(col):
    col.add(
        ids=["1", "2", "3"],
        embeddings=[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
        documents=["hello world", "foo bar", "hello foo"],
        metadatas=[
            {"genre": "x", "year": 1, "f": 1.5, "b": True, "other": "y"},
            {"genre": "y", "year": 2, "f": 2.5, "b": False, "other": "z"},
            {"genre": "x", "year": 3, "f": 3.5, "b": True},
        ],
    )


def test_disabled_indexes_make_filters_raise_as_chroma(client):
    col = client.create_collection("schema_off", schema=_disabled_schema(), embedding_function=None)
    _load(col)
    key_off = "Cannot filter using metadata key 'genre' with type 'Str' because indexing is disabled"
    for call in (
        lambda: col.get(where={"genre": "x"}),
        lambda: col.get(where={"genre": {"$in": ["x"]}}),
        lambda: col.get(where={"genre": {"$nin": ["x"]}}),
        lambda: col.get(where={"$and": [{"other": "y"}, {"genre": "x"}]}),
        lambda: col.query(query_embeddings=[[1.0, 0.0]], n_results=1, where={"genre": "x"}),
        lambda: col.delete(where={"genre": "x"}),
        lambda: col.search(huedb.Search().where(huedb.K("genre") == "x")),
    ):
        with pytest.raises(InvalidArgumentError, match=key_off):
            call()
    with pytest.raises(InvalidArgumentError, match="'year' with type 'Int'"):
        col.get(where={"year": {"$gt": 1}})
    with pytest.raises(InvalidArgumentError, match="'f' with type 'Float'"):  # the global default is off
        col.get(where={"f": {"$gt": 1.0}})
    fts_off = "Cannot filter using full-text search because FTS indexing is disabled"
    for where_document in ({"$contains": "hello"}, {"$regex": "hel+o"}, {"$not_contains": "hello"}):
        with pytest.raises(InvalidArgumentError, match=fts_off):
            col.get(where_document=where_document)
    with pytest.raises(InvalidArgumentError, match=fts_off):
        col.search(huedb.Search().where(huedb.K.DOCUMENT.contains("hello")))
    # Chroma checks the index of the value's type: these types are still indexed
    assert col.get(where={"year": "a"})["ids"] == []
    assert col.get(where={"f": {"$gt": 1}})["ids"] == ["1", "2", "3"]
    assert col.get(where={"b": True})["ids"] == ["1", "3"]
    assert col.get(where={"other": "y"})["ids"] == ["1"]
    assert col.get(where={"#id": "1"} if False else None, ids=["2"])["ids"] == ["2"]
    assert col.count() == 3  # nothing was deleted


def test_a_key_index_overrides_the_default(client):
    schema = Schema().delete_index(StringInvertedIndexConfig()).create_index(StringInvertedIndexConfig(), key="s")
    col = client.create_collection("schema_override", schema=schema)
    col.add(ids=["1"], embeddings=[[1.0, 2.0]], metadatas=[{"s": "x", "t": "y"}])
    assert col.get(where={"s": "x"})["ids"] == ["1"]
    with pytest.raises(InvalidArgumentError, match="'t' with type 'Str'"):
        col.get(where={"t": "y"})
    with pytest.raises(InvalidArgumentError, match="'never_seen' with type 'Str'"):
        col.get(where={"never_seen": "y"})


def test_schema_persists_and_round_trips(tmp_path):
    path = str(tmp_path / "db")
    client = huedb.PersistentClient(path)
    schema = _disabled_schema().create_index(BoolInvertedIndexConfig(), key="b")
    col = client.create_collection("kept", schema=schema, embedding_function=None)
    col.modify(configuration={"hnsw": {"ef_search": 50}})  # the schema survives a modify
    reopened = huedb.PersistentClient(path).get_collection("kept")
    got = reopened.schema.serialize_to_json()
    assert got["keys"]["genre"] == {"string": {"string_inverted_index": {"enabled": False, "config": {}}}}
    assert got["keys"]["#document"]["string"]["fts_index"]["enabled"] is False
    assert got["defaults"]["float"]["float_inverted_index"]["enabled"] is False
    assert got["keys"]["#embedding"]["float_list"]["vector_index"]["config"]["hnsw"]["ef_search"] == 50
    assert "schema" not in reopened.configuration_json  # stored beside the configuration, not in it
    with pytest.raises(InvalidArgumentError, match="indexing is disabled"):
        reopened.get(where={"genre": "x"})
    fork = reopened.fork("kept_fork")
    assert fork.schema == reopened.schema
    with pytest.raises(InvalidArgumentError, match="FTS indexing is disabled"):
        fork.get(where_document={"$contains": "x"})


def test_schema_over_rest_is_served_in_chromas_shape(huedb_server, http_client_factory):
    client = http_client_factory()
    col = client.create_collection("rest_schema", schema=_disabled_schema(), embedding_function=None)
    url = f"{huedb_server.url}/api/v2/tenants/{col.tenant}/databases/{col.database}/collections/rest_schema"
    served = httpx.get(url).json()["schema"]
    assert served["keys"]["year"] == {"int": {"int_inverted_index": {"enabled": False, "config": {}}}}
    assert served["keys"]["#embedding"]["float_list"]["vector_index"]["enabled"] is True
    assert served["defaults"]["float"]["float_inverted_index"]["enabled"] is False
    # what chromadb-client posts: its configuration and the schema JSON
    body = {
        "name": "rest_schema_raw",
        "configuration": {"hnsw": {"space": "l2"}, "spann": None, "embedding_function": None},
        "schema": Schema().delete_index(IntInvertedIndexConfig(), key="y").serialize_to_json(),
        "get_or_create": False,
    }
    created = httpx.post(url.rsplit("/", 1)[0], json=body)
    assert created.status_code == 200, created.text
    assert created.json()["schema"]["keys"]["y"]["int"]["int_inverted_index"]["enabled"] is False
    bad = dict(body, name="rest_schema_bad", schema={**body["schema"], "cmek": {"gcp": "key"}})
    refused = httpx.post(url.rsplit("/", 1)[0], json=bad)
    assert refused.status_code == 400 and refused.json()["error"] == "InvalidArgumentError"
    assert "cmek" in refused.json()["message"]


def test_vector_index_config_becomes_the_configuration(client):
    col = client.create_collection(
        "schema_hnsw",
        schema=Schema().create_index(VectorIndexConfig(space="cosine", hnsw=HnswIndexConfig(ef_search=33))),
    )
    assert col.configuration_json["hnsw"]["space"] == "cosine"
    assert col.configuration_json["hnsw"]["ef_search"] == 33
    vector = col.schema.serialize_to_json()["defaults"]["float_list"]["vector_index"]["config"]
    assert vector["space"] == "cosine" and vector["hnsw"]["ef_search"] == 33
    # as Chroma local: an empty spann section is an HNSW index
    spann = client.create_collection(
        "schema_spann", schema=Schema().create_index(VectorIndexConfig(spann=SpannIndexConfig()))
    )
    assert spann.configuration_json["hnsw"]["space"] in ("l2", "cosine", "ip")


def test_what_huedb_cannot_do_is_refused(client):
    with pytest.raises(InvalidArgumentError, match="Cannot set both collection config and schema simultaneously"):
        client.create_collection("both", schema=_disabled_schema(), configuration={"hnsw": {"space": "ip"}})
    with pytest.raises(InvalidArgumentError, match="Cannot set both collection config and schema simultaneously"):
        client.create_collection("both_md", schema=_disabled_schema(), metadata={"hnsw:space": "ip"})
    with pytest.raises(InvalidArgumentError, match="no SPANN index"):
        client.create_collection(
            "spann_params", schema=Schema().create_index(VectorIndexConfig(spann=SpannIndexConfig(search_nprobe=10)))
        )
    with pytest.raises(InvalidArgumentError, match="spann and hnsw"):
        client.create_collection(
            "spann_hnsw",
            schema=Schema().create_index(VectorIndexConfig(spann=SpannIndexConfig(), hnsw=HnswIndexConfig())),
        )
    with pytest.raises(InvalidArgumentError, match="schema must be a huedb.Schema"):
        client.create_collection("not_schema", schema=["x"])
    raw = Schema().serialize_to_json()
    raw["keys"]["title"] = {"string": {"fts_index": {"enabled": True, "config": {}}}}
    with pytest.raises(InvalidArgumentError, match="full-text search indexes #document only"):
        client.create_collection("fts_title", schema=raw)
    assert [c.name for c in client.list_collections()] == []  # nothing was created
    # a default schema with a configuration is fine, as on Chroma
    ok = client.create_collection("default_schema", schema=Schema(), configuration={"hnsw": {"space": "ip"}})
    assert ok.configuration_json["hnsw"]["space"] == "ip"
    # get_or_create on an existing collection keeps its schema, as on Chroma
    again = client.get_or_create_collection("default_schema", schema=_disabled_schema())
    assert again.get(where={"genre": "x"})["ids"] == []
