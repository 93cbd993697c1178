"""Request validation: the one place a request's meaning is checked, for every client and the engine.

The embedded ``Collection`` calls these before its embedding function runs (so a paid
embedding function is never called for a request that fails), ``HttpAPI`` calls them
before it sends, and the engine calls them again on arrival (a server cannot trust
its clients). Each function checks everything that needs neither the embedding
function nor the stored collection: ids (types, duplicates), that every per-record
column has one entry per id, metadata values, ``where`` / ``where_document``,
``include``, ``n_results``, ``limit`` / ``offset``, the one-of rule for query inputs,
and embeddings when they are given. What needs the stored collection (its
dimension, which ids exist) is the engine's to check.

Every function returns the request normalised (lists, float32 arrays, Python
scalars), so a caller sends or stores exactly what was checked. The building
blocks live in ``huedb.validation``; the filter rules in ``huedb.filters``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from huedb.embedding_functions import normalize_embeddings
from huedb.errors import InvalidArgumentError
from huedb.filters import ParsedWhere, ParsedWhereDocument, validate_where, validate_where_document
from huedb.types import DEFAULT_GET_INCLUDE, DEFAULT_QUERY_INCLUDE, GET_INCLUDE, QUERY_INCLUDE
from huedb.validation import (
    validate_clear,
    validate_embeddings,
    validate_ids,
    validate_include,
    validate_limit_offset,
    validate_metadatas,
    validate_n_results,
    validate_strings,
    validate_texts_in,
)

WriteOp = Literal["add", "update", "upsert"]
WRITE_OPS: tuple[str, ...] = ("add", "update", "upsert")

Metadatas = list[dict[str, Any] | None] | None
Strings = list[str | None] | None


@dataclass
class WriteRequest:
    """A checked add/update/upsert. ``embeddings`` is None when the client will embed
    ``documents``/``images``/``uris`` (or, for update, when vectors do not change)."""

    op: str
    ids: list[str]
    embeddings: np.ndarray | None
    metadatas: Metadatas
    documents: Strings
    uris: Strings
    images: list[Any] | None
    clear: tuple[str, ...]

    def needs_embedding(self) -> bool:
        """True when vectors must come from the embedding function (no embeddings were given)."""
        return self.embeddings is None and any(v is not None for v in (self.documents, self.images, self.uris))


@dataclass
class GetRequest:
    ids: list[str] | None
    where: dict[str, Any] | None
    where_document: dict[str, Any] | None
    limit: int | None
    offset: int | None
    include: list[str]


@dataclass
class QueryRequest:
    """A checked query. Exactly one of the four inputs is set; ``query_embeddings`` is a
    2-D float32 array when given, and is what the engine searches with."""

    query_embeddings: np.ndarray | None
    query_texts: list[str] | None
    query_images: list[Any] | None
    query_uris: list[str] | None
    ids: list[str] | None
    n_results: int
    where: dict[str, Any] | None
    where_document: dict[str, Any] | None
    include: list[str]


@dataclass
class DeleteRequest:
    ids: list[str] | None
    where: dict[str, Any] | None
    where_document: dict[str, Any] | None
    limit: int | None = None


def as_list(value: Any) -> Any:
    """chromadb's one-to-many rule: a lone value (a str id, a document) stands for a list of one."""
    if value is None or isinstance(value, (list, tuple, np.ndarray)):
        return value
    return [value]


# -- pieces ------------------------------------------------------------------
def validate_filters(where: Any, where_document: Any) -> tuple[ParsedWhere | None, ParsedWhereDocument | None]:
    """``where`` and ``where_document`` (each may be None): their rules, and text that encodes as
    UTF-8. Returns them parsed: a filter already parsed (by the client, in this process) is not
    parsed or walked again."""
    if where is not None and not isinstance(where, ParsedWhere):
        where = validate_where(where)
        validate_texts_in(where, "where values")
    if where_document is not None and not isinstance(where_document, ParsedWhereDocument):
        where_document = validate_where_document(where_document)
        validate_texts_in(where_document, "where_document values")
    return where, where_document


def validate_query_embeddings(query_embeddings: Any) -> np.ndarray:
    """A non-empty 2-D float32 array of finite numbers (one row per query)."""
    arr = normalize_embeddings(query_embeddings)
    if arr is None or arr.ndim != 2 or arr.shape[0] == 0:
        raise InvalidArgumentError("Expected query_embeddings to be a non-empty list of embeddings")
    return validate_embeddings(arr, arr.shape[0])


def _validate_images(images: Any, count: int, what: str = "images") -> list[Any] | None:
    if images is None:
        return None
    if not isinstance(images, (list, tuple, np.ndarray)):
        raise InvalidArgumentError(
            f"Expected {what} to be a list of images (numpy arrays), got {type(images).__name__}"
        )
    out = list(images)
    if len(out) != count:
        raise InvalidArgumentError(f"Number of {what} {len(out)} must match number of ids {count}")
    return out


def _non_empty_strings(values: Any, what: str) -> list[str]:
    values = as_list(values)
    if not isinstance(values, (list, tuple, np.ndarray)) or len(values) == 0:
        raise InvalidArgumentError(f"Expected {what} to be a non-empty list of strings, got {values!r:.100}")
    checked = validate_strings(values, len(values), what) or []
    if any(v is None for v in checked):
        raise InvalidArgumentError(f"Expected every one of {what} to be a string, got None")
    return [v for v in checked if v is not None]


def check_embedded(vectors: Any, count: int, source: str) -> np.ndarray:
    """What an embedding function returned: one finite vector per input (2-D float32)."""
    arr = normalize_embeddings(vectors)
    if arr is None or arr.ndim != 2 or arr.shape[0] != count:
        got = "None" if arr is None else f"{arr.shape[0] if arr.ndim >= 1 else 0} embedding(s)"
        raise InvalidArgumentError(
            f"The embedding function returned {got} for {count} {source}; it must return one embedding per input"
        )
    return validate_embeddings(arr, count)


# -- whole requests ------------------------------------------------------------
def validate_write(
    op: str,
    ids: Any,
    embeddings: Any = None,
    metadatas: Any = None,
    documents: Any = None,
    uris: Any = None,
    images: Any = None,
    clear: Any = None,
    *,
    embeddings_required: bool = False,
) -> WriteRequest:
    """An add, update or upsert. ``embeddings_required``: the caller cannot embed (the
    engine, HttpAPI), so add and upsert must carry embeddings."""
    if op not in WRITE_OPS:
        raise ValueError(f"op must be one of {WRITE_OPS}, got {op!r}")  # a programming error, not a user one
    checked_ids = validate_ids(ids)
    n = len(checked_ids)
    checked_clear = validate_clear(clear)
    if op == "add" and checked_clear:
        raise InvalidArgumentError("add() takes no clear: a new record has nothing to empty")
    if images is not None and documents is not None:
        raise InvalidArgumentError("Provide documents or images, not both: a record has one modality")
    if op != "update":
        if embeddings_required and embeddings is None:
            raise InvalidArgumentError(
                f"{op}() needs embeddings for every record: pass embeddings=, or documents/images/uris with an "
                "embedding function on the collection"
            )
        if all(v is None for v in (embeddings, documents, images, uris)):
            raise InvalidArgumentError("You must provide embeddings, documents, images, or uris")
    vectors = validate_embeddings(embeddings, n) if embeddings is not None else None
    metas = validate_metadatas(metadatas, n, allow_none=op != "add")
    if op == "add" and metas is not None:
        # In add a None value means "no such key": a metadata left empty is no metadata.
        metas = [m or None for m in metas]
    return WriteRequest(
        op=op,
        ids=checked_ids,
        embeddings=vectors,
        metadatas=metas,
        documents=validate_strings(documents, n, "documents"),
        uris=validate_strings(uris, n, "uris"),
        images=_validate_images(images, n),
        clear=checked_clear,
    )


def explicit_include(include: Any, operation: str) -> Any:
    """A Collection's ``include`` argument: chromadb's default is a list, and None is refused
    (the REST API and the engine read a missing include as the default)."""
    if include is None:
        raise InvalidArgumentError(
            f"Expected include to be a list, got None in {operation}. Omit include for the default, "
            'or pass a list such as ["metadatas", "documents"]'
        )
    return include


def validate_get(
    ids: Any = None,
    where: Any = None,
    where_document: Any = None,
    limit: Any = None,
    offset: Any = None,
    include: Any = None,
) -> GetRequest:
    checked_include = validate_include(include, GET_INCLUDE, list(DEFAULT_GET_INCLUDE))
    validate_limit_offset(limit, offset)
    checked_ids = validate_ids(ids, allow_empty=True) if ids is not None else None
    where, where_document = validate_filters(where, where_document)
    return GetRequest(
        ids=checked_ids,
        where=where,
        where_document=where_document,
        limit=None if limit is None else int(limit),
        offset=None if offset is None else int(offset),
        include=checked_include,
    )


def validate_query(
    query_embeddings: Any = None,
    query_texts: Any = None,
    query_images: Any = None,
    query_uris: Any = None,
    ids: Any = None,
    n_results: Any = 10,
    where: Any = None,
    where_document: Any = None,
    include: Any = None,
) -> QueryRequest:
    given = [
        name
        for name, value in (
            ("query_embeddings", query_embeddings),
            ("query_texts", query_texts),
            ("query_images", query_images),
            ("query_uris", query_uris),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise InvalidArgumentError(
            "Provide exactly one of query_embeddings, query_texts, query_images or query_uris"
            + (f" (got {', '.join(given)})" if given else " (got none)")
        )
    k = validate_n_results(n_results)
    checked_include = validate_include(include, QUERY_INCLUDE, list(DEFAULT_QUERY_INCLUDE))
    # As Chroma, query(ids=) may repeat an id: it restricts the search to a set.
    checked_ids = list(dict.fromkeys(validate_ids(ids, True, unique=False))) if ids is not None else None
    where, where_document = validate_filters(where, where_document)
    images: list[Any] | None = None
    if query_images is not None:
        if not isinstance(query_images, (list, tuple, np.ndarray)) or len(query_images) == 0:
            raise InvalidArgumentError("Expected query_images to be a non-empty list of images (numpy arrays)")
        images = list(query_images)
    return QueryRequest(
        query_embeddings=validate_query_embeddings(query_embeddings) if query_embeddings is not None else None,
        query_texts=_non_empty_strings(query_texts, "query_texts") if query_texts is not None else None,
        query_images=images,
        query_uris=_non_empty_strings(query_uris, "query_uris") if query_uris is not None else None,
        ids=checked_ids,
        n_results=k,
        where=where,
        where_document=where_document,
        include=checked_include,
    )


def validate_delete(ids: Any = None, where: Any = None, where_document: Any = None, limit: Any = None) -> DeleteRequest:
    if ids is None and where is None and where_document is None:
        raise InvalidArgumentError(
            "delete() needs ids, where or where_document; to delete every record, use delete_collection()"
        )
    if limit is not None:  # as Chroma: at most `limit` of the records a filter matches
        if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)):
            raise TypeError(f"limit must be a non-negative integer in delete, got {limit!r:.50}")
        if limit < 0:
            raise InvalidArgumentError(f"limit must be a non-negative integer in delete, got {limit}")
        if where is None and where_document is None:
            raise InvalidArgumentError(
                "limit can only be specified when a where or where_document clause is provided in delete"
            )
        limit = int(limit)
    checked_ids = validate_ids(ids) if ids is not None else None
    where, where_document = validate_filters(where, where_document)
    return DeleteRequest(ids=checked_ids, where=where, where_document=where_document, limit=limit)
