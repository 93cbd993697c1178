"""ChromaBm25EmbeddingFunction gives chromadb 1.5.9's sparse vectors, term for term.

tests/fixtures/chroma_bm25.json holds chromadb's output on 240 texts (captured by
tests/fixtures/capture_chroma_bm25.py): indices must be equal, values equal to 1e-12.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from huedb import SparseVector
from huedb.ef_persistence import serialize
from huedb.errors import InvalidArgumentError
from huedb.registry import get_registry
from huedb.utils.embedding_functions import ChromaBm25EmbeddingFunction

CASES = json.loads((Path(__file__).parent / "fixtures" / "chroma_bm25.json").read_text())["cases"]


def test_the_fixture_is_varied():
    assert len(CASES) >= 200
    assert sum(1 for c in CASES if not c["indices"]) >= 3  # empty and stopword-only texts
    assert len({json.dumps(c["config"], sort_keys=True) for c in CASES}) >= 4


@pytest.mark.parametrize("case", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_matches_chromadb(case):
    vec = ChromaBm25EmbeddingFunction(**case["config"])([case["text"]])[0]
    assert isinstance(vec, SparseVector)
    assert vec.indices == case["indices"]
    assert vec.values == pytest.approx(case["values"], rel=1e-12, abs=0)
    assert vec.labels == case.get("tokens")


def test_registered_under_chromas_name_and_rebuilt_from_its_config():
    cls = get_registry().get("embedding_function", "chroma_bm25")
    assert cls is ChromaBm25EmbeddingFunction and cls.name() == "chroma_bm25"
    ef = ChromaBm25EmbeddingFunction(k=1.1, b=0.6, stopwords=["x"])
    spec = serialize(ef)
    assert spec["name"] == "chroma_bm25" and spec["config"]["k"] == 1.1
    again = ChromaBm25EmbeddingFunction.build_from_config(spec["config"])
    assert again.get_config() == ef.get_config()
    assert again(["x marks the spot"]) == ef(["x marks the spot"]) == ef.embed_query(["x marks the spot"])
    with pytest.raises(InvalidArgumentError, match="not supported"):
        ef.validate_config_update(ef.get_config(), {"model": "other"})
