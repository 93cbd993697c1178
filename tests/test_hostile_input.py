"""Hostile and careless input (issue 10 items 3, 6, 7, 8, 11): every request is answered
promptly, with a typed error (a 4xx over HTTP, with {error, message}) or a correct result.

Chroma 1.5.9, observed: NUL characters in ids, documents, metadata keys and values are
stored and matched exactly; look-around and backreferences in $regex are
InvalidArgumentErrors; integers >= 2**63 in where are InvalidArgumentErrors; tenant and
database names only need 3+ characters (huedb also requires URL-safe characters).
"""

from __future__ import annotations

import sqlite3
import time
import uuid

import httpx
import pytest

import huedb
from huedb.errors import InternalError, InvalidArgumentError
from huedb.filters import MAX_DEPTH, MAX_DOCUMENT_TERMS

CATASTROPHIC = "(a+)+$"
EVIL_DOC = "a" * 28 + "b"  # Python's backtracking `re` needs minutes for this one


@pytest.fixture
def col(client):
    c = client.create_collection("hostile", embedding_function=None)
    c.add(
        ids=["r0", "r1", "r2"],
        embeddings=[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
        documents=["hello world", EVIL_DOC, "other text"],
        metadatas=[{"k": "v", "n": 1}, {"k": "w", "n": 2}, {"n": 3}],
    )
    return c


# -- item 3: regular expressions are RE2 --------------------------------------
def test_catastrophic_regex_returns_promptly(col):
    start = time.monotonic()
    assert col.get(where_document={"$regex": CATASTROPHIC})["ids"] == []
    assert col.get(where_document={"$not_regex": CATASTROPHIC})["ids"] == ["r0", "r1", "r2"]
    assert time.monotonic() - start < 10  # linear time: milliseconds (Python's re: minutes)


def test_regex_searches_anywhere_in_the_document(col):
    assert col.get(where_document={"$regex": "a+b$"})["ids"] == ["r1"]
    assert col.get(where_document={"$regex": "(?i)HELLO"})["ids"] == ["r0"]
    assert col.get(where_document={"$regex": r"\bworld"})["ids"] == ["r0"]


@pytest.mark.parametrize(
    "pattern, reason",
    [("(?=a)", "invalid perl operator"), (r"(a)\1", "invalid escape"), ("(ab", "missing )"), ("a{2000}", "repetition")],
)
def test_patterns_re2_cannot_take_are_invalid_arguments(col, pattern, reason):
    with pytest.raises(InvalidArgumentError, match="RE2") as info:
        col.get(where_document={"$regex": pattern})
    assert reason in str(info.value)


# -- item 6: n_results is clamped to the candidates -----------------------------
@pytest.mark.parametrize("n", [2**31, 10**8, 10**12, 2**70])
def test_huge_n_results_returns_what_there_is(col, n):
    res = col.query(query_embeddings=[[1.0, 0.0]], n_results=n, include=["distances"])
    assert sorted(res["ids"][0]) == ["r0", "r1", "r2"]
    res = col.query(query_embeddings=[[1.0, 0.0]], n_results=n, where={"n": {"$gte": 2}})
    assert sorted(res["ids"][0]) == ["r1", "r2"]


# -- item 7: NUL characters are stored and matched exactly (as Chroma does) ----
def _refused_on_postgres(col, write) -> None:
    """PostgreSQL text holds no NUL (docs/postgres.md, Limits): a typed error, and the batch changes nothing."""
    before = col.get(include=["documents", "metadatas"])
    with pytest.raises(InvalidArgumentError, match="NUL"):
        write()
    assert col.get(include=["documents", "metadatas"]) == before


def test_nul_in_ids_round_trips(col, client_backend):
    if client_backend == "postgres":
        _refused_on_postgres(col, lambda: col.add(ids=["ok", "a\x00b"], embeddings=[[0.5, 0.5], [0.5, 0.5]]))
        _refused_on_postgres(col, lambda: col.upsert(ids=["a\x00b"], embeddings=[[0.5, 0.5]]))
        assert col.get(ids=["a\x00b"])["ids"] == []  # a read of such an id finds nothing
        return
    col.add(ids=["a\x00b"], embeddings=[[0.5, 0.5]])
    assert col.get(ids=["a\x00b"])["ids"] == ["a\x00b"]
    assert col.get(ids=["a"])["ids"] == []  # not cut at the NUL
    col.add(ids=["a\x00b"], embeddings=[[0.5, 0.5]])  # a re-add is skipped, not an IntegrityError
    col.upsert(ids=["a\x00b"], embeddings=[[0.25, 0.5]], documents=["now with text"])
    assert col.get(ids=["a\x00b"])["documents"] == ["now with text"]
    col.delete(ids=["a\x00b"])
    assert col.get(ids=["a\x00b"])["ids"] == []
    assert col.count() == 3


def test_nul_in_documents_is_found_past_the_nul(col, client_backend):
    if client_backend == "postgres":
        _refused_on_postgres(col, lambda: col.add(ids=["d"], embeddings=[[0.5, 0.5]], documents=["pre\x00needle"]))
        _refused_on_postgres(col, lambda: col.update(ids=["r2"], embeddings=[[1.0, 1.0]], documents=["x\x00o"]))
        assert col.get(where_document={"$contains": "\x00need"})["ids"] == []  # a filter may still hold one
        return
    col.add(ids=["d"], embeddings=[[0.5, 0.5]], documents=["pre\x00needle tail"])
    assert col.get(where_document={"$contains": "needle"})["ids"] == ["d"]
    assert col.get(where_document={"$contains": "\x00need"})["ids"] == ["d"]
    assert col.get(where_document={"$and": [{"$contains": "tail"}, {"$contains": "pre"}]})["ids"] == ["d"]
    assert col.get(where_document={"$regex": "needle tail$"})["ids"] == ["d"]
    col.update(ids=["d"], embeddings=[[0.5, 0.5]], documents=["clean"])
    assert col.get(where_document={"$contains": "needle"})["ids"] == []
    col.update(ids=["r2"], embeddings=[[1.0, 1.0]], documents=["x\x00other needle"])
    assert col.get(where_document={"$contains": "needle"})["ids"] == ["r2"]


def test_nul_in_metadata_keys_and_values_is_matched_exactly(col, client_backend):
    # PostgreSQL holds a NUL in metadata values, not in keys (docs/postgres.md, Limits)
    nul_key = client_backend != "postgres"
    if not nul_key:
        _refused_on_postgres(col, lambda: col.add(ids=["m"], embeddings=[[0.5, 0.5]], metadatas=[{"k\x00x": 1}]))
    first = {"k\x00x": 1} if nul_key else {}
    col.add(ids=["m"], embeddings=[[0.5, 0.5]], metadatas=[{**first, "s": "v\x00w", "l": ["p\x00", "q"]}])
    assert col.get(ids=["m"])["metadatas"] == [{**first, "s": "v\x00w", "l": ["p\x00", "q"]}]
    assert col.get(where={"k\x00x": 1})["ids"] == (["m"] if nul_key else [])
    assert ("m" in col.get(where={"k\x00x": {"$ne": 1}})["ids"]) is not nul_key  # lacking the key matches $ne
    assert col.get(where={"s": "v\x00w"})["ids"] == ["m"]
    assert col.get(where={"s": "v"})["ids"] == []  # not cut at the NUL
    assert col.get(where={"k": 1})["ids"] == []
    assert col.get(where={"l": {"$contains": "p\x00"}})["ids"] == ["m"]
    col.update(ids=["m"], metadatas=[{"s": None, "t": 2}])
    assert col.get(ids=["m"])["metadatas"] == [{**first, "l": ["p\x00", "q"], "t": 2}]
    assert col.get(where={"t": 2})["ids"] == ["m"]
    assert col.get(where={"s": "v\x00w"})["ids"] == []
    col.update(ids=["r0"], metadatas=[{"k": "v\x00"}])
    assert col.get(where={"k": "v\x00"})["ids"] == ["r0"]
    assert col.get(where={"k": "v"})["ids"] == []


# -- item 8: what used to be a 500 --------------------------------------------
def test_in_and_nin_take_100000_values(col):
    many = [f"x{i}" for i in range(100_000)]
    assert col.get(where={"k": {"$in": many + ["w"]}})["ids"] == ["r1"]
    assert col.get(where={"k": {"$nin": many + ["w"]}})["ids"] == ["r0", "r2"]
    assert col.get(where={"n": {"$in": list(range(5, 100_000)) + [3]}})["ids"] == ["r2"]
    assert col.get(where={"n": {"$nin": [float(i) for i in range(2, 600)]}})["ids"] == ["r0"]
    res = col.query(query_embeddings=[[0.0, 1.0]], n_results=5, where={"k": {"$in": many + ["v", "w"]}})
    assert res["ids"] == [["r1", "r0"]]


@pytest.mark.parametrize("where", [{"n": 2**63}, {"n": {"$gt": 2**64}}, {"n": {"$in": [1, -(2**63) - 1]}}])
def test_integers_beyond_int64_in_where_are_invalid_arguments(col, where):
    with pytest.raises(InvalidArgumentError, match="2\\*\\*63"):
        col.get(where=where)


def test_limit_and_offset_beyond_int64_work(col):
    assert col.get(limit=2**63)["ids"] == ["r0", "r1", "r2"]
    assert col.get(limit=2**70, offset=1)["ids"] == ["r1", "r2"]
    assert col.get(offset=2**64)["ids"] == []


def test_where_document_and_of_2000_terms(col):
    terms = [{"$contains": "hello"}] + [{"$not_contains": f"absent{i}"} for i in range(1999)]
    assert col.get(where_document={"$and": terms})["ids"] == ["r0"]
    alts = [{"$regex": f"^nothing{i}"} for i in range(1999)] + [{"$contains": "other"}]
    assert col.get(where_document={"$or": alts})["ids"] == ["r2"]
    with pytest.raises(InvalidArgumentError, match="at most"):
        col.get(where_document={"$or": [{"$contains": "x"}] * (MAX_DOCUMENT_TERMS + 1)})


def _nested(depth: int, leaf: dict) -> dict:
    # two expressions per level: chromadb refuses an $and of one
    node = leaf
    for _ in range(depth):
        node = {"$and": [node, leaf]}
    return node


def test_deep_filters_are_invalid_arguments(col):
    assert col.get(where=_nested(MAX_DEPTH, {"k": "v"}))["ids"] == ["r0"]
    with pytest.raises(InvalidArgumentError, match="levels deep"):
        col.get(where=_nested(MAX_DEPTH + 1, {"k": "v"}))
    with pytest.raises(InvalidArgumentError, match="levels deep"):
        col.get(where_document=_nested(MAX_DEPTH + 1, {"$contains": "hello"}))


@pytest.fixture
def embedded(tmp_path):
    client = huedb.PersistentClient(path=str(tmp_path / "db"))
    yield client
    client.close()


def test_deep_where_1000_levels_embedded(embedded):
    # Too deep for the HTTP client's own JSON encoder; the server side is tested with raw bytes below.
    col = embedded.create_collection("deep", embedding_function=None)
    col.add(ids=["a"], embeddings=[[1.0]], metadatas=[{"k": 1}])
    with pytest.raises(InvalidArgumentError, match="levels deep"):
        col.get(where=_nested(1000, {"k": 1}))
    with pytest.raises(InvalidArgumentError, match="levels deep"):
        col.delete(where_document=_nested(1000, {"$contains": "x"}))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ids": ["\ud800"]},
        {"ids": ["ok"], "documents": ["x\udc00"]},
        {"ids": ["ok"], "metadatas": [{"\ud800": 1}]},
        {"ids": ["ok"], "metadatas": [{"k": "\ud800"}]},
    ],
)
def test_lone_surrogates_are_invalid_arguments_embedded(embedded, kwargs):
    col = embedded.create_collection("sur", embedding_function=None)
    with pytest.raises(InvalidArgumentError, match="surrogate"):
        col.add(embeddings=[[1.0]], **kwargs)
    with pytest.raises(InvalidArgumentError, match="surrogate"):
        col.get(where={"k": "\ud800"})
    with pytest.raises(InvalidArgumentError, match="surrogate"):
        col.get(where_document={"$regex": "\ud800"})
    assert col.count() == 0


def test_corrupt_sqlite_file_is_a_typed_error_naming_the_file(tmp_path):
    path = tmp_path / "db"
    client = huedb.PersistentClient(path=str(path))
    client.create_collection("ccc", embedding_function=None)
    client.close()
    from huedb.engine.systems import open_systems

    assert str(path.resolve()) not in open_systems()  # the file is closed, so it can be overwritten
    db_file = next(path.glob("*.sqlite3"))
    db_file.write_bytes(b"this is not a database" * 500)
    for wal in path.glob("*.sqlite3-*"):
        wal.unlink()
    with pytest.raises(InternalError) as info:
        huedb.PersistentClient(path=str(path))
    message = str(info.value)
    assert str(db_file) in message and "not a valid huedb/SQLite database" in message
    assert "backup" in message and "move it away" in message
    assert isinstance(info.value.__cause__, sqlite3.DatabaseError)
    assert type(info.value).name() == "InternalError"


# -- item 11: tenant and database names --------------------------------------
@pytest.mark.parametrize("name", ["/etc/passwd", "ten ant", "ab", "a/b/c", "_abc", "abc-", "a%20b", "é€abc", "abc\n"])
def test_unreachable_tenant_and_database_names_are_refused(client, name, request):
    admin = huedb.AdminClient(client.get_settings())
    request.addfinalizer(admin.close)
    with pytest.raises(InvalidArgumentError, match="(?i)name"):
        admin.create_tenant(name)
    with pytest.raises(InvalidArgumentError, match="(?i)name"):
        admin.create_database(name, "default_tenant")


def test_url_safe_tenant_and_database_names_work(client, request):
    admin = huedb.AdminClient(client.get_settings())
    request.addfinalizer(admin.close)
    tenant = f"Ten.ant_{uuid.uuid4().hex[:8]}-1"
    admin.create_tenant(tenant)
    admin.create_database("db_1.x-Y", tenant)
    assert admin.get_database("db_1.x-Y", tenant)["name"] == "db_1.x-Y"


# -- over HTTP: raw bodies the Python client would not send --------------------
def _raw(server, path: str, body: bytes) -> httpx.Response:
    return httpx.post(server.url + path, content=body, headers={"content-type": "application/json"}, timeout=60)


@pytest.fixture
def http_collection(huedb_server):
    base = "/api/v2/tenants/default_tenant/databases/default_database/collections"
    name = f"raw-{uuid.uuid4().hex[:8]}"
    cid = httpx.post(huedb_server.url + base, json={"name": name}, timeout=30).json()["id"]
    path = f"{base}/{cid}"
    assert (
        _raw(
            huedb_server, path + "/add", b'{"ids": ["a"], "embeddings": [[1, 0]], "metadatas": [{"k": 1}]}'
        ).status_code
        == 201
    )
    return path


@pytest.mark.parametrize(
    "route, body",
    [
        ("/add", b'{"ids": ["\\ud800"], "embeddings": [[1, 0]]}'),
        ("/add", b'{"ids": ["s"], "embeddings": [[1, 0]], "documents": ["\\udc00x"]}'),
        ("/add", b'{"ids": ["s"], "embeddings": [[1, 0]], "metadatas": [{"\\ud800": 1}]}'),
        ("/upsert", b'{"ids": ["s"], "embeddings": [[1, 0]], "metadatas": [{"k": "\\ud800"}]}'),
        ("/get", b'{"where": {"k": "\\ud800"}}'),
        ("/get", b'{"where": {"\\ud800": {"$bad": 1}}}'),
        ("/get", b'{"where_document": {"$regex": "\\ud800"}}'),
        ("/get", b'{"where_document": {"$regex": "(?<=a)b"}}'),
        ("/get", b'{"where": {"k": 9223372036854775808}}'),
        ("/get", b'{"where": ' + b'{"$and": [' * 1000 + b'{"k": 1}' + b"]}" * 1000 + b"}"),
        ("/get", b'{"where": ' + b'{"$or": [' * 300 + b'{"k": 1}' + b"]}" * 300 + b"}"),
        ("/get", b'{"where_document": ' + b'{"$and": [' * 300 + b'{"$contains": "x"}' + b"]}" * 300 + b"}"),
        ("/delete", b'{"where": ' + b'{"$and": [' * 300 + b'{"k": 1}' + b"]}" * 300 + b"}"),
    ],
)
def test_hostile_bodies_are_4xx_over_http(huedb_server, http_collection, route, body):
    r = _raw(huedb_server, http_collection + route, body)
    assert 400 <= r.status_code < 500, r.text
    assert set(r.json()) == {"error", "message"} and r.json()["error"] == "InvalidArgumentError"


def test_large_values_work_over_http(huedb_server, http_collection):
    big = b'{"query_embeddings": [[1, 0]], "n_results": 1000000000000}'
    assert _raw(huedb_server, http_collection + "/query", big).json()["ids"] == [["a"]]
    r = _raw(huedb_server, http_collection + "/get", b'{"limit": 9223372036854775808, "offset": 0}')
    assert r.json()["ids"] == ["a"]
    values = ",".join(str(i) for i in range(1, 100_001)).encode()
    r = _raw(huedb_server, http_collection + "/get", b'{"where": {"k": {"$in": [' + values + b"]}}}")
    assert r.status_code == 200 and r.json()["ids"] == ["a"]
