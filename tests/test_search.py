"""collection.search against a plain reference model (tests/search_reference.py) on random
plans — where (metadata, #document, #id, $and/$or), dense and sparse Knn (limit, default,
return_rank), arithmetic, Rrf, GroupBy MinK/MaxK, limit/offset, select — embedded and over
HTTP (the ``client`` fixture runs both), plus the typed errors of bad plans."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from huedb.api.types import SparseVector
from huedb.errors import InvalidArgumentError
from huedb.execution.expression import GroupBy, K, Knn, Limit, MaxK, MinK, Rank, Rrf, Search, Select, Val
from tests.search_reference import evaluate

DIM = 4
WORDS = ["alpha", "beta", "gamma", "delta", "eps"]
N = 60


def _records(seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(N):
        md: dict = {
            "cat": int(rng.integers(0, 4)),
            "g": str(rng.choice(["a", "b", "c"])),
            "x": round(float(rng.random()), 3),
        }
        if i % 3:
            md["opt"] = int(rng.integers(0, 2))
        if i % 4:
            idx = sorted(rng.choice(12, size=int(rng.integers(1, 5)), replace=False).tolist())
            md["sp"] = SparseVector(indices=idx, values=[round(float(v), 2) for v in rng.random(len(idx)) + 0.1])
        doc = " ".join(rng.choice(WORDS, size=3).tolist())
        out.append(
            {"id": f"r{i:03d}", "document": doc, "metadata": md, "embedding": rng.random(DIM).astype(np.float32)}
        )
    return out


def _collection(client, records, name="search_ref"):
    col = client.create_collection(name, configuration={"index": {"name": "exact"}})
    col.add(
        ids=[r["id"] for r in records],
        embeddings=np.stack([r["embedding"] for r in records]),
        documents=[r["document"] for r in records],
        metadatas=[r["metadata"] for r in records],
    )
    return col


def _where(rnd: random.Random, depth: int = 0):
    kind = rnd.random()
    if depth < 2 and kind < 0.25:
        parts = [_where(rnd, depth + 1) for _ in range(rnd.randint(2, 3))]
        out = parts[0]
        for p in parts[1:]:
            out = (out & p) if rnd.random() < 0.5 else (out | p)
        return out
    pick = rnd.randrange(7)
    if pick == 0:
        return K("cat") == rnd.randrange(4) if rnd.random() < 0.5 else K("cat") != rnd.randrange(4)
    if pick == 1:
        return K("x") > rnd.random() if rnd.random() < 0.5 else K("x") <= rnd.random()
    if pick == 2:
        return K("g").is_in(rnd.sample(["a", "b", "c"], 2)) if rnd.random() < 0.5 else K("g").not_in(["a"])
    if pick == 3:
        return (
            K.DOCUMENT.contains(rnd.choice(WORDS)) if rnd.random() < 0.6 else K.DOCUMENT.not_contains(rnd.choice(WORDS))
        )
    if pick == 4:
        ids = [f"r{rnd.randrange(N):03d}" for _ in range(rnd.randint(1, 20))]
        return K.ID.is_in(ids) if rnd.random() < 0.6 else K.ID.not_in(ids)
    if pick == 5:
        return K("cat") >= rnd.randrange(4)
    return K("x") < rnd.random()


def _knn(rnd: random.Random, sparse: bool) -> Knn:
    default = rnd.choice([None, None, round(rnd.uniform(0, 3), 2)])
    limit = rnd.choice([3, 8, 16, 40, 100])
    rr = rnd.random() < 0.3
    if sparse:
        idx = sorted(rnd.sample(range(12), rnd.randint(1, 4)))
        q = SparseVector(indices=idx, values=[round(rnd.uniform(0.1, 1.5), 2) for _ in idx])
        return Knn(query=q, key="sp", limit=limit, default=default, return_rank=rr)
    return Knn(query=[round(rnd.random(), 3) for _ in range(DIM)], limit=limit, default=default, return_rank=rr)


def _rank(rnd: random.Random, sparse: bool, depth: int = 0) -> Rank:
    r = rnd.random()
    if depth >= 2 or r < 0.35:
        return _knn(rnd, sparse and rnd.random() < 0.4)
    if r < 0.45:
        return Val(round(rnd.uniform(-1, 2), 2)) + _rank(rnd, sparse, depth + 1)
    if r < 0.6:
        return _rank(rnd, sparse, depth + 1) * round(rnd.uniform(0.1, 2), 2) + _rank(rnd, sparse, depth + 1)
    if r < 0.68:
        return _rank(rnd, sparse, depth + 1) - _rank(rnd, sparse, depth + 1)
    if r < 0.74:
        return _rank(rnd, sparse, depth + 1) / (Val(1.5) + _rank(rnd, sparse, depth + 1).abs())
    if r < 0.8:
        return (
            (-_rank(rnd, sparse, depth + 1)).exp() if rnd.random() < 0.5 else (_rank(rnd, sparse, depth + 1) + 1).log()
        )
    if r < 0.88:
        a, b = _rank(rnd, sparse, depth + 1), _rank(rnd, sparse, depth + 1)
        return a.max(b) if rnd.random() < 0.5 else a.min(b).min(0.9)
    knns = [_knn(rnd, sparse and i == 1) for i in range(rnd.randint(1, 3))]
    for k in knns:
        k.return_rank = True
    weights = [round(rnd.uniform(0, 2), 2) for _ in knns] if rnd.random() < 0.5 else None
    return Rrf(knns, k=rnd.choice([1, 10, 60]), weights=weights, normalize=bool(weights) and rnd.random() < 0.5)


def _plan(rnd: random.Random, sparse: bool) -> Search:
    where = _where(rnd) if rnd.random() < 0.6 else None
    rank = _rank(rnd, sparse) if rnd.random() < 0.85 else None
    group = None
    if rank is not None and rnd.random() < 0.25:
        agg_keys = rnd.choice([[K.SCORE], [K("x")], [K("opt"), K.SCORE]])
        agg = (
            MinK(keys=agg_keys, k=rnd.randint(1, 3)) if rnd.random() < 0.6 else MaxK(keys=agg_keys, k=rnd.randint(1, 3))
        )
        group = GroupBy(keys=rnd.choice([K("cat"), [K("g"), K("opt")], K("opt")]), aggregate=agg)
    limit = Limit(offset=rnd.choice([0, 0, 2, 7]), limit=rnd.choice([None, 1, 5, 20]))
    keys = rnd.sample(["#document", "#embedding", "#metadata", "#score", "cat", "x", "opt"], rnd.randint(0, 4))
    return Search(where=where, rank=rank, group_by=group, limit=limit, select=Select(keys=set(keys)))


def _same(got, want, payload):
    assert got["ids"] == want["ids"], payload
    for field in ("documents", "metadatas"):
        assert got[field] == want[field], (field, payload)
    for field in ("embeddings", "scores"):
        if want[field] is None:
            assert got[field] is None, (field, payload)
            continue
        assert len(got[field]) == len(want[field])
        for g, w in zip(got[field], want[field]):
            if w is None or g is None:
                assert g is None and w is None, (field, g, w, payload)
            else:
                assert np.allclose(g, w, rtol=1e-4, atol=1e-5), (field, g, w, payload)


def _run_random_plans(client, n_plans: int, seed: int) -> None:
    records = _records(seed)
    col = _collection(client, records, f"search_ref_{seed}")
    rnd = random.Random(seed)
    batch: list[Search] = []
    for _ in range(n_plans):
        batch.append(_plan(rnd, sparse=True))
        if len(batch) == 10:  # batches of 10: each search's answer is its own entry
            result = col.search(batch)
            for i, s in enumerate(batch):
                got = {k: result[k][i] for k in ("ids", "documents", "embeddings", "metadatas", "scores")}
                _same(got, evaluate(s.to_dict(), records), s.to_dict())
            batch = []


def test_random_plans_match_the_reference(client):
    _run_random_plans(client, 300, seed=13)


@pytest.mark.slow
def test_many_random_plans_match_the_reference(client):
    for seed in range(4):
        _run_random_plans(client, 600, seed=100 + seed)


def test_rows_and_scoring_rules(client):
    col = client.create_collection("rules", configuration={"index": {"name": "exact"}})
    col.add(ids=["a", "b", "c"], embeddings=[[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]], documents=["x", "y", "z"])
    q1, q2 = Knn(query=[0.0, 0.0], limit=2), Knn(query=[3.0, 0.0], limit=2, default=10.0)
    res = col.search(Search().rank(q1 + q2).select("#score", "#document"))
    # a: 0 + default 10; b: 1 + 4 = 5; c is not in q1 (no default): dropped
    assert res.rows() == [[{"id": "b", "document": "y", "score": 5.0}, {"id": "a", "document": "x", "score": 10.0}]]
    none = col.search(Search().limit(2))
    assert none["ids"] == [["a", "b"]] and none["scores"] == [None] and none.rows() == [[{"id": "a"}, {"id": "b"}]]


@pytest.mark.parametrize(
    ("search", "names"),
    [
        (Search().rank(Knn(query=[1.0, 2.0], key="nope")), "key"),
        (Search().rank(Knn(query=SparseVector(indices=[1], values=[1.0]), key="nope")), "nope"),
        (Search().where(K("cat").regex("a.*")), "$regex"),
        (Search(limit={"offset": 0}).rank(Knn(query=[1.0, 2.0, 3.0])), "dimension"),
    ],
)
def test_bad_plans_are_typed_errors_naming_the_part(client, search, names):
    col = client.create_collection("bad_plans")
    col.add(ids=["a"], embeddings=[[1.0, 2.0]], metadatas=[{"cat": "a"}])
    with pytest.raises(InvalidArgumentError, match=names.replace("$", r"\$")):
        col.search(search)


def test_bad_payloads_are_refused_by_the_engine(client):
    col = client.create_collection("bad_payloads")
    col.add(ids=["a"], embeddings=[[1.0, 2.0]])
    api = col._client._server
    scope = {"tenant": col.tenant, "database": col.database}
    bad = [
        ({"limit": {"offset": 0, "limit": -1}}, "limit.limit"),
        ({"limit": {"offset": -2}}, "limit.offset"),
        (
            {
                "rank": {
                    "$knn": {"query": {"#type": "sparse_vector", "indices": [3, 1], "values": [1.0, 1.0]}, "key": "sp"}
                }
            },
            "ascending",
        ),
        ({"rank": {"$knn": {"query": [1.0, 2.0], "limit": 0}}}, "limit"),
        ({"filter": {"#embedding": {"$eq": 1}}}, "#embedding"),
    ]
    for payload, names in bad:
        with pytest.raises(InvalidArgumentError, match=names.replace("$", r"\$")):
            api._search(str(col.id), [payload], **scope)
    assert math.isfinite(col.search(Search().rank(Knn(query=[1.0, 2.0])).select("#score"))["scores"][0][0])
