"""Client side of a schema's sparse vector index: filling it on writes, embedding text queries.

As chromadb 1.5.9's client does (observed): with ``SparseVectorIndexConfig(source_key=...,
embedding_function=ef)`` on ``key``, add, update and upsert set ``metadata[key] = ef([text])``
for each record whose source text is a string: its document for ``source_key="#document"``,
else the string value of that metadata field. A record whose metadata already has ``key``
keeps it; one with no source string (no document given, a missing or non-string field) is
sent as it is. An empty text gives an empty sparse vector. The sparse embedding function is
rebuilt from the schema's persisted form (name and config, no secrets), once per collection.
"""

from __future__ import annotations

from typing import Any

from huedb.ef_persistence import rebuild, serialize
from huedb.errors import InvalidArgumentError
from huedb.index_schema import DOCUMENT, sparse_ef_spec, sparse_index
from huedb.requests import WriteRequest
from huedb.sparse import SparseVector
from huedb.validation import sparse_vector_value


def _cache_key(spec: dict[str, Any]) -> str:
    return repr(sorted(spec.items(), key=str))


def keep_given_sparse_ef(collection: Any, schema: Any) -> None:
    """The collection that ``create_collection(schema=...)`` returns uses the sparse EF instance the
    schema was given (as chromadb's does), not one rebuilt from its persisted config: that instance
    may hold what is never persisted (an API key, an endpoint). Other readers rebuild it."""
    found = sparse_index(collection._model.schema)
    spec = sparse_ef_spec(found[1]) if found is not None else None
    keys = getattr(schema, "keys", None)  # a Schema object (a schema given as JSON has no instance)
    value_types = keys.get(found[0]) if isinstance(keys, dict) and found is not None else None
    sparse = getattr(value_types, "sparse_vector", None)
    index = getattr(sparse, "sparse_vector_index", None)
    ef = getattr(getattr(index, "config", None), "embedding_function", None)
    if spec is None or ef is None or isinstance(ef, dict):
        return
    given = serialize(ef) or {}
    if (given.get("name"), given.get("config")) == (spec.get("name"), spec.get("config")):  # the stored one
        collection.__dict__.setdefault("_sparse_efs", {})[_cache_key(spec)] = ef


def sparse_ef(collection: Any, key: str) -> Any:
    """The sparse embedding function of ``key``'s sparse index, or None."""
    found = sparse_index(collection._model.schema)
    if found is None or found[0] != key:
        return None
    spec = sparse_ef_spec(found[1])
    if spec is None:
        return None
    cache = collection.__dict__.setdefault("_sparse_efs", {})
    cache_key = _cache_key(spec)
    if cache_key not in cache:
        cache[cache_key] = rebuild(spec, collection.name, getattr(collection._client, "_settings", None))
    return cache[cache_key]


def _as_sparse(value: Any, what: str) -> SparseVector:
    if isinstance(value, SparseVector):
        return value
    if isinstance(value, dict):
        return SparseVector.from_dict(value)
    raise InvalidArgumentError(f"{what} returned {type(value).__name__}, expected a SparseVector")


def fill_sparse(collection: Any, request: WriteRequest) -> None:
    """Sets the sparse index key of each record from its source text, in place."""
    found = sparse_index(collection._model.schema)
    if found is None or found[1].get("source_key") is None:
        return
    key, config = found
    source = config["source_key"]
    metadatas: list[dict[str, Any] | None] = (
        list(request.metadatas) if request.metadatas is not None else [None] * len(request.ids)
    )
    todo: list[int] = []
    texts: list[str] = []
    for i, md in enumerate(metadatas):
        if md is not None and key in md:
            continue  # the record brings its own sparse vector
        if source == DOCUMENT:
            text = request.documents[i] if request.documents is not None else None
        else:
            text = (md or {}).get(source)
        if isinstance(text, str):
            todo.append(i)
            texts.append(text)
    if not todo:
        return
    ef = sparse_ef(collection, key)
    if ef is None:
        raise InvalidArgumentError(f"The sparse vector index on {key!r} has no embedding function to fill it with")
    vectors = ef(texts)
    if len(vectors) != len(texts):
        raise InvalidArgumentError(f"The sparse embedding function returned {len(vectors)} vectors for {len(texts)}")
    for i, vector in zip(todo, vectors):
        value = sparse_vector_value(_as_sparse(vector, "the sparse embedding function"), f"metadata key {key!r}")
        metadatas[i] = {**(metadatas[i] or {}), key: value}
    request.metadatas = metadatas


def embed_sparse_query(collection: Any, key: str, text: str) -> SparseVector:
    """A text Knn query on a sparse key, embedded with that key's sparse embedding function."""
    ef = sparse_ef(collection, key)
    if ef is None:
        raise InvalidArgumentError(
            f"Cannot embed string query for key '{key}': key not found in schema. Please provide an embedded "
            "vector or configure an embedding function for this key in the schema."
        )
    embed = getattr(ef, "embed_query", None) or ef
    return _as_sparse(embed([text])[0], "the sparse embedding function")
