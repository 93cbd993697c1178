"""Client-side preparation of searches: text queries become vectors before a search is sent.

As chromadb's client does, a ``Knn`` whose query is a string is embedded with the collection's
embedding function when it searches ``#embedding``, and with the sparse embedding function of
the schema's sparse vector index when it searches that key; the Rank tree is rebuilt with the vector
(``Rrf`` keeps its ranks, k and weights). The server never receives text queries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from huedb.api.sparse_fill import embed_sparse_query
from huedb.api.types import ReadLevel, SearchResult, decode_sparse_values
from huedb.errors import InvalidArgumentError
from huedb.execution.expression import Abs, Div, Exp, Knn, Log, Max, Min, Mul, Rank, Rrf, Search, Sub, Sum
from huedb.execution.expression.where import key_name

__all__ = ["ReadLevel", "SearchResult", "embed_text_queries", "http_search", "run_search"]


def embed_text_queries(search: Search, embed: Callable[[str, str], Any]) -> Search:
    """``search`` with every text Knn query replaced by ``embed(text, key)``."""
    if search._rank is None:
        return search
    return Search(
        where=search._where,
        rank=_embed_rank(search._rank, embed),
        group_by=search._group_by,
        limit=search._limit,
        select=search._select,
    )


def _embed_rank(rank: Rank, embed: Callable[[str, str], Any]) -> Rank:
    if isinstance(rank, Knn):
        if not isinstance(rank.query, str):
            return rank
        return Knn(
            query=embed(rank.query, key_name(rank.key)),
            key=rank.key,
            limit=rank.limit,
            default=rank.default,
            return_rank=rank.return_rank,
        )
    if isinstance(rank, (Abs, Exp, Log)):
        return type(rank)(_embed_rank(rank.rank, embed))
    if isinstance(rank, (Sub, Div)):
        return type(rank)(_embed_rank(rank.left, embed), _embed_rank(rank.right, embed))
    if isinstance(rank, (Sum, Mul, Max, Min)):
        return type(rank)([_embed_rank(r, embed) for r in rank.ranks])
    if isinstance(rank, Rrf):
        return Rrf(
            ranks=[_embed_rank(r, embed) for r in rank.ranks],
            k=rank.k,
            weights=rank.weights,
            normalize=rank.normalize,
        )
    return rank


def run_search(collection: Any, searches: Any, read_level: Any) -> SearchResult:
    """``Collection.search``: text queries embedded with the collection's embedding function,
    each search sent as its payload, the batch in one call. huedb reads are always complete,
    so ``read_level`` changes nothing (it is checked and passed on)."""
    level = getattr(read_level, "value", read_level)
    model = collection.get_model()
    payloads = search_payloads(collection, searches)
    result = collection._api._search(model.id, payloads, tenant=model.tenant, database=model.database, read_level=level)
    return search_result(result)


def search_payloads(collection: Any, searches: Any) -> list[dict[str, Any]]:
    """One Search or a list of them (or their dicts) as the payloads sent, text queries embedded."""
    batch = list(searches) if isinstance(searches, (list, tuple)) else [searches]
    payloads = []
    for i, search in enumerate(batch):
        if isinstance(search, dict):
            search = Search.from_dict(search)
        if not isinstance(search, Search):
            raise InvalidArgumentError(f"searches[{i}] must be a Search, got {type(search).__name__}")
        payloads.append(embed_text_queries(search, lambda text, key: _embed_one(collection, text, key)).to_dict())
    return payloads


def search_result(result: dict[str, Any]) -> SearchResult:
    return SearchResult(result)


def _embed_one(collection: Any, text: str, key: str) -> Any:
    """A text query: the collection's EF for ``#embedding``, the key's sparse EF for a sparse key."""
    if key != "#embedding":
        return embed_sparse_query(collection, key, text)
    return [float(x) for x in collection._embed([text], None, None, query=True)[0]]


def http_search(
    api: Any,
    collection_id: str,
    searches: Any,
    tenant: str = "default_tenant",
    database: str = "default_database",
    read_level: Any = None,
) -> dict[str, Any]:
    """``HttpAPI._search``: the payloads as chromadb's client posts them to ``.../search``."""
    payloads = [s.to_dict() if hasattr(s, "to_dict") else s for s in searches]
    body = {"searches": payloads, "read_level": getattr(read_level, "value", read_level) or "index_and_wal"}
    return search_response(api._request("POST", api._coll(collection_id, tenant, database) + "/search", json=body))


def search_response(data: Any) -> dict[str, Any]:
    """Client side: a ``SearchResponse``'s JSON, its sparse vector metadata values (``#type``
    dicts) as SparseVector objects, as the local engine returns them."""
    result = dict(data)
    decode_sparse_values(result.get("metadatas"))  # one list of metadata per search
    return result
