"""The client side never imports the server, and the domain facts the two sides share
(result fields, include values, CollectionModel, the wire codec) have one source each."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _fresh_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)


def test_the_http_client_loads_no_server_module():
    done = _fresh_python(
        "import huedb.api.http_api, huedb.api.http_client, sys; "
        "bad = sorted(m for m in sys.modules if m.startswith('huedb.server')); "
        "assert not bad, bad"
    )
    assert done.returncode == 0, done.stderr


def _imports(path: Path) -> set:
    """Every module a file imports, at any depth (function-level imports too)."""
    tree = ast.parse(path.read_text())
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    return modules | {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}


def test_the_wire_codec_imports_only_types_errors_and_numpy():
    modules = _imports(REPO / "core" / "wire.py")
    third_party = {m.split(".")[0] for m in modules} - set(sys.stdlib_module_names) - {"__future__", "huedb"}
    assert third_party == {"numpy"}
    assert {m for m in modules if m.startswith("huedb")} <= {
        "huedb.types",
        "huedb.errors",
        "huedb.sparse",
        "huedb.index_schema",
    }


def test_no_module_under_api_imports_the_server():
    for path in (REPO / "core" / "api").glob("*.py"):
        server = sorted(m for m in _imports(path) if m.startswith("huedb.server"))
        assert not server, f"{path.name} imports {server}: the client side uses huedb.wire"
    assert not (REPO / "core" / "server" / "wire.py").exists(), "the codec lives in core/wire.py"


def test_one_source_for_result_fields_and_collection_model():
    from huedb import types, validation, wire
    from huedb.api import models
    from huedb.api.collection import GetResult, QueryResult

    assert models.CollectionModel is types.CollectionModel
    assert (GetResult, QueryResult) == (types.GetResult, types.QueryResult)
    assert validation.GET_INCLUDE is types.GET_INCLUDE and validation.QUERY_INCLUDE is types.QUERY_INCLUDE
    assert validation.CLEARABLE == types.CLEARABLE_FIELDS
    assert set(wire.INCLUDE_VALUES) == set(types.QUERY_INCLUDE) - {"data"}


def test_http_api_and_the_embedded_engine_satisfy_server_api():
    import httpx

    from huedb.api.client import make_server_api
    from huedb.api.http_api import HttpAPI
    from huedb.api.server_api import ServerAPI
    from huedb.config import Settings

    api = HttpAPI(
        Settings(chroma_server_host="localhost"), transport=httpx.MockTransport(lambda r: httpx.Response(500))
    )
    try:
        assert isinstance(api, ServerAPI)
    finally:
        api.close()
    local = make_server_api(Settings(is_persistent=False))
    try:
        assert isinstance(local, ServerAPI)
    finally:
        local.close()


def test_results_survive_the_wire_both_ways():
    from huedb import wire
    from huedb.types import CollectionModel

    got = {
        "ids": ["a", "b"],
        "embeddings": np.array([[1.5, 2.0], [0.0, -1.0]], dtype=np.float32),
        "documents": ["x", None],
        "uris": None,
        "metadatas": [{"k": 1}, None],
        "data": None,
        "included": ["documents", "metadatas", "embeddings", "data"],
    }
    back = wire.get_result_from_json(wire.get_result_json(got))
    assert back["ids"] == ["a", "b"] and back["documents"] == ["x", None] and back["metadatas"] == [{"k": 1}, None]
    assert back["embeddings"].dtype == np.float32 and np.array_equal(back["embeddings"], got["embeddings"])
    assert back["included"] == ["documents", "metadatas", "embeddings"]  # data never crosses the wire

    query = {
        "ids": [["a"], []],
        "embeddings": None,
        "documents": [["x"], []],
        "uris": None,
        "metadatas": None,
        "distances": [[0.25], []],
        "data": None,
        "included": ["documents", "distances"],
    }
    qback = wire.query_result_from_json(wire.query_result_json(query))
    assert qback["ids"] == [["a"], []] and qback["distances"] == [[0.25], []] and qback["documents"] == [["x"], []]

    model = CollectionModel(
        id="0b6c",
        name="abc",
        metadata={"m": 1},
        configuration_json={"hnsw": {}},
        dimension=3,
        tenant="t",
        database="d",
        version=2,
        internal_id=9,
    )
    again = wire.collection_from_json(wire.collection_json(model))
    assert again == CollectionModel(
        id="0b6c",
        name="abc",
        metadata={"m": 1},
        configuration_json={"hnsw": {}},
        dimension=3,
        tenant="t",
        database="d",
        version=2,
    )
    assert "internal_id" not in wire.collection_json(model)  # the storage key never goes over the wire

    rows = np.array([[0.1, -2.5, 3e38]], dtype=np.float32)
    assert np.array_equal(wire.decode_embedding_b64(wire.encode_embeddings_b64(rows)[0]), rows[0])
