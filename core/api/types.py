"""chromadb-compatible import path: the names ``chromadb.api.types`` exports.

Type aliases, result types and small value types that user code imports from
``chromadb.api.types``. The result types (GetResult, QueryResult) live in
``huedb.types`` and the EF protocols in ``huedb.embedding_functions``; this module
re-exports them. Chroma's request-validation helpers (``validate_*``,
``normalize_*``) are not part of it: huedb validates in ``huedb.requests``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, Protocol, TypedDict, TypeVar, Union

import numpy as np
from numpy.typing import NDArray

from huedb import errors
from huedb.api import schema as _schema
from huedb.api.schema import (  # noqa: F401 - chromadb.api.types has them
    BoolInvertedIndexConfig,
    BoolInvertedIndexType,
    BoolValueType,
    FloatInvertedIndexConfig,
    FloatInvertedIndexType,
    FloatListValueType,
    FloatValueType,
    FtsIndexConfig,
    FtsIndexType,
    HnswIndexConfig,
    IndexConfig,
    IntInvertedIndexConfig,
    IntInvertedIndexType,
    IntValueType,
    Schema,
    SpannIndexConfig,
    SparseVectorIndexConfig,
    SparseVectorIndexType,
    SparseVectorValueType,
    StringInvertedIndexConfig,
    StringInvertedIndexType,
    StringValueType,
    ValueTypes,
    VectorIndexConfig,
    VectorIndexType,
)
from huedb.embedding_functions import (
    D,
    DataLoader,
    Document,
    Documents,
    Embeddable,
    Embedding,
    EmbeddingFunction,
    Embeddings,
    Image,
    Images,
)
from huedb.sparse import (  # noqa: F401 - re-exported: chromadb.api.types has them
    SPARSE_VECTOR_TYPE_VALUE,
    TYPE_KEY,
    SparseVector,
    SparseVectors,
    decode_sparse_values,
)
from huedb.types import GetResult, QueryResult

T = TypeVar("T")
L = TypeVar("L", covariant=True)
OneOrMany = Union[T, list[T]]  # noqa: UP007 - mypy takes no TypeVar in an X | Y alias

ID = str
IDs = list[ID]
URI = str
URIs = list[URI]
Vector = NDArray[np.int32 | np.float32]
PyVector = Sequence[float] | Sequence[int]
PyEmbedding = PyVector
PyEmbeddings = list[PyEmbedding]
ImageDType = np.uint64 | np.int64 | np.float64
Loadable = list[Image | None]
Space = Literal["cosine", "l2", "ip"]


LiteralValue = str | int | float | bool
MetadataValue = str | int | float | bool | SparseVector | list[LiteralValue] | None
Metadata = Mapping[str, MetadataValue]
Metadatas = list[Metadata]
UpdateMetadata = Mapping[str, MetadataValue]
CollectionMetadata = dict[str, Any]
UpdateCollectionMetadata = UpdateMetadata

LogicalOperator = Literal["$and", "$or"]
WhereOperator = Literal["$gt", "$gte", "$lt", "$lte", "$ne", "$eq"]
InclusionExclusionOperator = Literal["$in", "$nin"]
OperatorExpression = (
    dict[WhereOperator | LogicalOperator, LiteralValue] | dict[InclusionExclusionOperator, list[LiteralValue]]
)
Where = dict[str | LogicalOperator, LiteralValue | OperatorExpression | list["Where"]]
WhereDocumentOperator = Literal["$contains", "$not_contains", "$regex", "$not_regex", "$and", "$or"]
WhereDocument = dict[WhereDocumentOperator, str | list["WhereDocument"]]

Include = list[Literal["documents", "embeddings", "metadatas", "distances", "uris", "data"]]
IncludeMetadataDocuments: Include = ["metadatas", "documents"]
IncludeMetadataDocumentsEmbeddings: Include = ["metadatas", "documents", "embeddings"]
IncludeMetadataDocumentsDistances: Include = ["metadatas", "documents", "distances"]
IncludeMetadataDocumentsEmbeddingsDistances: Include = ["metadatas", "documents", "embeddings", "distances"]

# Reserved keys and the names of Chroma's schema value types and indexes.
DOCUMENT_KEY = "#document"
EMBEDDING_KEY = "#embedding"
META_KEY_CHROMA_DOCUMENT = "chroma:document"
STRING_VALUE_NAME = "string"
INT_VALUE_NAME = "int"
FLOAT_VALUE_NAME = "float"
BOOL_VALUE_NAME = "bool"
FLOAT_LIST_VALUE_NAME = "float_list"
SPARSE_VECTOR_VALUE_NAME = "sparse_vector"
FTS_INDEX_NAME = "fts_index"
VECTOR_INDEX_NAME = "vector_index"
SPARSE_VECTOR_INDEX_NAME = "sparse_vector_index"
STRING_INVERTED_INDEX_NAME = "string_inverted_index"
INT_INVERTED_INDEX_NAME = "int_inverted_index"
FLOAT_INVERTED_INDEX_NAME = "float_inverted_index"
BOOL_INVERTED_INDEX_NAME = "bool_inverted_index"
HNSW_INDEX_NAME = "hnsw_index"
SPANN_INDEX_NAME = "spann_index"


#: chromadb's flag for its HTTP-only client package; huedb always ships the embedded engine
is_thin_client = False


def maybe_cast_one_to_many(target: OneOrMany[T] | None) -> list[T] | None:
    """``None`` stays None, a list stays as it is, anything else becomes a one-item list."""
    if target is None:
        return None
    if isinstance(target, list):
        return target
    return [target]


class DeleteResult(TypedDict):
    deleted: int


class ReadLevel(str, Enum):
    """How much of the write-ahead log a read sees (Chroma's distributed setting). huedb reads
    are always complete: every acknowledged write is visible, as with ``INDEX_AND_WAL``."""

    INDEX_AND_WAL = "index_and_wal"
    INDEX_ONLY = "index_only"
    INDEX_AND_BOUNDED_WAL = "index_and_bounded_wal"


class SearchResultRow(TypedDict, total=False):
    """One record of a search: its id, plus each selected field that has a value."""

    id: str
    document: str | None
    embedding: list[float] | None
    metadata: dict[str, Any] | None
    score: float | None


class SearchResult(dict[str, Any]):
    """What ``Collection.search`` returns: one column per field, each holding one list per
    search of the batch (None where that search did not select the field)."""

    ids: list[list[str]]
    documents: list[list[str | None] | None]
    embeddings: list[list[list[float] | None] | None]
    metadatas: list[list[dict[str, Any] | None] | None]
    scores: list[list[float | None] | None]
    select: list[list[str]]

    def rows(self) -> list[list[SearchResultRow]]:
        """Row-major: per search, one dict per record holding ``id`` and the fields with a value."""
        out: list[list[SearchResultRow]] = []
        columns = ("document", "embedding", "metadata", "score")
        for i, ids in enumerate(self.get("ids") or []):
            per_field = [(self.get(f"{c}s") or [None] * (i + 1))[i] or [None] * len(ids) for c in columns]
            rows: list[SearchResultRow] = []
            for j, record_id in enumerate(ids):
                row: SearchResultRow = {"id": record_id}
                for name, values in zip(columns, per_field):
                    if values[j] is not None:
                        row[name] = values[j]  # type: ignore[literal-required]
                rows.append(row)
            out.append(rows)
        return out


@dataclass
class IndexingStatus:
    num_indexed_ops: int
    num_unindexed_ops: int
    total_ops: int
    op_indexing_progress: float


class SparseEmbeddingFunction(Protocol[D]):
    """chromadb's protocol for embedding functions that return sparse vectors.

    Defined so that user classes written against it import and type-check; huedb
    collections do not store sparse vectors yet, so none can be attached to one.
    """

    def __call__(self, input: D) -> SparseVectors: ...

    def embed_query(self, input: D) -> SparseVectors:
        return self(input)

    def embed_with_retries(self, input: D, **retry_kwargs: Any) -> SparseVectors:
        from tenacity import retry

        return retry(**retry_kwargs)(self.__call__)(input)

    @staticmethod
    def name() -> str:
        return "legacy"

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> SparseEmbeddingFunction[D]:
        raise NotImplementedError("this sparse embedding function cannot be rebuilt from a config")

    def get_config(self) -> dict[str, Any]:
        return {}

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        return None

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        return None


def __getattr__(name: str) -> Any:
    # The default EF is a plugin: resolved through the registry only when asked for.
    if name == "DefaultEmbeddingFunction":
        from huedb.registry import get_registry

        return get_registry().get("embedding_function", "default")
    raise AttributeError(f"module 'huedb.api.types' has no attribute {name!r}")


__all__ = [  # the schema names, then this module's own
    *_schema.__all__,
    "BOOL_INVERTED_INDEX_NAME",
    "BOOL_VALUE_NAME",
    "CollectionMetadata",
    "D",
    "DOCUMENT_KEY",
    "DataLoader",
    "DefaultEmbeddingFunction",  # noqa: F822 - resolved by __getattr__ (a plugin)
    "DeleteResult",
    "Document",
    "Documents",
    "EMBEDDING_KEY",
    "Embeddable",
    "Embedding",
    "EmbeddingFunction",
    "Embeddings",
    "FLOAT_INVERTED_INDEX_NAME",
    "FLOAT_LIST_VALUE_NAME",
    "FLOAT_VALUE_NAME",
    "FTS_INDEX_NAME",
    "GetResult",
    "HNSW_INDEX_NAME",
    "ID",
    "IDs",
    "INT_INVERTED_INDEX_NAME",
    "INT_VALUE_NAME",
    "Image",
    "ImageDType",
    "Images",
    "Include",
    "IncludeMetadataDocuments",
    "IncludeMetadataDocumentsDistances",
    "IncludeMetadataDocumentsEmbeddings",
    "IncludeMetadataDocumentsEmbeddingsDistances",
    "IndexingStatus",
    "L",
    "LiteralValue",
    "Loadable",
    "LogicalOperator",
    "META_KEY_CHROMA_DOCUMENT",
    "Metadata",
    "Metadatas",
    "OneOrMany",
    "OperatorExpression",
    "PyEmbedding",
    "PyEmbeddings",
    "PyVector",
    "QueryResult",
    "ReadLevel",
    "SearchResult",
    "SearchResultRow",
    "SPANN_INDEX_NAME",
    "SPARSE_VECTOR_INDEX_NAME",
    "SPARSE_VECTOR_TYPE_VALUE",
    "SPARSE_VECTOR_VALUE_NAME",
    "STRING_INVERTED_INDEX_NAME",
    "STRING_VALUE_NAME",
    "Space",
    "SparseEmbeddingFunction",
    "SparseVector",
    "SparseVectors",
    "T",
    "TYPE_KEY",
    "URI",
    "URIs",
    "UpdateCollectionMetadata",
    "UpdateMetadata",
    "VECTOR_INDEX_NAME",
    "Vector",
    "Where",
    "WhereDocument",
    "WhereDocumentOperator",
    "WhereOperator",
    "errors",
    "is_thin_client",
    "maybe_cast_one_to_many",
]
