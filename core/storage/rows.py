"""Row decoding that every SQL backend shares."""

from __future__ import annotations

import json
from typing import Any

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
