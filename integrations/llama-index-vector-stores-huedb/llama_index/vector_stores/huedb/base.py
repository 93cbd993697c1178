"""``HuedbVectorStore``: a LlamaIndex vector store over a huedb collection."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from typing import Any

from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.indices.query.embedding_utils import get_top_k_mmr_embeddings
from llama_index.core.schema import BaseNode, MetadataMode, TextNode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
    VectorStoreQueryResult,
)
from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict

import huedb
from huedb.api.hybrid import bm25_schema, hybrid_search, sparse_key, without_sparse_key

logger = logging.getLogger(__name__)

DEFAULT_COLLECTION_NAME = "llama_index"
#: MMR fetches this many times ``similarity_top_k`` candidates unless told otherwise
DEFAULT_MMR_PREFETCH_FACTOR = 4.0

_SIMPLE_OPERATORS = {
    FilterOperator.EQ: "$eq",
    FilterOperator.NE: "$ne",
    FilterOperator.GT: "$gt",
    FilterOperator.GTE: "$gte",
    FilterOperator.LT: "$lt",
    FilterOperator.LTE: "$lte",
    FilterOperator.IN: "$in",
    FilterOperator.NIN: "$nin",
    FilterOperator.CONTAINS: "$contains",
}
#: an operator and its negation, for FilterCondition.NOT (the negations match records lacking the
#: key, as LlamaIndex's own evaluation of NOT does)
_NEGATION = {
    "$eq": "$ne",
    "$ne": "$eq",
    "$in": "$nin",
    "$nin": "$in",
    "$contains": "$not_contains",
    "$not_contains": "$contains",
}


def _scalar_list(value: Any, operator: FilterOperator) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"Filter operator {operator.value!r} takes a non-empty list of values, got {value!r}")
    return value


def _filter_to_where(f: MetadataFilter) -> dict[str, Any]:
    op = f.operator
    if op in _SIMPLE_OPERATORS:
        value = _scalar_list(f.value, op) if op in (FilterOperator.IN, FilterOperator.NIN) else f.value
        return {f.key: {_SIMPLE_OPERATORS[op]: value}}
    if op in (FilterOperator.ANY, FilterOperator.ALL):
        # The metadata value is a list: it contains any (all) of the given values.
        parts = [{f.key: {"$contains": v}} for v in _scalar_list(f.value, op)]
        if len(parts) == 1:
            return parts[0]
        return {"$or" if op == FilterOperator.ANY else "$and": parts}
    raise ValueError(
        f"Filter operator {op.value!r} has no huedb equivalent (huedb's where compares whole values and "
        "list elements; text_match and is_empty are not supported)"
    )


def _negate(where: dict[str, Any]) -> dict[str, Any]:
    """The huedb where matching exactly the records ``where`` does not match (De Morgan)."""
    if "$and" in where:
        return {"$or": [_negate(w) for w in where["$and"]]}
    if "$or" in where:
        return {"$and": [_negate(w) for w in where["$or"]]}
    ((key, cond),) = where.items()
    ((op, value),) = cond.items()
    if op not in _NEGATION:
        raise ValueError(
            f"FilterCondition.NOT over {op!r} has no huedb equivalent (the negation would also have to "
            "match records without the key); use ==, !=, in, nin, contains, any or all under NOT"
        )
    return {key: {_NEGATION[op]: value}}


def to_huedb_where(filters: MetadataFilters | None) -> dict[str, Any] | None:
    """LlamaIndex ``MetadataFilters`` (nested, AND / OR / NOT) as a huedb ``where`` (None: no filter).

    Operators: ``== != > >= < <= in nin`` map to ``$eq $ne $gt $gte $lt $lte $in $nin``;
    ``contains`` (a list value contains the value) to ``$contains``; ``any`` / ``all`` to an
    ``$or`` / ``$and`` of ``$contains``. ``text_match``, ``text_match_insensitive`` and
    ``is_empty`` have no huedb equivalent and raise ``ValueError``.
    """
    if filters is None or not filters.filters:
        return None
    parts: list[dict[str, Any]] = []
    for f in filters.filters:
        if isinstance(f, MetadataFilters):
            nested = to_huedb_where(f)
            if nested is not None:
                parts.append(nested)
        else:
            parts.append(_filter_to_where(f))
    if not parts:
        return None
    condition = filters.condition or FilterCondition.AND
    if condition == FilterCondition.NOT:
        # LlamaIndex's NOT: none of the filters matches.
        parts = [_negate(p) for p in parts]
        condition = FilterCondition.AND
    if len(parts) == 1:
        return parts[0]
    if condition == FilterCondition.AND:
        return {"$and": parts}
    if condition == FilterCondition.OR:
        return {"$or": parts}
    raise ValueError(f"Filter condition {condition!r} is not supported")


def _and(*wheres: dict[str, Any] | None) -> dict[str, Any] | None:
    given = [w for w in wheres if w]
    if not given:
        return None
    return given[0] if len(given) == 1 else {"$and": given}


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def _huedb_metadata(node: BaseNode) -> dict[str, Any]:
    """The node's metadata as huedb stores it: the node itself serialised in ``_node_content``,
    plus every user field that is a scalar or a non-empty list of scalars (so ``contains``,
    ``any`` and ``all`` filters work on lists). Fields that are None are left out."""
    metadata = node_to_metadata_dict(node, remove_text=True, flat_metadata=False)
    out: dict[str, Any] = {}
    for key, value in metadata.items():
        if value is None:
            continue
        if _is_scalar(value) or (isinstance(value, list) and value and all(_is_scalar(v) for v in value)):
            out[key] = value
        else:
            raise ValueError(
                f"Metadata field {key!r} must be a str, int, float or bool, or a non-empty list of them; "
                f"got {type(value).__name__}"
            )
    return out


def _to_node(
    record_id: str, text: str | None, metadata: dict[str, Any] | None, sparse_key: str | None = None
) -> BaseNode:
    # a copy (the node owns it), without a hybrid collection's BM25 vector: index data, not the node's
    metadata = dict(without_sparse_key(metadata, sparse_key) or {})
    if "_node_content" in metadata:
        return metadata_dict_to_node(metadata, text=text)
    # a record written by something else than LlamaIndex: its document and metadata as a TextNode
    return TextNode(text=text or "", id_=record_id, metadata=metadata)


class HuedbVectorStore(BasePydanticVectorStore):
    """A LlamaIndex vector store on a huedb collection.

    Open it on a collection (``huedb_collection=``, or ``from_collection``), or let it get or
    create ``collection_name`` on a client: ``client=``, else ``persist_dir`` (a
    ``huedb.PersistentClient``), else ``host``/``port`` (a ``huedb.HttpClient``), else an
    in-memory ``huedb.EphemeralClient``. Nodes without an embedding are embedded by the
    collection's own embedding function (its persisted one, or huedb's default).

    Example:
        ```python
        import huedb
        from llama_index.core import StorageContext, VectorStoreIndex
        from llama_index.vector_stores.huedb import HuedbVectorStore

        collection = huedb.PersistentClient("./huedb_data").get_or_create_collection("docs")
        store = HuedbVectorStore(huedb_collection=collection)
        index = VectorStoreIndex.from_documents(docs, storage_context=StorageContext.from_defaults(vector_store=store))
        ```
    """

    stores_text: bool = True
    flat_metadata: bool = False

    collection_name: str | None = None
    host: str | None = None
    port: str | int | None = None
    ssl: bool = False
    headers: dict[str, str] | None = None
    persist_dir: str | None = None
    collection_kwargs: dict[str, Any] = Field(default_factory=dict)

    _collection: Any = PrivateAttr()
    _sparse_key_of: tuple[Any, str | None] = PrivateAttr(default=(None, None))

    def __init__(
        self,
        huedb_collection: Any | None = None,
        collection_name: str | None = None,
        host: str | None = None,
        port: str | int | None = None,
        ssl: bool = False,
        headers: dict[str, str] | None = None,
        persist_dir: str | None = None,
        collection_kwargs: dict[str, Any] | None = None,
        client: Any | None = None,
        chroma_collection: Any | None = None,
        hybrid: bool = False,
        **kwargs: Any,
    ) -> None:
        collection = huedb_collection if huedb_collection is not None else chroma_collection
        collection_kwargs = dict(collection_kwargs or {})
        if hybrid:  # a new collection gets a BM25 index on its documents, for HYBRID queries
            collection_kwargs.setdefault("schema", bm25_schema())
        super().__init__(
            collection_name=collection.name if collection is not None else collection_name,
            host=host,
            port=port,
            ssl=ssl,
            headers=headers,
            persist_dir=persist_dir,
            collection_kwargs=collection_kwargs,
            **kwargs,
        )
        if collection is None:
            if client is None:
                if persist_dir is not None:
                    client = huedb.PersistentClient(path=persist_dir)
                elif host is not None:
                    client = huedb.HttpClient(host=host, port=int(port or 8000), ssl=ssl, headers=headers)
                else:
                    client = huedb.EphemeralClient()
            collection = client.get_or_create_collection(
                name=collection_name or DEFAULT_COLLECTION_NAME, **collection_kwargs
            )
            self.collection_name = collection.name
        self._collection = collection

    @classmethod
    def from_collection(cls, collection: Any) -> HuedbVectorStore:
        """A store on an existing ``huedb.Collection``."""
        if not isinstance(collection, huedb.Collection):
            raise TypeError(f"expected a huedb.Collection, got {type(collection).__name__}")
        return cls(huedb_collection=collection)

    @classmethod
    def from_params(
        cls,
        collection_name: str,
        host: str | None = None,
        port: str | int | None = None,
        ssl: bool = False,
        headers: dict[str, str] | None = None,
        persist_dir: str | None = None,
        collection_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> HuedbVectorStore:
        """A store on ``collection_name`` of a persistent (``persist_dir``) or HTTP (``host``) client."""
        if not persist_dir and not host:
            raise ValueError("Pass persist_dir, or host (and port)")
        return cls(
            collection_name=collection_name,
            host=None if persist_dir else host,
            port=port,
            ssl=ssl,
            headers=headers,
            persist_dir=persist_dir,
            collection_kwargs=collection_kwargs,
            **kwargs,
        )

    @classmethod
    def class_name(cls) -> str:
        return "HuedbVectorStore"

    @property
    def _sparse_key(self) -> str | None:
        """The key of the collection's sparse (BM25) index, read once per collection."""
        if self._sparse_key_of[0] is not self._collection:
            self._sparse_key_of = (self._collection, sparse_key(self._collection))
        return self._sparse_key_of[1]

    @property
    def client(self) -> Any:
        """The huedb collection."""
        return self._collection

    def _batches(self, n: int) -> Iterator[slice]:
        size = max(1, int(self._collection._client.get_max_batch_size()))
        for start in range(0, n, size):
            yield slice(start, start + size)

    # -- writes ------------------------------------------------------------
    def add(self, nodes: list[BaseNode], **add_kwargs: Any) -> list[str]:
        """Upserts the nodes (id, text, metadata and embedding); returns their ids. Nodes without an
        embedding are embedded by the collection's embedding function."""
        with_vectors = [n for n in nodes if n.embedding is not None]
        without = [n for n in nodes if n.embedding is None]
        for group, embed in ((with_vectors, True), (without, False)):
            for part in self._batches(len(group)):
                chunk = group[part]
                self._collection.upsert(
                    ids=[n.node_id for n in chunk],
                    embeddings=[n.get_embedding() for n in chunk] if embed else None,
                    metadatas=[_huedb_metadata(n) for n in chunk],
                    documents=[n.get_content(metadata_mode=MetadataMode.NONE) for n in chunk],
                )
        return [n.node_id for n in nodes]

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        """Deletes every node of the source document ``ref_doc_id``."""
        self._collection.delete(where={"document_id": ref_doc_id})

    def delete_nodes(
        self,
        node_ids: list[str] | None = None,
        filters: MetadataFilters | None = None,
        **delete_kwargs: Any,
    ) -> None:
        """Deletes the nodes with these ids and/or matching ``filters``. No ids and no filters
        (``node_ids=[]`` included, which LlamaIndex sends) delete nothing."""
        where = to_huedb_where(filters)
        ids = list(node_ids or [])
        if ids:
            for part in self._batches(len(ids)):
                self._collection.delete(ids=ids[part], where=where)
        elif where is not None:
            self._collection.delete(where=where)

    def clear(self) -> None:
        """Deletes every node (the collection stays)."""
        while True:
            ids = self._collection.get(limit=10_000, include=[])["ids"]
            if not ids:
                return
            self._collection.delete(ids=ids)

    # -- reads -------------------------------------------------------------
    def get_nodes(
        self,
        node_ids: list[str] | None = None,
        filters: MetadataFilters | None = None,
        **kwargs: Any,
    ) -> list[BaseNode]:
        """The nodes with these ids (in that order) and/or matching ``filters``."""
        if node_ids is not None and not node_ids:
            return []
        return self._get(limit=None, where=to_huedb_where(filters), ids=node_ids).nodes

    def _get(self, limit: int | None, where: dict[str, Any] | None, **kwargs: Any) -> VectorStoreQueryResult:
        result = self._collection.get(limit=limit, where=where, **kwargs)
        nodes = [
            _to_node(rid, text, meta, self._sparse_key)
            for rid, text, meta in zip(result["ids"], result["documents"] or [], result["metadatas"] or [])
        ]
        return VectorStoreQueryResult(nodes=nodes, ids=list(result["ids"]))

    def _similarity(self, distance: float) -> float:
        """A similarity from a distance, by the collection's space: cosine similarity for cosine, the
        inner product for ip, and exp(-d) for (squared) l2, as Chroma's integration reports."""
        space = (self._collection.configuration_json.get("hnsw") or {}).get("space", "l2")
        if space in ("cosine", "ip"):
            return 1.0 - distance
        return math.exp(-distance)

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """Top ``similarity_top_k`` nodes for ``query`` (DEFAULT or MMR mode).

        ``query.filters`` (or huedb's ``where=``, not both), ``query.doc_ids`` and
        ``query.node_ids`` narrow the candidates; ``where_document=`` filters on the text. With
        no embedding, a ``query_str`` is embedded by the collection's embedding function, and a
        query with neither returns the first matching nodes. MMR takes ``mmr_threshold`` (or
        ``query.mmr_threshold``), and ``mmr_prefetch_k`` or ``mmr_prefetch_factor``.
        """
        if query.filters is not None and "where" in kwargs:
            raise ValueError("Pass metadata filters either as query.filters or as where=, not both")
        where = to_huedb_where(query.filters) if query.filters is not None else kwargs.pop("where", None)
        if query.doc_ids:
            where = _and(where, {"document_id": {"$in": list(query.doc_ids)}})
        where_document = kwargs.pop("where_document", None)
        ids = list(query.node_ids) if query.node_ids else None
        if query.mode not in (VectorStoreQueryMode.DEFAULT, VectorStoreQueryMode.MMR, VectorStoreQueryMode.HYBRID):
            raise ValueError(f"Query mode {query.mode.value!r} is not supported by HuedbVectorStore")
        if query.mode == VectorStoreQueryMode.HYBRID:
            return self._hybrid(query, where, where_document, ids)
        if query.query_embedding is None and not query.query_str:
            return self._get(
                limit=query.similarity_top_k, where=where, where_document=where_document, ids=ids, **kwargs
            )
        if query.mode == VectorStoreQueryMode.MMR:
            return self._mmr(query, where, where_document, ids, **kwargs)
        result = self._collection.query(
            **self._query_input(query),
            n_results=query.similarity_top_k,
            where=where,
            where_document=where_document,
            ids=ids,
            include=["documents", "metadatas", "distances"],
        )
        return self._result(result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0])

    def _hybrid(
        self,
        query: VectorStoreQuery,
        where: dict[str, Any] | None,
        where_document: dict[str, Any] | None,
        ids: list[str] | None,
    ) -> VectorStoreQueryResult:
        """HYBRID mode: Rrf of the dense query and a BM25 query of ``query_str`` on the collection's
        sparse index (create the store with ``hybrid=True``). ``query.alpha`` weighs the dense side
        (1: dense only, 0: BM25 only; default 0.5), ``sparse_top_k`` sets how many candidates each
        side contributes. Similarities are the negated Rrf scores: higher is better."""
        if not query.query_str:
            raise ValueError("A HYBRID query needs query_str: BM25 ranks its words")
        if ids is not None:
            where = _and(where, {"#id": {"$in": ids}})
        rows = hybrid_search(
            self._collection,
            query.query_str,
            embedding=query.query_embedding,
            k=query.hybrid_top_k or query.similarity_top_k,
            where=where,
            where_document=where_document,
            alpha=0.5 if query.alpha is None else query.alpha,
            fetch_k=query.sparse_top_k,
            key=self._sparse_key,
        )
        nodes = [_to_node(r["id"], r.get("document"), r.get("metadata"), self._sparse_key) for r in rows]
        return VectorStoreQueryResult(
            nodes=nodes, similarities=[-float(r.get("score") or 0.0) for r in rows], ids=[r["id"] for r in rows]
        )

    def _query_input(self, query: VectorStoreQuery) -> dict[str, Any]:
        if query.query_embedding is not None:
            return {"query_embeddings": [list(query.query_embedding)]}
        return {"query_texts": [query.query_str]}

    def _result(
        self, ids: list[str], texts: list[Any], metas: list[Any], distances: list[float]
    ) -> VectorStoreQueryResult:
        nodes = [_to_node(rid, text, meta, self._sparse_key) for rid, text, meta in zip(ids, texts, metas)]
        return VectorStoreQueryResult(
            nodes=nodes, similarities=[self._similarity(float(d)) for d in distances], ids=list(ids)
        )

    def _mmr(
        self,
        query: VectorStoreQuery,
        where: dict[str, Any] | None,
        where_document: dict[str, Any] | None,
        ids: list[str] | None,
        **kwargs: Any,
    ) -> VectorStoreQueryResult:
        threshold = kwargs.pop("mmr_threshold", None)
        if threshold is None:
            threshold = query.mmr_threshold
        prefetch_k = kwargs.pop("mmr_prefetch_k", None)
        factor = kwargs.pop("mmr_prefetch_factor", None)
        if prefetch_k is not None and factor is not None:
            raise ValueError("Pass mmr_prefetch_k or mmr_prefetch_factor, not both")
        if prefetch_k is None:
            prefetch_k = int(query.similarity_top_k * (factor or DEFAULT_MMR_PREFETCH_FACTOR))
        prefetch_k = max(int(prefetch_k), query.similarity_top_k)
        result = self._collection.query(
            **self._query_input(query),
            n_results=prefetch_k,
            where=where,
            where_document=where_document,
            ids=ids,
            include=["documents", "metadatas", "distances", "embeddings"],
        )
        rids = result["ids"][0]
        if not rids:
            return VectorStoreQueryResult(nodes=[], similarities=[], ids=[])
        vectors = [list(map(float, v)) for v in result["embeddings"][0]]
        query_vector = (
            list(query.query_embedding) if query.query_embedding is not None else self._embed_query(query.query_str)
        )
        similarities, chosen = get_top_k_mmr_embeddings(
            query_vector,
            vectors,
            similarity_top_k=query.similarity_top_k,
            embedding_ids=list(range(len(rids))),
            mmr_threshold=threshold,
        )
        by_row = {i: (rids[i], result["documents"][0][i], result["metadatas"][0][i]) for i in range(len(rids))}
        nodes = [_to_node(*by_row[i], self._sparse_key) for i in chosen]
        return VectorStoreQueryResult(nodes=nodes, similarities=list(similarities), ids=[by_row[i][0] for i in chosen])

    def _embed_query(self, text: str | None) -> list[float]:
        ef = self._collection.embedding_function
        if ef is None:
            raise ValueError(f"Collection {self._collection.name!r} has no embedding function to embed the query")
        vectors = ef.embed_query([text]) if hasattr(ef, "embed_query") else ef([text])
        return [float(x) for x in vectors[0]]
