"""``Schema`` and its index configs, as chromadb 1.5.9 exports them (top level and
``chromadb.api.types``): build a collection's index schema and pass it to
``create_collection(schema=...)``.

``Schema().delete_index(StringInvertedIndexConfig(), key="genre")`` turns the filter index of
one key off (a filter on it then raises, as on Chroma), ``create_index(SparseVectorIndexConfig(
source_key="#document", embedding_function=ChromaBm25EmbeddingFunction(), bm25=True),
key="sparse")`` adds a sparse vector index filled from each record's document. The JSON form is
Chroma's (``serialize_to_json``); the engine checks it (``huedb.index_schema``). The building
rules and their ValueErrors are the ones chromadb's Schema applies client side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from huedb.api.schema_fields import SPANN_FIELDS, STRICT, known_fields, source_key_name
from huedb.api.schema_json import DEFAULT_EF_SPEC, from_json, to_json
from huedb.ef_persistence import LazyEmbeddingFunction
from huedb.index_schema import DOCUMENT, EMBEDDING


def _key_name(key: Any) -> str | None:
    return key if key is None or isinstance(key, str) else getattr(key, "name", str(key))


class FtsIndexConfig(BaseModel):
    """Full-text index: on ``#document`` only."""

    model_config = STRICT


class StringInvertedIndexConfig(BaseModel):
    model_config = STRICT


class IntInvertedIndexConfig(BaseModel):
    model_config = STRICT


class FloatInvertedIndexConfig(BaseModel):
    model_config = STRICT


class BoolInvertedIndexConfig(BaseModel):
    model_config = STRICT


class HnswIndexConfig(BaseModel):
    model_config = STRICT
    ef_construction: int | None = None
    max_neighbors: int | None = None
    ef_search: int | None = None
    num_threads: int | None = None
    batch_size: int | None = None
    sync_threshold: int | None = None
    resize_factor: float | None = None


class SpannIndexConfig(BaseModel):
    """Accepted without parameters only (an HNSW index, as on Chroma local): huedb has no SPANN."""

    model_config = STRICT

    @model_validator(mode="before")
    @classmethod
    def _fields(cls, data: Any) -> Any:
        return known_fields(data, SPANN_FIELDS, set(cls.model_fields), cls.__name__)

    search_nprobe: int | None = None
    write_nprobe: int | None = None
    ef_construction: int | None = None
    ef_search: int | None = None
    max_neighbors: int | None = None
    reassign_neighbor_count: int | None = None
    split_threshold: int | None = None
    merge_threshold: int | None = None


def _default_ef() -> Any:
    """The default EF, built on first use (a Schema is made without loading any plugin)."""
    return LazyEmbeddingFunction(dict(DEFAULT_EF_SPEC), "schema")


class VectorIndexConfig(BaseModel):
    """The collection's vector index (``#embedding``): space, hnsw parameters and embedding function.
    As on chromadb, ``embedding_function`` is the default EF unless given; given as None it means
    no EF (Chroma's ``legacy`` entry in the schema JSON)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")
    space: str | None = None
    embedding_function: Any | None = Field(default_factory=_default_ef)
    source_key: str | None = None
    hnsw: HnswIndexConfig | None = None
    spann: SpannIndexConfig | None = None

    @field_validator("source_key", mode="before")
    @classmethod
    def _key_name(cls, value: Any) -> Any:  # K.DOCUMENT is accepted, as on chromadb
        return source_key_name(value)


class SparseVectorIndexConfig(BaseModel):
    """A sparse vector index on one metadata key. With ``source_key`` (``#document`` or a
    metadata key) the client fills the key from that text with ``embedding_function`` on add,
    update and upsert; with ``bm25=True`` sparse queries are IDF-weighted at search time."""

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")
    embedding_function: Any | None = None
    source_key: str | None = None
    bm25: bool | None = None

    @field_validator("source_key", mode="before")
    @classmethod
    def _key_name(cls, value: Any) -> Any:  # K.DOCUMENT is accepted, as on chromadb
        return source_key_name(value)


IndexConfig = Union[  # noqa: UP007 - chromadb's alias, usable at run time
    FtsIndexConfig,
    VectorIndexConfig,
    SparseVectorIndexConfig,
    StringInvertedIndexConfig,
    IntInvertedIndexConfig,
    FloatInvertedIndexConfig,
    BoolInvertedIndexConfig,
]


@dataclass
class FtsIndexType:
    enabled: bool
    config: FtsIndexConfig


@dataclass
class StringInvertedIndexType:
    enabled: bool
    config: StringInvertedIndexConfig


@dataclass
class IntInvertedIndexType:
    enabled: bool
    config: IntInvertedIndexConfig


@dataclass
class FloatInvertedIndexType:
    enabled: bool
    config: FloatInvertedIndexConfig


@dataclass
class BoolInvertedIndexType:
    enabled: bool
    config: BoolInvertedIndexConfig


@dataclass
class VectorIndexType:
    enabled: bool
    config: VectorIndexConfig


@dataclass
class SparseVectorIndexType:
    enabled: bool
    config: SparseVectorIndexConfig


@dataclass
class StringValueType:
    fts_index: FtsIndexType | None = None
    string_inverted_index: StringInvertedIndexType | None = None


@dataclass
class FloatListValueType:
    vector_index: VectorIndexType | None = None


@dataclass
class SparseVectorValueType:
    sparse_vector_index: SparseVectorIndexType | None = None


@dataclass
class IntValueType:
    int_inverted_index: IntInvertedIndexType | None = None


@dataclass
class FloatValueType:
    float_inverted_index: FloatInvertedIndexType | None = None


@dataclass
class BoolValueType:
    bool_inverted_index: BoolInvertedIndexType | None = None


@dataclass
class ValueTypes:
    string: StringValueType | None = None
    float_list: FloatListValueType | None = None
    sparse_vector: SparseVectorValueType | None = None
    int_value: IntValueType | None = None
    float_value: FloatValueType | None = None
    boolean: BoolValueType | None = None


#: config class -> (ValueTypes field, value type class, index field, index type class)
_SLOTS: dict[type, tuple[str, type, str, type]] = {
    FtsIndexConfig: ("string", StringValueType, "fts_index", FtsIndexType),
    StringInvertedIndexConfig: ("string", StringValueType, "string_inverted_index", StringInvertedIndexType),
    IntInvertedIndexConfig: ("int_value", IntValueType, "int_inverted_index", IntInvertedIndexType),
    FloatInvertedIndexConfig: ("float_value", FloatValueType, "float_inverted_index", FloatInvertedIndexType),
    BoolInvertedIndexConfig: ("boolean", BoolValueType, "bool_inverted_index", BoolInvertedIndexType),
    VectorIndexConfig: ("float_list", FloatListValueType, "vector_index", VectorIndexType),
    SparseVectorIndexConfig: ("sparse_vector", SparseVectorValueType, "sparse_vector_index", SparseVectorIndexType),
}


def set_index(value_types: ValueTypes, config: Any, enabled: bool) -> None:
    """Sets one index (by its config's class) in a ValueTypes, creating the value type if needed."""
    field, vt_cls, index_field, it_cls = _SLOTS[type(config)]
    vt = getattr(value_types, field)
    if vt is None:
        vt = vt_cls()
        setattr(value_types, field, vt)
    setattr(vt, index_field, it_cls(enabled=enabled, config=config))


def _default_value_types() -> ValueTypes:
    out = ValueTypes()
    set_index(out, FtsIndexConfig(), False)
    set_index(out, StringInvertedIndexConfig(), True)
    set_index(out, VectorIndexConfig(), False)
    set_index(out, SparseVectorIndexConfig(), False)
    set_index(out, IntInvertedIndexConfig(), True)
    set_index(out, FloatInvertedIndexConfig(), True)
    set_index(out, BoolInvertedIndexConfig(), True)
    return out


class Schema:
    """A collection's index schema: ``defaults`` for every key, and per-key overrides in ``keys``."""

    def __init__(self) -> None:
        self.defaults: ValueTypes = _default_value_types()
        self.keys: dict[str, ValueTypes] = {DOCUMENT: ValueTypes(), EMBEDDING: ValueTypes()}
        set_index(self.keys[DOCUMENT], FtsIndexConfig(), True)
        set_index(self.keys[DOCUMENT], StringInvertedIndexConfig(), False)
        set_index(self.keys[EMBEDDING], VectorIndexConfig(source_key=DOCUMENT), True)
        self.cmek: Any = None

    def __repr__(self) -> str:
        return f"Schema(keys={sorted(self.keys)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and other.serialize_to_json() == self.serialize_to_json()

    def create_index(self, config: IndexConfig | None = None, key: Any = None) -> Schema:
        """Turns an index on (or configures it): globally without ``key``, else for that key."""
        return self._set(config, _key_name(key), True)

    def delete_index(self, config: IndexConfig | None = None, key: Any = None) -> Schema:
        """Turns an index off: globally without ``key``, else for that key."""
        return self._set(config, _key_name(key), False)

    def _set(self, config: Any, key: str | None, enabled: bool) -> Schema:
        verb = "enable" if enabled else "disable"
        # the special keys first, whatever the config (chromadb's order of checks and words)
        if key == EMBEDDING:
            return self._vector(VectorIndexConfig(), key, enabled)
        if key == DOCUMENT and not isinstance(config, FtsIndexConfig):
            raise ValueError(
                f"Cannot {'create' if enabled else 'delete'} index on special key '#document' with this config. "
                "Only FtsIndexConfig is allowed for #document."
            )
        if config is None:
            if key is None:
                raise ValueError(
                    "Cannot enable all index types globally. Must specify either config or key."
                    if enabled
                    else "Cannot disable all indexes. Must specify either config or key."
                )
            raise ValueError(
                f"Cannot {verb} all index types for key '{key}'. Please specify a specific index configuration."
            )
        if type(config) not in _SLOTS:
            raise ValueError(f"Unknown index configuration {type(config).__name__}; expected one of the *IndexConfig")
        if key is not None and key.startswith("#") and key not in (DOCUMENT, EMBEDDING):
            raise ValueError("key cannot begin with '#'. Keys starting with '#' are reserved for system use.")
        if isinstance(config, VectorIndexConfig):
            return self._vector(config, key, enabled)
        if isinstance(config, FtsIndexConfig):
            if key != DOCUMENT:
                raise ValueError(
                    "FTS index can only be enabled on #document key. Use create_index(config=FtsIndexConfig(), "
                    "key='#document')"
                    if enabled
                    else "Deleting FTS index is only supported on #document key."
                )
        if isinstance(config, SparseVectorIndexConfig):
            self._check_sparse(config, key, enabled)
        if key is None:
            set_index(self.defaults, config, enabled)
        else:
            set_index(self.keys.setdefault(key, ValueTypes()), config, enabled)
        return self

    def _vector(self, config: VectorIndexConfig, key: str | None, enabled: bool) -> Schema:
        if not enabled:
            raise ValueError(
                "Cannot modify #embedding. Currently not supported"
                if key == EMBEDDING
                else "Deleting vector index is not currently supported."
            )
        if key == EMBEDDING:
            raise ValueError(
                "Cannot create index on special key '#embedding'. This key is managed automatically by the "
                "system. Invoke create_index(VectorIndexConfig(...)) without specifying a key to configure the "
                "vector index globally."
            )
        if key is not None:
            raise ValueError(
                "Vector index cannot be enabled on specific keys. Use create_index(config=VectorIndexConfig(...)) "
                "without specifying a key to configure the vector index globally."
            )
        set_index(self.defaults, config, False)
        set_index(self.keys[EMBEDDING], config.model_copy(update={"source_key": DOCUMENT}), True)
        return self

    def _check_sparse(self, config: SparseVectorIndexConfig, key: str | None, enabled: bool) -> None:
        if not enabled:
            raise ValueError("Deleting sparse vector index is not currently supported.")
        if key is None:
            raise ValueError(
                "Sparse vector index must be created on a specific key. Please specify a key using: "
                "create_index(config=SparseVectorIndexConfig(...), key='your_key')"
            )
        if config.source_key is not None and config.embedding_function is None:
            raise ValueError(
                "If source_key is provided then embedding_function must also be provided since there is no "
                f"default embedding function. Config: {config}"
            )
        for other, vt in self.keys.items():
            index = vt.sparse_vector.sparse_vector_index if vt.sparse_vector else None
            if other != key and index is not None and index.enabled:
                raise ValueError(
                    f"Cannot enable sparse vector index on key '{key}'. A sparse vector index is already enabled "
                    f"on key '{other}'. Only one sparse vector index is allowed per collection."
                )

    def serialize_to_json(self) -> dict[str, Any]:
        """Chroma's JSON form; embedding functions in their persisted form (no secrets)."""
        return to_json(self)

    @classmethod
    def deserialize_from_json(cls, json: dict[str, Any]) -> Schema:
        """A Schema from Chroma's JSON; persisted embedding functions are rebuilt lazily."""
        schema = cls.__new__(cls)
        schema.defaults, schema.keys = from_json(json)
        schema.cmek = json.get("cmek")
        return schema


__all__ = [
    "BoolInvertedIndexConfig",
    "BoolInvertedIndexType",
    "BoolValueType",
    "FloatInvertedIndexConfig",
    "FloatInvertedIndexType",
    "FloatListValueType",
    "FloatValueType",
    "FtsIndexConfig",
    "FtsIndexType",
    "HnswIndexConfig",
    "IndexConfig",
    "IntInvertedIndexConfig",
    "IntInvertedIndexType",
    "IntValueType",
    "Schema",
    "SpannIndexConfig",
    "SparseVectorIndexConfig",
    "SparseVectorIndexType",
    "SparseVectorValueType",
    "StringInvertedIndexConfig",
    "StringInvertedIndexType",
    "StringValueType",
    "ValueTypes",
    "VectorIndexConfig",
    "VectorIndexType",
]
