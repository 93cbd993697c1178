"""instructor and text2vec on tiny random-weight models built here (no hub access): their
vectors against the computation done by hand with transformers, their configs, and a
collection created and reopened in new processes that find the model by id in a Hugging Face
cache (HF_HUB_OFFLINE=1), as a user's machine would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import numpy as np
import pytest

import huedb.schemas
import tiny_models
from huedb.ef_persistence import check_persisted_ef, serialize
from huedb.errors import ForbiddenError, InvalidArgumentError
from huedb.registry import get_registry

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ["the cat sat on the mat", "Blue car runs fast", "", "a red house  "]
INSTRUCTION = "Represent the query: "


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """A hub download would fail the test (see test_ef_local.py)."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


def schema(name):
    return json.loads((Path(huedb.schemas.__file__).parent / f"{name}.json").read_text())


def bert_states(model_dir, texts):
    """(last hidden state, attention mask) of the tiny BERT for each text, one at a time."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer, model = AutoTokenizer.from_pretrained(model_dir), AutoModel.from_pretrained(model_dir)
    out = []
    with torch.no_grad():
        for text in texts:
            enc = tokenizer(text, return_tensors="pt")
            out.append((model(**enc).last_hidden_state[0].numpy(), enc["attention_mask"][0].numpy()))
    return tokenizer, out


def round_trip(tmp_path, ef_code: str, repo_dir: Path, repo_id: str) -> dict:
    """Creates a collection with ``ef_code`` in one process, reopens it in another; both find
    ``repo_id`` in a private HF cache, offline."""
    cache = tmp_path / "hf-cache"
    tiny_models.hub_cache(repo_dir, cache, repo_id)
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    path = str(tmp_path / "db")
    create = textwrap.dedent(f"""
        import json, huedb
        from huedb.utils.embedding_functions import *
        client = huedb.PersistentClient(path={path!r})
        col = client.create_collection("docs", embedding_function={ef_code})
        col.add(ids=["cat", "car"], documents=["the cat sat on the mat", "blue car runs fast"])
        print(json.dumps(col.get(include=["embeddings"])["embeddings"].tolist()))
    """)
    reopen = textwrap.dedent(f"""
        import json, huedb
        col = huedb.PersistentClient(path={path!r}).get_collection("docs")
        out = col.query(query_texts=["the cat sat on the mat"], n_results=1, include=["distances"])
        print(json.dumps({{"config": col.configuration_json["embedding_function"], "ids": out["ids"],
                           "distance": out["distances"][0][0]}}))
    """)
    results = []
    for code in (create, reopen):
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return {"embeddings": results[0], **results[1]}


# -- instructor ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def instructor_dir(tmp_path_factory):
    return tiny_models.sentence_transformer(tmp_path_factory.mktemp("instructor"))


def instructor_by_hand(model_dir, texts, instruction):
    """INSTRUCTOR's pooling: mean over the text's tokens only (the instruction's, less the end
    token, are masked out), then L2 normalisation (the model's Normalize module)."""
    tokenizer, states = bert_states(model_dir, [(instruction + t.strip()).strip().lower() for t in texts])
    skip = len(tokenizer(instruction.strip().lower())["input_ids"]) - 1
    out = []
    for hidden, mask in states:
        mask = mask.copy()
        mask[:skip] = 0
        mean = (hidden * mask[:, None]).sum(0) / max(mask.sum(), 1e-9)
        out.append(mean / np.linalg.norm(mean))
    return np.stack(out)


def test_instructor_masks_the_instruction_out_of_pooling(instructor_dir):
    from sentence_transformers import SentenceTransformer

    from huedb_plugins.embedding.instructor_ef import InstructorEmbeddingFunction

    ef = InstructorEmbeddingFunction(model_name=str(instructor_dir), instruction=INSTRUCTION)
    out = ef(TEXTS)
    assert all(v.dtype == np.float32 and v.shape == (16,) for v in out)
    np.testing.assert_allclose(np.stack(out), instructor_by_hand(instructor_dir, TEXTS, INSTRUCTION), atol=1e-5)
    # without an instruction: the model's own encoding, as in chromadb
    plain = InstructorEmbeddingFunction(model_name=str(instructor_dir))(TEXTS)
    reference = SentenceTransformer(str(instructor_dir), device="cpu").encode(TEXTS)
    np.testing.assert_allclose(np.stack(plain), reference, atol=1e-6)
    assert not np.allclose(np.stack(plain), np.stack(out))
    assert ef([]) == [] and ef.default_space() == "cosine" and ef.supported_spaces() == ["cosine", "l2", "ip"]
    many = [f"text number {i}" for i in range(70)]  # more than one batch of 32
    np.testing.assert_allclose(np.stack(ef(many)), instructor_by_hand(instructor_dir, many, INSTRUCTION), atol=1e-5)
    with pytest.raises(InvalidArgumentError, match=r"input\[1\] is int"):
        ef(["ok", 2])


def test_instructor_config(instructor_dir):
    from huedb_plugins.embedding.instructor_ef import InstructorEmbeddingFunction

    assert get_registry().get("embedding_function", "instructor") is InstructorEmbeddingFunction
    ef = InstructorEmbeddingFunction(model_name=str(instructor_dir), instruction=INSTRUCTION)
    config = ef.get_config()
    assert config == {"model_name": str(instructor_dir), "device": "cpu", "instruction": INSTRUCTION}
    jsonschema.validate(config, schema("instructor"))
    InstructorEmbeddingFunction.validate_config(config)
    with pytest.raises(InvalidArgumentError, match="device"):
        InstructorEmbeddingFunction.validate_config({"model_name": "m"})
    assert InstructorEmbeddingFunction.build_from_config(config).get_config() == config
    for field, value in (("model_name", "hkunlp/instructor-xl"), ("instruction", "Represent the title: ")):
        with pytest.raises(InvalidArgumentError, match=field):
            ef.validate_config_update(config, {field: value})
    with pytest.raises(ForbiddenError, match="local path"):
        check_persisted_ef(serialize(ef), InstructorEmbeddingFunction, "docs", None)
    with pytest.raises(InvalidArgumentError, match="instruction must be"):
        InstructorEmbeddingFunction(model_name=str(instructor_dir), instruction=3)


def test_instructor_collection_reopened_in_a_new_process(instructor_dir, tmp_path):
    ef = f"InstructorEmbeddingFunction(model_name='tiny-org/instructor', instruction={INSTRUCTION!r})"
    out = round_trip(tmp_path, ef, instructor_dir, "tiny-org/instructor")
    want = instructor_by_hand(instructor_dir, ["the cat sat on the mat", "blue car runs fast"], INSTRUCTION)
    np.testing.assert_allclose(np.asarray(out["embeddings"]), want, atol=1e-5)
    assert out["config"] == {
        "type": "known",
        "name": "instructor",
        "config": {"model_name": "tiny-org/instructor", "device": "cpu", "instruction": INSTRUCTION},
    }
    assert out["ids"] == [["cat"]] and out["distance"] < 1e-5


# -- text2vec --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def text2vec_dir(tmp_path_factory):
    return tiny_models.bert(tmp_path_factory.mktemp("text2vec"))


def text2vec_by_hand(model_dir, texts):
    """text2vec's MEAN encoder: the last hidden state averaged over the real tokens."""
    _, states = bert_states(model_dir, texts)
    return np.stack([(h * m[:, None]).sum(0) / m.sum() for h, m in states])


def test_text2vec_is_the_mean_of_the_last_hidden_state(text2vec_dir):
    from huedb_plugins.embedding.text2vec_ef import Text2VecEmbeddingFunction

    ef = Text2VecEmbeddingFunction(model_name=str(text2vec_dir))
    out = ef(TEXTS)
    assert all(v.dtype == np.float32 and v.shape == (16,) for v in out)
    np.testing.assert_allclose(np.stack(out), text2vec_by_hand(text2vec_dir, TEXTS), atol=1e-5)
    assert ef.embed_query(["a"])[0].tolist() == ef(["a"])[0].tolist()  # no query mode
    assert ef([]) == [] and ef._model is Text2VecEmbeddingFunction(model_name=str(text2vec_dir))._model
    assert ef.default_space() == "cosine" and ef.supported_spaces() == ["cosine", "l2", "ip"]
    with pytest.raises(InvalidArgumentError, match=r"input\[0\] is bytes"):
        ef([b"x"])


def test_text2vec_config(text2vec_dir):
    from huedb_plugins.embedding.text2vec_ef import Text2VecEmbeddingFunction

    assert get_registry().get("embedding_function", "text2vec") is Text2VecEmbeddingFunction
    ef = Text2VecEmbeddingFunction(model_name=str(text2vec_dir))
    config = ef.get_config()
    assert config == {"model_name": str(text2vec_dir)}
    jsonschema.validate(config, schema("text2vec"))
    Text2VecEmbeddingFunction.validate_config(config)
    with pytest.raises(InvalidArgumentError, match="extra"):
        Text2VecEmbeddingFunction.validate_config({**config, "extra": 1})
    assert Text2VecEmbeddingFunction.build_from_config(config).get_config() == config
    with pytest.raises(InvalidArgumentError, match="model_name"):
        ef.validate_config_update(config, {"model_name": "shibing624/text2vec-base-multilingual"})
    with pytest.raises(ForbiddenError, match="local path"):
        check_persisted_ef(serialize(ef), Text2VecEmbeddingFunction, "docs", None)


def test_text2vec_collection_reopened_in_a_new_process(text2vec_dir, tmp_path):
    out = round_trip(
        tmp_path, "Text2VecEmbeddingFunction(model_name='tiny-org/text2vec')", text2vec_dir, "tiny-org/text2vec"
    )
    want = text2vec_by_hand(text2vec_dir, ["the cat sat on the mat", "blue car runs fast"])
    np.testing.assert_allclose(np.asarray(out["embeddings"]), want, atol=1e-5)
    assert out["config"] == {"type": "known", "name": "text2vec", "config": {"model_name": "tiny-org/text2vec"}}
    assert out["ids"] == [["cat"]] and out["distance"] < 1e-5
