"""chromadb-compatible import path for embedding functions.

Names resolve lazily through the plugin registry, so optional SDKs load only
when an embedding function is used, and the core never imports plugins.
"""
from __future__ import annotations

from typing import Any, Dict, List

from huedb.embedding_functions import EmbeddingFunction
from huedb.registry import get_registry, register_embedding_function

#: chromadb class name -> (registry name, class attribute name in the plugin)
_CLASSES: Dict[str, str] = {
    "DefaultEmbeddingFunction": "default",
    "ONNXMiniLM_L6_V2": "onnx_mini_lm_l6_v2",
    "OpenAIEmbeddingFunction": "openai",
    "CohereEmbeddingFunction": "cohere",
    "OpenCLIPEmbeddingFunction": "open_clip",
}


def get_builtins() -> List[str]:
    return sorted(_CLASSES)


def __getattr__(name: str) -> Any:
    if name in _CLASSES:
        return get_registry().get("embedding_function", _CLASSES[name])
    raise AttributeError(f"module 'huedb.utils.embedding_functions' has no attribute {name!r}")


__all__ = ["EmbeddingFunction", "register_embedding_function", "get_builtins", *_CLASSES]
