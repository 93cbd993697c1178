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


# -- filtered graph search: post-filtering a common filter ------------------------
def test_post_filter_widens_and_hands_short_rows_back():
    from huedb_plugins.index import post_filter

    allowed = np.arange(0, 1000, 10, dtype=np.int64)  # every 10th label
    asked = []

    def search(rows, n, ef):
        # row 0 sees labels 0, 1, 2, ... nearest first; row 1 sees only labels that are never allowed
        asked.append((len(rows), n, ef))
        base = np.arange(n, dtype=np.int64)
        ids = np.vstack([base if r == 0 else base * 10 + 1 for r in rows[:, 0].astype(int)])
        return ids, ids.astype(np.float32)

    queries = np.array([[0.0], [1.0]], dtype=np.float32)
    labels, dists, short = post_filter.post_filtered(search, queries, 3, allowed, 40, 1000, ef=50)
    assert labels[0].tolist() == [0, 10, 20] and dists[0].tolist() == [0.0, 10.0, 20.0]
    assert short.tolist() == [1] and labels[1].tolist() == [-1, -1, -1]
    # both rows first, then only the short one, four times wider each time up to the graph size
    assert [a[:2] for a in asked] == [(2, 40), (1, 160), (1, 640), (1, 1000)]
    assert asked[0][2] == max(2 * 40, 50 * 10)  # the walk's ef over the allowed share
    assert post_filter.first_ask(10, 100, 1000) == 400
    assert post_filter.first_ask(10, 10, 100_000) is None  # rare: the walk
    assert post_filter.first_ask(10, 0, 1000) is None


def _graph(n=8_000, dim=16, seed=5):
    from huedb_plugins.index.hnswlib_segment import HnswlibSegment

    cfg = {"max_neighbors": 16, "ef_construction": 100, "ef_search": 50, "num_threads": 1, "batch_size": 1000}
    seg = HnswlibSegment(dim, "l2", cfg, None)
    x = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    seg.add(np.arange(1, n + 1, dtype=np.int64), x, seq=1)
    return seg, x


def _walks(seg):
    calls = []
    real = seg._walk
    seg._walk = lambda q, k, allowed: calls.append(len(q)) or real(q, k, allowed)
    return calls


def test_hnswlib_common_filter_is_post_filtered():
    from huedb.distance import exact_search

    seg, x = _graph()
    allowed = np.sort(np.random.default_rng(1).choice(np.arange(1, 8_001), 3_000, replace=False)).astype(np.int64)
    q = np.random.default_rng(2).normal(size=(20, 16)).astype(np.float32)
    walks = _walks(seg)
    labels, dists = seg.query(q, 10, allowed)
    assert walks == []  # no filtered walk: 3,000 of 8,000 is a common filter
    assert np.isin(labels, allowed).all()
    true_l, true_d = exact_search(q, x[allowed - 1], allowed, 10, "l2")
    assert np.mean([len(np.intersect1d(a, b)) for a, b in zip(labels, true_l)]) / 10 >= 0.99
    hit = labels == true_l
    np.testing.assert_allclose(dists[hit], true_d[hit], rtol=1e-4, atol=1e-4)
    assert (np.diff(dists, axis=1) >= 0).all()


def test_hnswlib_post_filter_widens_for_a_filter_far_from_the_query():
    from huedb.distance import exact_search

    seg, x = _graph()
    q = np.random.default_rng(3).normal(size=(1, 16)).astype(np.float32)
    far = np.argsort(((x - q) ** 2).sum(1))[-3_000:]  # the 3,000 farthest records only
    allowed = np.sort(far + 1).astype(np.int64)
    walks = _walks(seg)
    labels, _ = seg.query(q, 10, allowed)
    true_l, _ = exact_search(q, x[allowed - 1], allowed, 10, "l2")
    assert walks == [] and labels.tolist() == true_l.tolist()  # widened until the whole graph was asked


def test_hnswlib_post_filter_maps_moved_records_back():
    # An updated record lives in the graph under a fresh label; the filter speaks record ids.
    seg, x = _graph()
    rng = np.random.default_rng(4)
    moved = np.arange(1, 3_001, dtype=np.int64)
    seg.add(moved, rng.normal(size=(3_000, 16)).astype(np.float32), seq=2)
    assert seg.buffered < 3_000 and len(seg._slots) > 0  # flushed into the graph under moved labels
    walks = _walks(seg)
    q = rng.normal(size=(5, 16)).astype(np.float32)
    labels, _ = seg.query(q, 10, moved)
    assert walks == [] and np.isin(labels, moved).all() and (labels >= 0).all()
