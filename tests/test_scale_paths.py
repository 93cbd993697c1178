"""The read paths that issue 17's 1M profile reshaped: each gives what the path it
replaced gave (docs/benchmarks.md, "get $and, exact and filtered search at 1M")."""

from __future__ import annotations

import numpy as np
import pytest

from huedb.distance import SPACES, pairwise_distances


@pytest.mark.parametrize("space", SPACES)
def test_one_query_distances_match_the_batch_and_float64(space):
    # One query takes the matrix-vector product; a batch the matrix product. Both must
    # give the float64 reference's distances.
    rng = np.random.default_rng(7)
    v = rng.normal(size=(2_000, 96)).astype(np.float32)
    q = rng.normal(size=(4, 96)).astype(np.float32)
    q64, v64 = q.astype(np.float64), v.astype(np.float64)
    if space == "l2":
        ref = ((q64[:, None, :] - v64[None, :, :]) ** 2).sum(-1)
    elif space == "ip":
        ref = 1.0 - q64 @ v64.T
    else:
        ref = 1.0 - (q64 / np.linalg.norm(q64, axis=1, keepdims=True)) @ (v64 / np.linalg.norm(v64, axis=1)[:, None]).T
    batch = pairwise_distances(q, v, space)
    singles = np.vstack([pairwise_distances(q[i : i + 1], v, space) for i in range(len(q))])
    assert batch.shape == singles.shape == (4, 2_000)
    assert batch.dtype == singles.dtype == np.float32
    scale = max(1.0, float(np.abs(ref).max()))
    np.testing.assert_allclose(singles, ref, atol=1e-4 * scale)
    np.testing.assert_allclose(batch, ref, atol=1e-4 * scale)
    assert pairwise_distances(q[:1], v[:0], space).shape == (1, 0)


# -- get: records read as aggregated columns ------------------------------------
_TRICKY = ["a\x00b", 'q"uo\\te', "\u2028x\U0001f600", "\x01\x1f", "plain", ",", "[]", "null"]


def _tricky_records(n: int = 40) -> dict:
    ids = [f"{_TRICKY[i % len(_TRICKY)]}-{i}" for i in range(n)]
    docs = [None if i % 5 == 0 else f"doc {_TRICKY[i % len(_TRICKY)]} {i}" for i in range(n)]
    uris = [None if i % 3 == 0 else f"file://{_TRICKY[i % len(_TRICKY)]}/{i}" for i in range(n)]
    metas = [
        None if i % 7 == 0 else {"g": i % 2, "s": _TRICKY[i % len(_TRICKY)], "f": i / 3, "b": i % 4 == 0}
        for i in range(n)
    ]
    return {"ids": ids, "documents": docs, "uris": uris, "metadatas": metas}


@pytest.fixture
def tricky(tmp_path):
    import huedb

    client = huedb.PersistentClient(path=str(tmp_path / "db"))
    col = client.create_collection("scale")
    data = _tricky_records()
    rng = np.random.default_rng(3)
    col.add(embeddings=rng.normal(size=(len(data["ids"]), 8)).astype(np.float32), **data)
    yield col, data
    client.close()


@pytest.mark.parametrize(
    "include",
    [["metadatas"], ["documents"], ["uris"], ["metadatas", "documents", "uris"], [], ["embeddings", "metadatas"]],
)
def test_get_by_filter_returns_what_was_stored(tricky, include):
    # NUL, quotes, backslashes, separators and JSON look-alikes in ids, documents, URIs and
    # metadata come back exactly, in insertion order, for every include.
    col, data = tricky
    got = col.get(where={"g": 1}, include=include)
    want = [i for i in range(len(data["ids"])) if data["metadatas"][i] is not None and data["metadatas"][i]["g"] == 1]
    assert got["ids"] == [data["ids"][i] for i in want]
    for field in ("metadatas", "documents", "uris"):
        if field in include:
            assert got[field] == [data[field][i] for i in want]
        else:
            assert got[field] is None
    # the row path (a limit) gives the same
    rows = col.get(where={"g": 1}, include=include, limit=1000)
    for field in ("ids", "metadatas", "documents", "uris", "included"):
        assert rows[field] == got[field]
    if "embeddings" in include:
        assert np.array_equal(rows["embeddings"], got["embeddings"]) and len(got["embeddings"]) == len(want)


def test_get_by_filter_and_document_predicate(tricky):
    col, data = tricky
    got = col.get(where={"g": 0}, where_document={"$contains": "plain"}, include=["documents", "metadatas"])
    want = [
        i
        for i, (m, d) in enumerate(zip(data["metadatas"], data["documents"]))
        if m is not None and m["g"] == 0 and d is not None and "plain" in d
    ]
    assert want and got["ids"] == [data["ids"][i] for i in want]
    assert got["documents"] == [data["documents"][i] for i in want]
    assert got["metadatas"] == [data["metadatas"][i] for i in want]
    assert col.get(where={"g": 0}, where_document={"$contains": "nowhere"})["ids"] == []


def test_get_by_ids_in_chunks(tricky, monkeypatch):
    from huedb.storage.sqlite import columns

    monkeypatch.setattr(columns, "COLUMN_ROWS", 3)  # many statements, one result
    col, data = tricky
    asked = data["ids"][::-2]
    got = col.get(ids=asked, include=["metadatas", "documents"])
    assert got["ids"] == asked  # in the order asked for
    at = {i: n for n, i in enumerate(data["ids"])}
    assert got["metadatas"] == [data["metadatas"][at[i]] for i in asked]
    assert got["documents"] == [data["documents"][at[i]] for i in asked]


def test_aggregate_over_sqlites_text_limit_reads_rows(tmp_path):
    # An aggregate longer than SQLite allows (1e9 bytes by default; lowered here) is not an
    # error: those records are read a row at a time instead.
    import sqlite3

    import huedb
    from huedb.storage.sqlite import records as rec
    from huedb.storage.sqlite.columns import records_by_rid_list

    client = huedb.PersistentClient(path=str(tmp_path / "db"))
    col = client.create_collection("scale")
    data = _tricky_records(30)
    col.add(embeddings=np.ones((30, 4), dtype=np.float32), **data)
    client.close()
    conn = sqlite3.connect(str(tmp_path / "db" / "huedb.sqlite3"))
    cid = conn.execute("SELECT cid FROM collections").fetchone()[0]
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 400)
    rids = np.asarray([r for (r,) in conn.execute("SELECT rid FROM records ORDER BY rid")], dtype=np.int64)
    assert records_by_rid_list(conn, cid, rids, ["documents"]) is None
    found = rec.select_records(conn, rec.select(cid, None, {"g": 1}, None), ["documents", "metadatas"])
    want = [i for i, m in enumerate(data["metadatas"]) if m is not None and m["g"] == 1]
    assert found.ids == [data["ids"][i] for i in want]
    assert found.documents == [data["documents"][i] for i in want]
    assert found.metadatas == [data["metadatas"][i] for i in want]
    conn.close()
