"""chromadb API that issue #12 found missing: client and collection methods, error classes,
helper modules, the SegmentAPI settings string, RustClient and GET /api/v2.

Each expectation is what chromadb 1.5.9 was seen to do in a scratch venv.
"""

from __future__ import annotations

import uuid

import httpx
import numpy as np
import pytest

import huedb
from huedb import errors
from huedb.config import Settings

# -- errors --------------------------------------------------------------------

#: chromadb 1.5.9: class -> (code(), name())
CHROMA_ERRORS = {
    "BatchSizeExceededError": (413, "BatchSizeExceededError"),
    "ChromaAuthError": (403, "AuthError"),
    "IDAlreadyExistsError": (409, "IDAlreadyExists"),
    "InvalidHTTPVersion": (400, "InvalidHTTPVersion"),
    "InvalidUUIDError": (400, "InvalidUUID"),
    "RateLimitError": (429, "RateLimitError"),
    "VersionMismatchError": (500, "VersionMismatchError"),
    "NotFoundError": (404, "NotFoundError"),
    "UniqueConstraintError": (409, "UniqueConstraintError"),
    "AuthorizationError": (401, "AuthorizationError"),
    "QuotaError": (400, "QuotaError"),
}


@pytest.mark.parametrize("name", sorted(CHROMA_ERRORS))
def test_error_classes_have_chromas_codes_and_names(name):
    cls = getattr(errors, name)
    assert issubclass(cls, errors.ChromaError)
    assert (cls("boom").code(), cls.name()) == CHROMA_ERRORS[name]
    # rebuilt from its wire name, as HTTP clients do
    assert type(errors.error_from_name(cls.name(), "boom")) is cls


def test_auth_errors():
    # chromadb's ChromaAuthError always says "Forbidden"; huedb's own 403 keeps its explanation
    assert errors.ChromaAuthError("details").message() == "Forbidden"
    forbidden = errors.ForbiddenError("user 'u' may not access this tenant")
    assert isinstance(forbidden, errors.ChromaAuthError) and forbidden.code() == 403
    assert "may not access" in forbidden.message()
    assert errors.error_types["AuthError"] is errors.ChromaAuthError
    assert errors.ChromaError.trace_id is None


# -- client and collection API -------------------------------------------------


def test_get_collection_by_id(client):
    col = client.create_collection("by_id", metadata={"x": 1})
    col.add(ids=["a"], embeddings=[[1.0, 2.0]])
    for key in (col.id, str(col.id)):  # chromadb takes a UUID or its string
        got = client.get_collection_by_id(key)
        assert (got.name, got.id, got.metadata, got.count()) == ("by_id", col.id, {"x": 1}, 1)
        assert got.embedding_function is not None and got.embedding_function.name() == "default"
    with pytest.raises(errors.NotFoundError, match="does not exist"):
        client.get_collection_by_id(uuid.uuid4())
    with pytest.raises(errors.InvalidArgumentError, match="expected UUID"):
        client.get_collection_by_id("not-a-uuid")


def test_get_user_identity(client):
    # chromadb local (and an open Chroma server): an anonymous user of the default tenant and database
    identity = client.get_user_identity()
    assert (identity.user_id, identity.tenant, identity.databases) == ("", "default_tenant", ["default_database"])


def test_model_schema_and_indexing_status(client):
    col = client.create_collection("model_c", metadata={"m": True})
    col.add(ids=["a", "b"], embeddings=[[1.0, 2.0], [3.0, 4.0]])
    model = col.get_model()
    assert model["name"] == col._model["name"] == "model_c"
    assert (model["id"], model["metadata"]) == (str(col.id), {"m": True})
    # no schema given: Chroma's default schema, its vector index as configured
    assert isinstance(col.schema, huedb.Schema)
    assert col.schema.serialize_to_json()["keys"]["#embedding"]["float_list"]["vector_index"]["config"]["space"] == "l2"
    # every write is indexed before it is acknowledged
    status = col.get_indexing_status()
    assert (status.num_indexed_ops, status.num_unindexed_ops, status.total_ops) == (2, 0, 2)
    assert status.op_indexing_progress == 1.0


def test_clear_system_cache():
    old = huedb.EphemeralClient()
    name = f"kept_{uuid.uuid4().hex[:8]}"
    col = old.create_collection(name)
    col.add(ids=["a"], embeddings=[[1.0, 2.0]])
    old.clear_system_cache()
    fresh = huedb.EphemeralClient()
    # as in chromadb: a client made after clearing opens a new (empty) in-memory engine ...
    assert name not in [c.name for c in fresh.list_collections()]
    # ... while an existing client keeps the engine it has
    assert col.count() == 1 and name in [c.name for c in old.list_collections()]
    from huedb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()  # a static method, at chromadb's path too
    assert name not in [c.name for c in huedb.EphemeralClient().list_collections()]


def test_clear_system_cache_keeps_persisted_data(tmp_path):
    path = str(tmp_path / "db")
    client = huedb.PersistentClient(path)
    client.create_collection("persisted").add(ids=["a"], embeddings=[[1.0, 2.0]])
    client.clear_system_cache()
    again = huedb.PersistentClient(path)
    assert again.get_collection("persisted").count() == 1
    assert client.get_collection("persisted").count() == 1
    again.close()


# -- embed_with_retries ---------------------------------------------------------


class Flaky(huedb.EmbeddingFunction):
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self, input):
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError(f"failure {self.calls}")
        return [[1.0, 2.0] for _ in input]


def test_embed_with_retries():
    tenacity = pytest.importorskip("tenacity")
    ef = Flaky(2)
    out = ef.embed_with_retries(["a", "b"], wait=tenacity.wait_fixed(0))
    assert ef.calls == 3 and len(out) == 2
    assert all(isinstance(v, np.ndarray) and v.dtype == np.float32 for v in out)
    # stop after 3 attempts: tenacity's RetryError, or the EF's own error with reraise=True
    ef = Flaky(5)
    with pytest.raises(tenacity.RetryError):
        ef.embed_with_retries(["a"], stop=tenacity.stop_after_attempt(3))
    assert ef.calls == 3
    with pytest.raises(RuntimeError, match="failure 3"):
        Flaky(5).embed_with_retries(["a"], stop=tenacity.stop_after_attempt(3), reraise=True)


# -- helper modules ---------------------------------------------------------------


class _Batched:
    def get_max_batch_size(self) -> int:
        return 2


def test_create_batches():
    from huedb.utils.batch_utils import create_batches

    batches = create_batches(
        _Batched(), ids=["1", "2", "3", "4", "5"], embeddings=[[1.0]] * 5, metadatas=[{"a": i} for i in range(5)]
    )
    assert batches == [
        (["1", "2"], [[1.0], [1.0]], [{"a": 0}, {"a": 1}], None),
        (["3", "4"], [[1.0], [1.0]], [{"a": 2}, {"a": 3}], None),
        (["5"], [[1.0]], [{"a": 4}], None),
    ]
    only_ids = create_batches(_Batched(), ids=["1", "2", "3"])
    assert only_ids == [(["1", "2"], None, None, None), (["3"], None, None, None)]
    assert create_batches(_Batched(), ids=[]) == [([], None, None, None)]  # chromadb gives one empty batch
    client = huedb.EphemeralClient()
    assert create_batches(client, ids=["a"], documents=["d"]) == [(["a"], None, None, ["d"])]


def test_max_batch_size_is_chromas_and_bigger_batches_are_one_transaction(client):
    # chromadb 1.5.9 answers 5461 locally and from its server (and refuses bigger batches);
    # huedb answers the same, and still takes a bigger batch whole
    from huedb.utils.batch_utils import create_batches

    assert client.get_max_batch_size() == 5461
    col = client.create_collection("batches", embedding_function=None)
    n = 5461 + 600
    ids = [f"id{i}" for i in range(n)]
    vectors = np.random.default_rng(3).random((n, 4), dtype=np.float32)
    bad_metadata = [{"i": i} for i in range(n - 1)] + [{"bad": {"nested": 1}}]
    with pytest.raises(errors.InvalidArgumentError):
        col.add(ids=ids, embeddings=vectors, metadatas=bad_metadata)
    assert col.count() == 0  # the failed batch changed nothing
    col.add(ids=ids, embeddings=vectors)
    assert col.count() == n
    batches = create_batches(client, ids=ids, embeddings=vectors.tolist())
    assert [len(b[0]) for b in batches] == [5461, 600]
    for batch_ids, embeddings, _, _ in batches:
        col.upsert(ids=batch_ids, embeddings=embeddings)
    assert col.count() == n


def test_langchain_passthrough_data_loader():
    from huedb.utils.data_loaders import ChromaLangchainPassthroughDataLoader

    assert ChromaLangchainPassthroughDataLoader()(["a.png", "b.png"]) == ("images", ["a.png", "b.png"])


def test_maybe_cast_one_to_many():
    from huedb.api.types import maybe_cast_one_to_many

    assert maybe_cast_one_to_many(None) is None
    assert maybe_cast_one_to_many("a") == ["a"]
    assert maybe_cast_one_to_many(["a", "b"]) == ["a", "b"]
    assert maybe_cast_one_to_many({"k": 1}) == [{"k": 1}]
    assert maybe_cast_one_to_many((1, 2)) == [(1, 2)]


def test_sparse_vector():
    v = huedb.SparseVector(indices=[1, 5], values=[0.5, 0.25])
    assert v.to_dict() == {"#type": "sparse_vector", "indices": [1, 5], "values": [0.5, 0.25]}
    assert huedb.SparseVector.from_dict(v.to_dict()) == v
    labelled = huedb.SparseVector(indices=[1], values=[1.0], labels=["a"])
    assert labelled.to_dict()["tokens"] == ["a"]
    for args, words in [
        (([2, 1], [1.0, 2.0]), "strictly ascending"),
        (([1], [1.0, 2.0]), "same length"),
        (([-1], [1.0]), "non-negative"),
        ((["a"], [1.0]), "must be integers"),
        (([1], ["x"]), "must be numbers"),
        (([1], [1.0], ["a", "b"]), "labels must have the same length"),
    ]:
        with pytest.raises(ValueError, match=words):
            huedb.SparseVector(*args)
    with pytest.raises(ValueError, match="sparse_vector"):
        huedb.SparseVector.from_dict({"indices": [1], "values": [1.0]})


# -- settings and local clients --------------------------------------------------


@pytest.mark.parametrize("impl", ["chromadb.api.segment.SegmentAPI", "chromadb.api.rust.RustBindingsAPI"])
def test_chromas_local_api_impls_are_the_embedded_engine(impl, tmp_path):
    client = huedb.Client(Settings(chroma_api_impl=impl, is_persistent=True, persist_directory=str(tmp_path / "db")))
    client.create_collection("seg").add(ids=["a"], embeddings=[[1.0, 2.0]])
    assert client.get_collection("seg").count() == 1
    client.close()


def test_an_unknown_api_impl_is_refused():
    with pytest.raises(ValueError, match="Unsupported Chroma API implementation bogus.Impl"):
        huedb.Client(Settings(chroma_api_impl="bogus.Impl"))


def test_rust_client(tmp_path):
    path = tmp_path / "rust"
    persistent = huedb.RustClient(path=str(path))
    persistent.create_collection("rust_coll").add(ids=["a"], embeddings=[[1.0, 2.0]])
    persistent.close()
    assert any(path.iterdir())  # written under path
    assert huedb.PersistentClient(str(path)).get_collection("rust_coll").count() == 1
    ephemeral = huedb.RustClient()  # no path: in memory
    assert ephemeral.get_settings().is_persistent is False and ephemeral.heartbeat() > 0


# -- GET /api/v2 -----------------------------------------------------------------------


def test_api_root_answers_with_a_heartbeat(huedb_server):
    # chromadb's AsyncHttpClient.heartbeat() GETs the API root; Chroma answers as /heartbeat does
    r = httpx.get(huedb_server.url + "/api/v2", timeout=10)
    assert r.status_code == 200 and isinstance(r.json()["nanosecond heartbeat"], int)
    assert httpx.post(huedb_server.url + "/api/v2", timeout=10).status_code == 405


def test_a_client_opened_before_clear_system_cache_still_closes_its_engine(tmp_path):
    """The forgotten engine is closed on its last release: storage closed, index persisted."""
    import numpy as np

    from huedb.engine.systems import open_systems

    old = huedb.PersistentClient(path=str(tmp_path))
    old.create_collection("kept", embedding_function=None).add(ids=["a"], embeddings=np.ones((1, 3)))
    engine = old._server._system
    old.clear_system_cache()
    assert str(tmp_path.resolve()) not in open_systems()
    new = huedb.PersistentClient(path=str(tmp_path))
    assert new._server._system is not engine
    old.close()
    assert engine.storage._store._closed  # closed although it had left the table
    assert any(p.name.endswith(".manifest.json") for p in tmp_path.rglob("*"))
    assert new.get_collection("kept").count() == 1
    new.close()
