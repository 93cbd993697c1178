"""Local sparse EFs on tiny random-weight models built here (no hub access):
huggingface_sparse (a SPLADE SparseEncoder built with sentence-transformers) and
fastembed_sparse (a SPLADE ONNX graph)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import numpy as np
import pytest

import huedb.schemas
import tiny_models
from huedb import SparseVector
from huedb.ef_persistence import check_persisted_ef, serialize
from huedb.errors import ForbiddenError, InvalidArgumentError
from huedb.registry import get_registry

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ["the cat sat on the mat", "blue car runs fast", "", "a red house"]


def schema(name):
    return json.loads((Path(huedb.schemas.__file__).parent / f"{name}.json").read_text())


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """A hub download would fail the test (see test_ef_local.py)."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


def rebuild_in_new_process(spec: dict, texts: list[str]) -> tuple[list, list, dict]:
    """The EF rebuilt from its stored spec by another process: (documents, queries, config)."""
    code = textwrap.dedent(f"""
        import json
        from huedb.registry import get_registry
        spec = json.loads({json.dumps(json.dumps(spec))})
        ef = get_registry().get("embedding_function", spec["name"]).build_from_config(spec["config"])
        texts = {texts!r}
        docs, queries = ef(texts), ef.embed_query(texts)
        print(json.dumps([[[v.indices, v.values] for v in docs], [[v.indices, v.values] for v in queries],
                          ef.get_config()]))
    """)
    env = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def as_pairs(vectors):
    return [[v.indices, v.values] for v in vectors]


# -- huggingface_sparse ------------------------------------------------------------------
@pytest.fixture(scope="module")
def splade_dir(tmp_path_factory):
    return str(tiny_models.splade(tmp_path_factory.mktemp("splade")))


def test_huggingface_sparse_gives_the_encoders_nonzeros(splade_dir, monkeypatch):
    from sentence_transformers import SparseEncoder

    from huedb_plugins.embedding.huggingface_sparse_ef import HuggingFaceSparseEmbeddingFunction

    ef = HuggingFaceSparseEmbeddingFunction(model_name=splade_dir, device="cpu", query_config={"task": "query"})
    reference = SparseEncoder(splade_dir, device="cpu")
    docs, queries = ef(TEXTS), ef.embed_query(TEXTS)
    for vectors, encode in ((docs, reference.encode_document), (queries, reference.encode_query)):
        dense = encode(TEXTS, convert_to_sparse_tensor=False).numpy()
        assert len(vectors) == len(TEXTS)
        for vec, row in zip(vectors, dense):
            assert isinstance(vec, SparseVector) and vec.indices == sorted(vec.indices)
            assert vec.indices == np.flatnonzero(row).tolist() and len(vec.indices) > 0
            np.testing.assert_allclose(vec.values, row[vec.indices], rtol=1e-6)
    calls = []  # which of the encoder's methods each task reaches (the tiny model answers both alike)
    for method in ("encode_query", "encode_document"):
        real = getattr(ef._model, method)
        monkeypatch.setattr(ef._model, method, lambda *a, _m=method, _r=real, **k: calls.append(_m) or _r(*a, **k))
    ef(["a"]), ef.embed_query(["a"]), HuggingFaceSparseEmbeddingFunction(splade_dir, "cpu", task="query")(["a"])
    HuggingFaceSparseEmbeddingFunction(splade_dir, "cpu", task="query").embed_query(["a"])
    assert calls == ["encode_document", "encode_query", "encode_query", "encode_query"]
    assert ef([]) == [] and ef._model is HuggingFaceSparseEmbeddingFunction(splade_dir, "cpu")._model
    with pytest.raises(InvalidArgumentError, match=r"input\[1\] is int"):
        ef(["ok", 1])


def test_huggingface_sparse_config_round_trip(splade_dir):
    from huedb_plugins.embedding.huggingface_sparse_ef import HuggingFaceSparseEmbeddingFunction

    cls = get_registry().get("embedding_function", "huggingface_sparse")
    assert cls is HuggingFaceSparseEmbeddingFunction and cls.is_sparse()
    ef = cls(model_name=splade_dir, device="cpu", query_config={"task": "query"}, local_files_only=True)
    config = ef.get_config()
    assert config == {
        "model_name": splade_dir,
        "device": "cpu",
        "task": "document",
        "query_config": {"task": "query"},
        "kwargs": {"local_files_only": True},
    }
    jsonschema.validate(config, schema("huggingface_sparse"))
    cls.validate_config(config)
    with pytest.raises(InvalidArgumentError, match="model_name"):
        ef.validate_config_update(config, {"model_name": "naver/splade-v3"})
    docs, queries, rebuilt = rebuild_in_new_process(serialize(ef), TEXTS)
    assert rebuilt == config
    np.testing.assert_allclose(
        [v for _, vals in docs for v in vals], [v for vec in ef(TEXTS) for v in vec.values], rtol=1e-5
    )
    assert [i for i, _ in queries] == [v.indices for v in ef.embed_query(TEXTS)]
    # a stored config naming a local path or remote code is not rebuilt for other readers
    spec = serialize(ef)
    with pytest.raises(ForbiddenError, match="local path"):
        check_persisted_ef(spec, cls, "docs", None)
    hub = {**spec, "config": {**config, "model_name": "naver/splade-v3", "kwargs": {"trust_remote_code": True}}}
    with pytest.raises(ForbiddenError, match="trust_remote_code"):
        check_persisted_ef(hub, cls, "docs", None)


@pytest.mark.parametrize(
    "kwargs, problem",
    [
        ({"model_name": "", "device": "cpu"}, "model_name"),
        ({"model_name": "m", "device": ""}, "device"),
        ({"model_name": "m", "device": "cpu", "task": "search"}, "task must be"),
        ({"model_name": "m", "device": "cpu", "query_config": {"task": 1}}, "query_config"),
        ({"model_name": "m", "device": "cpu", "x": object()}, "not a primitive"),
    ],
)
def test_huggingface_sparse_refuses_bad_arguments(kwargs, problem):
    from huedb_plugins.embedding.huggingface_sparse_ef import HuggingFaceSparseEmbeddingFunction

    with pytest.raises(InvalidArgumentError, match=problem):
        HuggingFaceSparseEmbeddingFunction(**kwargs)


# -- fastembed_sparse --------------------------------------------------------------------
@pytest.fixture(scope="module")
def splade_onnx(tmp_path_factory):
    return tiny_models.splade_onnx(tmp_path_factory.mktemp("splade-onnx"))


def splade_by_hand(model_dir, weights, texts):
    """What a SPLADE model computes: max over tokens of log(1 + relu(logits)), non-zeros only."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    out = []
    for text in texts:
        ids = tokenizer.encode(text).ids
        scores = np.log1p(np.maximum(weights["E"][ids] @ weights["W"], 0)).max(axis=0)
        nz = np.flatnonzero(scores)
        out.append((nz.tolist(), scores[nz]))
    return out


def test_fastembed_sparse_runs_the_model_from_a_local_directory(splade_onnx, monkeypatch):
    from huedb_plugins.embedding.fastembed_sparse_ef import FastembedSparseEmbeddingFunction

    model_dir, weights = splade_onnx
    local = {"specific_model_path": str(model_dir), "local_files_only": True}
    ef = FastembedSparseEmbeddingFunction(query_config={"task": "query"}, threads=1, **local)
    docs = ef(TEXTS)
    assert len(docs) == len(TEXTS)
    for vec, (indices, values) in zip(docs, splade_by_hand(model_dir, weights, TEXTS)):
        assert isinstance(vec, SparseVector) and vec.indices == indices and indices
        np.testing.assert_allclose(vec.values, values, rtol=1e-5)
    assert as_pairs(ef.embed_query(TEXTS)) == as_pairs(docs)  # SPLADE encodes queries like documents
    calls = []  # which of fastembed's methods each task reaches
    for method in ("query_embed", "embed"):
        real = getattr(ef._model, method)
        monkeypatch.setattr(ef._model, method, lambda *a, _m=method, _r=real, **k: calls.append(_m) or _r(*a, **k))
    ef(["a"]), ef.embed_query(["a"])
    assert calls == ["embed", "query_embed"]
    assert (
        ef([]) == []
        and ef._model is FastembedSparseEmbeddingFunction(query_config={"task": "query"}, threads=1, **local)._model
    )
    with pytest.raises(InvalidArgumentError, match=r"input\[0\] is bytes"):
        ef([b"x"])


def test_fastembed_sparse_config_round_trip(splade_onnx):
    from huedb_plugins.embedding.fastembed_sparse_ef import FastembedSparseEmbeddingFunction

    model_dir, _ = splade_onnx
    cls = get_registry().get("embedding_function", "fastembed_sparse")
    assert cls is FastembedSparseEmbeddingFunction and cls.is_sparse()
    ef = cls(task="query", specific_model_path=str(model_dir), local_files_only=True)
    config = ef.get_config()
    assert config == {
        "model_name": "prithivida/Splade_PP_en_v1",
        "task": "query",
        "cache_dir": None,
        "threads": None,
        "cuda": None,
        "device_ids": None,
        "lazy_load": None,
        "kwargs": {"specific_model_path": str(model_dir), "local_files_only": True},
    }
    jsonschema.validate(config, schema("fastembed_sparse"))
    with pytest.raises(InvalidArgumentError, match="model_name"):
        ef.validate_config_update(config, {"model_name": "Qdrant/bm25"})
    docs, queries, rebuilt = rebuild_in_new_process(serialize(ef), TEXTS)
    assert rebuilt == config
    assert docs == queries and [i for i, _ in docs] == [v.indices for v in ef(TEXTS)]
    with pytest.raises(ForbiddenError, match="specific_model_path"):
        check_persisted_ef(serialize(ef), cls, "docs", None)
    check_persisted_ef(
        {"name": "fastembed_sparse", "type": "known", "config": {"model_name": "Qdrant/bm25"}}, cls, "d", None
    )


@pytest.mark.parametrize(
    "kwargs, problem",
    [
        ({"model_name": "no/such-model"}, "cannot load 'no/such-model'"),
        ({"task": "search"}, "task must be"),
        ({"threads": 0}, "threads"),
        ({"device_ids": ["0"]}, "device_ids"),
        ({"x": object()}, "not a primitive"),
    ],
)
def test_fastembed_sparse_refuses_bad_arguments(kwargs, problem):
    from huedb_plugins.embedding.fastembed_sparse_ef import FastembedSparseEmbeddingFunction

    with pytest.raises(InvalidArgumentError, match=problem):
        FastembedSparseEmbeddingFunction(**kwargs)
