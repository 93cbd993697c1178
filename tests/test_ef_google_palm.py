"""google_palm: Google shut the PaLM API down. The EF keeps chromadb's class name, persisted
name and config so collections open; every embedding call says what to use instead."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest

import huedb
import huedb.schemas
from huedb.errors import ChromaError, InvalidArgumentError
from huedb.registry import get_registry
from huedb.utils.embedding_functions import GooglePalmEmbeddingFunction

SCHEMA = json.loads((Path(huedb.schemas.__file__).parent / "google_palm.json").read_text())


def test_embedding_says_the_api_is_gone_and_what_to_use(monkeypatch):
    monkeypatch.delenv("CHROMA_GOOGLE_PALM_API_KEY", raising=False)
    ef = GooglePalmEmbeddingFunction()  # no key and no SDK needed: nothing is ever sent
    for call in (ef, ef.embed_query):
        with pytest.raises(ChromaError, match="shut the PaLM API down") as info:
            call(["hello"])
        assert isinstance(info.value, ValueError)
        for hint in ("GoogleGeminiEmbeddingFunction", "huedb[google]", "query_embeddings"):
            assert hint in str(info.value)
    assert ef.name() == "google_palm" and ef.default_space() == "cosine"
    assert ef.supported_spaces() == ["cosine", "l2", "ip"]
    assert get_registry().get("embedding_function", "google_palm") is GooglePalmEmbeddingFunction


def test_config_is_chromadbs_and_never_holds_the_key():
    ef = GooglePalmEmbeddingFunction(api_key="secret", api_key_env_var="MY_PALM_KEY")
    config = ef.get_config()
    assert config == {"api_key_env_var": "MY_PALM_KEY", "model_name": "models/embedding-gecko-001"}
    jsonschema.validate(config, SCHEMA)
    GooglePalmEmbeddingFunction.validate_config(config)
    assert GooglePalmEmbeddingFunction.build_from_config(config).get_config() == config
    with pytest.raises(InvalidArgumentError, match="model_name"):
        ef.validate_config_update(config, {"model_name": "models/other"})
    with pytest.raises(InvalidArgumentError, match="model_name"):
        GooglePalmEmbeddingFunction(model_name="")


def test_a_palm_collection_opens_in_a_new_process(tmp_path):
    path = str(tmp_path / "db")
    col = huedb.PersistentClient(path=path).create_collection(
        "old", embedding_function=GooglePalmEmbeddingFunction(api_key="secret")
    )
    col.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]], documents=["first", "second"])
    with pytest.raises(ChromaError, match="PaLM"):
        col.add(ids=["c"], documents=["needs an EF"])
    assert col.count() == 2  # the failed add changed nothing
    code = textwrap.dedent(f"""
        import json, huedb
        col = huedb.PersistentClient(path={path!r}).get_collection("old")
        out = {{"config": col.configuration_json["embedding_function"], "count": col.count(),
                "docs": col.get(ids=["b"])["documents"],
                "ids": col.query(query_embeddings=[[0.9, 0.1]], n_results=1)["ids"]}}
        try:
            col.query(query_texts=["text"], n_results=1)
        except Exception as e:
            out["error"] = type(e).__name__ + ": " + str(e)
        print(json.dumps(out))
    """)
    env = {k: v for k, v in os.environ.items() if k != "CHROMA_GOOGLE_PALM_API_KEY"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["config"] == {
        "type": "known",
        "name": "google_palm",
        "config": {"api_key_env_var": "CHROMA_GOOGLE_PALM_API_KEY", "model_name": "models/embedding-gecko-001"},
    }
    assert out["count"] == 2 and out["docs"] == ["second"] and out["ids"] == [["a"]]
    assert out["error"].startswith("PalmAPIShutDownError: GooglePalmEmbeddingFunction cannot embed")
    assert "secret" not in proc.stdout
