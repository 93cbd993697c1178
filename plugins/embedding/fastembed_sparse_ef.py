"""FastembedSparseEmbeddingFunction (``fastembed_sparse``): sparse vectors from fastembed's
``SparseTextEmbedding`` (``huedb[fastembed]``), run locally on onnxruntime.

``model_name`` is one of fastembed's sparse models (``Qdrant/bm25``,
``prithivida/Splade_PP_en_v1``, ``Qdrant/minicoil-v1``...), fetched into fastembed's cache on
first use as fastembed does; pass ``specific_model_path=`` (a kwarg, as in fastembed) to load
one from a local directory, and ``local_files_only=True`` to forbid any download.
``task="document"`` calls ``embed``, ``"query"`` ``query_embed``; ``embed_query`` uses
``query_config["task"]`` when given.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from huedb.api.types import Documents, SparseEmbeddingFunction, SparseVector, SparseVectors
from huedb.ef_persistence import validate_config_schema
from huedb.errors import InvalidArgumentError
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.http_provider import as_texts
from huedb_plugins.embedding.local_models import (
    TaskSparseMixin,
    check_kwargs,
    check_model_unchanged,
    check_task,
    local_path_problem,
)
from huedb_plugins.embedding.providers import import_sdk

NAME = "fastembed_sparse"
DEFAULT_MODEL = "prithivida/Splade_PP_en_v1"
_MODELS: dict[str, Any] = {}
_LOCK = threading.Lock()


class FastembedSparseEmbeddingFunction(TaskSparseMixin, SparseEmbeddingFunction[Documents]):
    extra = "fastembed"

    def __init__(
        self,
        model_name: str = DEFAULT_MODEL,
        task: str | None = "document",
        cache_dir: str | None = None,
        threads: int | None = None,
        cuda: bool | None = None,
        device_ids: list[int] | None = None,
        lazy_load: bool | None = None,
        query_config: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        fastembed = import_sdk("fastembed", type(self).__name__, "fastembed", self.extra)
        if not isinstance(model_name, str) or not model_name:
            raise InvalidArgumentError(f"{NAME}: model_name must be a fastembed sparse model name, got {model_name!r}")
        check_task(NAME, task, query_config)
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
            raise InvalidArgumentError(f"{NAME}: threads must be a positive integer or None, got {threads!r}")
        if device_ids is not None and not (
            isinstance(device_ids, list) and all(isinstance(d, int) and not isinstance(d, bool) for d in device_ids)
        ):
            raise InvalidArgumentError(f"{NAME}: device_ids must be a list of integers or None, got {device_ids!r}")
        self.model_name, self.task, self.query_config = model_name, task, query_config
        self.cache_dir, self.threads, self.cuda = cache_dir, threads, cuda
        self.device_ids, self.lazy_load = device_ids, lazy_load
        self.kwargs = check_kwargs(NAME, kwargs)
        args = {"cache_dir": cache_dir, "threads": threads, "device_ids": device_ids, "lazy_load": bool(lazy_load)}
        if cuda is not None:  # fastembed's default is its own Device.AUTO
            args["cuda"] = cuda
        key = repr((model_name, sorted(args.items()), sorted(self.kwargs.items())))
        with _LOCK:
            model = _MODELS.get(key)
            if model is None:
                try:
                    model = fastembed.SparseTextEmbedding(model_name, **args, **self.kwargs)
                except ValueError as e:  # an unknown model, or a missing local file
                    raise InvalidArgumentError(f"{NAME}: fastembed cannot load {model_name!r}: {e}") from e
                _MODELS[key] = model
        self._model = model

    def _encode(self, input: Documents, task: str) -> SparseVectors:
        texts = as_texts(type(self).__name__, input)
        if not texts:
            return []
        embed = self._model.query_embed if task == "query" else self._model.embed
        out: SparseVectors = []
        for emb in embed(texts):
            order = np.argsort(emb.indices, kind="stable")  # fastembed's order is not always sorted
            indices = np.asarray(emb.indices)[order]
            values = np.asarray(emb.values, dtype=np.float64)[order]
            out.append(SparseVector(indices=[int(i) for i in indices], values=[float(v) for v in values]))
        return out

    @staticmethod
    def name() -> str:
        return NAME

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> FastembedSparseEmbeddingFunction:
        if not config.get("model_name"):
            raise InvalidArgumentError(f"{NAME}: the config has no model_name")
        fields = ("cache_dir", "threads", "cuda", "device_ids", "lazy_load", "query_config")
        return FastembedSparseEmbeddingFunction(
            model_name=config["model_name"],
            task=config.get("task") or "document",
            **{f: config.get(f) for f in fields},
            **(config.get("kwargs") or {}),
        )

    def get_config(self) -> dict[str, Any]:
        # chromadb also stores query_config=None, which its own schema refuses: left out here
        config: dict[str, Any] = {"model_name": self.model_name, "task": self.task}
        if self.query_config is not None:
            config["query_config"] = dict(self.query_config)
        config.update(
            cache_dir=self.cache_dir,
            threads=self.threads,
            cuda=self.cuda,
            device_ids=self.device_ids,
            lazy_load=self.lazy_load,
            kwargs=dict(self.kwargs),
        )
        return config

    @classmethod
    def persisted_config_problem(cls, config: dict[str, Any]) -> str | None:
        kwargs = config.get("kwargs") or {}
        if config.get("cache_dir"):
            return f"cache_dir {config['cache_dir']!r} (a reader's files are the reader's choice)"
        if kwargs.get("specific_model_path"):
            return f"kwargs['specific_model_path'] = {kwargs['specific_model_path']!r}, a local path"
        return local_path_problem(config.get("model_name"), kwargs)

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        check_model_unchanged(NAME, old_config, new_config)

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        validate_config_schema(NAME, config)

    def __repr__(self) -> str:
        return f"FastembedSparseEmbeddingFunction(model_name={self.model_name!r}, task={self.task!r})"


@hookimpl
def register_embedding_functions(register: Any) -> None:
    register(FastembedSparseEmbeddingFunction)
