"""``HuedbVectorStore``: a LangChain ``VectorStore`` over a huedb collection.

It offers what ``langchain_chroma.Chroma`` offers (it is a drop-in for it), on huedb alone:
an embedded (in-memory or persistent) or HTTP client, text and image records, metadata and
document filters, scores, MMR, and retrievers.
"""

from __future__ import annotations

import base64
import math
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.runnables.config import run_in_executor
from langchain_core.vectorstores import VectorStore, VectorStoreRetriever
from langchain_core.vectorstores.utils import maximal_marginal_relevance

import huedb
from huedb.api.hybrid import bm25_schema, hybrid_search, sparse_key, without_sparse_key

DEFAULT_K = 4
#: what a query returns unless told otherwise
_QUERY_INCLUDE = ["documents", "metadatas", "distances"]


def _metadata_in(metadata: dict | None) -> dict | None:
    """huedb stores "no metadata" as None; LangChain's empty dict is the same thing."""
    return dict(metadata) if metadata else None


def _document(rid: str, text: str, meta: dict | None, sparse_key: str | None) -> Document:
    """A LangChain Document of a record; the BM25 vector a hybrid collection keeps in metadata
    under ``sparse_key`` is index data, not the user's metadata, and is left out."""
    return Document(page_content=text, metadata=without_sparse_key(meta, sparse_key) or {}, id=rid)


def _squared_l2_relevance(distance: float) -> float:
    """LangChain's Euclidean relevance (1 - d / sqrt(2), for unit vectors) of a squared L2 distance."""
    return 1.0 - math.sqrt(max(distance, 0.0)) / math.sqrt(2)


def _cosine_relevance(distance: float) -> float:
    """1 - cosine distance, the float32 noise below distance 0 clipped (relevance stays within [0, 1])."""
    return 1.0 - max(distance, 0.0)


class HuedbVectorStore(VectorStore):
    """A LangChain vector store on a huedb collection.

    Where the client comes from, the first that applies:

    - ``client``: any huedb client (``EphemeralClient``, ``PersistentClient``, ``HttpClient``...);
    - ``persist_directory``: a ``huedb.PersistentClient`` on that path;
    - ``host`` (and ``port``, ``ssl``, ``headers``): a ``huedb.HttpClient`` for a huedb (or Chroma) server;
    - ``chroma_cloud_api_key``: a ``huedb.CloudClient``;
    - otherwise ``huedb.Client(client_settings)`` (in memory by default).

    Embeddings: with ``embedding_function`` (a LangChain ``Embeddings``) texts and queries are
    embedded by it. Without one, the collection embeds them with its own embedding function: the
    one persisted with an existing collection, or huedb's default (all-MiniLM-L6-v2, offline) for a
    new one.

    Example:
        ```python
        from langchain_huedb import HuedbVectorStore

        store = HuedbVectorStore("docs", persist_directory="./huedb_data")
        store.add_texts(["huedb stores vectors", "SQLite is the system of record"], metadatas=[{"n": 1}, {"n": 2}])
        store.similarity_search("where is data kept?", k=1, filter={"n": {"$gte": 2}})
        ```
    """

    _LANGCHAIN_DEFAULT_COLLECTION_NAME = "langchain"

    def __init__(
        self,
        collection_name: str = _LANGCHAIN_DEFAULT_COLLECTION_NAME,
        embedding_function: Embeddings | None = None,
        persist_directory: str | None = None,
        host: str | None = None,
        port: int | None = None,
        headers: dict[str, str] | None = None,
        chroma_cloud_api_key: str | None = None,
        tenant: str | None = None,
        database: str | None = None,
        client_settings: huedb.Settings | None = None,
        collection_metadata: dict | None = None,
        collection_configuration: dict | None = None,
        client: huedb.ClientAPI | None = None,
        relevance_score_fn: Callable[[float], float] | None = None,
        create_collection_if_not_exists: bool | None = True,
        *,
        ssl: bool = False,
        collection: huedb.Collection | None = None,
        hybrid: bool = False,
    ) -> None:
        sources = {"persist_directory": persist_directory, "host": host, "chroma_cloud_api_key": chroma_cloud_api_key}
        given = [name for name, value in sources.items() if value is not None]
        if len(given) > 1:
            raise ValueError(f"Pass only one of persist_directory, host and chroma_cloud_api_key; got {given}")
        _tenant = tenant or huedb.DEFAULT_TENANT
        _database = database or huedb.DEFAULT_DATABASE
        if collection is not None and client is None:
            client = collection._client
        if client is not None:
            self._client = client
        elif persist_directory is not None:
            self._client = huedb.PersistentClient(
                path=persist_directory, settings=client_settings, tenant=_tenant, database=_database
            )
        elif host is not None:
            self._client = huedb.HttpClient(
                host=host,
                port=port or 8000,
                ssl=ssl,
                headers=headers,
                settings=client_settings,
                tenant=_tenant,
                database=_database,
            )
        elif chroma_cloud_api_key is not None:
            if not tenant or not database:
                raise ValueError("Pass tenant and database to connect to a hosted server with an API key")
            self._client = huedb.CloudClient(
                api_key=chroma_cloud_api_key, tenant=tenant, database=database, settings=client_settings
            )
        else:
            self._client = huedb.Client(settings=client_settings, tenant=_tenant, database=_database)

        self._embedding_function = embedding_function
        self._collection_name = collection.name if collection is not None else collection_name
        self._collection_metadata = collection_metadata
        self._collection_configuration = collection_configuration
        # hybrid=True: a new collection gets a BM25 index on its documents (hybrid_search needs one)
        self._collection_schema = bm25_schema() if hybrid else None
        self.override_relevance_score_fn = relevance_score_fn
        self._huedb_collection: huedb.Collection | None
        if collection is not None:
            self._huedb_collection = collection
        elif create_collection_if_not_exists:
            self._ensure_collection()
        else:
            self._huedb_collection = self._client.get_collection(name=collection_name, **self._ef_kwargs())

    # -- the collection ----------------------------------------------------
    def _ef_kwargs(self) -> dict[str, Any]:
        """With a LangChain embedding, the collection embeds nothing itself (embedding_function=None);
        without one, the argument is left out so that an existing collection's persisted embedding
        function (or, for a new collection, huedb's default) is used."""
        return {"embedding_function": None} if self._embedding_function is not None else {}

    def _ensure_collection(self) -> None:
        self._huedb_collection = self._client.get_or_create_collection(
            name=self._collection_name,
            metadata=self._collection_metadata,
            configuration=self._collection_configuration,
            **({"schema": self._collection_schema} if self._collection_schema is not None else {}),
            **self._ef_kwargs(),
        )

    @property
    def _collection(self) -> huedb.Collection:
        if self._huedb_collection is None:
            raise ValueError("The collection was deleted: call reset_collection() to create it again")
        return self._huedb_collection

    @property
    def _sparse_key(self) -> str | None:
        """The key of the collection's sparse (BM25) index, read once per collection."""
        collection = self._collection
        if getattr(self, "_sparse_key_of", (None, None))[0] is not collection:
            self._sparse_key_of = (collection, sparse_key(collection))
        return self._sparse_key_of[1]

    def _document(self, rid: str, text: str, meta: dict | None) -> Document:
        return _document(rid, text, meta, self._sparse_key)

    def _docs_and_scores(self, result: Any) -> list[tuple[Document, float]]:
        """The first query's rows as (Document, distance), skipping records without a document."""
        return [
            (self._document(rid, text, meta), float(dist))
            for rid, text, meta, dist in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0]
            )
            if text is not None
        ]

    @property
    def client(self) -> huedb.ClientAPI:
        """The huedb client."""
        return self._client

    @property
    def collection(self) -> huedb.Collection:
        """The huedb collection."""
        return self._collection

    @property
    def embeddings(self) -> Embeddings | None:
        return self._embedding_function

    def _embed_query(self, query: str) -> list[float]:
        """The query's vector: from the LangChain embedding, else the collection's embedding function."""
        if self._embedding_function is not None:
            return list(self._embedding_function.embed_query(query))
        ef = self._collection.embedding_function
        if ef is None:
            raise ValueError(
                f"Collection {self._collection.name!r} has no embedding function: pass embedding_function= "
                "(a LangChain Embeddings) to embed queries"
            )
        vectors = ef.embed_query([query]) if hasattr(ef, "embed_query") else ef([query])
        return [float(x) for x in vectors[0]]

    def _batches(self, n: int) -> Iterable[slice]:
        size = max(1, int(self._client.get_max_batch_size()))
        for start in range(0, n, size):
            yield slice(start, start + size)

    def _query(
        self,
        query: str | None = None,
        embedding: Sequence[float] | None = None,
        k: int = DEFAULT_K,
        filter: dict[str, Any] | None = None,  # noqa: A002 (LangChain's name)
        where_document: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """One huedb query by text (embedded by us or by the collection) or by vector."""
        if embedding is None and self._embedding_function is not None:
            embedding = self._embedding_function.embed_query(query or "")
        args: dict[str, Any] = {"n_results": k, "where": filter or None, "where_document": where_document or None}
        args.update(kwargs)
        args.setdefault("include", _QUERY_INCLUDE)
        if embedding is not None:
            return self._collection.query(query_embeddings=[list(embedding)], **args)
        return self._collection.query(query_texts=[query], **args)

    # -- writes ------------------------------------------------------------
    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict] | None = None,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Embeds and upserts ``texts``; returns their ids (a new UUID for each id not given)."""
        texts = list(texts)
        ids = [i if i is not None else str(uuid.uuid4()) for i in ids] if ids is not None else None
        if ids is None:
            ids = [str(uuid.uuid4()) for _ in texts]
        if len(ids) != len(texts):
            raise ValueError(f"Got {len(ids)} ids for {len(texts)} texts")
        metas = list(metadatas or [])
        metas += [{}] * (len(texts) - len(metas))
        embeddings = self._embedding_function.embed_documents(texts) if self._embedding_function else None
        self._upsert(ids, texts, [_metadata_in(m) for m in metas], embeddings)
        return ids

    def _upsert(self, ids: list[str], documents: list[str], metadatas: list[Any], embeddings: Any) -> None:
        for part in self._batches(len(ids)):
            try:
                self._collection.upsert(
                    ids=ids[part],
                    documents=documents[part],
                    metadatas=metadatas[part],
                    embeddings=None if embeddings is None else [list(v) for v in embeddings[part]],
                )
            except ValueError as e:
                if "metadata" in str(e).lower():
                    raise ValueError(
                        f"{e}\n\nMetadata values must be str, int, float, bool or lists of them; try "
                        "langchain_community.vectorstores.utils.filter_complex_metadata."
                    ) from e
                raise

    @staticmethod
    def encode_image(uri: str) -> str:
        """The base64 text of the image file at ``uri`` (what ``add_images`` stores as the document)."""
        return base64.b64encode(Path(uri).read_bytes()).decode("utf-8")

    def add_images(
        self,
        uris: list[str],
        metadatas: list[dict] | None = None,
        ids: list[str] | None = None,
    ) -> list[str]:
        """Adds image files: each record's document is the image in base64; its vector comes from the
        embedding's ``embed_image(uris=...)`` when it has one, else from the collection's embedding
        function (applied to the base64 text, as Chroma's integration does)."""
        b64 = [self.encode_image(u) for u in uris]
        ids = [i if i is not None else str(uuid.uuid4()) for i in ids] if ids is not None else None
        if ids is None:
            ids = [str(uuid.uuid4()) for _ in uris]
        metas = list(metadatas or [])
        metas += [{}] * (len(uris) - len(metas))
        embeddings = None
        if self._embedding_function is not None and hasattr(self._embedding_function, "embed_image"):
            embeddings = self._embedding_function.embed_image(uris=uris)
        self._upsert(ids, b64, [_metadata_in(m) for m in metas], embeddings)
        return ids

    def update_document(self, document_id: str, document: Document) -> None:
        """Replaces one record's text and metadata (and vector)."""
        self.update_documents([document_id], [document])

    def update_documents(self, ids: list[str], documents: list[Document]) -> None:
        """Replaces the records' texts and metadata (and vectors); ids that do not exist are ignored."""
        texts = [d.page_content for d in documents]
        metas = [_metadata_in(d.metadata) for d in documents]
        embeddings = self._embedding_function.embed_documents(texts) if self._embedding_function else None
        for part in self._batches(len(ids)):
            self._collection.update(
                ids=ids[part],
                documents=texts[part],
                metadatas=metas[part],
                embeddings=None if embeddings is None else [list(v) for v in embeddings[part]],
            )

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> None:
        """Deletes records by id, and/or by ``where`` / ``where_document`` filters.

        An empty id list deletes nothing. ``ids=None`` with no filter is an error (huedb never
        deletes a whole collection by accident): use ``reset_collection()`` for that.
        """
        where = kwargs.pop("where", None) or kwargs.pop("filter", None)
        where_document = kwargs.pop("where_document", None)
        if kwargs:
            raise TypeError(f"delete() got unexpected arguments: {sorted(kwargs)}")
        if ids is not None and len(ids) == 0 and where is None and where_document is None:
            return
        if ids is None and where is None and where_document is None:
            raise ValueError("delete() needs ids or a filter (where=, where_document=); use reset_collection()")
        ids = list(ids) if ids else None
        if ids is not None:
            for part in self._batches(len(ids)):
                self._collection.delete(ids=ids[part], where=where, where_document=where_document)
        else:
            self._collection.delete(where=where, where_document=where_document)

    def delete_collection(self) -> None:
        """Deletes the collection (the store is unusable until ``reset_collection()``)."""
        self._client.delete_collection(self._collection.name)
        self._huedb_collection = None

    def reset_collection(self) -> None:
        """Deletes the collection if it exists and creates it again, empty."""
        if self._huedb_collection is not None:
            self.delete_collection()
        self._ensure_collection()

    # -- reads -------------------------------------------------------------
    def get(
        self,
        ids: str | list[str] | None = None,
        where: dict[str, Any] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        where_document: dict[str, Any] | None = None,
        include: list[str] | None = None,
    ) -> dict[str, Any]:
        """The collection's ``get``: ids always, metadatas and documents by default."""
        args: dict[str, Any] = {
            "ids": ids,
            "where": where,
            "limit": limit,
            "offset": offset,
            "where_document": where_document,
        }
        if include is not None:
            args["include"] = include
        return dict(self._collection.get(**args))

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """The documents with these ids (missing ids are left out; never raises for them)."""
        ids = list(ids)
        if not ids:
            return []
        result = self._collection.get(ids=ids, include=["documents", "metadatas"])
        return [
            self._document(rid, text, meta)
            for rid, text, meta in zip(result["ids"], result["documents"], result["metadatas"])
            if text is not None
        ]

    def similarity_search(
        self,
        query: str,
        k: int = DEFAULT_K,
        filter: dict[str, Any] | None = None,  # noqa: A002
        **kwargs: Any,
    ) -> list[Document]:
        """The ``k`` documents nearest to ``query``; ``filter`` is a huedb ``where``, and
        ``where_document`` may be passed too."""
        return [doc for doc, _ in self.similarity_search_with_score(query, k, filter=filter, **kwargs)]

    def similarity_search_with_score(
        self,
        query: str,
        k: int = DEFAULT_K,
        filter: dict[str, Any] | None = None,  # noqa: A002
        where_document: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[tuple[Document, float]]:
        """(document, distance) pairs, nearest first: lower is more similar."""
        result = self._query(query=query, k=k, filter=filter, where_document=where_document, **kwargs)
        return self._docs_and_scores(result)

    def similarity_search_by_vector(
        self,
        embedding: list[float],
        k: int = DEFAULT_K,
        filter: dict[str, Any] | None = None,  # noqa: A002
        where_document: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """The ``k`` documents nearest to ``embedding``."""
        result = self._query(embedding=embedding, k=k, filter=filter, where_document=where_document, **kwargs)
        return [doc for doc, _ in self._docs_and_scores(result)]

    def similarity_search_by_vector_with_relevance_scores(
        self,
        embedding: list[float],
        k: int = DEFAULT_K,
        filter: dict[str, Any] | None = None,  # noqa: A002
        where_document: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[tuple[Document, float]]:
        """(document, distance) pairs for ``embedding``, nearest first (as ``langchain_chroma``:
        despite the name, the score is the distance; lower is more similar)."""
        result = self._query(embedding=embedding, k=k, filter=filter, where_document=where_document, **kwargs)
        return self._docs_and_scores(result)

    def similarity_search_with_vectors(
        self,
        query: str,
        k: int = DEFAULT_K,
        filter: dict[str, Any] | None = None,  # noqa: A002
        where_document: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[tuple[Document, np.ndarray]]:
        """(document, stored vector) pairs, nearest first."""
        result = self._query(
            query=query,
            k=k,
            filter=filter,
            where_document=where_document,
            include=["documents", "metadatas", "embeddings"],
            **kwargs,
        )
        return [
            (self._document(rid, text, meta), np.asarray(vec))
            for rid, text, meta, vec in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0], result["embeddings"][0]
            )
            if text is not None
        ]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        """Distance to a [0, 1] relevance, by the collection's space (``relevance_score_fn`` overrides)."""
        if self.override_relevance_score_fn:
            return self.override_relevance_score_fn
        space = (self._collection.configuration_json.get("hnsw") or {}).get("space", "l2")
        if space == "cosine":
            return _cosine_relevance
        if space == "l2":
            # huedb (as Chroma) reports squared L2; LangChain's function expects the distance itself.
            return _squared_l2_relevance
        if space == "ip":
            return self._max_inner_product_relevance_score_fn
        raise ValueError(f"No relevance function for space {space!r}: pass relevance_score_fn=")

    def similarity_search_by_image(
        self,
        uri: str,
        k: int = DEFAULT_K,
        filter: dict[str, Any] | None = None,  # noqa: A002
        **kwargs: Any,
    ) -> list[Document]:
        """Documents nearest to the image at ``uri`` (needs an embedding with ``embed_image``)."""
        return self.similarity_search_by_vector(self._embed_image(uri), k, filter=filter, **kwargs)

    def similarity_search_by_image_with_relevance_score(
        self,
        uri: str,
        k: int = DEFAULT_K,
        filter: dict[str, Any] | None = None,  # noqa: A002
        **kwargs: Any,
    ) -> list[tuple[Document, float]]:
        """(document, distance) pairs nearest to the image at ``uri``."""
        return self.similarity_search_by_vector_with_relevance_scores(
            self._embed_image(uri), k, filter=filter, **kwargs
        )

    def _embed_image(self, uri: str) -> list[float]:
        if self._embedding_function is None or not hasattr(self._embedding_function, "embed_image"):
            raise ValueError("The embedding function must support image embedding (embed_image)")
        return list(self._embedding_function.embed_image(uris=[uri])[0])

    def max_marginal_relevance_search_by_vector(
        self,
        embedding: list[float],
        k: int = DEFAULT_K,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: dict[str, Any] | None = None,  # noqa: A002
        where_document: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """``k`` documents chosen by maximal marginal relevance from the ``fetch_k`` nearest."""
        result = self._query(
            embedding=embedding,
            k=fetch_k,
            filter=filter,
            where_document=where_document,
            include=["documents", "metadatas", "distances", "embeddings"],
            **kwargs,
        )
        rows = [
            (self._document(rid, text, meta), vec)
            for rid, text, meta, vec in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0], result["embeddings"][0]
            )
            if text is not None
        ]
        if not rows:
            return []
        chosen = maximal_marginal_relevance(
            np.asarray(embedding, dtype=np.float32), [np.asarray(v) for _, v in rows], lambda_mult=lambda_mult, k=k
        )
        return [rows[i][0] for i in chosen]

    def max_marginal_relevance_search(
        self,
        query: str,
        k: int = DEFAULT_K,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: dict[str, Any] | None = None,  # noqa: A002
        where_document: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """MMR by text: the query is embedded by the LangChain embedding or the collection's own."""
        return self.max_marginal_relevance_search_by_vector(
            self._embed_query(query),
            k,
            fetch_k,
            lambda_mult=lambda_mult,
            filter=filter,
            where_document=where_document,
            **kwargs,
        )

    # -- hybrid (dense + BM25) ---------------------------------------------
    def hybrid_search_with_score(
        self,
        query: str,
        k: int = DEFAULT_K,
        filter: dict[str, Any] | None = None,  # noqa: A002
        where_document: dict[str, Any] | None = None,
        alpha: float = 0.5,
        fetch_k: int | None = None,
        rrf_k: int = 60,
    ) -> list[tuple[Document, float]]:
        """(document, fused score) pairs by reciprocal rank fusion of the dense query and a BM25
        query on the collection's sparse index (create the store with ``hybrid=True``), best
        first; the score is Rrf's, lower is better. ``alpha`` weighs the dense side (1: dense
        only, 0: BM25 only); each side contributes its ``fetch_k`` best (default max(50, 4k))."""
        embedding = self._embedding_function.embed_query(query) if self._embedding_function is not None else None
        rows = hybrid_search(
            self._collection,
            query,
            embedding=embedding,
            k=k,
            where=filter,
            where_document=where_document,
            alpha=alpha,
            rrf_k=rrf_k,
            fetch_k=fetch_k,
            key=self._sparse_key,
        )
        return [
            (self._document(row["id"], row["document"], row.get("metadata")), float(row["score"] or 0.0))
            for row in rows
            if row.get("document") is not None
        ]

    def hybrid_search(self, query: str, k: int = DEFAULT_K, **kwargs: Any) -> list[Document]:
        """The ``k`` best documents for ``query`` by dense + BM25 fusion (see ``hybrid_search_with_score``)."""
        return [doc for doc, _ in self.hybrid_search_with_score(query, k, **kwargs)]

    async def ahybrid_search(self, query: str, k: int = DEFAULT_K, **kwargs: Any) -> list[Document]:
        return await run_in_executor(None, self.hybrid_search, query, k, **kwargs)

    def as_retriever(self, **kwargs: Any) -> HuedbRetriever:
        """A retriever: ``search_type`` "similarity", "mmr", "similarity_score_threshold" or
        "hybrid" (dense + BM25; ``search_kwargs`` may hold k, filter, where_document, alpha, fetch_k)."""
        tags = kwargs.pop("tags", None) or [*self._get_retriever_tags()]
        return HuedbRetriever(vectorstore=self, tags=tags, **kwargs)

    # -- constructors ------------------------------------------------------
    @classmethod
    def from_texts(
        cls: type[HuedbVectorStore],
        texts: list[str],
        embedding: Embeddings | None = None,
        metadatas: list[dict] | None = None,
        ids: list[str] | None = None,
        collection_name: str = _LANGCHAIN_DEFAULT_COLLECTION_NAME,
        persist_directory: str | None = None,
        host: str | None = None,
        port: int | None = None,
        headers: dict[str, str] | None = None,
        chroma_cloud_api_key: str | None = None,
        tenant: str | None = None,
        database: str | None = None,
        client_settings: huedb.Settings | None = None,
        client: huedb.ClientAPI | None = None,
        collection_metadata: dict | None = None,
        collection_configuration: dict | None = None,
        *,
        ssl: bool = False,
        **kwargs: Any,
    ) -> HuedbVectorStore:
        """A store (see ``__init__`` for where its client comes from) holding ``texts``."""
        store = cls(
            collection_name=collection_name,
            embedding_function=embedding,
            persist_directory=persist_directory,
            host=host,
            port=port,
            headers=headers,
            chroma_cloud_api_key=chroma_cloud_api_key,
            tenant=tenant,
            database=database,
            client_settings=client_settings,
            client=client,
            collection_metadata=collection_metadata,
            collection_configuration=collection_configuration,
            ssl=ssl,
            **kwargs,
        )
        store.add_texts(texts, metadatas=metadatas, ids=ids)
        return store

    @classmethod
    def from_documents(
        cls: type[HuedbVectorStore],
        documents: list[Document],
        embedding: Embeddings | None = None,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> HuedbVectorStore:
        """A store holding ``documents`` (their own ids are kept unless ``ids`` is given)."""
        if ids is None:
            ids = [doc.id or str(uuid.uuid4()) for doc in documents]
        return cls.from_texts(
            texts=[d.page_content for d in documents],
            embedding=embedding,
            metadatas=[d.metadata for d in documents],
            ids=ids,
            **kwargs,
        )


class HuedbRetriever(VectorStoreRetriever):
    """LangChain's vector store retriever plus ``search_type="hybrid"`` (dense + BM25 by Rrf)."""

    vectorstore: HuedbVectorStore
    allowed_search_types: ClassVar[Collection[str]] = (*VectorStoreRetriever.allowed_search_types, "hybrid")

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        if self.search_type == "hybrid":
            return self.vectorstore.hybrid_search(query, **{**self.search_kwargs, **kwargs})
        return super()._get_relevant_documents(query, run_manager=run_manager, **kwargs)

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        if self.search_type == "hybrid":
            return await self.vectorstore.ahybrid_search(query, **{**self.search_kwargs, **kwargs})
        return await super()._aget_relevant_documents(query, run_manager=run_manager, **kwargs)
