"""Domain types shared by every layer: clients, the engine, storage backends and the server.

This module imports nothing from huedb, so any layer may import it without a
back-edge. It is the one place that names the result fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple, TypedDict

DEFAULT_TENANT = "default_tenant"
DEFAULT_DATABASE = "default_database"

#: the per-record fields a get or query can return besides ids, in result order
RECORD_FIELDS: Tuple[str, ...] = ("documents", "metadatas", "uris", "embeddings")
#: what ``include`` may name for get, and for query (which adds distances)
GET_INCLUDE: Tuple[str, ...] = ("documents", "embeddings", "metadatas", "uris", "data")
QUERY_INCLUDE: Tuple[str, ...] = GET_INCLUDE + ("distances",)
#: what is included when ``include`` is not given (chromadb's defaults)
DEFAULT_GET_INCLUDE: Tuple[str, ...] = ("metadatas", "documents")
DEFAULT_QUERY_INCLUDE: Tuple[str, ...] = ("metadatas", "documents", "distances")
#: fields a write may clear where it gives no value (a record rewritten in another modality)
CLEARABLE_FIELDS: Tuple[str, ...] = ("documents", "uris")


@dataclass
class CollectionModel:
    """A collection as stored: what the engine and the server pass around."""

    id: str
    name: str
    metadata: Optional[Dict[str, Any]]
    configuration_json: Dict[str, Any]
    dimension: Optional[int]
    tenant: str
    database: str
    version: int = 0
    #: the storage backend's key for the collection (never sent over the wire)
    internal_id: Optional[int] = field(default=None, repr=False)

    def __getitem__(self, key: str) -> Any:  # chromadb's model is subscriptable: model["name"]
        return getattr(self, key)


class GetResult(TypedDict):
    ids: List[str]
    embeddings: Optional[Any]
    documents: Optional[List[Optional[str]]]
    uris: Optional[List[Optional[str]]]
    metadatas: Optional[List[Optional[Dict[str, Any]]]]
    data: Optional[Any]
    included: List[str]


class QueryResult(TypedDict):
    ids: List[List[str]]
    embeddings: Optional[List[Any]]
    documents: Optional[List[List[Optional[str]]]]
    uris: Optional[List[List[Optional[str]]]]
    metadatas: Optional[List[List[Optional[Dict[str, Any]]]]]
    distances: Optional[List[List[float]]]
    data: Optional[Any]
    included: List[str]
