"""chromadb-compatible import path for data loaders (resolved through the plugin registry)."""

from __future__ import annotations

from typing import Any

from huedb.api.types import URI, Image, URIs
from huedb.embedding_functions import DataLoader
from huedb.registry import get_registry

_CLASSES: dict[str, str] = {"ImageLoader": "image"}


class ChromaLangchainPassthroughDataLoader:
    """The data loader langchain's Chroma integration uses for images: it loads nothing and
    hands the URIs on, tagged ``("images", uris)``, for an embedding function that reads the
    files itself (chromadb's ``ChromaLangchainEmbeddingFunction``)."""

    def __call__(self, uris: URIs) -> tuple[str, URIs]:
        return "images", uris


def __getattr__(name: str) -> Any:
    if name in _CLASSES:
        return get_registry().get("data_loader", _CLASSES[name])
    raise AttributeError(f"module 'huedb.utils.data_loaders' has no attribute {name!r}")


__all__ = ["URI", "ChromaLangchainPassthroughDataLoader", "DataLoader", "Image", "URIs", *_CLASSES]
