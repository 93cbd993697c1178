"""chromadb-compatible import path for data loaders (resolved through the plugin registry)."""

from __future__ import annotations

from typing import Any

from huedb.embedding_functions import DataLoader
from huedb.registry import get_registry

_CLASSES: dict[str, str] = {"ImageLoader": "image"}


def __getattr__(name: str) -> Any:
    if name in _CLASSES:
        return get_registry().get("data_loader", _CLASSES[name])
    raise AttributeError(f"module 'huedb.utils.data_loaders' has no attribute {name!r}")


__all__ = ["DataLoader", *_CLASSES]
