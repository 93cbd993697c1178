"""OpenAIEmbeddingFunction: the real openai SDK against a fake OpenAI server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import jsonschema
import numpy as np
import pytest

import huedb.schemas
from fakes import fake_embedding
from fakes.openai_server import FakeOpenAI
from huedb.errors import AuthenticationError, ChromaError, InvalidArgumentError, QuotaError
from huedb_plugins.embedding.openai_ef import OpenAIEmbeddingFunction

KEY = "sk-test"
SCHEMA = json.loads((Path(huedb.schemas.__file__).parent / "openai.json").read_text())


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for var in ("OPENAI_API_KEY", "CHROMA_OPENAI_API_KEY", "OPENAI_BASE_URL", "MY_OPENAI_KEY"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def server():
    with FakeOpenAI(valid_keys=[KEY]) as fake:
        yield fake


@pytest.fixture
def make_ef(server, monkeypatch):
    monkeypatch.setenv("CHROMA_OPENAI_API_KEY", KEY)

    def make(**kwargs):
        kwargs.setdefault("api_base", server.url + "/v1")
        return OpenAIEmbeddingFunction(**kwargs)

    return make


def expected(texts, dim=8):
    return np.stack([fake_embedding(t, dim) for t in texts])


def test_embeds_texts_in_order_as_float32(make_ef, server):
    texts = ["the cat", "a dog", "an emu"]
    out = make_ef(model_name="text-embedding-3-small")(texts)
    assert len(out) == 3 and all(v.dtype == np.float32 and v.shape == (8,) for v in out)
    np.testing.assert_array_equal(np.stack(out), expected(texts))
    (req,) = server.embedding_requests
    assert req.path == "/v1/embeddings"
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert req.body["model"] == "text-embedding-3-small"
    assert req.body["input"] == texts
    assert req.body["encoding_format"] == "base64"


def test_single_string_and_empty_input(make_ef, server):
    ef = make_ef()
    np.testing.assert_array_equal(np.stack(ef("solo")), expected(["solo"]))
    assert ef([]) == []
    assert len(server.embedding_requests) == 1


def test_batches_beyond_2048_inputs_preserving_order(make_ef, server):
    texts = [f"document number {i}" for i in range(2048 * 2 + 5)]
    out = make_ef()(texts)
    assert [len(r.body["input"]) for r in server.embedding_requests] == [2048, 2048, 5]
    np.testing.assert_array_equal(np.stack(out), expected(texts))


def test_rejected_key_is_a_clear_typed_error(server, monkeypatch):
    monkeypatch.setenv("MY_OPENAI_KEY", "sk-wrong")
    ef = OpenAIEmbeddingFunction(api_key_env_var="MY_OPENAI_KEY", api_base=server.url + "/v1", max_retries=0)
    with pytest.raises(AuthenticationError) as info:
        ef(["hello"])
    message = str(info.value)
    assert "rejected the API key" in message and "MY_OPENAI_KEY" in message and "401" in message


def test_rate_limit_is_retried_by_the_sdk(make_ef, server):
    server.fail_next(429, times=2, headers={"retry-after-ms": "1"})
    ef = make_ef(max_retries=2)
    start = time.monotonic()
    out = ef(["retry me"])
    assert time.monotonic() - start < 5
    np.testing.assert_array_equal(np.stack(out), expected(["retry me"]))
    assert [r.status for r in server.embedding_requests] == [429, 429, 200]


def test_persistent_rate_limit_is_a_clear_error(make_ef, server):
    server.fail_next(429, times=None, headers={"retry-after-ms": "1"})
    with pytest.raises(QuotaError, match="429") as info:
        make_ef(max_retries=1)(["never"])
    assert "retries" in str(info.value)
    assert len(server.embedding_requests) == 2


def test_bad_request_is_invalid_argument(make_ef):
    with pytest.raises(InvalidArgumentError, match="HTTP 400"):
        make_ef()([""])  # the fake, like OpenAI, rejects empty strings


def test_unreachable_server_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("CHROMA_OPENAI_API_KEY", KEY)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ef = OpenAIEmbeddingFunction(api_base=f"http://127.0.0.1:{port}/v1", max_retries=0)
    with pytest.raises(ChromaError, match="Could not reach OpenAI"):
        ef(["x"])


def test_non_text_input_is_rejected(make_ef, server):
    with pytest.raises(InvalidArgumentError, match=r"input\[1\].*ndarray"):
        make_ef()(["ok", np.zeros((2, 2, 3), dtype=np.uint8)])
    assert server.embedding_requests == []


def test_missing_key_names_the_env_vars():
    with pytest.raises(InvalidArgumentError) as info:
        OpenAIEmbeddingFunction()
    assert "CHROMA_OPENAI_API_KEY" in str(info.value) and "OPENAI_API_KEY" in str(info.value)
    with pytest.raises(InvalidArgumentError, match="MY_OPENAI_KEY"):
        OpenAIEmbeddingFunction(api_key_env_var="MY_OPENAI_KEY")


def test_standard_env_var_is_the_fallback(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    ef = OpenAIEmbeddingFunction(api_base=server.url + "/v1")
    assert ef.get_config()["api_key_env_var"] == "OPENAI_API_KEY"
    assert len(ef(["a"])) == 1
    monkeypatch.setenv("CHROMA_OPENAI_API_KEY", KEY)
    assert OpenAIEmbeddingFunction(api_base=server.url).get_config()["api_key_env_var"] == "CHROMA_OPENAI_API_KEY"


def test_config_round_trip_has_no_secret_and_matches_schema(make_ef, server):
    ef = make_ef(model_name="text-embedding-3-small", dimensions=4, default_headers={"X-Team": "search"})
    config = ef.get_config()
    assert KEY not in json.dumps(config) and "api_key" not in config
    jsonschema.validate(config, SCHEMA)
    rebuilt = OpenAIEmbeddingFunction.build_from_config(config)
    assert rebuilt.get_config() == config
    texts = ["same", "vectors"]
    np.testing.assert_array_equal(np.stack(rebuilt(texts)), np.stack(ef(texts)))
    np.testing.assert_array_equal(np.stack(ef(texts)), expected(texts, dim=4))
    last = server.embedding_requests[-1]
    assert last.body["dimensions"] == 4 and last.headers["x-team"] == "search"


def test_direct_api_key_is_used_but_not_persisted(server):
    ef = OpenAIEmbeddingFunction(api_key=KEY, api_base=server.url + "/v1")
    assert len(ef(["x"])) == 1
    config = ef.get_config()
    assert KEY not in json.dumps(config)
    jsonschema.validate(config, SCHEMA)


def test_azure_deployment(server, monkeypatch):
    monkeypatch.setenv("CHROMA_OPENAI_API_KEY", KEY)
    ef = OpenAIEmbeddingFunction(api_type="azure", api_base=server.url, api_version="2024-02-01", deployment_id="emb")
    np.testing.assert_array_equal(np.stack(ef(["azure"])), expected(["azure"]))
    (req,) = server.embedding_requests
    assert req.path == "/openai/deployments/emb/embeddings?api-version=2024-02-01"
    assert req.headers["api-key"] == KEY
    jsonschema.validate(ef.get_config(), SCHEMA)
    with pytest.raises(InvalidArgumentError, match="deployment_id"):
        OpenAIEmbeddingFunction(api_type="azure", api_base=server.url, api_version="2024-02-01")


def test_config_update_cannot_change_model(make_ef):
    ef = make_ef()
    old = ef.get_config()
    ef.validate_config_update(old, {"model_name": old["model_name"]})
    with pytest.raises(InvalidArgumentError, match="model_name"):
        ef.validate_config_update(old, {"model_name": "text-embedding-3-large"})


def test_spaces_and_invalid_arguments(make_ef):
    ef = make_ef()
    assert ef.name() == "openai" and ef.default_space() == "cosine"
    assert set(ef.supported_spaces()) == {"cosine", "l2", "ip"}
    with pytest.raises(InvalidArgumentError, match="dimensions"):
        make_ef(dimensions=0)
    with pytest.raises(InvalidArgumentError, match="api_type"):
        make_ef(api_type="gcp")


def test_registered_as_a_plugin(fresh_registry):
    assert fresh_registry.get("embedding_function", "openai") is OpenAIEmbeddingFunction


def test_collection_reopened_rebuilds_the_ef_from_its_config(make_ef, server, tmp_path):
    import huedb

    path = str(tmp_path / "db")
    collection = huedb.PersistentClient(path=path).create_collection("openai-docs", embedding_function=make_ef())
    collection.add(ids=["a", "b"], documents=["hello", "world"])
    assert collection.configuration["hnsw"]["space"] == "cosine"  # the EF's default space
    stored = (tmp_path / "db").rglob("*")
    assert not any(KEY.encode() in p.read_bytes() for p in stored if p.is_file())
    # The fake's host is not OpenAI's: the reader allows it (docs/auth.md).
    allow = huedb.Settings(embedding_function_allowed_hosts=[server.url.removeprefix("http://")])
    reopened = huedb.PersistentClient(path=path, settings=allow).get_collection("openai-docs")
    assert reopened.query(query_texts=["world"], n_results=1)["ids"] == [["b"]]
    assert server.embedding_requests[-1].body["input"] == ["world"]
