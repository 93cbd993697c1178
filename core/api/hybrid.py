"""Hybrid search in one call: dense Knn and BM25 Knn fused by Rrf, over the Search API.

The LangChain and LlamaIndex integrations use it; so can any huedb user::

    from huedb.api.hybrid import bm25_schema, hybrid_search

    col = client.create_collection("docs", schema=bm25_schema())   # documents fill a BM25 index
    col.add(ids=["a", "b"], documents=["error E1234 on boot", "the printer is out of paper"])
    rows = hybrid_search(col, "E1234", k=5)                          # [{"id", "document", "metadata", "score"}]

A BM25 index on the documents ranks exact keyword matches (codes, names, rare words) that a
dense embedding may miss; the dense Knn ranks paraphrases that share no word with the query.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from huedb.api.schema import Schema, SparseVectorIndexConfig
from huedb.api.types import SearchResultRow
from huedb.errors import InvalidArgumentError
from huedb.execution.expression import K, Knn, Rrf, Search
from huedb.index_schema import DOCUMENT, sparse_index

#: the metadata key that ``bm25_schema`` indexes BM25 vectors under
DEFAULT_SPARSE_KEY = "bm25"
#: candidates each Knn contributes before fusion, unless told otherwise
MIN_FETCH_K = 50


def bm25_schema(key: str = DEFAULT_SPARSE_KEY, schema: Schema | None = None) -> Schema:
    """A schema (``schema``, or a new one) with a BM25 sparse index on ``key``, filled from each
    record's document by Chroma's BM25 embedding function on add, update and upsert."""
    from huedb.utils.embedding_functions import ChromaBm25EmbeddingFunction

    config = SparseVectorIndexConfig(source_key=DOCUMENT, embedding_function=ChromaBm25EmbeddingFunction(), bm25=True)
    return (schema or Schema()).create_index(config, key=key)


def sparse_key(collection: Any) -> str | None:
    """The key of the collection's sparse vector index, or None when it has none."""
    found = sparse_index(collection._model.schema)  # the stored schema: no Schema object to build
    return found[0] if found is not None else None


def without_sparse_key(metadata: dict[str, Any] | None, key: str | None) -> dict[str, Any] | None:
    """``metadata`` without the sparse vector stored under ``key`` (a hybrid collection's BM25
    vector is index data, not the user's metadata): a new dict, None when nothing else is left;
    ``metadata`` itself when it holds no ``key``."""
    if not metadata or key is None or key not in metadata:
        return metadata
    return {name: value for name, value in metadata.items() if name != key} or None


def document_where(where_document: dict[str, Any]) -> dict[str, Any]:
    """A ``where_document`` filter written as a Search ``where`` on ``#document``."""
    if not isinstance(where_document, dict) or len(where_document) != 1:
        raise InvalidArgumentError(f"Expected where document to be a dict with one operator, got {where_document!r}")
    ((op, operand),) = where_document.items()
    if op in ("$and", "$or"):
        if not isinstance(operand, list):
            raise InvalidArgumentError(f"Expected where document {op} to hold a list, got {operand!r}")
        return {op: [document_where(part) for part in operand]}
    return {DOCUMENT: {op: operand}}


def search_where(where: dict[str, Any] | None, where_document: dict[str, Any] | None) -> dict[str, Any] | None:
    """One Search ``where`` from a metadata ``where`` and a ``where_document``."""
    parts = [w for w in (where or None, document_where(where_document) if where_document else None) if w]
    if len(parts) == 2:
        return {"$and": parts}
    return parts[0] if parts else None


def hybrid_search(
    collection: Any,
    query: str,
    embedding: Sequence[float] | None = None,
    k: int = 4,
    where: dict[str, Any] | None = None,
    where_document: dict[str, Any] | None = None,
    alpha: float = 0.5,
    rrf_k: int = 60,
    fetch_k: int | None = None,
    key: str | None = None,
) -> list[SearchResultRow]:
    """The ``k`` best records for ``query`` by Rrf of a dense Knn (on ``embedding``, else the text
    embedded by the collection's embedding function) and a BM25 Knn on the sparse index ``key``
    (the collection's own by default). ``alpha`` weighs the dense side (1: dense only, 0: BM25
    only). Rows hold ``id``, ``document``, ``metadata`` (without the sparse vector) and ``score``
    (lower is better, as every Search score)."""
    if not 0.0 <= alpha <= 1.0:
        raise InvalidArgumentError(f"alpha must be within [0, 1], got {alpha}")
    key = key or sparse_key(collection)
    if key is None:
        raise InvalidArgumentError(
            f"Collection {collection.name!r} has no sparse vector index for hybrid search: create it with "
            "schema=huedb.api.hybrid.bm25_schema()"
        )
    fetch = fetch_k or max(MIN_FETCH_K, 4 * k)
    # A record found by one side only ranks just past the other side's list (default=fetch):
    # without a default Rrf would drop it, and a keyword match the dense side misses is the
    # reason for hybrid search.
    dense_query = list(embedding) if embedding is not None else query
    sides = (
        (Knn(query=dense_query, limit=fetch, return_rank=True, default=float(fetch)), alpha),
        (Knn(query=query, key=key, limit=fetch, return_rank=True, default=float(fetch)), 1.0 - alpha),
    )
    kept = [(rank, weight) for rank, weight in sides if weight > 0]
    rank = Rrf([r for r, _ in kept], k=rrf_k, weights=[w for _, w in kept])
    search = Search().rank(rank).limit(k).select(K.DOCUMENT, K.METADATA, K.SCORE)
    filt = search_where(where, where_document)
    if filt is not None:
        search = search.where(filt)
    rows = collection.search(search).rows()[0]
    for row in rows:
        if row.get("metadata"):
            row["metadata"] = without_sparse_key(row["metadata"], key)
    return rows
