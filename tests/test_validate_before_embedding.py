"""Validation before embedding (issue 11): an invalid request never reaches the embedding function.

Every case runs on the embedded and the HTTP client (the ``client`` fixture). The
embedding function and the data loader count their calls: each invalid request
must raise the right typed error with zero calls. A valid request of each kind
is the control: it calls the embedding function exactly once.
"""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest

from huedb.config import Settings
from huedb.errors import DuplicateIDError, InvalidArgumentError

DIM = 3


class CountingEF:
    """A stand-in for a paid embedding function: counts calls and inputs."""

    def __init__(self) -> None:
        self.calls = 0
        self.inputs = 0

    def __call__(self, input: list[Any]) -> list[list[float]]:
        self.calls += 1
        self.inputs += len(input)
        return [[1.0, float(i), 0.5] for i in range(len(input))]

    def supports_images(self) -> bool:
        return True


class CountingLoader:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, uris: list[Any]) -> list[Any]:
        self.calls += 1
        return [np.zeros((2, 2, 3), dtype=np.uint8) for _ in uris]


@pytest.fixture
def ef() -> CountingEF:
    return CountingEF()


@pytest.fixture
def loader() -> CountingLoader:
    return CountingLoader()


@pytest.fixture
def col(client, ef, loader):
    collection = client.create_collection("vbe", embedding_function=ef, data_loader=loader)
    collection.add(ids=["seed"], embeddings=[[1.0, 2.0, 3.0]], documents=["seed doc"], metadatas=[{"k": 1}])
    return collection


def _image() -> np.ndarray:
    return np.zeros((2, 2, 3), dtype=np.uint8)


# -- writes: add, upsert and update, each with documents (so the EF would run) ----------
BAD_WRITES: list[Any] = [
    pytest.param({"ids": ["a", "a"], "documents": ["x", "y"]}, DuplicateIDError, "IDs", id="duplicate-ids"),
    pytest.param({"ids": [1], "documents": ["x"]}, InvalidArgumentError, "id", id="id-not-str"),
    pytest.param({"ids": [], "documents": []}, InvalidArgumentError, "non-empty", id="no-ids"),
    pytest.param({"ids": [""], "documents": ["x"]}, InvalidArgumentError, "empty string", id="empty-id"),
    pytest.param(
        {"ids": ["a", "b"], "documents": ["x"]}, InvalidArgumentError, "Number of documents", id="documents-count"
    ),
    pytest.param(
        {"ids": ["a"], "documents": ["x"], "metadatas": [{"k": 1}, {"k": 2}]},
        InvalidArgumentError,
        "Number of metadatas",
        id="metadatas-count",
    ),
    pytest.param(
        {"ids": ["a"], "documents": ["x"], "uris": ["u1", "u2"]},
        InvalidArgumentError,
        "Number of uris",
        id="uris-count",
    ),
    pytest.param(
        {"ids": ["a"], "documents": ["x"], "metadatas": [{"k": {"nested": 1}}]},
        InvalidArgumentError,
        "expected a str, int, float, bool",
        id="metadata-value",
    ),
    pytest.param(
        {"ids": ["a"], "documents": ["x"], "metadatas": [{"k": float("nan")}]},
        InvalidArgumentError,
        "metadata",
        id="metadata-nan",
    ),
    pytest.param(
        {"ids": ["a"], "documents": ["x"], "metadatas": [{"chroma:k": 1}]},
        InvalidArgumentError,
        "reserved",
        id="metadata-reserved-key",
    ),
    pytest.param(
        {"ids": ["a"], "documents": ["x"], "metadatas": [{"k": [1, "two"]}]},
        InvalidArgumentError,
        "same type",
        id="metadata-mixed-list",
    ),
    pytest.param({"ids": ["a"], "documents": [7]}, InvalidArgumentError, "documents", id="document-not-str"),
    pytest.param(
        {"ids": ["a"], "documents": ["x"], "images": [_image()]},
        InvalidArgumentError,
        "one modality",
        id="documents-and-images",
    ),
    pytest.param(
        {"ids": ["a", "b"], "images": [_image()]}, InvalidArgumentError, "Number of images", id="images-count"
    ),
    pytest.param({"ids": ["\ud800"], "documents": ["x"]}, InvalidArgumentError, "surrogate", id="surrogate-id"),
    pytest.param({"ids": ["a"], "documents": ["x\udc00"]}, InvalidArgumentError, "surrogate", id="surrogate-document"),
    pytest.param(
        {"ids": ["a"], "documents": ["x"], "metadatas": [{"k": "\ud800"}]},
        InvalidArgumentError,
        "surrogate",
        id="surrogate-metadata-value",
    ),
    pytest.param(
        {"ids": ["a"], "documents": ["x"], "metadatas": [{"\ud800": 1}]},
        InvalidArgumentError,
        "surrogate",
        id="surrogate-metadata-key",
    ),
    pytest.param({"ids": ["a"], "uris": ["\ud800"]}, InvalidArgumentError, "surrogate", id="surrogate-uri"),
]


@pytest.mark.parametrize("method", ["add", "upsert", "update"])
@pytest.mark.parametrize("kwargs,error,words", BAD_WRITES)
def test_invalid_write_never_calls_the_embedding_function(col, ef, loader, method, kwargs, error, words):
    with pytest.raises(error, match=words):
        getattr(col, method)(**kwargs)
    assert (ef.calls, loader.calls) == (0, 0)
    assert col.count() == 1  # nothing was written either


@pytest.mark.parametrize("method", ["add", "upsert"])
def test_a_write_with_nothing_to_store_is_refused_before_embedding(col, ef, method):
    with pytest.raises(InvalidArgumentError, match="You must provide embeddings, documents, images, or uris"):
        getattr(col, method)(ids=["a"], metadatas=[{"k": 1}])
    assert ef.calls == 0


def test_ragged_embeddings_are_refused_with_their_documents_unembedded(col, ef):
    with pytest.raises(InvalidArgumentError, match="equal-length"):
        col.add(ids=["a", "b"], embeddings=[[1.0, 2.0, 3.0], [1.0]], documents=["x", "y"])
    with pytest.raises(InvalidArgumentError, match="Number of embeddings 1 must match number of ids 2"):
        col.add(ids=["a", "b"], embeddings=[[1.0, 2.0, 3.0]], documents=["x", "y"])
    assert ef.calls == 0


def test_valid_writes_call_the_embedding_function_once_each(col, ef, loader):
    col.add(ids=["a", "b"], documents=["x", "y"], metadatas=[{"k": 1}, None])
    col.upsert(ids=["a"], documents=["x2"])
    col.update(ids=["b"], documents=["y2"])
    assert (ef.calls, ef.inputs) == (3, 4)
    col.update(ids=["b"], metadatas=[{"k": 2}])  # nothing to embed
    assert ef.calls == 3
    col.add(ids=["u"], uris=["file-1"])  # uris go through the data loader, then the EF
    assert (loader.calls, ef.calls) == (1, 4)
    assert col.get(ids=["a", "b"], include=["documents", "metadatas"])["documents"] == ["x2", "y2"]


def test_an_embedding_function_returning_the_wrong_count_is_named(client):
    class ShortEF(CountingEF):
        def __call__(self, input: list[Any]) -> list[list[float]]:
            return super().__call__(input)[:-1]

    col = client.create_collection("short", embedding_function=ShortEF())
    with pytest.raises(InvalidArgumentError, match="embedding function returned 1 embedding"):
        col.add(ids=["a", "b"], documents=["x", "y"])
    assert col.count() == 0


# -- queries with query_texts / query_uris (so the EF would run) ----------------------
BAD_QUERIES: list[Any] = [
    pytest.param({"where": {"$bad": 1}}, InvalidArgumentError, "Unknown where operator", id="where-operator"),
    pytest.param({"where": {"a": 1, "b": 2}}, InvalidArgumentError, "exactly one top-level key", id="where-two-keys"),
    pytest.param({"where": {}}, InvalidArgumentError, "empty dict", id="where-empty"),
    pytest.param({"where": "k = 1"}, InvalidArgumentError, "where to be a dict", id="where-not-dict"),
    pytest.param({"where": {"k": "\ud800"}}, InvalidArgumentError, "surrogate", id="where-surrogate"),
    pytest.param({"where_document": {"$contains": 1}}, InvalidArgumentError, "where_document", id="wd-operand"),
    pytest.param({"where_document": {"$nope": "x"}}, InvalidArgumentError, "where_document", id="wd-operator"),
    pytest.param({"where_document": {"$regex": "("}}, InvalidArgumentError, "(?i)regular expression", id="wd-regex"),
    pytest.param({"where_document": {"$contains": "\udc00"}}, InvalidArgumentError, "surrogate", id="wd-surrogate"),
    pytest.param({"include": ["nope"]}, InvalidArgumentError, "include", id="include-item"),
    pytest.param({"include": "documents"}, InvalidArgumentError, "include", id="include-str"),
    pytest.param({"include": ["data"]}, InvalidArgumentError, "data loader", id="include-data-no-loader"),
    pytest.param({"n_results": 0}, InvalidArgumentError, "n_results", id="n-results-zero"),
    pytest.param({"n_results": -3}, InvalidArgumentError, "n_results", id="n-results-negative"),
    pytest.param({"n_results": "3"}, InvalidArgumentError, "n_results", id="n-results-str"),
    pytest.param({"n_results": True}, InvalidArgumentError, "n_results", id="n-results-bool"),
    pytest.param({"ids": [3]}, InvalidArgumentError, "id", id="ids-not-str"),
    pytest.param({"query_embeddings": [[1.0, 2.0, 3.0]]}, InvalidArgumentError, "exactly one of", id="two-inputs"),
]


@pytest.mark.parametrize("kwargs,error,words", BAD_QUERIES)
def test_invalid_query_never_calls_the_embedding_function(client, ef, kwargs, error, words):
    # No data loader here, so include=["data"] is refused; the seeded collection is otherwise as above.
    col = client.create_collection("vbeq", embedding_function=ef)
    col.add(ids=["seed"], embeddings=[[1.0, 2.0, 3.0]], documents=["seed doc"])
    with pytest.raises(error, match=words):
        col.query(query_texts=["hello"], **kwargs)
    assert ef.calls == 0


@pytest.mark.parametrize(
    "kwargs,words",
    [
        ({}, "exactly one of"),
        ({"query_texts": []}, "non-empty"),
        ({"query_texts": ["ok", None]}, "string"),
        ({"query_texts": ["\ud800"]}, "surrogate"),
        ({"query_uris": []}, "non-empty"),
        ({"query_images": []}, "non-empty"),
        ({"query_texts": ["a"], "query_images": [_image()]}, "exactly one of"),
        ({"query_embeddings": [[1.0, float("nan"), 0.0]]}, "finite"),
        ({"query_embeddings": []}, "non-empty"),
    ],
)
def test_query_inputs_are_checked_before_embedding(col, ef, loader, kwargs, words):
    with pytest.raises(InvalidArgumentError, match=words):
        col.query(**kwargs)
    assert (ef.calls, loader.calls) == (0, 0)


def test_valid_queries_call_the_embedding_function_once(col, ef, loader):
    assert col.query(query_texts=["seed doc"], n_results=1)["ids"] == [["seed"]]
    assert col.query(query_uris=["file-1"], n_results=1, include=["data", "distances"])["ids"] == [["seed"]]
    assert (ef.calls, loader.calls) == (2, 2)  # the uris query loads once to embed, once for include=["data"]


# -- get and delete (no EF, but the same checks on both clients) ----------------------
@pytest.mark.parametrize(
    "kwargs,error,words",
    [
        ({"limit": -1}, InvalidArgumentError, "limit"),
        ({"offset": "2"}, InvalidArgumentError, "offset"),
        ({"include": ["distances"]}, InvalidArgumentError, "include"),
        ({"ids": ["a", "a"]}, DuplicateIDError, "IDs"),
        ({"where": {"k": {"$in": []}}}, InvalidArgumentError, r"\$in"),
        ({"where_document": {"$and": []}}, InvalidArgumentError, r"\$and"),
    ],
)
def test_invalid_get_is_a_typed_error(col, kwargs, error, words):
    with pytest.raises(error, match=words):
        col.get(**kwargs)


@pytest.mark.parametrize(
    "kwargs,error,words",
    [
        ({}, InvalidArgumentError, "delete_collection"),
        ({"ids": ["a", "a"]}, DuplicateIDError, "IDs"),
        ({"where": {"$or": "x"}}, InvalidArgumentError, r"\$or"),
        ({"ids": ["\ud800"]}, InvalidArgumentError, "surrogate"),
    ],
)
def test_invalid_delete_is_a_typed_error_and_deletes_nothing(col, kwargs, error, words):
    with pytest.raises(error, match=words):
        col.delete(**kwargs)
    assert col.count() == 1


# -- HttpAPI validates before it sends ------------------------------------------------
class _Recorder:
    """An httpx transport that records requests and answers none of them usefully."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(500, json={"error": "InternalError", "message": "the test transport answers nothing"})


@pytest.fixture
def offline_api():
    from huedb.api.http_api import HttpAPI

    recorder = _Recorder()
    api = HttpAPI(
        Settings(chroma_server_host="localhost", chroma_server_http_port=9), transport=httpx.MockTransport(recorder)
    )
    yield api, recorder
    api.close()


@pytest.mark.parametrize(
    "call,error,words",
    [
        (lambda api: api._add("c", ["a", "a"], [[1.0], [2.0]]), DuplicateIDError, "IDs"),
        (lambda api: api._add("c", ["a"], None), InvalidArgumentError, "needs embeddings"),
        (lambda api: api._upsert("c", ["a"], [[1.0]], metadatas=[{1: "x"}]), InvalidArgumentError, "keys"),
        (lambda api: api._update("c", ["a"], documents=["\ud800"]), InvalidArgumentError, "surrogate"),
        (lambda api: api._add("c", ["a"], [[float("inf")]]), InvalidArgumentError, "finite"),
        (lambda api: api._get("c", where={"k": {"$gt": "x", "$lt": 1}}), InvalidArgumentError, "exactly one operator"),
        (lambda api: api._get("c", limit=-1), InvalidArgumentError, "limit"),
        (lambda api: api._query("c", [[1.0]], n_results=0), InvalidArgumentError, "n_results"),
        (lambda api: api._query("c", None), InvalidArgumentError, "exactly one of"),
        (lambda api: api._query("c", [[1.0]], where_document={"$regex": "\ud800"}), InvalidArgumentError, "surrogate"),
        (lambda api: api._delete("c"), InvalidArgumentError, "delete_collection"),
        (lambda api: api.create_collection("abc", metadata={"k": "\udc00"}), InvalidArgumentError, "surrogate"),
        (lambda api: api.create_collection("ab\udc00c"), InvalidArgumentError, "surrogate"),
        (
            lambda api: api.create_collection("abc", configuration={"hnsw": {"ef_search": np.int64(5)}}),
            InvalidArgumentError,
            "cannot be sent as JSON",
        ),
        (
            lambda api: api.create_collection("abc", configuration={"hnsw": {"ef_search": float("nan")}}),
            InvalidArgumentError,
            "cannot be sent as JSON",
        ),
    ],
)
def test_http_api_refuses_an_invalid_request_without_sending_it(offline_api, call, error, words):
    api, recorder = offline_api
    with pytest.raises(error, match=words):
        call(api)
    assert recorder.requests == []


def test_http_api_sends_what_it_validated(offline_api):
    """The control: a valid request does go out, normalised (a numpy array of ids to a JSON list)."""
    import json

    api, recorder = offline_api
    with pytest.raises(Exception, match="test transport"):
        api._get("c", ids=np.array(["a", "b"]), where={"k": 3}, include=["documents"])
    assert len(recorder.requests) == 1
    body: dict[str, Any] = json.loads(recorder.requests[0].content)
    assert body["ids"] == ["a", "b"] and body["include"] == ["documents"] and body["where"] == {"k": 3}
