"""GoogleGeminiEmbeddingFunction with ``vertexai=True``: the google-genai SDK against a fake of
Vertex AI on 127.0.0.1, authenticated as a real user would be: application default credentials
from a service account key file (GOOGLE_APPLICATION_CREDENTIALS) whose token_uri is the fake."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import numpy as np
import pytest

import huedb
import huedb.schemas
from fakes import fake_embedding
from fakes import providers as fakes
from huedb.errors import AuthenticationError, ChromaError, InvalidArgumentError, QuotaError
from huedb_plugins.embedding import http_provider
from huedb_plugins.embedding.google_ef import GoogleGeminiEmbeddingFunction

ROOT = Path(__file__).resolve().parents[1]
MODEL_PATH = "/v1beta1/projects/my-proj/locations/europe-west4/publishers/google/models/"


def service_account_file(path: Path, token_uri: str) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "my-proj",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": "huedb-test@my-proj.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
    path.write_text(json.dumps(info))
    return str(path)


@pytest.fixture
def vertex(monkeypatch, tmp_path):
    """(server, make): ADC pointing at the fake's token endpoint, the EF pointed at the fake."""
    monkeypatch.setattr(http_provider, "RETRY_INITIAL_WAIT", 0.01)
    for var in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_VERTEX_BASE_URL", "HUEDB_GOOGLE_GEMINI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    with fakes.FakeVertexGenAI() as server:
        creds = service_account_file(tmp_path / "sa.json", server.url + "/token")
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", creds)

        def make(**kw):
            args = {"vertexai": True, "project": "my-proj", "location": "europe-west4", "base_url": server.url}
            args.update({"task_type": "RETRIEVAL_DOCUMENT", "dimension": 8})
            return GoogleGeminiEmbeddingFunction(**{**args, **kw})

        yield server, make


def expected(texts):
    return np.stack([fake_embedding(t, 8) for t in texts])


def test_multi_batch_success_and_the_exact_request(vertex):
    server, make = vertex
    ef = make()
    texts = [f"document {i}" for i in range(201)]
    np.testing.assert_array_equal(np.stack(ef(texts)), expected(texts))
    requests = server.embedding_requests
    assert len(requests) == 3 and [len(r.body["requests"]) for r in requests[:2]] == [100, 100]
    first = requests[0]
    assert first.path == MODEL_PATH + "gemini-embedding-001:batchEmbedContents"
    assert first.headers["authorization"] == "Bearer vertex-token" and "x-goog-api-key" not in first.headers
    assert [r["content"]["parts"][0]["text"] for r in first.body["requests"]] == texts[:100]
    assert {json.dumps(r["embedContentConfig"]) for r in first.body["requests"]} == {
        json.dumps({"taskType": "RETRIEVAL_DOCUMENT", "outputDimensionality": 8})
    }
    last = requests[-1]  # one text left: the SDK sends it to :embedContent
    assert last.path == MODEL_PATH + "gemini-embedding-001:embedContent"
    assert last.body["content"]["parts"][0]["text"] == "document 200"
    assert server.token_requests == 1  # the token is fetched once and reused


def test_text_embedding_models_use_predict(vertex):
    server, make = vertex
    ef = make(model_name="text-embedding-005")
    np.testing.assert_array_equal(np.stack(ef(["a", "b"])), expected(["a", "b"]))
    request = server.embedding_requests[0]
    assert request.path == MODEL_PATH + "text-embedding-005:predict"
    assert request.body == {
        "instances": [
            {"content": "a", "task_type": "RETRIEVAL_DOCUMENT"},
            {"content": "b", "task_type": "RETRIEVAL_DOCUMENT"},
        ],
        "parameters": {"outputDimensionality": 8},
    }


def test_query_mode(vertex):
    server, make = vertex
    ef = make()
    ef.embed_query(["q1", "q2"]), ef(["d1", "d2"])
    query, doc = server.embedding_requests
    assert {r["embedContentConfig"]["taskType"] for r in query.body["requests"]} == {"RETRIEVAL_QUERY"}
    assert {r["embedContentConfig"]["taskType"] for r in doc.body["requests"]} == {"RETRIEVAL_DOCUMENT"}


def test_refused_credentials_are_authentication_error(vertex):
    server, make = vertex
    server.valid_keys = {"another-token"}
    with pytest.raises(
        AuthenticationError, match=r"Vertex AI refused Google application default credentials \(HTTP 401\)"
    ):
        make()(["x", "y"])
    assert len(server.embedding_requests) == 1  # not retried


def test_rate_limit_then_success_server_error_and_quota(vertex):
    server, make = vertex
    server.fail_next(429, times=2)
    np.testing.assert_array_equal(np.stack(make(max_retries=2)(["r1", "r2"])), expected(["r1", "r2"]))
    assert [r.status for r in server.embedding_requests] == [429, 429, 200]
    server.fail_next(503, times=1, headers={"retry-after": "0"})
    np.testing.assert_array_equal(np.stack(make()(["s1", "s2"])), expected(["s1", "s2"]))
    server.fail_next(429, times=None)
    with pytest.raises(QuotaError, match="429.*1 retry"):
        make(max_retries=1)(["never", "ever"])


def test_timeout_names_the_endpoint(vertex):
    server, make = vertex
    make()(["warm", "up"])  # the token exchange is done
    server.delay_next(2.0)
    with pytest.raises(ChromaError, match=r"did not answer within 0.3s at http://127\.0\.0\.1"):
        make(timeout=0.3, max_retries=0)(["slow", "one"])


def test_missing_credentials_or_project(vertex, monkeypatch, tmp_path):
    import google.auth.compute_engine._metadata as metadata

    server, make = vertex
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "no-gcloud"))  # no `gcloud auth` credentials
    monkeypatch.setattr(metadata, "_NO_GCE_CHECK", True)  # not on Google Cloud: no metadata server
    monkeypatch.setenv("GEMINI_API_KEY", "a-key")  # an API key is not used by Vertex AI mode
    with pytest.raises(
        InvalidArgumentError, match="needs Google Cloud credentials: set GOOGLE_APPLICATION_CREDENTIALS"
    ):
        make()
    for bad in ({"project": None}, {"project": "../other"}, {"location": "us-central1/x"}):
        with pytest.raises(InvalidArgumentError, match="vertexai=True needs"):
            make(**bad)
    assert server.requests == []


def test_config_round_trip_through_a_collection_in_a_new_process(vertex, tmp_path):
    server, make = vertex
    ef = make(dimension=None)
    config = ef.get_config()
    assert config == {
        "model_name": "gemini-embedding-001",
        "api_key_env_var": "GEMINI_API_KEY",
        "vertexai": True,
        "project": "my-proj",
        "location": "europe-west4",
        "task_type": "RETRIEVAL_DOCUMENT",
    }
    jsonschema.validate(config, json.loads((Path(huedb.schemas.__file__).parent / "google_gemini.json").read_text()))
    for field in ("model_name", "dimension"):
        with pytest.raises(InvalidArgumentError, match=field):
            ef.validate_config_update(config, {field: 3})
    path = str(tmp_path / "db")
    col = huedb.PersistentClient(path=path).create_collection("docs", embedding_function=ef)
    col.add(ids=["a", "b"], documents=["hello", "world"])
    code = textwrap.dedent(f"""
        import json, huedb
        col = huedb.PersistentClient(path={path!r}).get_collection("docs")
        print(json.dumps({{"ids": col.query(query_texts=["world"], n_results=1)["ids"],
                           "config": col.configuration_json["embedding_function"]}}))
    """)
    env = {**os.environ, "GOOGLE_VERTEX_BASE_URL": server.url}  # the endpoint is the reader's setting
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["ids"] == [["b"]] and out["config"] == {"type": "known", "name": "google_gemini", "config": config}
    last = server.embedding_requests[-1]
    assert last.path == MODEL_PATH + "gemini-embedding-001:embedContent"
    assert last.headers["authorization"] == "Bearer vertex-token"
    assert last.body["embedContentConfig"] == {"taskType": "RETRIEVAL_QUERY"}
