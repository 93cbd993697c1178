"""CohereEmbeddingFunction: the real cohere SDK against a fake Cohere server on 127.0.0.1."""

from __future__ import annotations

import base64
import io
import json
import time
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from PIL import Image

import huedb.schemas
from fakes import fake_embedding
from fakes.cohere_server import FakeCohere
from huedb.errors import AuthenticationError, InvalidArgumentError, QuotaError
from huedb_plugins.embedding.cohere_ef import CohereEmbeddingFunction

KEY = "co-test"
SCHEMA = json.loads((Path(huedb.schemas.__file__).parent / "cohere.json").read_text())


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for var in ("COHERE_API_KEY", "CHROMA_COHERE_API_KEY", "CO_API_URL", "CO_API_KEY", "MY_COHERE_KEY"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def server(monkeypatch):
    with FakeCohere(valid_keys=[KEY]) as fake:
        monkeypatch.setenv("CO_API_URL", fake.url)  # how a rebuilt EF finds the fake, too
        yield fake


@pytest.fixture
def make_ef(server, monkeypatch):
    monkeypatch.setenv("CHROMA_COHERE_API_KEY", KEY)
    return CohereEmbeddingFunction


def expected(items, dim=8):
    return np.stack([fake_embedding(x, dim) for x in items])


def test_documents_and_queries_use_their_input_types(make_ef, server):
    ef = make_ef(model_name="embed-english-v3.0")
    docs = ef(["first doc", "second doc"])
    assert all(v.dtype == np.float32 for v in docs)
    np.testing.assert_array_equal(np.stack(docs), expected(["first doc", "second doc"]))
    query = ef.embed_query(["what is first?"])
    np.testing.assert_array_equal(np.stack(query), expected(["what is first?"]))
    first, second = server.embed_requests
    assert first.body["input_type"] == "search_document" and second.body["input_type"] == "search_query"
    assert first.body["model"] == "embed-english-v3.0" and "truncate" not in first.body
    assert first.headers["authorization"] == f"Bearer {KEY}"


def test_batches_beyond_96_texts_preserving_order(make_ef, server):
    texts = [f"text {i}" for i in range(96 * 2 + 1)]
    out = make_ef()(texts)
    assert [len(r.body["texts"]) for r in server.embed_requests] == [96, 96, 1]
    np.testing.assert_array_equal(np.stack(out), expected(texts))


def test_images_and_texts_keep_their_positions(make_ef, server):
    image = np.zeros((4, 5, 3), dtype=np.uint8)
    image[1, 2] = (255, 0, 10)
    out = make_ef(model_name="embed-english-v3.0")(["before", image, "after"])
    image_request = next(r for r in server.embed_requests if r.body.get("images"))
    (uri,) = image_request.body["images"]
    assert image_request.body["input_type"] == "image"
    decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))
    np.testing.assert_array_equal(decoded, image)
    np.testing.assert_array_equal(np.stack(out), expected(["before", uri, "after"]))


def test_truncate_is_sent_but_not_persisted(make_ef, server):
    ef = make_ef(truncate="NONE")
    ef(["long text"])
    assert server.embed_requests[0].body["truncate"] == "NONE"
    config = ef.get_config()
    jsonschema.validate(config, SCHEMA)  # the shared schema has no truncate field
    assert "truncate" not in config
    assert CohereEmbeddingFunction.build_from_config({**config, "truncate": "END"}).truncate == "END"
    with pytest.raises(InvalidArgumentError, match="truncate"):
        make_ef(truncate="MIDDLE")


def test_rejected_key_is_a_clear_typed_error(server, monkeypatch):
    monkeypatch.setenv("MY_COHERE_KEY", "wrong")
    ef = CohereEmbeddingFunction(api_key_env_var="MY_COHERE_KEY", max_retries=0)
    with pytest.raises(AuthenticationError) as info:
        ef(["hi"])
    message = str(info.value)
    assert "rejected the API key" in message and "MY_COHERE_KEY" in message and "401" in message


def test_rate_limit_is_retried_by_the_sdk(make_ef, server):
    server.fail_next(429, times=2, headers={"retry-after-ms": "1"})
    start = time.monotonic()
    out = make_ef(max_retries=2)(["retry"])
    assert time.monotonic() - start < 5
    np.testing.assert_array_equal(np.stack(out), expected(["retry"]))
    assert [r.status for r in server.embed_requests] == [429, 429, 200]


def test_persistent_rate_limit_is_a_clear_error(make_ef, server):
    server.fail_next(429, times=None, headers={"retry-after-ms": "1"})
    with pytest.raises(QuotaError, match="429"):
        make_ef(max_retries=1)(["never"])
    assert len(server.embed_requests) == 2


def test_invalid_inputs_are_rejected_before_any_request(make_ef, server):
    ef = make_ef()
    with pytest.raises(InvalidArgumentError, match=r"input\[1\] is int"):
        ef(["ok", 3])
    with pytest.raises(InvalidArgumentError, match="not a valid image"):
        ef([np.zeros((2, 2, 7), dtype=np.float64)])
    assert ef([]) == []
    assert server.embed_requests == []


def test_missing_key_names_the_env_vars():
    with pytest.raises(InvalidArgumentError) as info:
        CohereEmbeddingFunction()
    assert "CHROMA_COHERE_API_KEY or COHERE_API_KEY" in str(info.value)


def test_standard_env_var_is_the_fallback(server, monkeypatch):
    monkeypatch.setenv("COHERE_API_KEY", KEY)
    ef = CohereEmbeddingFunction()
    assert ef.get_config()["api_key_env_var"] == "COHERE_API_KEY"
    assert len(ef(["a"])) == 1


def test_config_round_trip_has_no_secret_and_matches_schema(make_ef, server):
    ef = make_ef(model_name="embed-english-v3.0")
    config = ef.get_config()
    assert config == {"api_key_env_var": "CHROMA_COHERE_API_KEY", "model_name": "embed-english-v3.0"}
    jsonschema.validate(config, SCHEMA)
    rebuilt = CohereEmbeddingFunction.build_from_config(config)
    assert rebuilt.get_config() == config
    np.testing.assert_array_equal(np.stack(rebuilt(["x", "y"])), np.stack(ef(["x", "y"])))

    direct = CohereEmbeddingFunction(api_key=KEY)
    assert KEY not in json.dumps(direct.get_config())


def test_config_update_and_spaces(make_ef):
    ef = make_ef(model_name="embed-multilingual-v2.0")
    assert ef.name() == "cohere" and ef.default_space() == "ip" and ef.supported_spaces() == ["ip"]
    assert make_ef().default_space() == "cosine" and ef.supports_images()
    old = ef.get_config()
    ef.validate_config_update(old, {"model_name": old["model_name"]})
    with pytest.raises(InvalidArgumentError, match="model_name"):
        ef.validate_config_update(old, {"model_name": "embed-english-v3.0"})


def test_registered_as_a_plugin(fresh_registry):
    assert fresh_registry.get("embedding_function", "cohere") is CohereEmbeddingFunction


def test_collection_reopened_rebuilds_the_ef_from_its_config(make_ef, server, tmp_path):
    import huedb

    path = str(tmp_path / "db")
    collection = huedb.PersistentClient(path=path).create_collection(
        "cohere-docs", embedding_function=make_ef(model_name="embed-english-v3.0")
    )
    collection.add(ids=["a", "b"], documents=["hello", "world"])
    reopened = huedb.PersistentClient(path=path).get_collection("cohere-docs")
    assert reopened.query(query_texts=["world"], n_results=2)["ids"][0][0] == "b"
    last = server.embed_requests[-1]
    assert last.body["input_type"] == "search_query" and last.body["texts"] == ["world"]
