"""Collection configuration rules as chromadb 1.5.9 applies them (observed in a scratch venv).

- ``configuration={"spann": {"space": "cosine"}}`` gave an HNSW collection with space cosine;
  spann's other fields (search_nprobe, ef_search, ...) were checked (u32, known field names:
  "unknown field `foo`", "unknown variant `bogus`") and otherwise had no effect.
- ``hnsw`` and ``spann`` both non-null: ValueError "hnsw and spann cannot both be provided";
  ``{"spann": None, "hnsw": {...}}`` was fine.
- modify with spann: ValueError "Trying to update SPANN config but schema has HNSW"; with both:
  InvalidArgumentError "Multiple vector index configurations provided".
- legacy ``hnsw:*`` metadata was ignored once the configuration had a non-empty hnsw section or
  any spann section (``{"hnsw": {}}`` or only an embedding function: still honoured); a bad
  legacy value was refused even when ignored.
- ``max_neighbors=1`` and ``resize_factor=1.0`` were accepted.
"""

from __future__ import annotations

import uuid

import httpx
import numpy as np
import pytest

from huedb.errors import InvalidArgumentError


def name() -> str:
    return f"cfg_{uuid.uuid4().hex[:10]}"


def _hnsw(col) -> dict:
    return col.configuration_json["hnsw"]


def test_spann_maps_onto_hnsw_keeping_its_space(client):
    col = client.create_collection(name(), configuration={"spann": {"space": "cosine"}}, embedding_function=None)
    assert _hnsw(col)["space"] == "cosine"
    assert client.get_collection(col.name, embedding_function=None).configuration_json["hnsw"]["space"] == "cosine"
    col.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]])
    distances = col.query(query_embeddings=[[1.0, 1.0]], n_results=2)["distances"][0]
    assert distances == pytest.approx([1 - 2**-0.5] * 2, abs=1e-6)  # cosine, not l2 (1.0)


def test_spann_fields_are_checked_and_only_space_is_used(client):
    col = client.create_collection(
        name(),
        configuration={"spann": {"space": "ip", "search_nprobe": 10, "ef_search": 7, "max_neighbors": 32}},
        embedding_function=None,
    )
    assert (_hnsw(col)["space"], _hnsw(col)["ef_search"], _hnsw(col)["max_neighbors"]) == ("ip", 100, 16)
    for spann, words in [
        ({"foo": 1}, "unknown field `foo`"),
        ({"space": "bogus"}, "unknown variant `bogus`"),
        ({"search_nprobe": -1}, "u32"),
        ({"search_nprobe": 2**32}, "u32"),
        ({"search_nprobe": 1.5}, "u32"),
        ({"write_nprobe": "x"}, "u32"),
    ]:
        with pytest.raises(InvalidArgumentError, match=words):
            client.create_collection(name(), configuration={"spann": spann}, embedding_function=None)
    assert client.count_collections() == 1


def test_hnsw_and_spann_together_is_an_error(client):
    for configuration in ({"spann": {"space": "cosine"}, "hnsw": {"space": "ip"}}, {"spann": {}, "hnsw": {}}):
        with pytest.raises(ValueError, match="hnsw and spann cannot both be provided"):
            client.create_collection(name(), configuration=configuration, embedding_function=None)
    col = client.create_collection(name(), configuration={"spann": None, "hnsw": {"space": "ip"}})
    assert _hnsw(col)["space"] == "ip"
    with pytest.raises(ValueError, match="Trying to update SPANN config but schema has HNSW"):
        col.modify(configuration={"spann": {"search_nprobe": 5}})
    with pytest.raises(InvalidArgumentError, match="Multiple vector index configurations provided"):
        col.modify(configuration={"spann": {"search_nprobe": 5}, "hnsw": {"ef_search": 9}})
    col.modify(configuration={"hnsw": {"ef_search": 9}})
    assert _hnsw(client.get_collection(col.name))["ef_search"] == 9


def test_server_refuses_both_sections_too(http_client_factory, huedb_server):
    client = http_client_factory()
    base = f"http://127.0.0.1:{huedb_server.port}/api/v2/tenants/{client.tenant}/databases/{client.database}"
    both = {"spann": {"space": "cosine"}, "hnsw": {"space": "ip"}}
    r = httpx.post(f"{base}/collections", json={"name": name(), "configuration": both})
    assert r.status_code == 400 and "hnsw and spann cannot both be provided" in r.json()["message"]
    col = client.create_collection(name(), embedding_function=None)
    r = httpx.put(f"{base}/collections/{col.id}", json={"new_configuration": {"spann": {"search_nprobe": 5}}})
    assert r.status_code == 400 and "Trying to update SPANN config" in r.json()["message"]


def test_legacy_metadata_is_ignored_once_a_configuration_is_given(client):
    legacy = {"hnsw:space": "ip", "hnsw:resize_factor": 2.0}
    col = client.create_collection(name(), metadata=legacy, configuration={"hnsw": {"ef_search": 50}})
    assert (_hnsw(col)["space"], _hnsw(col)["resize_factor"], _hnsw(col)["ef_search"]) == ("l2", 1.2, 50)
    assert col.metadata == legacy  # the metadata itself is stored as given
    col = client.create_collection(name(), metadata=legacy, configuration={"spann": {}})
    assert (_hnsw(col)["space"], _hnsw(col)["resize_factor"]) == ("l2", 1.2)
    col = client.get_or_create_collection(name(), metadata=legacy, configuration={"hnsw": {"space": "cosine"}})
    assert (_hnsw(col)["space"], _hnsw(col)["resize_factor"]) == ("cosine", 1.2)


def test_legacy_metadata_is_honoured_without_a_vector_index_section(client):
    legacy = {"hnsw:space": "ip", "hnsw:resize_factor": 2.0}
    for configuration in (None, {}, {"hnsw": {}}, {"hnsw": None}):
        col = client.create_collection(name(), metadata=legacy, configuration=configuration)
        assert (_hnsw(col)["space"], _hnsw(col)["resize_factor"]) == ("ip", 2.0), configuration


def test_a_bad_legacy_value_is_refused_even_when_ignored(client):
    for metadata in ({"hnsw:space": "bogus"}, {"hnsw:M": -3}):
        with pytest.raises(InvalidArgumentError):
            client.create_collection(name(), metadata=metadata, configuration={"hnsw": {"ef_search": 50}})
    assert client.count_collections() == 0


@pytest.mark.parametrize("legacy", [False, True], ids=["configuration", "legacy-metadata"])
def test_max_neighbors_1_and_resize_factor_1_are_accepted_and_work(client, legacy):
    # An M=2 graph is a poor one: a wide search (ef_search) on one build thread makes the answer
    # below exact and the same on every run (a 4-thread build once ranked another record first).
    values = {
        "max_neighbors": 1,
        "resize_factor": 1.0,
        "batch_size": 50,
        "sync_threshold": 200,
        "ef_search": 1500,
        "num_threads": 1,
    }
    if legacy:
        keys = {"max_neighbors": "hnsw:M", "ef_search": "hnsw:search_ef", "batch_size": "hnsw:batch_size"}
        kwargs = {"metadata": {keys.get(k, f"hnsw:{k}"): v for k, v in values.items()}}
    else:
        kwargs = {"configuration": {"hnsw": values}}
    col = client.create_collection(name(), embedding_function=None, **kwargs)
    assert (_hnsw(col)["max_neighbors"], _hnsw(col)["resize_factor"]) == (1, 1.0)
    # enough records to build the graph and grow it past its first capacity
    vectors = np.random.default_rng(7).random((1500, 4), dtype=np.float32)
    for start in range(0, 1500, 300):
        col.add(ids=[str(i) for i in range(start, start + 300)], embeddings=vectors[start : start + 300])
    result = col.query(query_embeddings=vectors[:3], n_results=3)
    assert [ids[0] for ids in result["ids"]] == ["0", "1", "2"]
    assert all(len(ids) == 3 for ids in result["ids"])
    col.modify(configuration={"hnsw": {"resize_factor": 1.0}})


def test_a_raw_rest_create_may_name_an_ef_the_server_does_not_know(http_client_factory, huedb_server):
    # A client persists an EF registered in its own process as "known" (chromadb does), so the
    # server stores a name it cannot rebuild itself, as Chroma's server does. The Python client
    # still refuses a dict spec with a typo before sending it (test_config_ranges).
    client = http_client_factory()
    base = f"http://127.0.0.1:{huedb_server.port}/api/v2/tenants/{client.tenant}/databases/{client.database}"
    spec = {"name": "someone_elses_ef", "type": "known", "config": {"x": 1}}
    r = httpx.post(f"{base}/collections", json={"name": name(), "configuration": {"embedding_function": spec}})
    assert r.status_code == 200, r.text
    assert r.json()["configuration_json"]["embedding_function"] == spec
