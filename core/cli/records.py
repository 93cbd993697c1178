"""Moving records and collections through the public API (used by copy, export, import)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from huedb import index_schema
from huedb.cli.common import RECORD_INCLUDE, plain_configuration


@dataclass
class Batch:
    """Parallel lists of records; embeddings as one float32 array (exact, no float64 detour)."""

    ids: list[str] = field(default_factory=list)
    embeddings: np.ndarray | None = None
    documents: list[str | None] = field(default_factory=list)
    metadatas: list[dict[str, Any] | None] = field(default_factory=list)
    uris: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


def _column(result: dict[str, Any], key: str, n: int) -> list[Any]:
    values = result.get(key)
    return [None] * n if values is None else list(values)


def iter_batches(collection: Any, batch_size: int, start: int = 0) -> Iterator[Batch]:
    """Every record of ``collection``, ``batch_size`` at a time, with embeddings."""
    offset = start
    while True:
        result = collection.get(limit=batch_size, offset=offset, include=RECORD_INCLUDE)
        ids = list(result["ids"])
        if not ids:
            return
        n = len(ids)
        embeddings = result.get("embeddings")
        yield Batch(
            ids=ids,
            embeddings=None if embeddings is None else np.asarray(embeddings, dtype=np.float32),
            documents=_column(result, "documents", n),
            metadatas=[m or None for m in _column(result, "metadatas", n)],
            uris=_column(result, "uris", n),
        )
        offset += n
        if n < batch_size:
            return


def write_batch(collection: Any, batch: Batch) -> None:
    """Upserts a batch: copying twice, or again after an interruption, never duplicates."""
    kwargs: dict[str, Any] = {"ids": batch.ids, "embeddings": batch.embeddings}
    # Only the columns that hold something: a server may refuse an all-None column.
    for name, values in (("documents", batch.documents), ("metadatas", batch.metadatas), ("uris", batch.uris)):
        if any(v is not None for v in values):
            kwargs[name] = values
    collection.upsert(**kwargs)


def create_like(
    client: Any,
    name: str,
    configuration_json: dict[str, Any],
    metadata: dict[str, Any] | None,
    schema: dict[str, Any] | None = None,
) -> Any:
    """get_or_create a collection with the source's configuration, metadata, persisted EF and
    index schema (a huedb source's; its vector settings then travel in the schema, as Chroma
    takes a schema or an hnsw configuration, not both)."""
    configuration = plain_configuration(configuration_json)
    served = None
    if isinstance(schema, dict):
        served = index_schema.served(schema, configuration_json or {})
        configuration.pop("hnsw", None)
    ef_spec = (configuration_json or {}).get("embedding_function")
    if ef_spec is None:
        # The source stores no EF (reopened, Chroma and huedb alike embed with the default
        # one). The client's create rule would store "no EF" (legacy) for embedding_function
        # =None next to a configuration, so the copy goes through the ServerAPI, which keeps
        # the configuration exactly as given.
        config = {**configuration, "embedding_function": None}
        client._server.create_collection(name, config, metadata or None, True, **client._scope(), schema=served)
        return client.get_collection(name)
    return client.get_or_create_collection(name, configuration=configuration, metadata=metadata or None, schema=served)


def collection_header(collection: Any) -> dict[str, Any]:
    return {
        "name": collection.name,
        "metadata": collection.metadata,
        "configuration": collection.configuration_json,
        # huedb's stored index schema (None: Chroma's default; a chromadb source has none here)
        "schema": _stored_schema(collection),
    }


def _stored_schema(collection: Any) -> dict[str, Any] | None:
    schema = getattr(getattr(collection, "_model", None), "schema", None)
    return schema if isinstance(schema, dict) else None
