"""Collections: lifecycle, listing, names, configuration, count and peek."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest

from huedb.errors import InvalidArgumentError, NotFoundError

HNSW_DEFAULTS = {
    "space": "l2",
    "ef_construction": 100,
    "ef_search": 100,
    "max_neighbors": 16,
    "batch_size": 100,
    "sync_threshold": 1000,
    "resize_factor": 1.2,
}


def _new(client, name="coll", **kwargs):
    kwargs.setdefault("embedding_function", None)
    return client.create_collection(name, **kwargs)


# --- create / get / get_or_create / delete ------------------------------------------


def test_create_and_get_collection(client):
    created = _new(client, "alpha", metadata={"owner": "me", "n": 3})
    assert created.name == "alpha"
    assert created.metadata == {"owner": "me", "n": 3}
    got = client.get_collection("alpha")
    assert got.name == "alpha"
    assert got.id == created.id
    assert got.metadata == {"owner": "me", "n": 3}


def test_collection_without_metadata_has_none(client):
    assert _new(client, "nometa").metadata is None


def test_empty_collection_metadata_is_an_error(client):
    with pytest.raises(InvalidArgumentError, match="(?i)empty"):
        _new(client, "emptymeta", metadata={})


def test_duplicate_collection_name_is_a_valueerror_named_like_chroma(client):
    _new(client, "dup")
    with pytest.raises(ValueError) as info:
        _new(client, "dup")
    # chromadb 1.x raises InternalError here; older versions UniqueConstraintError.
    assert type(info.value).__name__ in ("InternalError", "UniqueConstraintError")
    assert "dup" in str(info.value)


def test_get_missing_collection_is_not_found(client):
    with pytest.raises(NotFoundError, match="nosuch"):
        client.get_collection("nosuch")


def test_delete_missing_collection_is_not_found(client):
    with pytest.raises(NotFoundError, match="nosuch"):
        client.delete_collection("nosuch")


def test_get_or_create_creates_then_ignores_metadata_and_configuration(client):
    first = client.get_or_create_collection(
        "goc", metadata={"v": 1}, configuration={"hnsw": {"space": "ip"}}, embedding_function=None
    )
    assert first.metadata == {"v": 1}
    again = client.get_or_create_collection(
        "goc", metadata={"v": 2}, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
    )
    assert again.id == first.id
    assert again.metadata == {"v": 1}
    assert again.configuration["hnsw"]["space"] == "ip"
    assert client.count_collections() == 1


def test_delete_collection_removes_it_and_its_records(client):
    col = _new(client, "doomed")
    col.add(ids=["a"], embeddings=[[1.0, 2.0]])
    client.delete_collection("doomed")
    with pytest.raises(NotFoundError):
        client.get_collection("doomed")
    assert client.count_collections() == 0
    # A new collection with the same name starts empty.
    fresh = _new(client, "doomed")
    assert fresh.count() == 0


def test_using_a_deleted_collection_is_not_found(client):
    col = _new(client, "stale")
    client.delete_collection("stale")
    with pytest.raises(NotFoundError):
        col.count()
    with pytest.raises(NotFoundError):
        col.add(ids=["a"], embeddings=[[1.0]])


# --- listing -----------------------------------------------------------------------


def test_list_collections_in_creation_order_as_collection_objects(client):
    names = ["c4x", "c2x", "leg", "c3x", "cfg", "c0x", "c1x"]
    for n in names:
        _new(client, n)
    listed = client.list_collections()
    assert [c.name for c in listed] == names
    # Real Collection objects: usable directly.
    listed[0].add(ids=["a"], embeddings=[[1.0]])
    assert listed[0].count() == 1
    assert client.get_collection("c4x").count() == 1


def test_list_collections_limit_offset(client):
    names = [f"col{i}" for i in range(6)]
    for n in names:
        _new(client, n)
    assert [c.name for c in client.list_collections(limit=2)] == names[:2]
    assert [c.name for c in client.list_collections(limit=2, offset=1)] == names[1:3]
    assert [c.name for c in client.list_collections(offset=4)] == names[4:]
    assert [c.name for c in client.list_collections(limit=10, offset=5)] == names[5:]
    assert client.list_collections(limit=3, offset=6) == []
    assert client.list_collections(limit=0) == []


def test_list_collections_rejects_negative_limit_and_offset(client):
    _new(client, "one")
    with pytest.raises(ValueError):
        client.list_collections(limit=-1)
    with pytest.raises(ValueError):
        client.list_collections(offset=-1)


def test_count_collections(client):
    assert client.count_collections() == 0
    for i in range(3):
        _new(client, f"cnt{i}")
    assert client.count_collections() == 3
    client.delete_collection("cnt1")
    assert client.count_collections() == 2


# --- names -----------------------------------------------------------------------

VALID_NAMES = ["abc", "ABC", "a.b", "a_b", "a-b", "1.2.3", "999.1.1.1", "x" * 512, "Z9-z_0.k"]


@pytest.mark.parametrize("name", VALID_NAMES)
def test_valid_names(client, name):
    assert _new(client, name).name == name
    assert client.get_collection(name).name == name


@pytest.mark.parametrize(
    "name, rule",
    [
        ("ab", "3-512"),
        ("x" * 513, "3-512"),
        ("a b c", "a-zA-Z0-9._-"),
        ("ab$", "a-zA-Z0-9._-"),
        ("caf\u00e9", "a-zA-Z0-9._-"),
        ("-abc", "start"),
        ("_abc", "start"),
        (".abc", "start"),
        ("abc-", "end"),
        ("abc_", "end"),
        ("abc.", "end"),
        ("a..b", r"\.\."),
        ("192.168.1.1", "(?i)ip"),
        ("10.0.0.255", "(?i)ip"),
    ],
)
def test_invalid_names_name_the_rule(client, name, rule):
    with pytest.raises(InvalidArgumentError, match=rule):
        _new(client, name)
    assert client.count_collections() == 0


def test_invalid_name_on_get_or_create_and_modify(client):
    with pytest.raises(InvalidArgumentError) as raised:
        client.get_or_create_collection("a", embedding_function=None)
    # as chromadb: the one error, not chained to the lookup's NotFoundError
    assert raised.value.__context__ is None
    col = _new(client, "okname")
    with pytest.raises(InvalidArgumentError, match="3-512"):
        col.modify(name="a")
    assert client.get_collection("okname").name == "okname"


# --- modify ----------------------------------------------------------------------


def test_modify_name(client):
    col = _new(client, "before")
    col.add(ids=["a"], embeddings=[[1.0, 2.0]])
    col.modify(name="after")
    assert col.name == "after"
    with pytest.raises(NotFoundError):
        client.get_collection("before")
    renamed = client.get_collection("after")
    assert renamed.id == col.id
    assert renamed.count() == 1


def test_modify_metadata_overwrites(client):
    col = _new(client, "meta", metadata={"a": 1, "b": 2})
    col.modify(metadata={"c": "three"})
    assert col.metadata == {"c": "three"}
    assert client.get_collection("meta").metadata == {"c": "three"}


def test_modify_name_to_existing_is_a_duplicate_error(client):
    _new(client, "taken")
    col = _new(client, "mine")
    with pytest.raises(ValueError) as info:
        col.modify(name="taken")
    assert type(info.value).__name__ in ("InternalError", "UniqueConstraintError")
    assert client.get_collection("mine").id == col.id


def test_modify_configuration(client):
    col = _new(client, "tune")
    col.modify(configuration={"hnsw": {"ef_search": 77}})
    assert client.get_collection("tune").configuration["hnsw"]["ef_search"] == 77
    assert client.get_collection("tune").configuration["hnsw"]["space"] == "l2"


def test_modify_cannot_change_space(client):
    col = _new(client, "fixedspace")
    with pytest.raises(InvalidArgumentError, match="space"):
        col.modify(configuration={"hnsw": {"space": "ip"}})
    with pytest.raises(ValueError):
        col.modify(metadata={"hnsw:space": "ip"})
    assert client.get_collection("fixedspace").configuration["hnsw"]["space"] == "l2"


# --- configuration -------------------------------------------------------------------


def test_configuration_defaults(client):
    hnsw = _new(client, "defaults").configuration["hnsw"]
    for key, value in HNSW_DEFAULTS.items():
        assert hnsw[key] == value, key
    assert hnsw["num_threads"] == multiprocessing.cpu_count()


def test_configuration_custom_values_read_back_and_persist(client):
    cfg = {
        "space": "ip",
        "ef_construction": 200,
        "ef_search": 50,
        "max_neighbors": 32,
        "num_threads": 2,
        "batch_size": 50,
        "sync_threshold": 500,
        "resize_factor": 1.5,
    }
    _new(client, "custom", configuration={"hnsw": cfg})
    hnsw = client.get_collection("custom").configuration["hnsw"]
    for key, value in cfg.items():
        assert hnsw[key] == value, key


def test_configuration_partial_fills_defaults(client):
    hnsw = _new(client, "partial", configuration={"hnsw": {"space": "cosine", "max_neighbors": 8}}).configuration[
        "hnsw"
    ]
    assert hnsw["space"] == "cosine"
    assert hnsw["max_neighbors"] == 8
    assert hnsw["ef_construction"] == 100
    assert hnsw["sync_threshold"] == 1000


@pytest.mark.parametrize(
    "hnsw, needle",
    [
        ({"space": "foo"}, "foo"),
        ({"foo": 1}, "foo"),
        ({"ef_construction": -1}, "ef_construction"),
        ({"ef_search": "x"}, "ef_search"),
    ],
)
def test_invalid_configuration(client, hnsw, needle):
    with pytest.raises(InvalidArgumentError, match=needle):
        _new(client, "badcfg", configuration={"hnsw": hnsw})
    assert client.count_collections() == 0


def test_legacy_hnsw_metadata_is_honoured(client):
    col = _new(client, "legacy", metadata={"hnsw:space": "cosine"})
    assert col.configuration["hnsw"]["space"] == "cosine"
    assert client.get_collection("legacy").configuration["hnsw"]["space"] == "cosine"
    col.add(ids=["x", "y"], embeddings=[[2.0, 0.0], [1.0, 1.0]])
    res = col.query(query_embeddings=[[3.0, 0.0]], n_results=2, include=["distances"])
    assert res["ids"] == [["x", "y"]]
    np.testing.assert_allclose(res["distances"][0], [0.0, 1 - 1 / np.sqrt(2)], atol=1e-5)


def test_legacy_hnsw_metadata_all_keys(client):
    meta = {
        "hnsw:space": "ip",
        "hnsw:construction_ef": 123,
        "hnsw:search_ef": 45,
        "hnsw:M": 8,
        "hnsw:sync_threshold": 555,
        "hnsw:resize_factor": 1.7,
    }
    hnsw = _new(client, "legacyall", metadata=meta).configuration["hnsw"]
    assert hnsw["space"] == "ip"
    assert hnsw["ef_construction"] == 123
    assert hnsw["ef_search"] == 45
    assert hnsw["max_neighbors"] == 8
    assert hnsw["sync_threshold"] == 555
    assert hnsw["resize_factor"] == 1.7


def test_configuration_wins_over_legacy_metadata(client):
    col = _new(client, "both", metadata={"hnsw:space": "ip"}, configuration={"hnsw": {"space": "cosine"}})
    assert col.configuration["hnsw"]["space"] == "cosine"


# --- count / peek --------------------------------------------------------------------


def test_count(client):
    col = _new(client, "counted")
    assert col.count() == 0
    col.add(ids=[f"i{i}" for i in range(7)], embeddings=np.arange(14, dtype=np.float32).reshape(7, 2))
    assert col.count() == 7
    col.delete(ids=["i0", "i6"])
    assert col.count() == 5


def test_peek_default_and_limit(client):
    col = _new(client, "peeky")
    ids = [f"i{i:02d}" for i in range(15)]
    emb = np.random.default_rng(1).random((15, 3)).astype(np.float32)
    col.add(ids=ids, embeddings=emb, documents=[f"d{i}" for i in range(15)], metadatas=[{"i": i} for i in range(15)])
    p = col.peek()
    assert p["ids"] == ids[:10]
    assert p["documents"] == [f"d{i}" for i in range(10)]
    assert p["metadatas"] == [{"i": i} for i in range(10)]
    assert isinstance(p["embeddings"], np.ndarray)
    assert p["embeddings"].shape == (10, 3)
    np.testing.assert_allclose(p["embeddings"], emb[:10], rtol=1e-6)
    assert col.peek(limit=3)["ids"] == ids[:3]
    assert _new(client, "emptypeek").peek()["ids"] == []
