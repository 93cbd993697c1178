"""Every public name chromadb 1.5.9 exports (top level and the modules user code imports)
is present in huedb at the same path, or listed here with the reason it is not.

The names were captured from chromadb 1.5.9 into tests/fixtures/chromadb_names.json
(see its "comment" field and tests/fixtures/capture_chromadb_names.py).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "chromadb_names.json").read_text())
MODULES = sorted(FIXTURE["modules"])

CMEK = "customer-managed encryption keys: a Chroma Cloud feature (part of Schema)"
INTERNAL_API = "chromadb's internal client plumbing, not user-facing API"
VALIDATION = "chromadb's internal request validation/normalisation helper; huedb validates in huedb.requests"
REQUESTS = "chromadb's internal request record; huedb's are in huedb.requests"
EF_PLUGIN_MODULES = (
    "a chromadb per-provider submodule; huedb's embedding functions are plugins (huedb_plugins.embedding.*), "
    "their classes resolve in this module"
)

#: chromadb names huedb does not provide, and why: {chromadb module: {name: reason}}
NOT_PROVIDED: dict[str, dict[str, str]] = {
    "chromadb": {
        "Cmek": CMEK,
        "CloudClientArg": INTERNAL_API + " (CloudClient's argument record)",
        "chromadb": "the chromadb module object itself, a side effect of its own imports",
        "base_types": "chromadb's internal module; its SparseVector is huedb.SparseVector (and huedb.api.types)",
        "serde": "chromadb's internal (de)serialisation module",
    },
    "chromadb.api.types": {
        **dict.fromkeys(["Cmek", "CmekProvider"], CMEK),
        **dict.fromkeys(
            [
                "AddRequest",
                "DeleteRequest",
                "GetRequest",
                "QueryRequest",
                "UpdateRequest",
                "UpsertRequest",
                "BaseRecordSet",
                "InsertRecordSet",
                "FilterSet",
                "IndexMetadata",
            ],
            REQUESTS,
        ),
        "Parameter": "a TypeVar chromadb uses in its own signatures",
        **dict.fromkeys(
            [
                "convert_list_embeddings_to_np",
                "convert_np_embeddings_to_list",
                "deserialize_metadata",
                "serialize_metadata",
                "get_default_embeddable_record_set_fields",
                "is_document",
                "is_image",
                "normalize_base_record_set",
                "normalize_embeddings",
                "normalize_insert_record_set",
                "normalize_metadata",
                "normalize_metadatas",
                "optional_base64_strings_to_embeddings",
                "optional_embeddings_to_base64_strings",
                "pack_embedding_safely",
                "validate_base_record_set",
                "validate_batch",
                "validate_documents",
                "validate_embedding_function",
                "validate_embeddings",
                "validate_filter_set",
                "validate_ids",
                "validate_images",
                "validate_include",
                "validate_insert_record_set",
                "validate_metadata",
                "validate_metadatas",
                "validate_n_results",
                "validate_record_set_contains_any",
                "validate_record_set_contains_one",
                "validate_record_set_for_embedding",
                "validate_sparse_embedding_function",
                "validate_sparse_vectors",
                "validate_update_metadata",
                "validate_where",
                "validate_where_document",
            ],
            VALIDATION,
        ),
    },
    "chromadb.api.models.Collection": {
        "CollectionCommon": "chromadb's shared base of Collection and AsyncCollection; huedb's Collection has none",
        "Function": "attached functions: a Chroma Cloud feature",
        "UpdateCollectionConfiguration": "chromadb's TypedDict for modify(configuration=); huedb takes a plain dict",
    },
    "chromadb.config": {
        **dict.fromkeys(
            ["Component", "System", "C", "T", "get_class", "get_fqn"],
            "chromadb's component system, "
            "which huedb does not have (the engine is huedb.engine, plugins load by entry point)",
        ),
        "APIVersion": "chromadb's internal enum of REST versions (huedb serves v2)",
        "RoutingMode": "chromadb's distributed-deployment setting",
        "LEGACY_ERROR": "chromadb's message for pre-0.4 settings",
        "is_thin_client": "defined in huedb.api.types and at chromadb's other paths; not in huedb.config yet",
        "logger": "a module logger, not API",
    },
    "chromadb.telemetry": {
        "opentelemetry": "chromadb's OpenTelemetry tracing of its own server; huedb's server has no tracing hooks",
    },
    "chromadb.telemetry.product": {
        "Component": "chromadb's component system, which huedb does not have",
        "ServerContext": "chromadb's enum of deployment contexts reported in its telemetry; huedb reports none",
        "TELEMETRY_WHITELISTED_SETTINGS": "the settings chromadb reports in telemetry; huedb reports nothing",
        "chromadb": "the chromadb module object itself, a side effect of its own imports",
        "events": "the event classes chromadb sends; huedb sends no telemetry, so it has none to build",
    },
    "chromadb.utils.batch_utils": {
        "BaseAPI": "chromadb's abstract API class; create_batches takes any client with get_max_batch_size()",
    },
    "chromadb.utils.embedding_functions": {
        **{
            name: EF_PLUGIN_MODULES
            for name, entry in FIXTURE["modules"]["chromadb.utils.embedding_functions"]["names"].items()
            if entry["kind"] == "module"
        },
    },
}


def _huedb_module(chroma_module: str):
    return importlib.import_module("huedb" + chroma_module[len("chromadb") :])


def _present(module, name: str, kind: str) -> bool:
    if kind == "module":
        try:
            importlib.import_module(f"{module.__name__}.{name}")
            return True
        except ImportError:
            return hasattr(module, name)
    try:
        getattr(module, name)
    except AttributeError:
        return False
    return True


def _own_names(chroma_module: str) -> dict[str, dict]:
    names = FIXTURE["modules"][chroma_module]["names"]
    return {n: e for n, e in names.items() if "external" not in e}


def _self_listed_reason(module, name: str) -> str | None:
    """A module that lists a missing name itself says why when it is asked for it."""
    try:
        getattr(module, name)
    except AttributeError as e:
        if "is not available:" in str(e):
            return str(e)
    return None


def test_the_fixture_was_captured_from_chromadb_1_5_9():
    assert FIXTURE["chromadb_version"] == "1.5.9"
    assert "capture_chromadb_names.py" in FIXTURE["comment"]
    top = FIXTURE["modules"]["chromadb"]
    assert {"PersistentClient", "Documents", "RustClient", "errors"} <= set(top["names"])
    assert "Documents" in top["__all__"]


@pytest.mark.parametrize("chroma_module", MODULES)
def test_every_chromadb_name_is_present_or_listed_with_a_reason(chroma_module):
    module = _huedb_module(chroma_module)
    listed = NOT_PROVIDED.get(chroma_module, {})
    unexplained = []
    for name, entry in _own_names(chroma_module).items():
        if _present(module, name, entry["kind"]) or name in listed:
            continue
        if _self_listed_reason(module, name) is None:
            unexplained.append(name)
    assert unexplained == [], f"{module.__name__} lacks chromadb names with no reason listed: {unexplained}"


@pytest.mark.parametrize("chroma_module", MODULES)
def test_listed_names_are_really_missing(chroma_module):
    """A name that became available must leave the list, so that the list stays true."""
    module = _huedb_module(chroma_module)
    own = _own_names(chroma_module)
    listed = NOT_PROVIDED.get(chroma_module, {})
    stale = sorted(n for n in listed if n in own and _present(module, n, own[n]["kind"]))
    assert stale == [], f"now provided by {module.__name__}, remove from NOT_PROVIDED: {stale}"
    unknown = sorted(set(listed) - set(own))
    assert unknown == [], f"listed but not a chromadb 1.5.9 name of {chroma_module}: {unknown}"


WITH_ALL = [m for m in MODULES if "__all__" in FIXTURE["modules"][m]]


def test_the_modules_declaring_all():
    assert WITH_ALL == ["chromadb", "chromadb.api.types", "chromadb.utils.embedding_functions"]


@pytest.mark.parametrize("chroma_module", WITH_ALL)
def test_chromadb_all_is_fully_provided_but_for_listed_names(chroma_module):
    """``from chromadb import *`` names (its ``__all__``) are the core of the promise."""
    module = _huedb_module(chroma_module)
    listed = NOT_PROVIDED.get(chroma_module, {})
    missing = [
        n
        for n in FIXTURE["modules"][chroma_module]["__all__"]
        if n not in listed and not hasattr(module, n) and _self_listed_reason(module, n) is None
    ]
    assert missing == []


def test_external_imports_are_recorded_with_their_origin():
    """chromadb's own imports (typing.Dict, os, numpy...) are not its API: the fixture names the
    module each comes from, and huedb does not re-export them."""
    top = FIXTURE["modules"]["chromadb"]["names"]
    assert top["Dict"]["external"] == "typing" and top["os"]["external"] == "os"
    assert "external" not in top["Documents"] and "external" not in top["Collection"]


def test_the_names_issue_12_asks_for_import_from_huedb():
    import huedb
    import huedb.types
    from huedb import (  # noqa: F401
        URI,
        AsyncClientAPI,
        CollectionMetadata,
        Documents,
        EmbeddingFunction,
        Embeddings,
        IDs,
        Include,
        Metadata,
        Metadatas,
        ReadLevel,
        RustClient,
        SparseEmbeddingFunction,
        SparseVector,
        TokenTransportHeader,
        UpdateMetadata,
        URIs,
        Where,
        WhereDocument,
    )
    from huedb.api.models import CollectionModel  # noqa: F401
    from huedb.api.models.Collection import Collection
    from huedb.api.types import GetResult, QueryResult
    from huedb.errors import (  # noqa: F401
        BatchSizeExceededError,
        ChromaAuthError,
        IDAlreadyExistsError,
        InvalidHTTPVersion,
        InvalidUUIDError,
        RateLimitError,
        VersionMismatchError,
    )
    from huedb.utils.batch_utils import create_batches  # noqa: F401
    from huedb.utils.data_loaders import ChromaLangchainPassthroughDataLoader, ImageLoader  # noqa: F401

    # one source: the result types and the Collection class are the same objects at every path
    assert GetResult is huedb.types.GetResult and QueryResult is huedb.types.QueryResult
    assert Collection is huedb.Collection
    assert [h.value for h in TokenTransportHeader] == ["Authorization", "X-Chroma-Token"]
    assert [r.value for r in ReadLevel] == ["index_and_wal", "index_only", "index_and_bounded_wal"]
