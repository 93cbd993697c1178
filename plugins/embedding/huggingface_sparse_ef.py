"""HuggingFaceSparseEmbeddingFunction (``huggingface_sparse``): SPLADE-style sparse vectors from a
``sentence_transformers.SparseEncoder`` (``huedb[huggingface-sparse]``), run locally.

``model_name`` is a Hugging Face model id (fetched into the user's HF cache on first use, as
sentence-transformers does) or a local directory. ``task="document"`` encodes with
``encode_document``, ``"query"`` with ``encode_query`` (the model's query prompt or router);
``embed_query`` uses ``query_config["task"]`` when given. Each vector holds the non-zero
dimensions of the model's output, indices sorted (token ids of the model's vocabulary).
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

NAME = "huggingface_sparse"
_MODELS: dict[tuple[str, str, str], Any] = {}
_LOCK = threading.Lock()


def dense_rows_to_sparse(rows: Any) -> SparseVectors:
    """One SparseVector per row of a dense [n, dim] array: its non-zero entries, indices sorted."""
    out: SparseVectors = []
    for row in np.asarray(rows, dtype=np.float32):
        nz = np.flatnonzero(row)
        out.append(SparseVector(indices=nz.tolist(), values=row[nz].astype(float).tolist()))
    return out


class HuggingFaceSparseEmbeddingFunction(TaskSparseMixin, SparseEmbeddingFunction[Documents]):
    extra = "huggingface-sparse"

    def __init__(
        self,
        model_name: str,
        device: str,
        task: str | None = "document",
        query_config: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        st = import_sdk("sentence_transformers", type(self).__name__, "sentence-transformers", self.extra)
        if not isinstance(model_name, str) or not model_name:
            raise InvalidArgumentError(f"{NAME}: model_name must be a model id or directory, got {model_name!r}")
        if not isinstance(device, str) or not device:
            raise InvalidArgumentError(f"{NAME}: device must be a string such as 'cpu' or 'cuda', got {device!r}")
        check_task(NAME, task, query_config)
        self.model_name, self.device, self.task, self.query_config = model_name, device, task, query_config
        self.kwargs = check_kwargs(NAME, kwargs)
        key = (model_name, device, repr(sorted(self.kwargs.items())))
        with _LOCK:
            model = _MODELS.get(key)
            if model is None:
                model = _MODELS[key] = st.SparseEncoder(model_name, device=device, **self.kwargs)
        self._model = model

    def _encode(self, input: Documents, task: str) -> SparseVectors:
        texts = as_texts(type(self).__name__, input)
        if not texts:
            return []
        encode = self._model.encode_query if task == "query" else self._model.encode_document
        rows = encode(texts, convert_to_tensor=True, convert_to_sparse_tensor=False, show_progress_bar=False)
        return dense_rows_to_sparse(rows.detach().cpu().float().numpy())

    @staticmethod
    def name() -> str:
        return NAME

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HuggingFaceSparseEmbeddingFunction:
        for field in ("model_name", "device"):
            if not config.get(field):
                raise InvalidArgumentError(f"{NAME}: the config has no {field}")
        return HuggingFaceSparseEmbeddingFunction(
            model_name=config["model_name"],
            device=config["device"],
            task=config.get("task") or "document",
            query_config=config.get("query_config"),
            **(config.get("kwargs") or {}),
        )

    def get_config(self) -> dict[str, Any]:
        # chromadb also stores query_config=None, which its own schema refuses: left out here
        config: dict[str, Any] = {"model_name": self.model_name, "device": self.device, "task": self.task}
        if self.query_config is not None:
            config["query_config"] = dict(self.query_config)
        config["kwargs"] = dict(self.kwargs)
        return config

    @classmethod
    def persisted_config_problem(cls, config: dict[str, Any]) -> str | None:
        risky = ("trust_remote_code", "cache_folder", "model_kwargs", "config_kwargs", "processor_kwargs")
        return local_path_problem(config.get("model_name"), config.get("kwargs"), risky)

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        check_model_unchanged(NAME, old_config, new_config)

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        validate_config_schema(NAME, config)

    def __repr__(self) -> str:
        return f"HuggingFaceSparseEmbeddingFunction(model_name={self.model_name!r}, task={self.task!r})"


@hookimpl
def register_embedding_functions(register: Any) -> None:
    register(HuggingFaceSparseEmbeddingFunction)
