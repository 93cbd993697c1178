"""The default embedding function: all-MiniLM-L6-v2 run offline on onnxruntime.

Import is cheap on purpose (this module is loaded by plugin discovery): the
ONNX graph is built, and onnxruntime/tokenizers are imported, on the first
call only. Sessions are shared by every instance with the same settings.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from huedb.ef_persistence import validate_config_schema
from huedb.embedding_functions import Documents, EmbeddingFunction, Embeddings
from huedb.errors import InvalidArgumentError
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding import model_source

MAX_TOKENS = 256
DIMENSIONS = 384
BATCH_SIZE = 32
_SPACES = ["cosine", "l2", "ip"]


def _default_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))  # respects taskset/cgroup pinning
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _check_input(input: Any) -> list[str]:
    if isinstance(input, str) or not isinstance(input, (list, tuple)):
        raise InvalidArgumentError(
            f"Expected input to be a list of strings, got {type(input).__name__}"
            + (" (wrap a single document in a list: [text])." if isinstance(input, str) else ".")
        )
    bad = next((i for i, x in enumerate(input) if not isinstance(x, str)), None)
    if bad is not None:
        raise InvalidArgumentError(
            f"Expected input to be a list of strings, but item {bad} is {type(input[bad]).__name__}: {input[bad]!r}."
        )
    return list(input)


class _Runtime:
    """One tokenizer + onnxruntime session; thread-safe to call."""

    def __init__(self, files: model_source.ModelFiles, providers: list[str] | None, threads: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from huedb_plugins.embedding.minilm_graph import INPUT_NAMES, POOLED_OUTPUT, ensure_model_file

        available = ort.get_available_providers()
        if providers:
            unknown = [p for p in providers if p not in available]
            if unknown:
                raise InvalidArgumentError(
                    f"Preferred providers {unknown} are not available in this onnxruntime; "
                    f"expected a subset of {available}."
                )
            chosen = list(providers)
        else:
            # CoreML is slower than the CPU provider for this model, as chromadb also found.
            chosen = [p for p in available if p != "CoreMLExecutionProvider"]

        model_path = ensure_model_file(files.weights, files.config, model_source.cache_root() / "onnx_models")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(model_path), sess_options=options, providers=chosen)
        self.output = POOLED_OUTPUT
        self.batch_size = BATCH_SIZE
        self.input_names = INPUT_NAMES

        self.tokenizer = Tokenizer.from_file(str(files.tokenizer))
        self.tokenizer.no_padding()  # tokenizer.json ships fixed 128 padding; we pad per batch ourselves
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)

    def batches(self, texts: list[str]) -> list[tuple[np.ndarray, dict[str, np.ndarray]]]:
        """(rows of ``texts``, session feed) per session call: tokenized, length-sorted, padded."""
        encodings = self.tokenizer.encode_batch(texts)
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
        # Sort by length so each batch pads to a similar length (less wasted compute).
        order = np.argsort(lengths, kind="stable")
        out = []
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            lens = lengths[idx]
            width = int(lens.max())
            valid = np.arange(width) < lens[:, None]
            ids = np.zeros((len(idx), width), dtype=np.int64)
            ids[valid] = np.concatenate([encodings[i].ids for i in idx.tolist()])
            out.append((idx, dict(zip(self.input_names, (ids, valid.astype(np.int64), np.zeros_like(ids))))))
        return out

    def feeds(self, texts: list[str]) -> list[dict[str, np.ndarray]]:
        """The session feeds ``embed`` would run (the benchmark's onnxruntime floor runs these)."""
        return [feed for _, feed in self.batches(texts)]

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        for idx, feed in self.batches(texts):
            out[idx] = self.session.run([self.output], feed)[0]
        return out


_runtimes: dict[tuple[Any, ...], _Runtime] = {}
_runtimes_lock = threading.Lock()


def _get_runtime(files: model_source.ModelFiles, providers: list[str] | None, threads: int) -> _Runtime:
    key = (str(files.weights), str(files.tokenizer), tuple(providers or ()), threads)
    with _runtimes_lock:  # held while building so concurrent first calls build once
        runtime = _runtimes.get(key)
        if runtime is None:
            runtime = _runtimes[key] = _Runtime(files, providers, threads)
        return runtime


class ONNXMiniLM_L6_V2(EmbeddingFunction[Documents]):
    """all-MiniLM-L6-v2 sentence embeddings (384-d, L2-normalised), computed locally with onnxruntime.

    ``model_path``, ``model_url``/``model_sha256`` and ``num_threads`` are
    machine-local settings: they are not persisted in the collection config
    (use ``HUEDB_MODEL_PATH``, ``HUEDB_MODEL_URL``/``HUEDB_MODEL_SHA256`` to set
    them for rebuilt functions too).
    """

    def __init__(
        self,
        preferred_providers: list[str] | None = None,
        *,
        model_path: str | None = None,
        model_url: str | None = None,
        model_sha256: str | None = None,
        num_threads: int | None = None,
    ) -> None:
        if preferred_providers is not None:
            if not isinstance(preferred_providers, (list, tuple)) or not all(
                isinstance(p, str) for p in preferred_providers
            ):
                raise InvalidArgumentError(
                    f"Expected preferred_providers to be a list of strings, got {preferred_providers!r}."
                )
            if len(set(preferred_providers)) != len(preferred_providers):
                raise InvalidArgumentError(f"Preferred providers must be unique, got {list(preferred_providers)}.")
            preferred_providers = list(preferred_providers)
        bad_threads = isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1
        if num_threads is not None and bad_threads:
            raise InvalidArgumentError(f"Expected num_threads to be a positive int, got {num_threads!r}.")
        self._preferred_providers = preferred_providers
        self._model_path = model_path
        self._model_url = model_url
        self._model_sha256 = model_sha256
        self._num_threads = num_threads or _default_threads()
        self._runtime: _Runtime | None = None

    def _get(self) -> _Runtime:
        if self._runtime is None:
            files = model_source.resolve_model(self._model_path, self._model_url, self._model_sha256)
            self._runtime = _get_runtime(files, self._preferred_providers, self._num_threads)
        return self._runtime

    def __call__(self, input: Documents) -> Embeddings:
        texts = _check_input(input)
        if not texts:
            return []
        return list(self._get().embed(texts))

    @staticmethod
    def name() -> str:
        return "onnx_mini_lm_l6_v2"

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return list(_SPACES)

    def max_tokens(self) -> int:
        return MAX_TOKENS

    def get_config(self) -> dict[str, Any]:
        providers = self._preferred_providers
        return {"preferred_providers": list(providers) if providers is not None else None}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ONNXMiniLM_L6_V2:
        ONNXMiniLM_L6_V2.validate_config(config)
        return ONNXMiniLM_L6_V2(preferred_providers=config.get("preferred_providers"))

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        validate_config_schema("onnx_mini_lm_l6_v2", config)

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        """Providers only change where the model runs, not its vectors, so any update is accepted."""
        self.validate_config(new_config)


class DefaultEmbeddingFunction(EmbeddingFunction[Documents]):
    """The embedding function collections use when none is given: all-MiniLM-L6-v2 on onnxruntime."""

    def __init__(self) -> None:
        self._ef: ONNXMiniLM_L6_V2 | None = None

    def __call__(self, input: Documents) -> Embeddings:
        if self._ef is None:
            self._ef = ONNXMiniLM_L6_V2()
        return self._ef(input)

    @staticmethod
    def name() -> str:
        return "default"

    def default_space(self) -> str:
        return "l2"  # as chromadb's DefaultEmbeddingFunction (ONNXMiniLM_L6_V2 itself says cosine)

    def supported_spaces(self) -> list[str]:
        return list(_SPACES)

    def max_tokens(self) -> int:
        return MAX_TOKENS

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> DefaultEmbeddingFunction:
        DefaultEmbeddingFunction.validate_config(config)
        return DefaultEmbeddingFunction()

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        validate_config_schema("default", config)


@hookimpl
def register_embedding_functions(register) -> None:
    register(DefaultEmbeddingFunction)
    register(ONNXMiniLM_L6_V2)


__all__: Sequence[str] = ("DefaultEmbeddingFunction", "ONNXMiniLM_L6_V2", "register_embedding_functions")
