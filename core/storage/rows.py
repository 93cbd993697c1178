"""Row decoding that every SQL backend shares."""

from __future__ import annotations

import json
from typing import Any

from huedb.types import CollectionModel


def collection_model(row: tuple[Any, ...]) -> CollectionModel:
    """A collection from ``(cid, id, name, metadata, configuration, dimension, seq, tenant,
    database)``, its metadata and configuration stored as JSON text."""
    cid, cid_uuid, name, metadata, configuration, dimension, seq, tenant, database = row
    return CollectionModel(
        id=cid_uuid,
        name=name,
        metadata=json.loads(metadata) if metadata else None,
        configuration_json=json.loads(configuration),
        dimension=dimension,
        tenant=tenant,
        database=database,
        version=seq,
        internal_id=cid,
    )
