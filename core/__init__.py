"""huedb: a vector database that speaks Chroma's API.

``import huedb`` works wherever ``import chromadb`` did: the same client
constructors, arguments, defaults, result shapes and error classes.
"""

from __future__ import annotations

from typing import Any

from huedb.api.client import AdminClient as _AdminClient
from huedb.api.client import Client as _Client
from huedb.api.client import EphemeralClient, PersistentClient
from huedb.api.collection import Collection, GetResult, QueryResult
from huedb.config import DEFAULT_DATABASE, DEFAULT_TENANT, Settings, configure, get_settings
from huedb.embedding_functions import DataLoader, EmbeddingFunction
from huedb.registry import register_embedding_function
from huedb.version import __version__

ClientAPI = _Client
AdminAPI = _AdminClient


def Client(settings: Settings | None = None, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE) -> _Client:
    """A client configured by ``settings`` (or the global settings): persistent, in-memory or HTTP."""
    return _Client(settings if settings is not None else get_settings(), tenant, database)


def AdminClient(settings: Settings | None = None) -> _AdminClient:
    """Tenant and database administration, embedded or remote (by settings)."""
    return _AdminClient(settings if settings is not None else get_settings())


def __getattr__(name: str) -> Any:
    # HTTP clients live in huedb.api.http_client; import them only when asked for.
    if name in ("HttpClient", "AsyncHttpClient", "CloudClient"):
        from huedb.api import http_client

        return getattr(http_client, name)
    raise AttributeError(f"module 'huedb' has no attribute {name!r}")


__all__ = [
    "AdminClient",
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
