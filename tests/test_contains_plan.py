"""$contains through the trigram index (issue 17): the index is asked for the rarest
trigrams of the text only, and instr() keeps the answer exact, whatever the plan."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

import huedb
from huedb.storage.sqlite import trigrams

COMMON = [f"row {i} with filler text" for i in range(300)]
DOCS = {
    "hit": "xx abcde yy",
    "scattered": "abc bcd cde",  # every trigram of "abcde", never together
    "two_of_three": "abcd and cde",
    "case": "ABCDE",
    "nul": "ab\x00abcde",  # indexed only up to the NUL
}


@pytest.fixture
def col(tmp_path):
    client = huedb.PersistentClient(path=str(tmp_path / "db"))
    col = client.create_collection("plan", embedding_function=None)
    ids = [f"c{i}" for i in range(len(COMMON))] + list(DOCS)
    docs = COMMON + list(DOCS.values())
    col.add(ids=ids, documents=docs, embeddings=np.random.default_rng(0).normal(size=(len(ids), 4)).tolist())
    yield col
    client.close()


def _ids(result) -> set[str]:
    return set(result["ids"])


def test_rare_trigrams_plan_keeps_contains_exact(col):
    assert _ids(col.get(where_document={"$contains": "abcde"})) == {"hit", "nul"}
    assert _ids(col.get(where_document={"$contains": "with filler"})) == {f"c{i}" for i in range(300)}
    assert _ids(col.get(where_document={"$contains": "row 12 with"})) == {"c12"}
    got = col.query(query_embeddings=[[0.0] * 4], n_results=50, where_document={"$contains": "abcde"}, include=[])
    assert set(got["ids"][0]) == {"hit", "nul"}
    both = {"$and": [{"$contains": "abcde"}, {"$not_contains": "xx"}]}
    assert _ids(col.get(where_document=both)) == {"nul"}
    either = {"$or": [{"$contains": "abcde"}, {"$contains": "ABC"}]}
    assert _ids(col.get(where_document=either)) == {"hit", "nul", "case"}
    assert "scattered" in _ids(col.get(where_document={"$not_contains": "abcde"}))


def test_the_plan_asks_for_the_rarest_trigrams(col, tmp_path):
    db = sqlite3.connect(tmp_path / "db" / "huedb.sqlite3")
    expr = trigrams.match_expression(db, "row 7 with filler")
    # "row", "ow ", " wi", ... are in every common row; the plan names few trigrams, all rare ones
    assert 1 <= expr.count('"') // 2 <= trigrams.MAX_TRIGRAMS
    assert '"ith"' not in expr and '"fil"' not in expr
    assert trigrams.match_expression(db, "abcd") == '"abcd"'  # two trigrams: the phrase itself
    db.close()


def test_stale_counts_change_the_plan_not_the_answer(col):
    assert _ids(col.get(where_document={"$contains": "qqqzz"})) == set()  # caches "qqq" etc. as absent
    col.add(ids=["new"], documents=["qqqzz here"], embeddings=[[1.0, 0, 0, 0]])
    col.add(ids=[f"q{i}" for i in range(50)], documents=["qqq"] * 50, embeddings=[[0.0, 1, 0, 0]] * 50)
    assert _ids(col.get(where_document={"$contains": "qqqzz"})) == {"new"}
