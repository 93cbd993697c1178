"""Local embeddings with ``sentence-transformers`` (``huedb[sentence-transformers]``).

``model_name`` is a Hugging Face model id (downloaded into the user's HF cache on first use,
as sentence-transformers does) or a local directory. Models are loaded once per
(model, device, kwargs) and shared. A config *rebuilt from a collection* may name hub ids
only: a local path, or ``trust_remote_code``, would make every reader load files or run code
the collection's creator chose (``persisted_config_problem``)."""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

from huedb.embedding_functions import Documents, EmbeddingFunction, Embeddings
from huedb.errors import InvalidArgumentError
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.http_provider import as_texts
from huedb_plugins.embedding.providers import import_sdk

_MODELS: dict[tuple[str, str, str], Any] = {}
_LOCK = threading.Lock()


class SentenceTransformerEmbeddingFunction(EmbeddingFunction[Documents]):
    extra = "sentence-transformers"  # the huedb extra that installs its packages (huedb plugins lists it)

    def __init__(
        self,
        model_name: str = "all-MiniLM-L6-v2",
        device: str = "cpu",
        normalize_embeddings: bool = False,
        **kwargs: Any,
    ) -> None:
        st = import_sdk("sentence_transformers", type(self).__name__, "sentence-transformers", "sentence-transformers")
        if not isinstance(model_name, str) or not model_name:
            raise InvalidArgumentError(f"model_name must be a non-empty string, got {model_name!r}")
        if not isinstance(device, str) or not device:
            raise InvalidArgumentError(f"device must be a string such as 'cpu' or 'cuda', got {device!r}")
        if not isinstance(normalize_embeddings, bool):
            raise InvalidArgumentError(f"normalize_embeddings must be a bool, got {normalize_embeddings!r}")
        for key, value in kwargs.items():
            if not isinstance(value, (str, int, float, bool, type(None))):
                raise InvalidArgumentError(
                    f"kwargs[{key!r}] must be a str, number, bool or None (it is persisted), got {type(value).__name__}"
                )
        self.model_name, self.device, self.normalize_embeddings = model_name, device, normalize_embeddings
        self.kwargs = dict(kwargs)
        cache_key = (model_name, device, repr(sorted(self.kwargs.items())))
        with _LOCK:
            model = _MODELS.get(cache_key)
            if model is None:
                model = _MODELS[cache_key] = st.SentenceTransformer(model_name, device=device, **self.kwargs)
        self._model = model

    def __call__(self, input: Documents) -> Embeddings:
        texts = as_texts(type(self).__name__, input)
        if not texts:
            return []
        vectors = self._model.encode(
            texts, convert_to_numpy=True, normalize_embeddings=self.normalize_embeddings, show_progress_bar=False
        )
        return list(np.asarray(vectors, dtype=np.float32))

    @staticmethod
    def name() -> str:
        return "sentence_transformer"

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine", "l2", "ip"]

    def get_config(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "device": self.device,
            "normalize_embeddings": self.normalize_embeddings,
            "kwargs": dict(self.kwargs),
        }

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> SentenceTransformerEmbeddingFunction:
        return SentenceTransformerEmbeddingFunction(
            model_name=config.get("model_name", "all-MiniLM-L6-v2"),
            device=config.get("device", "cpu"),
            normalize_embeddings=config.get("normalize_embeddings", False),
            **(config.get("kwargs") or {}),
        )

    @classmethod
    def persisted_config_problem(cls, config: dict[str, Any]) -> str | None:
        model = str(config.get("model_name") or "")
        if os.path.isabs(model) or model.startswith((".", "~")) or os.path.exists(model) or "\\" in model:
            return f"model_name {model!r}, a local path (only Hugging Face model ids are rebuilt from a config)"
        kwargs = config.get("kwargs") or {}
        for key in ("trust_remote_code", "cache_folder", "model_kwargs", "config_kwargs"):
            if kwargs.get(key):
                return f"kwargs[{key!r}] = {kwargs[key]!r} (it could load files or run code the creator chose)"
        return None

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        if "model_name" in new_config and new_config["model_name"] != old_config.get("model_name"):
            raise InvalidArgumentError(
                f"The model_name of a sentence-transformers embedding function cannot change "
                f"({old_config.get('model_name')!r} -> {new_config['model_name']!r}): stored vectors would no longer "
                f"match. Create a new collection instead."
            )


@hookimpl
def register_embedding_functions(register):
    register(SentenceTransformerEmbeddingFunction)
