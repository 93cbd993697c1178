"""Differences found by running chromadb 1.5.9's own test suite against huedb (docs/chroma-tests.md).

Each test states what chromadb 1.5.9 does (observed in a scratch venv) and checks huedb does the same.
"""

from __future__ import annotations

from typing import Any

import pytest

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


# -- count(read_level=...): chromadb 1.5.9's Collection.count takes a ReadLevel (default INDEX_AND_WAL)
def test_count_takes_a_read_level(client):
    col = client.create_collection("counted", embedding_function=None)
    col.add(ids=["1", "2"], embeddings=[[1.0, 0.0], [0.0, 1.0]])
    for level in huedb.ReadLevel:
        assert col.count(read_level=level) == 2
    assert col.count(read_level="index_only") == 2
    with pytest.raises(huedb.errors.InvalidArgumentError, match="read_level"):
        col.count(read_level="sometimes")


# -- error messages keep chromadb's key words ("where", "where document", "ID"): code matches on them
@pytest.mark.parametrize(
    "call, words",
    [
        (lambda c: c.get(where={"value": {"nested": "5"}}), "where"),
        (lambda c: c.query(query_embeddings=[[0.0, 0.0]], where={"value": {"nested": "5"}}), "where"),
        (lambda c: c.get(where_document={"$lt": {"$nested": 2}}), "where document"),
        (lambda c: c.delete(where_document={"$lt": "x"}), "where document"),
        (lambda c: c.get(where_document={"$contains": 2}), "where document"),
        (lambda c: c.add(ids=[1], embeddings=[[0.0, 0.0]]), "ID"),
    ],
)
def test_validation_errors_name_what_was_wrong_in_chromas_words(client, call, words):
    col = client.create_collection("worded", embedding_function=None)
    col.add(ids=["a"], embeddings=[[1.0, 0.0]])
    with pytest.raises(ValueError, match=words):
        call(col)
    assert col.count() == 1


# -- HttpClient: settings naming another host or port than the arguments raise, as on chromadb
def test_http_client_refuses_settings_naming_another_server():
    from huedb.config import Settings

    with pytest.raises(ValueError, match=r"host provided in settings\[127.0.0.1\] is different.*\[localhost\]"):
        huedb.HttpClient(settings=Settings(chroma_server_host="127.0.0.1"))
    with pytest.raises(ValueError, match=r"port provided in settings\[8001\] is different.*\[8002\]"):
        huedb.HttpClient(port=8002, settings=Settings(chroma_server_http_port=8001))


def test_http_client_accepts_settings_naming_the_same_server(huedb_run_port):
    from huedb.config import Settings

    settings = Settings(chroma_server_host="127.0.0.1", chroma_server_http_port=huedb_run_port)
    client = huedb.HttpClient(host="127.0.0.1", port=huedb_run_port, settings=settings)
    assert client.heartbeat() > 0


# -- concurrent adds and queries on one in-memory client all finish (chromadb's multithreaded test
# deadlocked huedb's EphemeralClient: a query held the in-memory store's one connection while
# waiting for the collection's write lock, which an add held while waiting for the store)
def test_in_memory_adds_and_queries_from_many_threads_all_finish():
    import queue
    import threading

    import numpy as np

    client = huedb.EphemeralClient()
    col = client.create_collection("interleaved", embedding_function=None)
    rng = np.random.default_rng(7)
    vectors = rng.random((3000, 16), dtype=np.float32)
    added: list[int] = []
    guard = threading.Lock()
    work: queue.Queue = queue.Queue()
    errors: list[BaseException] = []
    for start in range(0, 3000, 20):
        work.put(("add", start))
        for _ in range(3):
            work.put(("query", start))

    def worker() -> None:
        while True:
            try:
                op, start = work.get_nowait()
            except queue.Empty:
                return
            try:
                if op == "add":
                    col.add(ids=[str(i) for i in range(start, start + 20)], embeddings=vectors[start : start + 20])
                    with guard:
                        added.extend(range(start, start + 20))
                else:
                    with guard:
                        seen = list(added)
                    if len(seen) >= 5:
                        col.query(query_embeddings=vectors[seen[:3]], n_results=5)
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

    # daemon threads: a deadlock fails the test at the join below instead of hanging the run
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "threads deadlocked"
    assert errors == []
    assert col.count() == 3000
    hit = col.query(query_embeddings=vectors[:1], n_results=1)
    assert hit["ids"] == [["0"]]


# -- Schema index configs check their fields as chromadb's do
def test_index_configs_refuse_unknown_fields():
    from pydantic import ValidationError

    from huedb import FtsIndexConfig, HnswIndexConfig, SpannIndexConfig, SparseVectorIndexConfig, VectorIndexConfig

    for make in (
        lambda: VectorIndexConfig(spce="cosine"),
        lambda: SparseVectorIndexConfig(key="#document"),
        lambda: HnswIndexConfig(ef_constructoin=100),
        lambda: SpannIndexConfig(nprobe=4),
        lambda: SpannIndexConfig(invalid_field=123),
        lambda: FtsIndexConfig(language="en"),
    ):
        with pytest.raises(ValidationError, match="(?i)extra|not a valid field"):
            make()
    # chromadb's internal SPANN fields are accepted and not stored
    spann = SpannIndexConfig(search_nprobe=64, search_rng_factor=1.0, nreplica_count=8, quantize=True)
    assert spann.search_nprobe == 64 and not hasattr(spann, "nreplica_count")


@pytest.mark.parametrize("cls_name", ["VectorIndexConfig", "SparseVectorIndexConfig"])
def test_source_key_is_a_str_or_key_and_only_document_may_start_with_hash(cls_name):
    from huedb import K

    cls = getattr(huedb, cls_name)
    for bad in (123, ["a"], {"a": 1}):
        with pytest.raises(ValueError, match="source_key must be str or Key"):
            cls(source_key=bad)
    for bad in ("#embedding", "#metadata", "#custom", K.EMBEDDING):
        with pytest.raises(ValueError, match="source_key cannot begin with '#'"):
            cls(source_key=bad)
    assert cls(source_key=K.DOCUMENT).source_key == "#document"
    assert cls(source_key="#document").source_key == "#document"
    assert cls(source_key="body").source_key == "body"


# -- a Schema's embedding function and a different embedding_function= are refused, as on chromadb
def test_schema_ef_and_a_different_embedding_function_argument_are_refused(client):
    from huedb import Schema, VectorIndexConfig
    from huedb.utils.embedding_functions import DefaultEmbeddingFunction

    class Fixed(huedb.EmbeddingFunction):
        def __init__(self, dim: int = 3) -> None:
            self.dim = dim

        def __call__(self, input):
            return [[1.0] * self.dim for _ in input]

    schema = Schema().create_index(config=VectorIndexConfig(embedding_function=Fixed(6)))
    with pytest.raises(huedb.errors.InvalidArgumentError, match="schema"):
        client.create_collection("two_efs", schema=schema, embedding_function=DefaultEmbeddingFunction())
    assert "two_efs" not in [c.name for c in client.list_collections()]
    col = client.create_collection("one_ef", schema=schema)
    col.add(ids=["1"], documents=["text"])
    assert len(col.get(ids=["1"], include=["embeddings"])["embeddings"][0]) == 6


# -- n_results <= 0 raises TypeError on chromadb 1.5.9 ("Number of requested results -1, cannot be
# negative, or zero."); huedb's error is both that TypeError and its InvalidArgumentError
@pytest.mark.parametrize("n", [0, -1])
def test_n_results_not_positive_is_a_type_error_too(client, n):
    col = client.create_collection("counted_results", embedding_function=None)
    col.add(ids=["a"], embeddings=[[1.0, 0.0]])
    with pytest.raises(TypeError, match=f"requested results {n}, cannot be negative, or zero"):
        col.query(query_embeddings=[[1.0, 0.0]], n_results=n)
    with pytest.raises(huedb.errors.InvalidArgumentError, match="n_results"):
        col.query(query_embeddings=[[1.0, 0.0]], n_results=n)


# -- errors over HTTP carry a trace_id, as chromadb's client sets it from the chroma-trace-id header
def test_http_errors_carry_the_servers_trace_id(huedb_run_port):
    import httpx

    client = huedb.HttpClient(host="127.0.0.1", port=huedb_run_port)
    with pytest.raises(huedb.errors.NotFoundError) as first:
        client.get_collection("missing_one")
    with pytest.raises(huedb.errors.NotFoundError) as second:
        client.get_collection("missing_one")
    assert first.value.trace_id and second.value.trace_id
    assert first.value.trace_id != second.value.trace_id
    raw = httpx.get(f"http://127.0.0.1:{huedb_run_port}/api/v2/tenants/nope")
    assert raw.status_code >= 400 and len(raw.headers["chroma-trace-id"]) == 32


# -- Schema.create_index / delete_index on the special keys: chromadb 1.5.9's checks and words, for any config
@pytest.mark.parametrize(
    "call, words",
    [
        (lambda s, c: s.create_index(c.StringInvertedIndexConfig(), key="#embedding"), "special key '#embedding'"),
        (lambda s, c: s.create_index(c.FtsIndexConfig(), key="#embedding"), "special key '#embedding'"),
        (lambda s, c: s.create_index(key="#embedding"), "special key '#embedding'"),
        (lambda s, c: s.delete_index(c.FtsIndexConfig(), key="#embedding"), "Cannot modify #embedding"),
        (lambda s, c: s.create_index(c.VectorIndexConfig(), key="#document"), "create index on special key '#doc"),
        (lambda s, c: s.delete_index(c.StringInvertedIndexConfig(), key="#document"), "delete index on special key"),
        (lambda s, c: s.delete_index(key="#document"), "delete index on special key '#document'"),
    ],
)
def test_schema_special_keys_are_refused_in_chromas_words(call, words):
    with pytest.raises(ValueError, match=words):
        call(huedb.Schema(), huedb)


# -- a Schema's JSON takes an unset vector space from the EF's default_space(), as chromadb's does
def test_schema_json_space_comes_from_the_embedding_functions_default_space():
    from huedb import Schema, VectorIndexConfig

    class CosineEF(huedb.EmbeddingFunction):
        def __call__(self, input):
            return [[1.0, 2.0] for _ in input]

        def default_space(self):
            return "cosine"

    vector = Schema().create_index(config=VectorIndexConfig(embedding_function=CosineEF()))
    assert vector.serialize_to_json()["defaults"]["float_list"]["vector_index"]["config"]["space"] == "cosine"
    explicit = Schema().create_index(config=VectorIndexConfig(embedding_function=CosineEF(), space="ip"))
    assert explicit.serialize_to_json()["defaults"]["float_list"]["vector_index"]["config"]["space"] == "ip"
    assert Schema().serialize_to_json()["defaults"]["float_list"]["vector_index"]["config"]["space"] == "l2"


def test_http_client_arguments_override_configured_global_settings(huedb_run_port, monkeypatch):
    import huedb.config

    monkeypatch.setattr(huedb.config, "_global_settings", None)
    huedb.configure(chroma_server_host="localhost", chroma_server_http_port=1)
    client = huedb.HttpClient(host="127.0.0.1", port=huedb_run_port)
    assert client.heartbeat() > 0


# -- VectorIndexConfig's embedding function: chromadb 1.5.9 defaults it to its default EF (so
# Schema().defaults...embedding_function.name() == "default") and writes one given as None as
# {"type": "legacy"}, which reads back as None; an unset one is written as the default EF.
def test_vector_index_config_ef_defaults_to_the_default_ef_and_none_is_legacy():
    from huedb import Schema
    from huedb.api.types import VectorIndexConfig

    default_ef = {"name": "default", "type": "known", "config": {}}
    assert VectorIndexConfig().embedding_function.name() == "default"
    assert VectorIndexConfig(embedding_function=None).embedding_function is None
    schema = Schema()
    assert schema.defaults.float_list.vector_index.config.embedding_function.name() == "default"
    data = schema.serialize_to_json()
    assert data["defaults"]["float_list"]["vector_index"]["config"] == {"embedding_function": default_ef, "space": "l2"}
    back = Schema.deserialize_from_json(data)
    assert back.defaults.float_list.vector_index.config.embedding_function.name() == "default"
    assert back.serialize_to_json() == data

    no_ef = Schema().create_index(config=VectorIndexConfig(space="ip", embedding_function=None)).serialize_to_json()
    assert no_ef["defaults"]["float_list"]["vector_index"]["config"] == {
        "embedding_function": {"type": "legacy"},
        "space": "ip",
    }
    assert no_ef["keys"]["#embedding"]["float_list"]["vector_index"]["config"] == {
        "embedding_function": {"type": "legacy"},
        "space": "ip",
        "source_key": "#document",
    }
    back = Schema.deserialize_from_json(no_ef)
    assert back.keys["#embedding"].float_list.vector_index.config.embedding_function is None
    assert back.defaults.float_list.vector_index.config.space == "ip"
    assert back.serialize_to_json() == no_ef
    space_only = Schema().create_index(config=VectorIndexConfig(space="cosine")).serialize_to_json()
    assert space_only["keys"]["#embedding"]["float_list"]["vector_index"]["config"]["embedding_function"] == default_ef


def test_a_schema_with_no_vector_ef_still_creates_a_collection(client):
    from huedb import Schema
    from huedb.api.types import VectorIndexConfig

    schema = Schema().create_index(config=VectorIndexConfig(space="ip", embedding_function=None))
    col = client.create_collection("legacy_schema", schema=schema)
    assert col.configuration_json["hnsw"]["space"] == "ip"
    col.add(ids=["1"], embeddings=[[1.0, 2.0]])
    assert col.get()["ids"] == ["1"]


# -- Rank.from_dict({"$knn": ...}): chromadb 1.5.9 makes a list query a float32 numpy array (its
# embedding normalisation) and keeps a numpy array as given (a one-row 2-D one becomes its row)
def test_rank_from_dict_knn_query_is_an_array_as_chromadb():
    import numpy as np

    from huedb.execution.expression import Knn, Search
    from huedb.execution.expression.operator import Rank

    rank = Rank.from_dict({"$knn": {"query": [0.1, 0.2]}})
    assert isinstance(rank, Knn) and rank.key == "#embedding" and rank.limit == 16
    assert isinstance(rank.query, np.ndarray) and rank.query.dtype == np.float32
    np.testing.assert_array_equal(rank.query, np.array([0.1, 0.2], dtype=np.float32))
    assert Rank.from_dict({"$knn": {"query": [[1, 2]]}}).query.dtype == np.float32
    given = np.array([[0.1, 0.2]])
    kept = Rank.from_dict({"$knn": {"query": given}}).query
    assert kept.dtype == np.float64 and kept.shape == (2,)
    assert Search(rank={"$knn": {"query": [0.1, 0.2]}})._rank.query.dtype == np.float32


def test_a_search_from_dicts_finds_the_same_records(client):
    from huedb.execution.expression import Knn, Search

    col = client.create_collection("from_dict", embedding_function=None)
    col.add(ids=["a", "b", "c"], embeddings=[[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]])
    want = col.search(Search().rank(Knn(query=[0.9, 0.1], limit=3)).limit(2))["ids"]
    got = col.search(Search(rank={"$knn": {"query": [0.9, 0.1], "limit": 3}}).limit(2))["ids"]
    assert got == want == [["a", "c"]]
