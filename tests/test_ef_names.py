"""huedb.utils.embedding_functions: chromadb's class names, resolved lazily (no provider SDK imported)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SDKS = (
    "openai",
    "cohere",
    "ollama",
    "voyageai",
    "mistralai",
    "together",
    "google.genai",
    "huggingface_hub",
    "perplexity",
    "sentence_transformers",
    "torch",
    "langchain_core",
    "open_clip",
    "tenacity",
    "boto3",
    "nomic",
    "fastembed",
    "text2vec",
    "InstructorEmbedding",
    "google.generativeai",
    "transformers",
)


def test_every_name_resolves_without_importing_any_sdk():
    code = textwrap.dedent(f"""
        import json, sys
        import huedb.utils.embedding_functions as m
        after_import = [s for s in {SDKS!r} if s in sys.modules]
        classes = {{n: (getattr(m, n).__module__, getattr(m, n).name()) for n in m.get_builtins()}}
        m.JinaQueryConfig, m.NomicQueryConfig, m.GoogleVertexEmbeddingFunction
        known = sorted(m.known_embedding_functions)
        print(json.dumps({{"after_import": after_import, "after_lookup": [s for s in {SDKS!r} if s in sys.modules],
                           "classes": classes, "known": known}}))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["after_import"] == [] and out["after_lookup"] == []
    classes = out["classes"]
    assert classes["VoyageAIEmbeddingFunction"][1] == "voyageai"
    assert classes["GoogleGenaiEmbeddingFunction"] == classes["GoogleGeminiEmbeddingFunction"]
    assert classes["HuggingFaceEmbeddingServer"][1] == "huggingface_server"
    assert classes["ChromaLangchainEmbeddingFunction"][1] == "langchain"
    assert (
        classes["AmazonBedrockEmbeddingFunction"][1] == "amazon_bedrock"
        and classes["NomicEmbeddingFunction"][1] == "nomic"
    )
    assert all(module.startswith("huedb_plugins.embedding.") for module, _ in classes.values())
    assert {"ollama", "jina", "google_genai", "sentence_transformer"} <= set(out["known"])


def test_every_chromadb_class_name_is_exported():
    import huedb.utils.embedding_functions as m

    fixture = json.loads((Path(__file__).parent / "fixtures" / "chromadb_names.json").read_text())
    names = fixture["modules"]["chromadb.utils.embedding_functions"]["names"]
    classes = sorted(n for n, e in names.items() if e["kind"] == "class" and "external" not in e)
    assert len(classes) >= 38
    for name in classes:
        assert isinstance(getattr(m, name), type), name
    with pytest.raises(ImportError):
        exec("from huedb.utils.embedding_functions import NoSuchEmbeddingFunction")
    from huedb.utils.embedding_functions import JinaQueryConfig, OllamaEmbeddingFunction  # noqa: F401


def test_known_dicts_split_dense_and_sparse_and_config_to_ef(fresh_registry):
    import huedb.utils.embedding_functions as m

    dense, sparse = m.known_embedding_functions, m.sparse_known_embedding_functions
    assert {"bm25", "chroma_bm25", "huggingface_sparse", "fastembed_sparse", "chroma-cloud-splade"} <= set(sparse)
    assert {"openai", "instructor", "text2vec", "google_palm", "default"} <= set(dense)
    assert not set(dense) & set(sparse)
    ef = m.config_to_embedding_function({"name": "bm25", "config": {"k": 1.1}})
    assert isinstance(ef, m.Bm25EmbeddingFunction) and ef.k == 1.1
    assert m.config_to_embedding_function({"name": "default"}).name() == "default"
    with pytest.raises(ValueError, match="'name' field"):
        m.config_to_embedding_function({"config": {}})
    with pytest.raises(ValueError, match="Unsupported embedding function: 'nope'"):
        m.config_to_embedding_function({"name": "nope"})

    class MySparse:
        @staticmethod
        def name():
            return "my_sparse_test_ef"

        @staticmethod
        def is_sparse():
            return True

    assert m.register_sparse_embedding_function(MySparse) is MySparse
    assert m.sparse_known_embedding_functions["my_sparse_test_ef"] is MySparse
