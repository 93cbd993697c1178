"""chroma-cloud-splade against a fake of Chroma Cloud's sparse embedding endpoint on 127.0.0.1:
multi-batch success, the exact request, 401, 429 then success, persistent 429, a timeout, a
missing key, the config, and a rebuild in a new process with no secret stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest

import huedb.schemas
from fakes import providers as fakes
from huedb import SparseVector
from huedb.ef_persistence import check_persisted_ef, serialize
from huedb.errors import AuthenticationError, ChromaError, ForbiddenError, InvalidArgumentError, QuotaError
from huedb.registry import get_registry
from huedb_plugins.embedding import http_provider
from huedb_plugins.embedding.chroma_cloud_splade_ef import ChromaCloudSpladeEmbeddingFunction

KEY = "test-key"
ROOT = Path(__file__).resolve().parents[1]


def expected(text, include_tokens=False):
    item = fakes.fake_sparse(text)
    order = sorted(range(len(item["indices"])), key=lambda i: item["indices"][i])
    labels = [item["labels"][i] for i in order] if include_tokens else None
    return SparseVector(
        indices=[item["indices"][i] for i in order], values=[item["values"][i] for i in order], labels=labels
    )


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setattr(http_provider, "RETRY_INITIAL_WAIT", 0.01)
    for var in ("CHROMA_API_KEY", "CHROMA_EMBED_URL", "HUEDB_CHROMA_CLOUD_SPLADE_BASE_URL", "MY_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CHROMA_API_KEY", KEY)
    with fakes.FakeChromaSplade() as fake:
        yield fake


def make(server, **kwargs):
    return ChromaCloudSpladeEmbeddingFunction(base_url=server.url, **kwargs)


def test_registered_under_chromas_name(server):
    cls = get_registry().get("embedding_function", "chroma-cloud-splade")
    assert cls is ChromaCloudSpladeEmbeddingFunction and cls.name() == "chroma-cloud-splade" and cls.is_sparse()


def test_multi_batch_success_and_the_exact_request(server):
    ef = make(server)
    texts = [f"document number {i} about splade" for i in range(201)]
    out = ef(texts)
    assert out == [expected(t) for t in texts] and all(isinstance(v, SparseVector) for v in out)
    requests = server.embedding_requests
    assert [len(r.body["texts"]) for r in requests] == [100, 100, 1]
    first = requests[0]
    assert first.path == "/embed_sparse" and first.method == "POST"
    assert first.headers["x-chroma-token"] == KEY
    assert first.headers["x-chroma-embedding-model"] == "prithivida/Splade_PP_en_v1"
    assert first.body == {"texts": texts[:100], "task": "", "target": "", "fetch_tokens": "false"}
    assert ef([]) == [] and ef("one text") == [expected("one text")]
    assert ef.embed_query(["a question"]) == [expected("a question")]  # no query mode
    assert server.embedding_requests[-1].body["texts"] == ["a question"]


def test_include_tokens_asks_for_and_keeps_the_labels(server):
    out = make(server, include_tokens=True)(["Sparse vectors rock"])
    assert out == [expected("Sparse vectors rock", include_tokens=True)] and out[0].labels
    assert server.embedding_requests[0].body["fetch_tokens"] == "true"


def test_rejected_key(server, monkeypatch):
    monkeypatch.setenv("MY_KEY", "wrong-key")
    with pytest.raises(AuthenticationError) as info:
        make(server, api_key_env_var="MY_KEY")(["x"])
    assert "401" in str(info.value) and "MY_KEY" in str(info.value) and "wrong-key" not in str(info.value)
    assert len(server.embedding_requests) == 1


def test_rate_limit_then_success_and_persistent_rate_limit(server):
    server.fail_next(429, times=2)
    assert make(server, max_retries=2)(["retry me"]) == [expected("retry me")]
    assert [r.status for r in server.embedding_requests] == [429, 429, 200]
    server.fail_next(429, times=None)
    with pytest.raises(QuotaError, match="429.*1 retry"):
        make(server, max_retries=1)(["never"])


def test_server_error_then_success(server):
    server.fail_next(503, times=1, headers={"retry-after": "0"})
    assert make(server)(["x"]) == [expected("x")]


def test_timeout(server):
    server.delay_next(2.0)
    with pytest.raises(ChromaError, match=r"did not answer within 0.3s"):
        make(server, timeout=0.3, max_retries=0)(["slow"])


def test_missing_key_and_bad_arguments(server, monkeypatch):
    monkeypatch.delenv("CHROMA_API_KEY")
    with pytest.raises(InvalidArgumentError, match="CHROMA_API_KEY"):
        make(server)
    monkeypatch.setenv("CHROMA_API_KEY", KEY)
    with pytest.raises(InvalidArgumentError, match="model must be one of"):
        make(server, model="naver/splade-v3")
    with pytest.raises(InvalidArgumentError, match=r"input\[0\] is int"):
        make(server)([1])
    assert server.requests == []


def test_config_schema_and_rebuild_in_a_new_process_without_the_secret(server):
    ef = make(server, api_key="direct-secret", include_tokens=True)
    config = ef.get_config()
    assert config == {
        "api_key_env_var": "CHROMA_API_KEY",
        "model": "prithivida/Splade_PP_en_v1",
        "include_tokens": True,
    }
    jsonschema.validate(
        config, json.loads((Path(huedb.schemas.__file__).parent / "chroma-cloud-splade.json").read_text())
    )
    with pytest.raises(InvalidArgumentError, match="include_tokens"):
        ef.validate_config_update(config, {"include_tokens": False})
    spec = serialize(ef)
    assert "direct-secret" not in json.dumps(spec)
    check_persisted_ef(spec, ChromaCloudSpladeEmbeddingFunction, "docs", None)
    bad = {**spec, "config": {**config, "api_key_env_var": "AWS_SECRET_ACCESS_KEY"}}
    with pytest.raises(ForbiddenError):
        check_persisted_ef(bad, ChromaCloudSpladeEmbeddingFunction, "docs", None)
    code = textwrap.dedent(f"""
        import json
        from huedb.registry import get_registry
        spec = json.loads({json.dumps(json.dumps(spec))})
        ef = get_registry().get("embedding_function", spec["name"]).build_from_config(spec["config"])
        v = ef(["rebuilt elsewhere"])[0]
        print(json.dumps([v.indices, v.values, v.labels]))
    """)
    env = {k: v for k, v in os.environ.items() if k != "HUEDB_CHROMA_CLOUD_SPLADE_BASE_URL"}
    env.update(CHROMA_API_KEY=KEY, CHROMA_EMBED_URL=server.url)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    want = expected("rebuilt elsewhere", include_tokens=True)
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [want.indices, want.values, want.labels]
    assert server.embedding_requests[-1].headers["x-chroma-token"] == KEY  # read from the named variable
