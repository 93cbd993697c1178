"""Compatibility path: ``CollectionModel`` lives in ``huedb.types`` (importable by every layer).

Kept so that existing ``from huedb.api.models import CollectionModel`` imports keep
working while the storage layer moves to ``huedb.types``; new code imports from there.
"""
from __future__ import annotations

from huedb.types import CollectionModel

__all__ = ["CollectionModel"]
