"""Row decoding that every SQL backend shares."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from huedb.sparse import loads_metadata_list
from huedb.storage.protocol import Records
from huedb.types import CollectionModel


def collection_model(row: tuple[Any, ...]) -> CollectionModel:
    """A collection from ``(cid, id, name, metadata, configuration, dimension, seq, tenant,
    database)``, its metadata and configuration stored as JSON text (the configuration's
    ``"schema"`` entry, when the collection has one, becomes ``CollectionModel.schema``)."""
    cid, cid_uuid, name, metadata, configuration, dimension, seq, tenant, database = row
    config = json.loads(configuration)
    # the index schema is stored in the configuration's JSON, and kept apart in the model
    schema = config.pop("schema", None)
    return CollectionModel(
        id=cid_uuid,
        name=name,
        metadata=json.loads(metadata) if metadata else None,
        configuration_json=config,
        dimension=dimension,
        tenant=tenant,
        database=database,
        version=seq,
        internal_id=cid,
        schema=schema,
    )


def loads_metadatas(texts: Sequence[str | None]) -> list[dict[str, Any] | None]:
    """Stored metadata JSON (or NULL) to dicts, in one parse (per-call overhead dominates
    small dicts); sparse vector values become SparseVector objects, as every reader gets them."""
    return loads_metadata_list("[" + ",".join(t or "null" for t in texts) + "]")


def records_from_rows(
    rows: Sequence[tuple], fields: Sequence[str], embeddings: Callable[[list[Any]], np.ndarray]
) -> Records:
    """Columnar, decoded records from ``(rid, id, *fields)`` rows; ``embeddings`` decodes the
    backend's stored vectors (SQLite blobs, pgvector values)."""
    pos = {f: i + 2 for i, f in enumerate(fields)}

    def column(name: str) -> list[Any] | None:
        return [r[pos[name]] for r in rows] if name in pos else None

    metadatas = column("metadatas")
    stored = column("embeddings")
    return Records(
        rids=np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
        ids=[r[1] for r in rows],
        documents=column("documents"),
        metadatas=None if metadatas is None else loads_metadatas(metadatas),
        uris=column("uris"),
        embeddings=None if stored is None else embeddings(stored),
    )
