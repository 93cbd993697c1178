"""REST-level tests of the server: Chroma v2 paths, JSON shapes, status codes, error bodies."""

from __future__ import annotations

import base64
import uuid

import httpx
import numpy as np
import pytest

from server_fixtures import ServerThread, huedb_server  # noqa: F401  (fixture)

V2 = "/api/v2"


@pytest.fixture
def http(huedb_server):
    with httpx.Client(base_url=huedb_server.url + V2, timeout=30) as c:
        yield c


@pytest.fixture
def db(http):
    """A fresh tenant/database; returns the path prefix of its collections."""
    tenant, database = f"t{uuid.uuid4().hex[:10]}", f"d{uuid.uuid4().hex[:10]}"
    assert http.post("/tenants", json={"name": tenant}).status_code == 200
    assert http.post(f"/tenants/{tenant}/databases", json={"name": database}).status_code == 200
    return f"/tenants/{tenant}/databases/{database}"


def _collection(http, db, name="coll", **body):
    r = http.post(f"{db}/collections", json={"name": name, **body})
    assert r.status_code == 200, r.text
    return r.json()


def _error(r, status, name=None):
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error", "message"} and body["message"]
    if name:
        assert body["error"] == name
    return body


def test_system_endpoints(http):
    hb = http.get("/heartbeat")
    assert hb.status_code == 200 and isinstance(hb.json()["nanosecond heartbeat"], int)
    assert http.get("/version").json() == __import__("huedb").__version__
    assert http.get("/healthcheck").status_code == 200
    pf = http.get("/pre-flight-checks").json()
    assert pf == {"max_batch_size": 5461, "supports_base64_encoding": True}  # chromadb 1.5.9's server says 5461
    ident = http.get("/auth/identity").json()
    assert ident == {"user_id": "", "tenant": "default_tenant", "databases": ["default_database"]}


def test_tenants_and_databases(http):
    t = f"t{uuid.uuid4().hex[:8]}"
    assert http.post("/tenants", json={"name": t}).json() == {}
    assert http.get(f"/tenants/{t}").json() == {"name": t, "resource_name": None}
    _error(http.post("/tenants", json={"name": t}), 409, "UniqueConstraintError")
    _error(http.get("/tenants/nope-nope"), 404, "NotFoundError")
    for name in ("db_a1", "db_a2", "db_a3"):
        assert http.post(f"/tenants/{t}/databases", json={"name": name}).json() == {}
    dbs = http.get(f"/tenants/{t}/databases").json()
    assert [d["name"] for d in dbs] == ["db_a1", "db_a2", "db_a3"]
    assert set(dbs[0]) == {"id", "name", "tenant"} and dbs[0]["tenant"] == t
    uuid.UUID(dbs[0]["id"])
    assert [d["name"] for d in http.get(f"/tenants/{t}/databases", params={"limit": 1, "offset": 1}).json()] == [
        "db_a2"
    ]
    assert http.get(f"/tenants/{t}/databases/db_a2").json()["name"] == "db_a2"
    assert http.delete(f"/tenants/{t}/databases/db_a2").json() == {}
    _error(http.get(f"/tenants/{t}/databases/db_a2"), 404, "NotFoundError")
    _error(http.post(f"/tenants/{t}/databases", json={"nam": "x"}), 400, "InvalidArgumentError")
    _error(http.get(f"/tenants/{t}/databases", params={"limit": "abc"}), 400, "InvalidArgumentError")


def test_collection_crud(http, db):
    created = _collection(http, db, "docs", metadata={"topic": "x"}, configuration={"hnsw": {"space": "cosine"}})
    assert set(created) == {
        "id",
        "name",
        "configuration_json",
        "metadata",
        "dimension",
        "tenant",
        "database",
        "log_position",
        "version",
        "schema",
    }
    assert created["metadata"] == {"topic": "x"} and created["dimension"] is None
    assert created["configuration_json"]["hnsw"]["space"] == "cosine"
    cid = created["id"]
    assert http.get(f"{db}/collections/docs").json()["id"] == cid  # by name
    assert http.get(f"{db}/collections/by-id/{cid}").json()["name"] == "docs"
    tenant, database = db.split("/")[2], db.split("/")[4]
    assert http.get(f"/collections/{tenant}:{database}:docs").json()["id"] == cid  # CRN
    _error(http.post(f"{db}/collections", json={"name": "docs"}), 409, "UniqueConstraintError")
    again = http.post(f"{db}/collections", json={"name": "docs", "get_or_create": True}).json()
    assert again["id"] == cid
    for i in range(3):
        _collection(http, db, f"more{i}")
    assert http.get(f"{db}/collections_count").json() == 4
    page = http.get(f"{db}/collections", params={"limit": 2, "offset": 1}).json()
    assert len(page) == 2
    r = http.put(f"{db}/collections/{cid}", json={"new_name": "docs2", "new_metadata": {"topic": "y"}})
    assert r.status_code == 200 and r.json()["name"] == "docs2"
    assert http.get(f"{db}/collections/docs2").json()["metadata"] == {"topic": "y"}
    _error(http.get(f"{db}/collections/docs"), 404, "NotFoundError")
    assert http.delete(f"{db}/collections/docs2").json() == {}
    _error(http.delete(f"{db}/collections/docs2"), 404, "NotFoundError")
    _error(http.get(f"{db}/collections/by-id/{uuid.uuid4()}"), 404, "NotFoundError")
    _error(http.post(f"{db}/collections", json={"name": "x"}), 400, "InvalidArgumentError")  # name too short


def test_records_roundtrip_with_base64_and_lists(http, db):
    cid = _collection(http, db)["id"]
    c = f"{db}/collections/{cid}"
    vecs = np.random.default_rng(0).random((3, 4), dtype=np.float32)
    b64 = [base64.b64encode(v.astype("<f4").tobytes()).decode() for v in vecs[:2]]
    r = http.post(
        f"{c}/add",
        json={"ids": ["a", "b"], "embeddings": b64, "documents": ["doc a", "doc b"], "metadatas": [{"n": 1}, None]},
    )
    assert r.status_code == 201 and r.json() == {}
    r = http.post(f"{c}/upsert", json={"ids": ["c"], "embeddings": [vecs[2].tolist()], "uris": ["u://c"]})
    assert r.status_code == 200 and r.json() == {}
    assert http.get(f"{c}/count").json() == 3
    got = http.post(
        f"{c}/get", json={"ids": ["a", "b", "c"], "include": ["embeddings", "documents", "metadatas", "uris"]}
    ).json()
    assert got["ids"] == ["a", "b", "c"]
    assert np.array_equal(np.asarray(got["embeddings"], dtype=np.float32), vecs)  # exact float32 round trip
    assert got["documents"] == ["doc a", "doc b", None]
    assert got["metadatas"] == [{"n": 1}, None, None]
    assert got["uris"] == [None, None, "u://c"]
    assert got["include"] == ["embeddings", "documents", "metadatas", "uris"]
    default = http.post(f"{c}/get", json={}).json()
    assert default["embeddings"] is None and default["include"] == ["metadatas", "documents"]
    q = http.post(
        f"{c}/query",
        json={
            "query_embeddings": [vecs[0].tolist(), vecs[2].tolist()],
            "n_results": 2,
            "include": ["distances", "metadatas"],
        },
    ).json()
    assert [row[0] for row in q["ids"]] == ["a", "c"]
    assert q["distances"][0][0] == pytest.approx(0.0, abs=1e-5)
    assert q["documents"] is None and q["include"] == ["distances", "metadatas"]
    r = http.post(f"{c}/update", json={"ids": ["a"], "metadatas": [{"n": 5}], "documents": ["new a"]})
    assert r.status_code == 200
    assert http.post(f"{c}/get", json={"where": {"n": {"$gte": 5}}}).json()["ids"] == ["a"]
    assert http.post(f"{c}/get", json={"where_document": {"$contains": "new"}}).json()["ids"] == ["a"]
    assert http.post(f"{c}/delete", json={"where": {"n": 5}}).json() == {"deleted": 1}
    # as Chroma's server: limit needs a where / where_document
    _error(http.post(f"{c}/delete", json={"ids": ["b", "c"], "limit": 1}), 400, "InvalidArgumentError")
    body = {"ids": ["b", "c"], "where_document": {"$contains": "doc"}, "limit": 1}
    assert http.post(f"{c}/delete", json=body).json() == {"deleted": 1}
    assert http.get(f"{c}/count").json() == 1
    status = http.get(f"{c}/indexing_status").json()
    assert status == {"op_indexing_progress": 1.0, "num_unindexed_ops": 0, "num_indexed_ops": 1, "total_ops": 1}
    assert http.get(f"{c}/fork_count").json() == {"count": 0}


@pytest.mark.parametrize(
    "path, body, needle",
    [
        ("add", {"ids": ["a"]}, "embeddings"),
        ("add", {"ids": "a", "embeddings": [[1.0]]}, "ids"),
        ("add", {"ids": ["a"], "embeddings": ["***"]}, "base64"),
        ("add", {"ids": ["a"], "embeddings": [base64.b64encode(b"abc").decode()]}, "float32"),
        ("add", {"ids": ["a"], "embeddings": [[1.0, "x"]]}, "numbers"),
        ("add", {"ids": ["a", "b"], "embeddings": [[1.0], [1.0, 2.0]]}, "dimension"),
        ("add", {"ids": ["a"], "embeddings": [[1e39]]}, "float32"),
        ("add", {"ids": ["a"], "embeddings": [[1.0]], "metadatas": [{"k": {"x": 1}}]}, "dict"),
        ("add", {"ids": ["a"], "embeddings": [[1.0]], "documents": [1]}, "documents"),
        ("get", {"include": ["data"]}, "include"),
        ("get", {"limit": -1}, "limit"),
        ("get", {"where": {"$bad": 1}}, "bad"),
        ("get", {"where_document": {"$contains": 3}}, "contains"),
        ("query", {"query_embeddings": [[1.0, 2.0]], "n_results": "x"}, "n_results"),
        ("query", {}, "query_embeddings"),
        ("delete", {}, "ids"),
        ("get", [1, 2], "object"),
        ("update", {"ids": ["a"], "huedb_clear": ["embeddings"]}, "clear"),
        ("upsert", {"ids": ["a"], "embeddings": [[1.0]], "huedb_clear": "documents"}, "huedb_clear"),
    ],
)
def test_bad_input_is_400_with_a_clear_message(http, db, path, body, needle):
    cid = _collection(http, db)["id"]
    body_err = _error(http.post(f"{db}/collections/{cid}/{path}", json=body), 400, "InvalidArgumentError")
    assert needle.lower() in body_err["message"].lower()


def test_dimension_mismatch_and_missing_collection(http, db):
    cid = _collection(http, db)["id"]
    c = f"{db}/collections/{cid}"
    http.post(f"{c}/add", json={"ids": ["a"], "embeddings": [[1.0, 2.0]]})
    msg = _error(http.post(f"{c}/add", json={"ids": ["b"], "embeddings": [[1.0, 2.0, 3.0]]}), 400)["message"]
    assert "dimension" in msg
    _error(http.post(f"{c}/query", json={"query_embeddings": [[1.0]]}), 400)
    missing = f"{db}/collections/{uuid.uuid4()}"
    _error(http.post(f"{missing}/get", json={}), 404, "NotFoundError")
    _error(http.get(f"{missing}/count"), 404, "NotFoundError")
    _error(http.post(f"{db}/collections/not-a-uuid/add", json={"ids": ["a"], "embeddings": [[1.0]]}), 404)
    # a collection id is invisible from another database
    other = "/tenants/default_tenant/databases/default_database"
    _error(http.post(f"{other}/collections/{cid}/get", json={}), 404, "NotFoundError")


def test_malformed_json_and_unknown_routes(http, db):
    r = http.post(f"{db}/collections", content=b"{not json", headers={"content-type": "application/json"})
    _error(r, 400, "InvalidArgumentError")
    _error(http.post(f"{db}/collections", content=b""), 400)
    _error(http.get("/no/such/route"), 404, "NotFoundError")
    _error(http.delete("/heartbeat"), 405)


@pytest.mark.parametrize(
    "method, suffix",
    [
        ("POST", "/functions/attach"),
        ("GET", "/functions/f1"),
        ("POST", "/attached_functions/f1/detach"),
    ],
)
def test_unimplemented_features_answer_501(http, db, method, suffix):
    cid = _collection(http, db)["id"]
    r = http.request(method, f"{db}/collections/{cid}{suffix}", json={})
    body = _error(r, 501, "ChromaError")  # as Chroma names its 501s
    assert "not supported by huedb" in body["message"]


def test_update_tenant_is_501_and_v1_is_gone(http):
    _error(http.patch("/tenants/default_tenant", json={"resource_name": "x"}), 501)
    r = httpx.get(str(http.base_url).replace("/api/v2", "/api/v1/heartbeat"))
    _error(r, 410, "Unimplemented")


def test_reset_needs_allow_reset(tmp_path):
    with ServerThread(str(tmp_path / "d"), allow_reset=False) as server:
        r = httpx.post(server.url + V2 + "/reset")
        # chromadb's class for a disabled reset is AuthorizationError.
        body = _error(r, 401, "AuthorizationError")
        assert "ALLOW_RESET" in body["message"]
    with ServerThread(str(tmp_path / "e")) as server:
        httpx.post(server.url + V2 + "/tenants", json={"name": "gone"})
        assert httpx.post(server.url + V2 + "/reset").json() is True
        assert httpx.get(server.url + V2 + "/tenants/gone").status_code == 404


def test_body_over_max_size_is_413(tmp_path):
    with ServerThread(str(tmp_path / "d"), max_request_bytes=2048) as server:
        url = server.url + V2 + "/tenants/default_tenant/databases/default_database/collections"
        big = {"name": "abc", "metadata": {"k": "x" * 5000}}
        body = _error(httpx.post(url, json=big), 413, "RequestTooLargeError")
        assert "2048" in body["message"]

        def chunks():  # no Content-Length: the limit applies while streaming
            for _ in range(10):
                yield b" " * 1000

        r = httpx.post(url, content=chunks(), headers={"content-type": "application/json"})
        _error(r, 413, "RequestTooLargeError")
        assert httpx.post(url, json={"name": "abc"}).status_code == 200  # small bodies still pass


def test_cors_origins_from_config(tmp_path):
    with ServerThread(str(tmp_path / "d"), cors_allow_origins=["https://app.example.com"]) as server:
        r = httpx.options(
            server.url + V2 + "/heartbeat",
            headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"},
        )
        assert r.headers.get("access-control-allow-origin") == "https://app.example.com"
        r = httpx.get(server.url + V2 + "/heartbeat", headers={"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in r.headers


def test_openapi_lists_chroma_paths(http):
    spec = httpx.get(str(http.base_url).replace("/api/v2", "") + "openapi.json").json()
    assert "/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}/query" in spec["paths"]
    assert spec["info"]["title"] == "huedb"


def test_concurrent_writes_to_one_collection_are_all_kept(http, db, huedb_server):
    import concurrent.futures

    cid = _collection(http, db)["id"]
    url = f"{huedb_server.url}{V2}{db}/collections/{cid}"

    def writer(w):
        with httpx.Client(timeout=30) as c:
            for i in range(10):
                r = c.post(url + "/add", json={"ids": [f"{w}-{i}"], "embeddings": [[float(w), float(i)]]})
                assert r.status_code == 201, r.text
                assert (
                    c.post(url + "/query", json={"query_embeddings": [[1.0, 1.0]], "n_results": 3}).status_code == 200
                )

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(writer, range(8)))
    assert http.get(f"{db}/collections/{cid}/count").json() == 80
