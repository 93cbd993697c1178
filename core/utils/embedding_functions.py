"""chromadb-compatible import path for embedding functions.

Every class name ``chromadb.utils.embedding_functions`` exports (1.5.9) resolves here,
lazily, through the plugin registry: importing this module imports no plugin and no
provider SDK, and the plugin modules import their SDK only when an EF is created. The
core never imports plugins by module path.
"""

from __future__ import annotations

import sys
from typing import Any

from huedb.api.types import SparseEmbeddingFunction
from huedb.embedding_functions import EmbeddingFunction
from huedb.registry import get_registry, register_embedding_function

#: chromadb class name -> registry name of the EF plugin that provides it
_CLASSES: dict[str, str] = {
    "DefaultEmbeddingFunction": "default",
    "ONNXMiniLM_L6_V2": "onnx_mini_lm_l6_v2",
    "OpenAIEmbeddingFunction": "openai",
    "CohereEmbeddingFunction": "cohere",
    "OpenCLIPEmbeddingFunction": "open_clip",
    "OllamaEmbeddingFunction": "ollama",
    "VoyageAIEmbeddingFunction": "voyageai",
    "MistralEmbeddingFunction": "mistral",
    "TogetherAIEmbeddingFunction": "together_ai",
    "GoogleGeminiEmbeddingFunction": "google_gemini",
    "GoogleGenaiEmbeddingFunction": "google_genai",  # the same class in chromadb
    "GoogleGenerativeAiEmbeddingFunction": "google_generative_ai",
    "HuggingFaceEmbeddingFunction": "huggingface",
    "HuggingFaceEmbeddingServer": "huggingface_server",
    "JinaEmbeddingFunction": "jina",
    "CloudflareWorkersAIEmbeddingFunction": "cloudflare_workers_ai",
    "RoboflowEmbeddingFunction": "roboflow",
    "ChromaCloudQwenEmbeddingFunction": "chroma-cloud-qwen",
    "BasetenEmbeddingFunction": "baseten",
    "MorphEmbeddingFunction": "morph",
    "PerplexityEmbeddingFunction": "perplexity",
    "SentenceTransformerEmbeddingFunction": "sentence_transformer",
    "ChromaLangchainEmbeddingFunction": "langchain",
    "AmazonBedrockEmbeddingFunction": "amazon_bedrock",
    "NomicEmbeddingFunction": "nomic",
    "GoogleVertexEmbeddingFunction": "google_vertex",
    "ChromaBm25EmbeddingFunction": "chroma_bm25",
    "Bm25EmbeddingFunction": "bm25",
    "HuggingFaceSparseEmbeddingFunction": "huggingface_sparse",
    "FastembedSparseEmbeddingFunction": "fastembed_sparse",
    "ChromaCloudSpladeEmbeddingFunction": "chroma-cloud-splade",
    "InstructorEmbeddingFunction": "instructor",
    "Text2VecEmbeddingFunction": "text2vec",
    "GooglePalmEmbeddingFunction": "google_palm",
}

#: other names chromadb exports here: name -> (registry name of the EF whose module defines it, attribute)
_COMPANIONS: dict[str, tuple] = {
    "JinaQueryConfig": ("jina", "JinaQueryConfig"),
    "NomicQueryConfig": ("nomic", "NomicQueryConfig"),
}


def get_builtins() -> list[str]:
    return sorted(_CLASSES)


def _is_sparse(cls: Any) -> bool:
    try:
        return bool(cls.is_sparse())
    except (AttributeError, TypeError):
        return False


def _known(sparse: bool) -> dict[str, Any]:
    """Registered EF classes by name, dense or sparse (chromadb keeps two dicts)."""
    registry = get_registry()
    classes = {n: registry.get("embedding_function", n) for n in registry.names("embedding_function")}
    return {n: c for n, c in classes.items() if _is_sparse(c) == sparse}


def register_sparse_embedding_function(ef_class: Any = None) -> Any:
    """chromadb's decorator for sparse EFs: one registry holds both kinds in huedb."""
    return register_embedding_function(ef_class)


def config_to_embedding_function(config: dict[str, Any]) -> Any:
    """The EF a ``{"name": ..., "config": {...}}`` dict describes, built with ``build_from_config``."""
    if not isinstance(config, dict) or "name" not in config:
        raise ValueError("Config must contain a 'name' field, e.g. {'name': 'openai', 'config': {...}}.")
    registry = get_registry()
    name = config["name"]
    if name not in registry.names("embedding_function"):
        raise ValueError(
            f"Unsupported embedding function: {name!r}; installed: {', '.join(registry.names('embedding_function'))}"
        )
    return registry.get("embedding_function", name).build_from_config(config.get("config") or {})


def __getattr__(name: str) -> Any:
    if name in _CLASSES:
        return get_registry().get("embedding_function", _CLASSES[name])
    if name in _COMPANIONS:
        ef_name, attr = _COMPANIONS[name]
        return getattr(sys.modules[get_registry().get("embedding_function", ef_name).__module__], attr)
    if name == "known_embedding_functions":
        return _known(sparse=False)
    if name == "sparse_known_embedding_functions":
        return _known(sparse=True)
    raise AttributeError(f"module 'huedb.utils.embedding_functions' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(
        {*globals(), *_CLASSES, *_COMPANIONS, "known_embedding_functions", "sparse_known_embedding_functions"}
    )


__all__ = [
    "EmbeddingFunction",
    "SparseEmbeddingFunction",
    "register_embedding_function",
    "register_sparse_embedding_function",
    "config_to_embedding_function",
    "get_builtins",
    *_CLASSES,
    *_COMPANIONS,
]
