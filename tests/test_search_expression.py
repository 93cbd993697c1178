"""huedb.execution.expression builds exactly the payloads chromadb 1.5.9's client sends
(tests/fixtures/search_payloads.json, captured from chromadb by capture_search_payloads.py),
and parses them back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import huedb
import huedb.execution.expression as expression
from huedb.api.types import SparseVector
from huedb.execution.expression import *  # noqa: F403

CASES = json.loads((Path(__file__).parent / "fixtures" / "search_payloads.json").read_text())["cases"]
NAMES = {**{n: getattr(expression, n) for n in expression.__all__}, "np": np, "SparseVector": SparseVector}


def _normal(payload: dict) -> dict:
    """Select keys come from a set in chromadb: their order is the set's, so compare them as a set."""
    out = json.loads(json.dumps(payload))
    out["select"]["keys"] = sorted(out["select"]["keys"])
    return out


@pytest.mark.parametrize("case", CASES, ids=[c["source"][:70] for c in CASES])
def test_to_dict_matches_chromadb(case):
    built = eval(case["source"], NAMES)  # noqa: S307 - sources from the fixture
    assert _normal(built.to_dict()) == _normal(case["payload"])


def _float32_queries(node):
    """chromadb's Knn.from_dict stores a dense query as float32 (normalize_embeddings): so does huedb's."""
    if isinstance(node, dict):
        out = {k: _float32_queries(v) for k, v in node.items()}
        if isinstance(out.get("query"), list):
            out["query"] = np.asarray(out["query"], dtype=np.float32).tolist()
        return out
    if isinstance(node, list):
        return [_float32_queries(v) for v in node]
    return node


@pytest.mark.parametrize("case", CASES, ids=[c["source"][:70] for c in CASES])
def test_from_dict_round_trips(case):
    payload = _float32_queries(case["payload"])
    parsed = Search.from_dict(payload)  # noqa: F405
    assert _normal(parsed.to_dict()) == _normal(payload)
    if payload["filter"] is not None:
        assert Where.from_dict(payload["filter"]).to_dict() == payload["filter"]  # noqa: F405
    if payload["rank"] is not None:
        assert Rank.from_dict(payload["rank"]).to_dict() == payload["rank"]  # noqa: F405


def test_every_chromadb_name_is_exported():
    for name in [
        "Search",
        "K",
        "Key",
        "Knn",
        "Rrf",
        "Val",
        "GroupBy",
        "MinK",
        "MaxK",
        "Limit",
        "Select",
        "SearchWhere",
    ]:
        assert name in expression.__all__
    assert huedb.Search is Search and huedb.K is K and huedb.Key is Key  # noqa: F405
    assert huedb.Knn is Knn and huedb.Rrf is Rrf  # noqa: F405


def test_builders_flatten_and_refuse_as_chromadb():
    a, b, c = K("a") == 1, K("b") == 2, K("c") == 3  # noqa: F405
    assert isinstance((a & b) & c, And) and len(((a & b) & c).conditions) == 3  # noqa: F405
    assert isinstance(a | (b | c), Or) and len((a | (b | c)).conditions) == 3  # noqa: F405
    with pytest.raises(TypeError, match="string pattern"):
        K.DOCUMENT.contains(3)  # noqa: F405
    with pytest.raises(ValueError, match="positive"):
        Limit.from_dict({"limit": -1})  # noqa: F405
    with pytest.raises(ValueError, match="weights"):
        Rrf([Knn(query=[1.0])], weights=[1.0, 2.0]).to_dict()  # noqa: F405
    with pytest.raises(TypeError, match="Select key must be a string"):
        Search(select=[K.SCORE])  # noqa: F405
    with pytest.raises(ValueError, match="Unknown rank operator"):
        Rank.from_dict({"$pow": 2})  # noqa: F405
