"""A hypothesis state machine drives random add / update / upsert / delete /
get / query sequences against a collection and a plain-Python model of it,
and checks after every step that the collection equals the model.

Small dimension and a small id alphabet make collisions (existing ids, missing
ids, re-adds after deletes) frequent.
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from huedb.errors import DuplicateIDError

DIM = 3
# Counts invariant checks (one after init and one after every step of every run).
STEPS = {"checks": 0, "runs": 0}
ID_POOL = [f"id{i}" for i in range(12)]

ids_st = st.lists(st.sampled_from(ID_POOL), min_size=1, max_size=5, unique=True)
# Small integers: exact in float32, frequent ties in distances.
vec_st = st.lists(st.integers(-3, 3).map(float), min_size=DIM, max_size=DIM)
doc_st = st.one_of(st.none(), st.sampled_from(["apple pie", "banana", "cherry tart", "日本", "a"]))
meta_value_st = st.one_of(st.integers(-2, 2), st.sampled_from(["x", "y"]), st.booleans(), st.sampled_from([0.5, 1.5]))
meta_st = st.one_of(st.none(), st.dictionaries(st.sampled_from(["g", "s", "t"]), meta_value_st, min_size=1, max_size=3))
# In update/upsert a None value removes the key.
meta_update_st = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(["g", "s", "t"]), st.one_of(st.none(), meta_value_st), min_size=1, max_size=3),
)


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "num"
    return "str"


def _eq(a: Any, b: Any) -> bool:
    return _kind(a) == _kind(b) and a == b


class Record:
    def __init__(self, emb: list[float], doc: str | None, meta: dict[str, Any] | None) -> None:
        self.emb = emb
        self.doc = doc
        self.meta = meta


def _merge(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any] | None:
    if new is None:
        return old
    merged = dict(old or {})
    for k, v in new.items():
        if v is None:
            merged.pop(k, None)
        else:
            merged[k] = v
    return merged


def _norm_meta(m: dict[str, Any] | None) -> dict[str, Any]:
    # A record whose keys were all removed may read back as {} or None.
    return dict(m or {})


class CollectionMachine(RuleBasedStateMachine):
    def __init__(self, client) -> None:
        super().__init__()
        self.client = client
        self.name = f"sm-{uuid.uuid4().hex[:12]}"
        self.col = client.create_collection(self.name, embedding_function=None)
        # Python dicts keep insertion order; a re-added id goes to the end, as in the collection.
        self.model: dict[str, Record] = {}
        STEPS["runs"] += 1

    def teardown(self) -> None:
        self.client.delete_collection(self.name)

    # --- writes -------------------------------------------------------------------

    @rule(ids=ids_st, data=st.data())
    def add(self, ids, data):
        n = len(ids)
        embs = data.draw(st.lists(vec_st, min_size=n, max_size=n))
        docs = data.draw(st.lists(doc_st, min_size=n, max_size=n))
        metas = data.draw(st.lists(meta_st, min_size=n, max_size=n))
        self.col.add(ids=ids, embeddings=embs, documents=docs, metadatas=metas)
        for i, rid in enumerate(ids):
            if rid not in self.model:  # existing ids are ignored
                self.model[rid] = Record(embs[i], docs[i], metas[i])

    @rule(ids=ids_st, data=st.data())
    def update(self, ids, data):
        n = len(ids)
        embs = data.draw(st.one_of(st.none(), st.lists(vec_st, min_size=n, max_size=n)))
        metas = data.draw(st.one_of(st.none(), st.lists(meta_update_st, min_size=n, max_size=n)))
        # Documents without embeddings would need an embedding function.
        docs = data.draw(st.lists(doc_st, min_size=n, max_size=n)) if embs is not None else None
        if embs is None and metas is None:
            metas = [{"g": 0}] * n
        self.col.update(ids=ids, embeddings=embs, documents=docs, metadatas=metas)
        for i, rid in enumerate(ids):
            rec = self.model.get(rid)
            if rec is None:  # missing ids are ignored
                continue
            if embs is not None:
                rec.emb = embs[i]
            if docs is not None and docs[i] is not None:
                rec.doc = docs[i]
            if metas is not None:
                rec.meta = _merge(rec.meta, metas[i])

    @rule(ids=ids_st, data=st.data())
    def upsert(self, ids, data):
        n = len(ids)
        embs = data.draw(st.lists(vec_st, min_size=n, max_size=n))
        docs = data.draw(st.one_of(st.none(), st.lists(doc_st, min_size=n, max_size=n)))
        metas = data.draw(st.one_of(st.none(), st.lists(meta_update_st, min_size=n, max_size=n)))
        self.col.upsert(ids=ids, embeddings=embs, documents=docs, metadatas=metas)
        for i, rid in enumerate(ids):
            doc = None if docs is None else docs[i]
            meta = None if metas is None else metas[i]
            rec = self.model.get(rid)
            if rec is None:
                self.model[rid] = Record(embs[i], doc, _merge(None, meta))
            else:
                rec.emb = embs[i]
                if doc is not None:
                    rec.doc = doc
                rec.meta = _merge(rec.meta, meta)

    @rule(ids=ids_st)
    def delete_ids(self, ids):
        self.col.delete(ids=ids)
        for rid in ids:
            self.model.pop(rid, None)

    @rule(value=st.integers(-2, 2))
    def delete_where(self, value):
        self.col.delete(where={"g": value})
        for rid in [r for r, rec in self.model.items() if rec.meta and _eq(rec.meta.get("g", object()), value)]:
            del self.model[rid]

    @rule(ids=st.lists(st.sampled_from(ID_POOL), min_size=2, max_size=4), data=st.data())
    def duplicate_ids_rejected(self, ids, data):
        dup = ids + [ids[0]]
        op = data.draw(st.sampled_from(["add", "upsert", "update"]))
        with pytest.raises(DuplicateIDError):
            getattr(self.col, op)(ids=dup, embeddings=[[0.0] * DIM] * len(dup))

    # --- reads ------------------------------------------------------------------------

    @rule(ids=ids_st)
    def get_by_ids(self, ids):
        got = self.col.get(ids=ids, include=["documents", "metadatas"])
        wanted = [rid for rid in ids if rid in self.model]
        assert got["ids"] == wanted
        assert got["documents"] == [self.model[r].doc for r in wanted]
        assert [_norm_meta(m) for m in got["metadatas"]] == [_norm_meta(self.model[r].meta) for r in wanted]

    @rule(key=st.sampled_from(["g", "s", "t"]), value=meta_value_st, op=st.sampled_from(["$eq", "$ne"]))
    def get_where(self, key, value, op):
        got = self.col.get(where={key: {op: value}}, include=[])["ids"]

        def match(rec: Record) -> bool:
            present = rec.meta is not None and key in rec.meta
            hit = present and _eq(rec.meta[key], value)
            return hit if op == "$eq" else not hit

        assert got == [rid for rid, rec in self.model.items() if match(rec)]

    @rule(text=st.sampled_from(["a", "an", "pie", "日", "zzz"]), negate=st.booleans())
    def get_where_document(self, text, negate):
        op = "$not_contains" if negate else "$contains"
        got = self.col.get(where_document={op: text}, include=[])["ids"]
        expected = [r for r, rec in self.model.items() if (rec.doc is not None and text in rec.doc) != negate]
        assert got == expected

    @precondition(lambda self: len(self.model) > 0)
    @rule(q=vec_st, k=st.integers(1, 14))
    def query(self, q, k):
        res = self.col.query(query_embeddings=[q], n_results=k, include=["distances"])
        ids = list(self.model)
        X = np.array([self.model[r].emb for r in ids], dtype=np.float64)
        d = ((X - np.array(q, dtype=np.float64)) ** 2).sum(axis=1)
        expected = np.sort(d)[: min(k, len(ids))]
        assert len(res["ids"][0]) == len(expected)
        np.testing.assert_allclose(res["distances"][0], expected, atol=1e-5)
        by_id = dict(zip(ids, d))
        np.testing.assert_allclose([by_id[r] for r in res["ids"][0]], res["distances"][0], atol=1e-5)

    # --- the invariant -------------------------------------------------------------

    @invariant()
    def matches_model(self):
        STEPS["checks"] += 1
        got = self.col.get(include=["embeddings", "documents", "metadatas"])
        ids = list(self.model)
        assert got["ids"] == ids
        assert self.col.count() == len(ids)
        if ids:
            np.testing.assert_array_equal(
                got["embeddings"], np.array([self.model[r].emb for r in ids], dtype=np.float32)
            )
        assert got["documents"] == [self.model[r].doc for r in ids]
        assert [_norm_meta(m) for m in got["metadatas"]] == [_norm_meta(self.model[r].meta) for r in ids]


# Runs end at random lengths up to stateful_step_count; 60 x 50 gives ~2,000 steps.
MIN_STEPS = 1000
STATEFUL_SETTINGS = settings(
    max_examples=60,
    stateful_step_count=50,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def test_collection_matches_model(client):
    STEPS.update(checks=0, runs=0)
    run_state_machine_as_test(lambda: CollectionMachine(client), settings=STATEFUL_SETTINGS)
    steps = STEPS["checks"] - STEPS["runs"]
    assert steps >= MIN_STEPS, f"only {steps} steps ran; raise max_examples"
