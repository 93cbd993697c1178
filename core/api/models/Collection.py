"""chromadb-compatible module path: ``from huedb.api.models.Collection import Collection``.

The class lives in ``huedb.api.collection``; the type names chromadb's module exposes
beside it are re-exported from ``huedb.api.types``.
"""

from __future__ import annotations

import logging

from huedb.api.collection import Collection
from huedb.api.types import (
    ID,
    URI,
    CollectionMetadata,
    DeleteResult,
    Document,
    Embedding,
    GetResult,
    IDs,
    Image,
    Include,
    IndexingStatus,
    Metadata,
    OneOrMany,
    PyEmbedding,
    QueryResult,
    ReadLevel,
    SearchResult,
    Where,
    WhereDocument,
    maybe_cast_one_to_many,
)
from huedb.execution.expression import Search

logger = logging.getLogger("huedb")

__all__ = [
    "URI",
    "Collection",
    "CollectionMetadata",
    "DeleteResult",
    "Document",
    "Embedding",
    "GetResult",
    "ID",
    "IDs",
    "Image",
    "Include",
    "IndexingStatus",
    "Metadata",
    "OneOrMany",
    "PyEmbedding",
    "QueryResult",
    "ReadLevel",
    "Search",
    "SearchResult",
    "Where",
    "WhereDocument",
    "logger",
    "maybe_cast_one_to_many",
]
