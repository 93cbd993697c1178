"""Domain types shared by every layer: clients, the engine, storage backends and the server.

This module imports nothing from huedb, so any layer may import it without a
back-edge. It is the one place that names the result fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict

DEFAULT_TENANT = "default_tenant"
DEFAULT_DATABASE = "default_database"

#: the per-record fields a get or query can return besides ids, in result order
RECORD_FIELDS: tuple[str, ...] = ("documents", "metadatas", "uris", "embeddings")
#: what ``include`` may name for get, and for query (which adds distances)
GET_INCLUDE: tuple[str, ...] = ("documents", "embeddings", "metadatas", "uris", "data")
QUERY_INCLUDE: tuple[str, ...] = GET_INCLUDE + ("distances",)
#: what is included when ``include`` is not given (chromadb's defaults)
DEFAULT_GET_INCLUDE: tuple[str, ...] = ("metadatas", "documents")
DEFAULT_QUERY_INCLUDE: tuple[str, ...] = ("metadatas", "documents", "distances")
#: fields a write may clear where it gives no value (a record rewritten in another modality)
CLEARABLE_FIELDS: tuple[str, ...] = ("documents", "uris")


@dataclass
class CollectionModel:
    """A collection as stored: what the engine and the server pass around."""

    id: str
    name: str
    metadata: dict[str, Any] | None
    configuration_json: dict[str, Any]
    dimension: int | None
    tenant: str
    database: str
    version: int = 0
    #: the index schema given at creation (Chroma's JSON, without the vector index settings,
    #: which are the configuration's; see huedb.index_schema), None for Chroma's default; in a
    #: model returned to a client (get, list, fork...) it also lists the metadata keys the data
    #: has held (huedb.index_schema.with_seen_keys)
    schema: dict[str, Any] | None = None
    #: the storage backend's key for the collection (never sent over the wire)
    internal_id: int | None = field(default=None, repr=False)

    @property
    def storage_key(self) -> int:
        """``internal_id`` of a collection read from storage, as the engine and backends use it."""
        if self.internal_id is None:
            raise ValueError(f"collection {self.name!r} was not read from storage: it has no storage key")
        return self.internal_id

    def __getitem__(self, key: str) -> Any:  # chromadb's model is subscriptable: model["name"]
        return getattr(self, key)


class GetResult(TypedDict):
    ids: list[str]
    embeddings: Any | None
    documents: list[str | None] | None
    uris: list[str | None] | None
    metadatas: list[dict[str, Any] | None] | None
    data: Any | None
    included: list[str]


class QueryResult(TypedDict):
    ids: list[list[str]]
    embeddings: list[Any] | None
    documents: list[list[str | None]] | None
    uris: list[list[str | None]] | None
    metadatas: list[list[dict[str, Any] | None]] | None
    distances: list[list[float]] | None
    data: Any | None
    included: list[str]
