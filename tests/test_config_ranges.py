"""Collection configuration is checked against documented ranges at create and modify time
(issue 10, items 8 and 9; the ranges are in docs/index-plugins.md, "Configuration ranges").

Observed in chromadb 1.5.9 (the Rust-backed embedded client), for reference:
- ``configuration={"hnsw": {...}}`` checks only that integers are non-negative integers:
  resize_factor=1e300 or 0.5, max_neighbors=0 or 10**9, ef_search=0 were all accepted;
  max_neighbors=16.0 was refused ("expected usize").
- ``metadata={"hnsw:batch_size": 1}`` / ``{"hnsw:sync_threshold": 1}`` were refused; 2 was accepted.
- ``{"hnsw": [1, 2]}`` and ``{"hnsw": []}`` were refused with InvalidArgumentError.
- null values in the hnsw section mean "the default".
- an embedding function ``{"name": "nope", "type": "known"}`` was accepted at creation; loading the
  collection's configuration later raised "Embedding function nope not found".
huedb keeps Chroma's type rules and its batch_size / sync_threshold minimum of 2, adds upper bounds,
and refuses unknown "known" EF names up front.
"""

from __future__ import annotations

import math
import uuid

import httpx
import numpy as np
import pytest

import huedb
from huedb.configuration import HNSW_INT_RANGES, RESIZE_FACTOR_RANGE
from huedb.errors import InvalidArgumentError

BAD_HNSW = [
    ("resize_factor", 1e300),
    ("resize_factor", 10.5),
    ("resize_factor", 0.999),
    ("resize_factor", 0.5),
    ("resize_factor", math.nan),
    ("resize_factor", math.inf),
    ("resize_factor", "2"),
    ("resize_factor", True),
    ("max_neighbors", 10**9),
    ("max_neighbors", 1e9),
    ("max_neighbors", 2049),
    ("max_neighbors", 0),
    ("max_neighbors", 16.0),
    ("ef_construction", 0),
    ("ef_construction", 10_001),
    ("ef_construction", 2**64),
    ("ef_search", 0),
    ("ef_search", 100_001),
    ("ef_search", -5),
    ("num_threads", 0),
    ("num_threads", 1025),
    ("num_threads", False),
    ("batch_size", 1),
    ("batch_size", 100_001),
    ("sync_threshold", 1),
    ("sync_threshold", 1_000_001),
    ("space", "hamming"),
]
MUTABLE = ("ef_search", "num_threads", "batch_size", "sync_threshold", "resize_factor")
LEGACY_KEY = {
    "space": "hnsw:space",
    "ef_construction": "hnsw:construction_ef",
    "ef_search": "hnsw:search_ef",
    "max_neighbors": "hnsw:M",
    "num_threads": "hnsw:num_threads",
    "batch_size": "hnsw:batch_size",
    "sync_threshold": "hnsw:sync_threshold",
    "resize_factor": "hnsw:resize_factor",
}


@pytest.fixture
def embedded(tmp_path):
    c = huedb.PersistentClient(path=str(tmp_path / "db"))
    yield c
    c.close()


def name() -> str:
    return f"c-{uuid.uuid4().hex[:10]}"


def expected_words(key):
    return "space" if key == "space" else key


# -- hnsw ranges -----------------------------------------------------------------------------


@pytest.mark.parametrize("key, value", BAD_HNSW)
def test_out_of_range_hnsw_is_refused_at_create(client, key, value):
    with pytest.raises(InvalidArgumentError, match=expected_words(key)):
        client.create_collection(name(), configuration={"hnsw": {key: value}}, embedding_function=None)
    assert client.count_collections() == 0


# NaN, inf and ints beyond int64 are not valid metadata values at all (refused before this check).
@pytest.mark.parametrize(
    "key, value", [kv for kv in BAD_HNSW if (not isinstance(kv[1], float) or math.isfinite(kv[1])) and kv[1] != 2**64]
)
def test_out_of_range_legacy_metadata_is_refused(embedded, key, value):
    with pytest.raises(InvalidArgumentError, match=expected_words(key)):
        embedded.create_collection(name(), metadata={LEGACY_KEY[key]: value}, embedding_function=None)


@pytest.mark.parametrize("key, value", [kv for kv in BAD_HNSW if kv[0] in MUTABLE])
def test_out_of_range_hnsw_is_refused_at_modify(client, key, value):
    col = client.create_collection(name(), embedding_function=None)
    before = col.configuration_json["hnsw"][key]
    with pytest.raises(InvalidArgumentError, match=key):
        col.modify(configuration={"hnsw": {key: value}})
    assert client.get_collection(col.name, embedding_function=None).configuration_json["hnsw"][key] == before


def test_boundaries_are_accepted(embedded):
    lows = {k: lo for k, (lo, _) in HNSW_INT_RANGES.items()}
    highs = {k: hi for k, (_, hi) in HNSW_INT_RANGES.items()}
    for values in (lows, highs):
        values = {**values, "resize_factor": RESIZE_FACTOR_RANGE[1]}
        col = embedded.create_collection(name(), configuration={"hnsw": values}, embedding_function=None)
        stored = col.configuration_json["hnsw"]
        assert {k: stored[k] for k in values} == values
    col.modify(configuration={"hnsw": {"ef_search": 1, "resize_factor": 1.01}})
    assert col.configuration_json["hnsw"]["resize_factor"] == 1.01


def test_the_documented_ranges():
    # docs/index-plugins.md states these; a change here must change the docs.
    assert HNSW_INT_RANGES == {
        "ef_construction": (1, 10_000),
        "ef_search": (1, 100_000),
        "max_neighbors": (1, 2048),
        "num_threads": (1, 1024),
        "batch_size": (2, 100_000),
        "sync_threshold": (2, 1_000_000),
    }
    assert RESIZE_FACTOR_RANGE == (1.0, 10.0)


def test_null_values_mean_the_default_as_in_chroma(client):
    col = client.create_collection(
        name(), configuration={"hnsw": {"ef_search": None, "space": None}}, embedding_function=None
    )
    assert col.configuration_json["hnsw"]["ef_search"] == 100 and col.configuration_json["hnsw"]["space"] == "l2"
    col.modify(configuration={"hnsw": {"ef_search": 50}})
    col.modify(configuration={"hnsw": {"ef_search": None}})  # null leaves it as it is
    assert client.get_collection(col.name, embedding_function=None).configuration_json["hnsw"]["ef_search"] == 50
    with pytest.raises(InvalidArgumentError, match="Unknown hnsw configuration key 'bogus'"):
        client.create_collection(name(), configuration={"hnsw": {"bogus": None}}, embedding_function=None)


def test_largest_resize_factor_survives_growth_past_1000_records(embedded):
    # resize_factor=1e300 used to be stored, then every query failed once the graph had to grow.
    col = embedded.create_collection(
        name(),
        configuration={"hnsw": {"resize_factor": RESIZE_FACTOR_RANGE[1], "batch_size": 100}},
        embedding_function=None,
    )
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((1_100, 4)).astype(np.float32)
    ids = [f"id{i}" for i in range(len(vectors))]
    for start in range(0, len(ids), 250):
        col.add(ids=ids[start : start + 250], embeddings=vectors[start : start + 250])
    got = col.query(query_embeddings=vectors[[5, 1_050]], n_results=1)
    assert got["ids"] == [["id5"], ["id1050"]]


# -- the index plugins' own sections -----------------------------------------------------------


@pytest.mark.parametrize(
    "key, value",
    [
        ("n_trees", 10**6),
        ("n_trees", 0),
        ("search_k", 2**31),
        ("search_k", -2),
        ("overfetch", 0),
        ("overfetch", 1001),
        ("rebuild_threshold", 0),
        ("rebuild_fraction", 0.0),
        ("rebuild_fraction", 2.0),
        ("rebuild_fraction", math.nan),
        ("n_jobs", 2000),
        ("n_jobs", -2),
        ("n_trees", 5.0),
    ],
)
def test_annoy_section_is_checked_at_create_not_at_the_first_write(embedded, key, value):
    with pytest.raises(InvalidArgumentError, match=key):
        embedded.create_collection(
            name(), configuration={"index": {"name": "annoy", key: value}}, embedding_function=None
        )
    assert embedded.count_collections() == 0


def test_annoy_section_is_checked_at_modify(embedded):
    col = embedded.create_collection(
        name(), configuration={"index": {"name": "annoy", "n_trees": 10}}, embedding_function=None
    )
    col.add(ids=["a"], embeddings=[[1.0, 2.0]])
    with pytest.raises(InvalidArgumentError, match="rebuild_fraction"):
        col.modify(configuration={"index": {"rebuild_fraction": 2.0}})
    with pytest.raises(InvalidArgumentError, match="n_trees"):
        col.modify(configuration={"index": {"n_trees": 10**6}})
    col.modify(configuration={"index": {"n_trees": 1000, "rebuild_fraction": 1.0}})
    assert col.configuration_json["index"]["n_trees"] == 1000
    assert col.query(query_embeddings=[[1.0, 2.0]], n_results=1)["ids"] == [["a"]]


# -- wrong-typed sections (item 8) -----------------------------------------------------------


@pytest.mark.parametrize(
    "configuration",
    [
        {"hnsw": [1, 2]},
        {"hnsw": []},
        {"hnsw": "cosine"},
        {"hnsw": 3},
        {"index": ["annoy"]},
        {"index": []},
        {"spann": [1]},
        {"spann": "x"},
        {"embedding_function": [1]},
        {"embedding_function": "openai"},
    ],
)
def test_wrong_typed_sections_are_invalid_arguments(client, configuration):
    with pytest.raises(InvalidArgumentError):
        client.create_collection(name(), configuration=configuration, embedding_function=None)


@pytest.mark.parametrize("configuration", [[1, 2], "hnsw", 7])
def test_configuration_itself_must_be_a_dict(client, configuration):
    with pytest.raises(InvalidArgumentError, match="configuration must be a dict"):
        client.create_collection(name(), configuration=configuration, embedding_function=None)
    col = client.create_collection(name(), embedding_function=None)
    with pytest.raises(InvalidArgumentError, match="configuration must be a dict"):
        col.modify(configuration=configuration)


@pytest.mark.parametrize("update", [{"hnsw": [1]}, {"hnsw": []}, {"index": [1]}, {"spann": 5}])
def test_wrong_typed_sections_at_modify(client, update):
    col = client.create_collection(name(), embedding_function=None)
    with pytest.raises(InvalidArgumentError, match="must be a dict"):
        col.modify(configuration=update)


def _collections_url(client, server) -> str:
    return f"http://127.0.0.1:{server.port}/api/v2/tenants/{client.tenant}/databases/{client.database}/collections"


@pytest.mark.parametrize(
    "configuration",
    [
        {"hnsw": []},
        {"hnsw": [1, 2]},
        {"index": "annoy"},
        {"spann": [1]},
        {"hnsw": {"resize_factor": 1e300}},
        {"hnsw": {"max_neighbors": 1000000000}},
        {"embedding_function": {"type": "known", "config": {}}},
        {"embedding_function": {"name": "x", "type": "odd"}},
    ],
)
def test_http_create_answers_400_not_500(http_client_factory, huedb_server, configuration):
    client = http_client_factory()
    r = httpx.post(_collections_url(client, huedb_server), json={"name": name(), "configuration": configuration})
    assert r.status_code == 400, r.text
    assert set(r.json()) >= {"error", "message"} and r.json()["error"] == "InvalidArgumentError"


@pytest.mark.parametrize(
    "update",
    [
        {"hnsw": []},
        {"hnsw": [1]},
        {"index": []},
        {"hnsw": {"resize_factor": 1e300}},
        {"embedding_function": [1]},
    ],
)
def test_http_modify_answers_400_not_500(http_client_factory, huedb_server, update):
    client = http_client_factory()
    col = client.create_collection(name(), embedding_function=None)
    r = httpx.put(f"{_collections_url(client, huedb_server)}/{col.id}", json={"new_configuration": update})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "InvalidArgumentError"


# -- embedding function names at creation ------------------------------------------------------


def test_unknown_known_ef_name_is_refused_with_what_is_installed(client):
    spec = {"name": "nope_not_installed", "type": "known", "config": {}}
    with pytest.raises(InvalidArgumentError) as e:
        client.create_collection(name(), configuration={"embedding_function": spec})
    msg = str(e.value)
    assert "'nope_not_installed'" in msg and "Installed: " in msg
    installed = msg.split("Installed: ", 1)[1]
    assert "default" in installed and "openai" in installed
    assert client.count_collections() == 0


def test_chroma_catalogue_and_custom_names_are_accepted(client):
    # "jina" is one of Chroma's known EFs (a chromadb client may store it); custom names follow Chroma.
    jina = {"name": "jina", "type": "known", "config": {"api_key_env_var": "CHROMA_JINA_API_KEY", "model_name": "m"}}
    col = client.create_collection(name(), configuration={"embedding_function": jina, "hnsw": {"space": "cosine"}})
    assert col.configuration_json["embedding_function"]["name"] == "jina"
    custom = {"name": "someone_elses_ef", "type": "custom", "config": {"x": 1}}
    col = client.create_collection(name(), configuration={"embedding_function": custom})
    assert col.configuration_json["embedding_function"]["name"] == "someone_elses_ef"
    with pytest.raises(InvalidArgumentError, match="does not match its schema"):
        client.create_collection(name(), configuration={"embedding_function": {**jina, "config": {"x": 1}}})
