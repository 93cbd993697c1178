"""Bm25EmbeddingFunction (``bm25``) gives chromadb 1.5.9's vectors (fastembed's Qdrant/bm25).

tests/fixtures/bm25.json holds chromadb's output (captured by tests/fixtures/capture_bm25.py,
with fastembed given the stopword files this test writes too): indices equal, values to 1e-12.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest

import huedb.schemas
from huedb import SparseVector
from huedb.ef_persistence import serialize
from huedb.errors import InvalidArgumentError
from huedb.registry import get_registry
from huedb.utils.embedding_functions import Bm25EmbeddingFunction

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "bm25.json").read_text())
CASES = FIXTURE["cases"]
SCHEMA = json.loads((Path(huedb.schemas.__file__).parent / "bm25.json").read_text())


@pytest.fixture(scope="module")
def stopword_dir(tmp_path_factory):
    """The German and French lists the capture gave fastembed (English is huedb's own)."""
    path = tmp_path_factory.mktemp("qdrant-bm25")
    for language, words in FIXTURE["stopwords"].items():
        (path / f"{language}.txt").write_text("\n".join(words) + "\n")
    return str(path)


def test_the_fixture_is_varied():
    assert len(CASES) >= 400
    configs = {json.dumps(c["config"], sort_keys=True) for c in CASES}
    assert len(configs) >= 8
    assert any(c["values"] and set(c["values"]) == {1.0} for c in CASES)  # query weights
    assert sum(1 for c in CASES if not c["indices"]) >= 3


@pytest.mark.parametrize("case", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_matches_chromadb(case, stopword_dir):
    config = dict(case["config"])
    if config.get("language"):
        config["specific_model_path"] = stopword_dir
    ef = Bm25EmbeddingFunction(**config)
    vec = (ef.embed_query if case.get("embed_query") else ef)([case["text"]])[0]
    assert isinstance(vec, SparseVector)
    assert vec.indices == case["indices"]
    assert vec.values == pytest.approx(case["values"], rel=1e-12, abs=0)


def test_query_config_and_task():
    ef = Bm25EmbeddingFunction(query_config={"task": "query"})
    doc, query = ef(["running runners"])[0], ef.embed_query(["running runners"])[0]
    assert doc.indices == query.indices and set(query.values) == {1.0} and set(doc.values) != {1.0}
    assert Bm25EmbeddingFunction(task="query")(["running runners"]) == [query]
    assert Bm25EmbeddingFunction().embed_query(["running runners"]) == [doc]  # no query_config: the task
    assert ef([]) == [] and ef("a cat") == ef(["a cat"])


@pytest.mark.parametrize(
    "kwargs, problem",
    [
        ({"task": "search"}, "task must be"),
        ({"query_config": {"task": "x"}}, "query_config must be"),
        ({"language": "klingon"}, "not supported"),
        ({"language": "german"}, "huedb never downloads it"),
        ({"bogus": 1}, "unknown argument 'bogus'"),
        ({"stopwords": object()}, "not a primitive"),
    ],
)
def test_invalid_arguments_say_what_is_expected(kwargs, problem, monkeypatch, tmp_path):
    monkeypatch.setenv("FASTEMBED_CACHE_PATH", str(tmp_path))
    with pytest.raises(InvalidArgumentError, match=problem):
        Bm25EmbeddingFunction(**kwargs)
    with pytest.raises(InvalidArgumentError, match=r"input\[1\] is int"):
        Bm25EmbeddingFunction()(["ok", 3])


def test_stopwords_found_in_a_fastembed_cache(monkeypatch, tmp_path):
    snapshot = tmp_path / "models--Qdrant--bm25" / "snapshots" / "abc"
    snapshot.mkdir(parents=True)
    (snapshot / "german.txt").write_text("der\nund\n")
    monkeypatch.setenv("FASTEMBED_CACHE_PATH", str(tmp_path))
    ef = Bm25EmbeddingFunction(language="german")
    assert ef.tokenize("Der Hund und die Katze") == ["hund", "die", "katz"]
    assert Bm25EmbeddingFunction(language="german", stopwords=["hund"]).tokenize("Der Hund") == ["der"]


def test_config_schema_registry_and_rebuild_in_a_new_process():
    assert get_registry().get("embedding_function", "bm25") is Bm25EmbeddingFunction
    ef = Bm25EmbeddingFunction(k=1.1, avg_len=80, query_config={"task": "query"}, threads=2)
    config = ef.get_config()
    jsonschema.validate(config, SCHEMA)
    Bm25EmbeddingFunction.validate_config(config)
    with pytest.raises(InvalidArgumentError, match="nope"):
        Bm25EmbeddingFunction.validate_config({**config, "nope": 1})
    jsonschema.validate(Bm25EmbeddingFunction().get_config(), SCHEMA)  # chromadb's default config fails its own
    ef.validate_config_update(config, {"specific_model_path": "/elsewhere"})
    spec = serialize(ef)
    assert spec["name"] == "bm25" and spec["type"] == "known"
    code = textwrap.dedent(f"""
        import json
        from huedb.registry import get_registry
        spec = json.loads({json.dumps(json.dumps(spec))})
        ef = get_registry().get("embedding_function", spec["name"]).build_from_config(spec["config"])
        out = ef(["The runners were running"])[0], ef.embed_query(["The runners were running"])[0]
        print(json.dumps([[v.indices, v.values] for v in out] + [ef.get_config()]))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc, query, rebuilt_config = json.loads(proc.stdout.strip().splitlines()[-1])
    here = ef(["The runners were running"])[0], ef.embed_query(["The runners were running"])[0]
    assert [doc, query] == [[v.indices, v.values] for v in here] and rebuilt_config == config
