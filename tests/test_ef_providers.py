"""Every remote provider EF, against a fake of its API on 127.0.0.1, through its real SDK.

One table (``CASES``) says, per provider, how to point the EF at its fake, where its key
travels and what its request must contain; the tests below run for every row:
multi-batch success at the provider's batch limit, the exact request, 401, 429 then
success, persistent 429, a timeout, a missing key, the config's schema, and a collection
reopened in a new process with nothing but the stored config (and no secret in it), where
a missing SDK names the extra to install.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

import huedb.schemas
from fakes import fake_embedding
from fakes import providers as fakes
from huedb.errors import AuthenticationError, ChromaError, ForbiddenError, InvalidArgumentError, QuotaError
from huedb_plugins.embedding import http_provider

KEY = "test-key"
ROOT = Path(__file__).resolve().parents[1]


def bearer(req):
    return req.headers.get("authorization", "").removeprefix("Bearer ")


@dataclass
class Case:
    name: str  # the registry name
    module: str  # huedb_plugins.embedding.<module>
    cls: str
    fake: Callable[[], fakes.FakeEmbeddingAPI]
    #: constructor arguments pointing the EF at the fake, for a session
    kwargs: Callable[[str], dict[str, Any]]
    #: request path (without query) the provider expects, as a regex
    path: str
    #: the request body's required fields, given the texts
    body: Callable[[dict[str, Any], list], None]
    key_var: str | None = None  # the default api_key_env_var (None: the provider takes no key)
    fallback_vars: tuple[str, ...] = ()
    key_of: Callable[[Any], str | None] = bearer
    #: environment the reopening process needs to find the fake (the endpoint is not persisted)
    reopen_env: Callable[[str], dict[str, str]] = lambda url: {}
    #: the endpoint is persisted: the reopening process must allow the fake's host
    endpoint_persisted: bool = False
    sdk: str = ""  # the SDK's top-level module (hidden to test the missing-extra message)
    extra: str = ""
    #: (document request, query request) -> asserts their modes differ as documented
    query_mode: Callable[[Any, Any], None] | None = None
    env_clear: tuple[str, ...] = ()
    #: the vector the fake's answer decodes to
    vector: Callable[[str, int], np.ndarray] = fake_embedding
    default_space: str = "cosine"  # as chromadb declares it
    #: environment the test process needs (credentials that are not an API key variable)
    env: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name


def _voyage_body(body, texts):
    assert body["input"] == texts and body["model"] == "voyage-3" and body["truncation"] is True
    assert body["input_type"] == "document"


def _voyage_query(doc, query):
    assert doc.body["input_type"] == "document" and query.body["input_type"] == "query"


def _gemini_body(body, texts):
    assert [r["content"]["parts"][0]["text"] for r in body["requests"]] == texts
    assert {r["model"] for r in body["requests"]} == {"models/gemini-embedding-001"}
    assert {r["taskType"] for r in body["requests"]} == {"RETRIEVAL_DOCUMENT"}


def _gemini_query(doc, query):
    assert {r["taskType"] for r in doc.body["requests"]} == {"RETRIEVAL_DOCUMENT"}
    assert {r["taskType"] for r in query.body["requests"]} == {"RETRIEVAL_QUERY"}


def _jina_body(body, texts):
    assert body == {"model": "jina-embeddings-v3", "input": texts, "task": "retrieval.passage", "late_chunking": False}


def _jina_query(doc, query):
    assert doc.body["task"] == "retrieval.passage" and query.body["task"] == "retrieval.query"


def _qwen_body(body, texts):
    assert body == {"instructions": "", "texts": texts}


def _qwen_query(doc, query):
    assert doc.body["instructions"] == "" and query.body["instructions"].startswith("Given a question about coding")
    assert query.headers["x-chroma-embedding-model"] == "Qwen/Qwen3-Embedding-0.6B"


CASES = [
    Case(
        name="ollama",
        module="ollama_ef",
        cls="OllamaEmbeddingFunction",
        fake=fakes.FakeOllama,
        kwargs=lambda url: {"url": url, "model_name": "nomic-embed-text"},
        path=r"/api/embed",
        body=lambda body, texts: (body["model"] == "nomic-embed-text" and body["input"] == texts) or pytest.fail(body),
        endpoint_persisted=True,
        sdk="ollama",
        extra="ollama",
    ),
    Case(
        name="voyageai",
        module="voyageai_ef",
        cls="VoyageAIEmbeddingFunction",
        fake=fakes.FakeVoyage,
        kwargs=lambda url: {"base_url": url + "/v1", "model_name": "voyage-3", "input_type": "document"},
        path=r"/v1/embeddings",
        body=_voyage_body,
        key_var="CHROMA_VOYAGE_API_KEY",
        fallback_vars=("VOYAGE_API_KEY",),
        reopen_env=lambda url: {"HUEDB_VOYAGEAI_BASE_URL": url + "/v1"},
        sdk="voyageai",
        extra="voyageai",
        query_mode=_voyage_query,
    ),
    Case(
        name="mistral",
        module="mistral_ef",
        cls="MistralEmbeddingFunction",
        fake=fakes.FakeMistral,
        kwargs=lambda url: {"base_url": url, "model": "mistral-embed"},
        path=r"/v1/embeddings",
        body=lambda body, texts: (body["model"] == "mistral-embed" and body["input"] == texts) or pytest.fail(body),
        key_var="MISTRAL_API_KEY",
        reopen_env=lambda url: {"HUEDB_MISTRAL_BASE_URL": url},
        sdk="mistralai",
        extra="mistral",
    ),
    Case(
        name="together_ai",
        module="together_ai_ef",
        cls="TogetherAIEmbeddingFunction",
        fake=fakes.FakeTogether,
        kwargs=lambda url: {"base_url": url, "model_name": "BAAI/bge-base-en-v1.5"},
        path=r"/v1/embeddings",
        body=lambda body, texts: (
            (body["model"] == "BAAI/bge-base-en-v1.5" and body["input"] == texts) or pytest.fail(body)
        ),
        key_var="CHROMA_TOGETHER_AI_API_KEY",
        fallback_vars=("TOGETHER_API_KEY",),
        reopen_env=lambda url: {"TOGETHER_BASE_URL": url},
        sdk="together",
        extra="together",
        env_clear=("TOGETHER_BASE_URL",),
    ),
    Case(
        name="google_gemini",
        module="google_ef",
        cls="GoogleGeminiEmbeddingFunction",
        fake=fakes.FakeGemini,
        kwargs=lambda url: {"base_url": url, "model_name": "gemini-embedding-001", "task_type": "RETRIEVAL_DOCUMENT"},
        path=r"/v1/models/gemini-embedding-001:batchEmbedContents",
        body=_gemini_body,
        key_var="GEMINI_API_KEY",
        fallback_vars=("GOOGLE_API_KEY",),
        key_of=lambda r: r.headers.get("x-goog-api-key"),
        reopen_env=lambda url: {"GOOGLE_GEMINI_BASE_URL": url},
        sdk="google.genai",
        extra="google",
        query_mode=_gemini_query,
        env_clear=("GOOGLE_GEMINI_BASE_URL",),
    ),
    Case(
        name="google_generative_ai",
        module="google_ef",
        cls="GoogleGenerativeAiEmbeddingFunction",
        fake=fakes.FakeGemini,
        kwargs=lambda url: {"base_url": url, "model_name": "gemini-embedding-001"},
        path=r"/v1/models/gemini-embedding-001:batchEmbedContents",
        body=_gemini_body,
        key_var="GEMINI_API_KEY",
        fallback_vars=("GOOGLE_API_KEY",),
        key_of=lambda r: r.headers.get("x-goog-api-key"),
        reopen_env=lambda url: {"GOOGLE_GEMINI_BASE_URL": url},
        sdk="google.genai",
        extra="google",
        query_mode=_gemini_query,
        env_clear=("GOOGLE_GEMINI_BASE_URL",),
    ),
    Case(
        name="huggingface",
        module="huggingface_ef",
        cls="HuggingFaceEmbeddingFunction",
        fake=fakes.FakeTEI,
        kwargs=lambda url: {"base_url": url + "/hf-inference", "model_name": "BAAI/bge-small-en-v1.5"},
        path=r"/hf-inference/models/BAAI/bge-small-en-v1.5/pipeline/feature-extraction",
        body=lambda body, texts: body == {"inputs": texts} or pytest.fail(body),
        key_var="CHROMA_HUGGINGFACE_API_KEY",
        fallback_vars=("HF_TOKEN", "HUGGINGFACE_API_KEY"),
        reopen_env=lambda url: {"HUEDB_HUGGINGFACE_BASE_URL": url + "/hf-inference"},
        sdk="huggingface_hub",
        extra="huggingface",
    ),
    Case(
        name="huggingface_server",
        module="huggingface_ef",
        cls="HuggingFaceEmbeddingServer",
        fake=fakes.FakeTEI,
        kwargs=lambda url: {"url": url + "/embed", "api_key_env_var": "HF_TOKEN"},
        path=r"/embed",
        body=lambda body, texts: body == {"inputs": texts} or pytest.fail(body),
        key_var="HF_TOKEN",
        endpoint_persisted=True,
        sdk="huggingface_hub",
        extra="huggingface",
    ),
    Case(
        name="jina",
        module="jina_ef",
        cls="JinaEmbeddingFunction",
        fake=fakes.FakeJina,
        kwargs=lambda url: {
            "base_url": url,
            "model_name": "jina-embeddings-v3",
            "task": "retrieval.passage",
            "late_chunking": False,
            "query_config": {"task": "retrieval.query"},
        },
        path=r"/v1/embeddings",
        body=_jina_body,
        key_var="CHROMA_JINA_API_KEY",
        fallback_vars=("JINA_API_KEY",),
        reopen_env=lambda url: {"HUEDB_JINA_BASE_URL": url},
        sdk="tenacity",
        extra="jina",
        query_mode=_jina_query,
    ),
    Case(
        name="cloudflare_workers_ai",
        module="cloudflare_workers_ai_ef",
        cls="CloudflareWorkersAIEmbeddingFunction",
        fake=fakes.FakeCloudflare,
        kwargs=lambda url: {"base_url": url, "model_name": "@cf/baai/bge-base-en-v1.5", "account_id": "acc1"},
        path=r"/client/v4/accounts/acc1/ai/run/@cf/baai/bge-base-en-v1.5",
        body=lambda body, texts: body == {"text": texts} or pytest.fail(body),
        key_var="CHROMA_CLOUDFLARE_API_KEY",
        fallback_vars=("CLOUDFLARE_API_TOKEN",),
        reopen_env=lambda url: {"HUEDB_CLOUDFLARE_WORKERS_AI_BASE_URL": url},
        sdk="tenacity",
        extra="cloudflare",
    ),
    Case(
        name="roboflow",
        module="roboflow_ef",
        cls="RoboflowEmbeddingFunction",
        fake=fakes.FakeRoboflow,
        kwargs=lambda url: {"api_url": url},
        path=r"/clip/embed_text",
        body=lambda body, texts: body == {"text": texts} or pytest.fail(body),
        key_var="CHROMA_ROBOFLOW_API_KEY",
        fallback_vars=("ROBOFLOW_API_KEY",),
        key_of=lambda r: re.search(r"api_key=([^&]+)", r.path).group(1),
        endpoint_persisted=True,
        sdk="tenacity",
        extra="roboflow",
    ),
    Case(
        name="chroma-cloud-qwen",
        module="chroma_cloud_qwen_ef",
        cls="ChromaCloudQwenEmbeddingFunction",
        fake=fakes.FakeChromaQwen,
        kwargs=lambda url: {"base_url": url + "/embed", "task": "nl_to_code"},
        path=r"/embed",
        body=_qwen_body,
        key_var="CHROMA_API_KEY",
        key_of=lambda r: r.headers.get("x-chroma-token"),
        reopen_env=lambda url: {"CHROMA_EMBED_URL": url + "/embed"},
        sdk="tenacity",
        extra="chroma-cloud",
        query_mode=_qwen_query,
        env_clear=("CHROMA_EMBED_URL",),
    ),
    Case(
        name="baseten",
        module="baseten_ef",
        cls="BasetenEmbeddingFunction",
        fake=fakes.FakeOpenAICompatible,
        kwargs=lambda url: {"api_base": url + "/environments/production/sync/v1"},
        path=r"/environments/production/sync/v1/embeddings",
        body=lambda body, texts: (
            (body["model"] == "baseten-embedding-model" and body["input"] == texts) or pytest.fail(body)
        ),
        key_var="CHROMA_BASETEN_API_KEY",
        fallback_vars=("BASETEN_API_KEY",),
        endpoint_persisted=True,
        sdk="openai",
        extra="baseten",
    ),
    Case(
        name="morph",
        module="morph_ef",
        cls="MorphEmbeddingFunction",
        fake=fakes.FakeOpenAICompatible,
        kwargs=lambda url: {"api_base": url + "/v1"},
        path=r"/v1/embeddings",
        body=lambda body, texts: (
            body == {"model": "morph-embedding-v2", "input": texts, "encoding_format": "float"} or pytest.fail(body)
        ),
        key_var="MORPH_API_KEY",
        endpoint_persisted=True,
        sdk="openai",
        extra="morph",
    ),
    Case(
        name="perplexity",
        module="perplexity_ef",
        cls="PerplexityEmbeddingFunction",
        fake=fakes.FakePerplexity,
        kwargs=lambda url: {"base_url": url, "dimensions": 8},
        path=r"/v1/embeddings",
        body=lambda body, texts: (
            body == {"model": "pplx-embed-v1-0.6b", "input": texts, "dimensions": 8} or pytest.fail(body)
        ),
        key_var="PERPLEXITY_API_KEY",
        reopen_env=lambda url: {"PERPLEXITY_BASE_URL": url},
        sdk="perplexity",
        extra="perplexity",
        vector=lambda t, dim: fakes.int8_vector(t, dim).astype(np.float32),
        env_clear=("PERPLEXITY_BASE_URL",),
    ),
]


def _bedrock_session(key=KEY):
    import boto3

    return boto3.Session(aws_access_key_id=key, aws_secret_access_key="fake-secret", region_name="us-east-1")


#: AWS credentials for the fake; instance metadata is off, so boto3 never looks beyond this machine
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": KEY,
    "AWS_SECRET_ACCESS_KEY": "fake-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
CASES.append(
    Case(
        name="amazon_bedrock",
        module="amazon_bedrock_ef",
        cls="AmazonBedrockEmbeddingFunction",
        fake=fakes.FakeBedrock,
        kwargs=lambda url: {
            "session": _bedrock_session(),
            "base_url": url,
            "model_name": "amazon.titan-embed-text-v2:0",
        },
        path=r"/model/amazon\.titan-embed-text-v2(:|%3A)0/invoke",
        body=lambda body, texts: body == {"inputText": texts[0]} or pytest.fail(body),
        reopen_env=lambda url: {"HUEDB_AMAZON_BEDROCK_BASE_URL": url, **AWS_ENV},
        sdk="boto3",
        extra="bedrock",
        env_clear=("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "AWS_PROFILE"),
        default_space="l2",
        env=AWS_ENV,
    )
)


def _nomic_body(body, texts):
    assert body == {
        "model": "nomic-embed-text-v1.5",
        "texts": texts,
        "task_type": "search_document",
        "long_text_mode": "truncate",
    }


CASES.append(
    Case(
        name="nomic",
        module="nomic_ef",
        cls="NomicEmbeddingFunction",
        fake=fakes.FakeNomic,
        kwargs=lambda url: {
            "base_url": url,
            "model": "nomic-embed-text-v1.5",
            "task_type": "search_document",
            "query_config": {"task_type": "search_query"},
        },
        path=r"/v1/embedding/text",
        body=_nomic_body,
        key_var="NOMIC_API_KEY",
        reopen_env=lambda url: {"ATLAS_API_PATH": url},
        sdk="tenacity",
        extra="nomic",
        query_mode=lambda doc, query: (
            (doc.body["task_type"], query.body["task_type"]) == ("search_document", "search_query")
            or pytest.fail((doc.body, query.body))
        ),
        env_clear=("ATLAS_API_PATH",),
    )
)
CASES.append(
    Case(
        name="google_vertex",
        module="google_vertex_ef",
        cls="GoogleVertexEmbeddingFunction",
        fake=fakes.FakeVertex,
        kwargs=lambda url: {"base_url": url, "model_name": "text-embedding-005", "project_id": "my-proj"},
        path=r"/v1/projects/my-proj/locations/us-central1/publishers/google/models/text-embedding-005:predict",
        body=lambda body, texts: body == {"instances": [{"content": t} for t in texts]} or pytest.fail(body),
        key_var="CHROMA_GOOGLE_VERTEX_API_KEY",
        fallback_vars=("GOOGLE_API_KEY",),
        key_of=lambda r: r.headers.get("x-goog-api-key"),
        reopen_env=lambda url: {"HUEDB_GOOGLE_VERTEX_BASE_URL": url},
        sdk="tenacity",
        extra="vertex",
    )
)
KEYED = [c for c in CASES if c.key_var]


def ef_class(case: Case):
    return getattr(importlib.import_module(f"huedb_plugins.embedding.{case.module}"), case.cls)


def expected(texts, dim=8, case=None):
    return np.stack([(case.vector if case else fake_embedding)(t, dim) for t in texts])


@pytest.fixture(params=CASES, ids=str)
def case(request):
    return request.param


@pytest.fixture(params=KEYED, ids=str)
def keyed_case(request):
    return request.param


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setattr(http_provider, "RETRY_INITIAL_WAIT", 0.01)
    for var in list(os.environ):
        if var.startswith("HUEDB_") and var.endswith("_BASE_URL"):
            monkeypatch.delenv(var)


def _clean_env(monkeypatch, case):
    for var in (case.key_var, *case.fallback_vars, *case.env_clear, "MY_TEST_KEY"):
        if var:
            monkeypatch.delenv(var, raising=False)


@pytest.fixture
def setup(case, monkeypatch):
    """(server, make_ef) for the case: the key set in its default variable, the EF pointed at the fake."""
    _clean_env(monkeypatch, case)
    for var, value in case.env.items():
        monkeypatch.setenv(var, value)
    with case.fake() as server:
        if case.key_var:
            monkeypatch.setenv(case.key_var, KEY)
            server.valid_keys.add("direct-secret")  # a key passed as api_key= (used, never persisted)

        def make(**overrides):
            return ef_class(case)(**{**case.kwargs(server.url), **overrides})

        yield server, make


@pytest.fixture
def keyed(keyed_case, monkeypatch):
    _clean_env(monkeypatch, keyed_case)
    with keyed_case.fake() as server:
        yield keyed_case, server, lambda **kw: ef_class(keyed_case)(**{**keyed_case.kwargs(server.url), **kw})


def test_registered_with_chromas_name_and_spaces(case, fresh_registry):
    cls = ef_class(case)
    assert fresh_registry.get("embedding_function", case.name) is cls
    assert cls.name() == case.name


def test_multi_batch_success_and_the_exact_request(case, setup):
    server, make = setup
    ef = make()
    assert ef.default_space() == case.default_space and ef.supported_spaces() == ["cosine", "l2", "ip"]
    limit = ef.max_batch  # the class limit, or one the model sets
    texts = [f"document {i}" for i in range(2 * limit + 1)]
    out = ef(texts)
    assert all(v.dtype == np.float32 and v.shape == (8,) for v in out)
    np.testing.assert_array_equal(np.stack(out), expected(texts, case=case))
    requests = server.embedding_requests
    assert len(requests) == 3 and all(r.status == 200 for r in requests)
    first = requests[0]
    assert re.fullmatch(case.path, first.path.split("?")[0]), first.path
    case.body(first.body, texts[:limit])
    if case.key_var:
        assert case.key_of(first) == KEY
    assert ef([]) == []
    np.testing.assert_array_equal(np.stack(ef("one string")), expected(["one string"], case=case))


def test_query_mode(case, setup):
    server, make = setup
    ef = make()
    np.testing.assert_array_equal(np.stack(ef.embed_query(["a question"])), expected(["a question"], case=case))
    ef(["a document"])
    query, doc = server.embedding_requests
    if case.query_mode:
        case.query_mode(doc, query)
    else:  # no query mode: the same request but for the text

        def strip(body):
            return json.loads(json.dumps(body).replace('"a question"', '"T"').replace('"a document"', '"T"'))

        assert strip(query.body) == strip(doc.body)


def test_rejected_key_is_authentication_error(keyed, monkeypatch):
    case, server, make = keyed
    monkeypatch.setenv("MY_TEST_KEY", "wrong-key")
    with pytest.raises(AuthenticationError) as info:
        make(api_key_env_var="MY_TEST_KEY")(["hello"])
    message = str(info.value)
    assert "401" in message and "MY_TEST_KEY" in message and "wrong-key" not in message
    assert len(server.embedding_requests) == 1  # a 401 is not retried


def test_missing_key_names_the_variables(keyed):
    case, server, make = keyed
    with pytest.raises(InvalidArgumentError) as info:
        make()
    for var in (case.key_var, *case.fallback_vars):
        assert var in str(info.value)
    assert server.requests == []


def test_rate_limit_then_success(case, setup):
    server, make = setup
    server.fail_next(429, times=2)
    out = make(max_retries=2)(["retry me"])
    np.testing.assert_array_equal(np.stack(out), expected(["retry me"], case=case))
    assert [r.status for r in server.embedding_requests] == [429, 429, 200]


def test_server_error_then_success(case, setup):
    server, make = setup
    server.fail_next(503, times=1, headers={"retry-after": "0"})
    np.testing.assert_array_equal(np.stack(make()(["x"])), expected(["x"], case=case))
    assert [r.status for r in server.embedding_requests] == [503, 200]


def test_persistent_rate_limit_is_quota_error(case, setup):
    server, make = setup
    server.fail_next(429, times=None)
    with pytest.raises(QuotaError, match="429.*1 retry"):
        make(max_retries=1)(["never"])
    assert len(server.embedding_requests) == 2


def test_timeout_is_a_clear_error(case, setup):
    server, make = setup
    server.delay_next(2.0)
    with pytest.raises(ChromaError, match=r"did not answer within 0.3s"):
        make(timeout=0.3, max_retries=0)(["slow"])


def test_non_text_input_is_refused_before_any_request(case, setup):
    server, make = setup
    with pytest.raises(InvalidArgumentError, match=r"input\[1\] is int"):
        make()(["ok", 3])
    assert server.requests == []


def test_config_matches_schema_has_no_secret_and_round_trips(case, setup):
    server, make = setup
    ef = make(**({"api_key": "direct-secret"} if case.key_var else {}))
    config = ef.get_config()
    schema = json.loads((Path(huedb.schemas.__file__).parent / f"{case.name}.json").read_text())
    jsonschema.validate(config, schema)
    assert "direct-secret" not in json.dumps(config) and KEY not in json.dumps(config)
    rebuilt = type(ef).build_from_config(config)
    assert rebuilt.get_config() == config
    ef.validate_config_update(config, dict(config))
    for immutable in type(ef).immutable_fields:  # e.g. the model: stored vectors depend on it
        with pytest.raises(InvalidArgumentError, match=immutable):
            ef.validate_config_update(config, {immutable: "another-model"})


REOPEN = """
import json, sys
import huedb
settings = huedb.Settings(embedding_function_allowed_hosts=ALLOW)
col = huedb.PersistentClient(path=PATH, settings=settings).get_collection("docs")
out = {}
real = sys.modules.pop(SDK, None)
sys.modules[SDK] = None  # the extra is not installed
try:
    col.query(query_texts=["world"], n_results=1)
except Exception as e:
    out["missing"] = type(e).__name__ + ": " + str(e)
del sys.modules[SDK]
if real is not None:
    sys.modules[SDK] = real
out["config"] = col.configuration_json["embedding_function"]
out["ids"] = col.query(query_texts=["world"], n_results=1)["ids"]
print(json.dumps(out))
"""


def test_collection_reopened_in_a_new_process_rebuilds_the_ef(case, setup, tmp_path):
    import huedb

    server, make = setup
    path = str(tmp_path / "db")
    secret = {"api_key": "direct-secret", "api_key_env_var": case.key_var} if case.key_var else {}
    client = huedb.PersistentClient(path=path)
    collection = client.create_collection("docs", embedding_function=make(**secret))
    collection.add(ids=["a", "b"], documents=["hello", "world"])
    assert collection.configuration["hnsw"]["space"] == case.default_space
    assert not any(b"direct-secret" in p.read_bytes() for p in Path(path).rglob("*") if p.is_file())
    before = len(server.embedding_requests)

    host = server.url.removeprefix("http://")
    env = {k: v for k, v in os.environ.items() if not (k.startswith("HUEDB_") and k.endswith("_BASE_URL"))}
    env.update(case.reopen_env(server.url))
    env["PYTHONPATH"] = str(ROOT / "tests") + os.pathsep + env.get("PYTHONPATH", "")
    code = REOPEN.replace("ALLOW", repr([host] if case.endpoint_persisted else [])).replace("PATH", repr(path))
    code = code.replace("SDK", repr(case.sdk))
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["missing"] == (
        f"MissingProviderPackage: Collection 'docs' uses embedding function '{case.name}': "
        f"pip install 'huedb[{case.extra}]' ({case.cls} needs the {out['missing'].split(' needs the ')[1]}"
    )
    assert out["ids"] == [["b"]]
    stored = out["config"]
    assert stored["name"] == case.name and stored["type"] == "known"
    assert "direct-secret" not in json.dumps(stored) and KEY not in json.dumps(stored)
    last = server.embedding_requests[-1]
    assert len(server.embedding_requests) == before + 1 and last.status == 200
    if case.key_var:
        assert case.key_of(last) == KEY  # read from the variable named in the config


# -- Amazon Bedrock: AWS credentials instead of an API key variable -------------------------
@pytest.fixture
def bedrock(monkeypatch):
    for var in (*AWS_ENV, "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"):
        monkeypatch.delenv(var, raising=False)
    for var in ("AWS_EC2_METADATA_DISABLED", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.setenv(var, AWS_ENV[var])
    from huedb_plugins.embedding.amazon_bedrock_ef import AmazonBedrockEmbeddingFunction

    with fakes.FakeBedrock() as server:
        yield server, AmazonBedrockEmbeddingFunction


def test_bedrock_rejected_credentials_are_authentication_error(bedrock):
    server, cls = bedrock
    ef = cls(session=_bedrock_session("AKIAWRONG"), base_url=server.url)
    with pytest.raises(AuthenticationError, match=r"refused .*HTTP 403.*AWS credentials of the boto3 session"):
        ef(["hello"])
    assert [r.status for r in server.embedding_requests] == [403]  # not retried


def test_bedrock_without_credentials_says_where_they_come_from(bedrock):
    import boto3

    server, cls = bedrock
    with pytest.raises(InvalidArgumentError, match="needs AWS credentials.*never persisted"):
        cls(session=boto3.Session(region_name="us-east-1"), base_url=server.url)
    assert server.requests == []


def test_bedrock_refuses_kwargs_it_could_not_persist_safely(bedrock):
    server, cls = bedrock
    with pytest.raises(InvalidArgumentError, match="aws_secret_access_key would be persisted"):
        cls(session=_bedrock_session(), aws_secret_access_key="s3cret")
    with pytest.raises(InvalidArgumentError, match="not a primitive"):
        cls(session=_bedrock_session(), config=object())
    ef = cls(session=_bedrock_session(), region_name="eu-west-1", base_url=server.url)
    assert ef.get_config() == {
        "model_name": "amazon.titan-embed-text-v1",
        "session_args": {"region_name": "us-east-1"},
        "kwargs": {"region_name": "eu-west-1"},
    }
    assert (
        ef(["x"])[0].shape == (8,) and server.embedding_requests[0].path == "/model/amazon.titan-embed-text-v1/invoke"
    )


def test_bedrock_stored_endpoint_must_be_aws(bedrock, monkeypatch):
    from huedb.ef_persistence import check_persisted_ef

    server, cls = bedrock

    def spec(endpoint):
        config = {"model_name": "amazon.titan-embed-text-v1", "session_args": {}, "kwargs": {"endpoint_url": endpoint}}
        return {"name": "amazon_bedrock", "type": "known", "config": config}

    with pytest.raises(ForbiddenError, match="kwargs.endpoint_url 'http://127.0.0.1:9'.*AWS_ENDPOINT_URL_BEDROCK"):
        check_persisted_ef(spec("http://127.0.0.1:9"), cls, "docs", None)
    check_persisted_ef(spec("https://bedrock-runtime.eu-west-1.amazonaws.com"), cls, "docs", None)
    # chromadb stores boto3's implicit profile as "default": rebuilt without it when there is no such profile
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-secret")
    rebuilt = cls.build_from_config(
        {"model_name": "m", "session_args": {"profile_name": "default", "region_name": "us-east-1"}, "kwargs": {}}
    )
    assert rebuilt.session_args == {"region_name": "us-east-1"}


@pytest.mark.parametrize(
    "field, value",
    [("region", "evil.example/x"), ("project_id", "../other"), ("model_name", "m:predict?x=")],
)
def test_vertex_config_cannot_redirect_the_key(field, value, monkeypatch):
    from huedb_plugins.embedding.google_vertex_ef import GoogleVertexEmbeddingFunction

    monkeypatch.setenv("CHROMA_GOOGLE_VERTEX_API_KEY", KEY)
    with pytest.raises(InvalidArgumentError, match=f"{field} .* is not a valid"):
        GoogleVertexEmbeddingFunction(**{field: value})
    gecko = GoogleVertexEmbeddingFunction()  # chromadb's defaults: textembedding-gecko takes 5 texts a request
    assert gecko.max_batch == 5 and gecko._url.startswith("https://us-central1-aiplatform.googleapis.com/v1/projects/")


@pytest.mark.parametrize(
    "module, cls",
    [
        ("chroma_cloud_qwen_ef", "ChromaCloudQwenEmbeddingFunction"),
        ("chroma_cloud_splade_ef", "ChromaCloudSpladeEmbeddingFunction"),
    ],
)
def test_chroma_cloud_model_is_one_it_serves(module, cls):
    """Both Chroma Cloud EFs check their model alike: a name or chromadb's enum member of one
    Chroma Cloud serves; any other model is refused with the list of those it serves."""
    import enum

    mod = importlib.import_module(f"huedb_plugins.embedding.{module}")
    ef_class = getattr(mod, cls)
    (served,) = mod.MODELS
    member = enum.Enum("Model", {"ONLY": served}).ONLY
    assert ef_class(model=member, api_key=KEY).model == served
    assert ef_class(model=served, api_key=KEY).model == served
    with pytest.raises(InvalidArgumentError, match=f"model must be one of {re.escape(served)}, got 'other/model'"):
        ef_class(model="other/model", api_key=KEY)
