"""huedb: a vector database that speaks Chroma's API.

``import huedb`` works wherever ``import chromadb`` did: the same client
constructors, arguments, defaults, result shapes and error classes.
"""

from __future__ import annotations

import importlib
import logging
from enum import Enum
from typing import Any

from huedb import errors
from huedb.api.client import AdminClient as _AdminClient
from huedb.api.client import Client as _Client
from huedb.api.client import EphemeralClient, PersistentClient, RustClient
from huedb.api.collection import Collection, GetResult, QueryResult
from huedb.api.schema import (
    BoolInvertedIndexConfig,
    FloatInvertedIndexConfig,
    FtsIndexConfig,
    HnswIndexConfig,
    IntInvertedIndexConfig,
    Schema,
    SpannIndexConfig,
    SparseVectorIndexConfig,
    StringInvertedIndexConfig,
    VectorIndexConfig,
)
from huedb.api.types import (
    URI,
    CollectionMetadata,
    Documents,
    Embeddings,
    IDs,
    Include,
    Metadata,
    Metadatas,
    ReadLevel,
    SparseEmbeddingFunction,
    SparseVector,
    SparseVectors,
    UpdateCollectionMetadata,
    UpdateMetadata,
    URIs,
    Where,
    WhereDocument,
)
from huedb.config import DEFAULT_DATABASE, DEFAULT_TENANT, Settings, configure, get_settings
from huedb.embedding_functions import DataLoader, EmbeddingFunction
from huedb.execution.expression import K, Key, Knn, Rrf, Search
from huedb.registry import register_embedding_function
from huedb.version import __version__

ClientAPI = _Client
AdminAPI = _AdminClient
#: chromadb's names for the concrete client classes
ClientCreator = _Client
AdminClientCreator = _AdminClient

logger = logging.getLogger("huedb")
#: chromadb's flag: True when this process is a thin HTTP-only client package (huedb never is)
is_client = False


class TokenTransportHeader(str, Enum):
    """The header a token travels in (``chroma_auth_token_transport_header``)."""

    AUTHORIZATION = "Authorization"
    X_CHROMA_TOKEN = "X-Chroma-Token"


def is_in_colab() -> bool:
    """True when running in Google Colab."""
    try:
        importlib.import_module("google.colab")
    except ImportError:
        return False
    return True


IN_COLAB = is_in_colab()


def Client(settings: Settings | None = None, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE) -> _Client:
    """A client configured by ``settings`` (or the global settings): persistent, in-memory or HTTP."""
    return _Client(settings if settings is not None else get_settings(), tenant, database)


def AdminClient(settings: Settings | None = None) -> _AdminClient:
    """Tenant and database administration, embedded or remote (by settings)."""
    return _AdminClient(settings if settings is not None else get_settings())


def __getattr__(name: str) -> Any:
    # HTTP clients live in huedb.api.http_client; import them only when asked for.
    if name in ("HttpClient", "AsyncHttpClient", "CloudClient", "AsyncClientAPI"):
        from huedb.api import http_client

        return getattr(http_client, name)
    if name == "AsyncClientCreator":
        from huedb.api.http_client import AsyncClientAPI

        return AsyncClientAPI
    raise AttributeError(f"module 'huedb' has no attribute {name!r}")


__all__ = [
    "BoolInvertedIndexConfig",
    "FloatInvertedIndexConfig",
    "FtsIndexConfig",
    "HnswIndexConfig",
    "IntInvertedIndexConfig",
    "Schema",
    "SpannIndexConfig",
    "SparseVectorIndexConfig",
    "StringInvertedIndexConfig",
    "VectorIndexConfig",
    "K",
    "Key",
    "Knn",
    "Rrf",
    "Search",
    "URI",
    "AdminClient",
    "AdminClientCreator",
    "AsyncClientAPI",
    "AsyncClientCreator",
    "ClientCreator",
    "CollectionMetadata",
    "DEFAULT_DATABASE",
    "DEFAULT_TENANT",
    "Documents",
    "Embeddings",
    "IDs",
    "IN_COLAB",
    "Include",
    "Metadata",
    "Metadatas",
    "ReadLevel",
    "RustClient",
    "SparseEmbeddingFunction",
    "SparseVector",
    "SparseVectors",
    "TokenTransportHeader",
    "URIs",
    "UpdateCollectionMetadata",
    "UpdateMetadata",
    "Where",
    "WhereDocument",
    "errors",
    "is_client",
    "is_in_colab",
    "logger",
    "AsyncHttpClient",
    "Client",
    "ClientAPI",
    "AdminAPI",
    "CloudClient",
    "Collection",
    "DataLoader",
    "EmbeddingFunction",
    "EphemeralClient",
    "GetResult",
    "HttpClient",
    "PersistentClient",
    "QueryResult",
    "Settings",
    "configure",
    "get_settings",
    "register_embedding_function",
    "__version__",
]
