"""A collection's index schema in Chroma's JSON form (``Collection.schema`` over REST).

huedb keeps every metadata field in its filter index and the document in its
full-text index; the vector index is configured by the collection's ``hnsw``
section and embedding function. Chroma's clients read this schema (for example
``modify(configuration=...)`` updates ``defaults.float_list.vector_index``), so the
server serves it built from the collection's configuration, in the shape a Chroma
1.5.9 server gives a collection with the same configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _index(enabled: bool, config: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"enabled": enabled, "config": config or {}}


def collection_schema(configuration: Mapping[str, Any]) -> dict[str, Any]:
    hnsw = dict(configuration.get("hnsw") or {})
    space = hnsw.pop("space", "l2")
    ef = configuration.get("embedding_function") or {"type": "legacy"}
    vector = {"space": space, "hnsw": hnsw, "embedding_function": ef}
    return {
        "defaults": {
            "string": {"fts_index": _index(False), "string_inverted_index": _index(True)},
            "float_list": {"vector_index": _index(False, dict(vector))},
            "sparse_vector": {
                "sparse_vector_index": _index(False, {"bm25": False, "embedding_function": {"type": "unknown"}})
            },
            "int": {"int_inverted_index": _index(True)},
            "float": {"float_inverted_index": _index(True)},
            "bool": {"bool_inverted_index": _index(True)},
        },
        "keys": {
            "#document": {"string": {"fts_index": _index(True), "string_inverted_index": _index(False)}},
            "#embedding": {"float_list": {"vector_index": _index(True, {**vector, "source_key": "#document"})}},
        },
    }
