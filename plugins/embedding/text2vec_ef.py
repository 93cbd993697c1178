"""Text2VecEmbeddingFunction (``text2vec``): ``text2vec.SentenceModel`` (``huedb[text2vec]``),
run locally; chromadb's default model is ``shibing624/text2vec-base-chinese``.

``model_name`` is a Hugging Face id (fetched into the user's HF cache on first use, as
text2vec does through transformers) or a local directory; a stored config naming a local path
is not rebuilt for other readers. text2vec averages the last hidden state over the real tokens
(its default ``MEAN`` encoder) and does not normalise.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from huedb.ef_persistence import validate_config_schema
from huedb.embedding_functions import Documents, EmbeddingFunction, Embeddings
from huedb.errors import InvalidArgumentError
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.http_provider import as_texts
from huedb_plugins.embedding.local_models import local_path_problem
from huedb_plugins.embedding.providers import import_sdk

NAME = "text2vec"
_MODELS: dict[str, Any] = {}
_LOCK = threading.Lock()


class Text2VecEmbeddingFunction(EmbeddingFunction[Documents]):
    extra = "text2vec"

    def __init__(self, model_name: str = "shibing624/text2vec-base-chinese") -> None:
        text2vec = import_sdk("text2vec", type(self).__name__, "text2vec", self.extra)
        if not isinstance(model_name, str) or not model_name:
            raise InvalidArgumentError(f"{NAME}: model_name must be a model id or directory, got {model_name!r}")
        self.model_name = model_name
        with _LOCK:
            model = _MODELS.get(model_name)
            if model is None:
                model = _MODELS[model_name] = text2vec.SentenceModel(model_name_or_path=model_name)
        self._model = model

    def __call__(self, input: Documents) -> Embeddings:
        texts = as_texts(type(self).__name__, input)
        if not texts:
            return []
        vectors = self._model.encode(texts, convert_to_numpy=True, show_progress_bar=False)
        return [np.asarray(v, dtype=np.float32) for v in vectors]

    @staticmethod
    def name() -> str:
        return NAME

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine", "l2", "ip"]

    def get_config(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> Text2VecEmbeddingFunction:
        if not config.get("model_name"):
            raise InvalidArgumentError(f"{NAME}: the config has no model_name")
        return Text2VecEmbeddingFunction(config["model_name"])

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        validate_config_schema(NAME, config)

    @classmethod
    def persisted_config_problem(cls, config: dict[str, Any]) -> str | None:
        return local_path_problem(config.get("model_name"), None)

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        if "model_name" in new_config and new_config["model_name"] != old_config.get("model_name"):
            raise InvalidArgumentError(
                f"The model_name of a {NAME} embedding function cannot change ({old_config.get('model_name')!r} -> "
                f"{new_config['model_name']!r}): stored vectors would no longer match. Create a new collection instead."
            )

    def __repr__(self) -> str:
        return f"Text2VecEmbeddingFunction(model_name={self.model_name!r})"


@hookimpl
def register_embedding_functions(register: Any) -> None:
    register(Text2VecEmbeddingFunction)
