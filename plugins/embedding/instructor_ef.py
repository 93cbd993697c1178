"""InstructorEmbeddingFunction (``instructor``): INSTRUCTOR models (``hkunlp/instructor-*``) run
locally through ``sentence-transformers`` (``huedb[instructor]``).

An INSTRUCTOR model embeds ``instruction + text`` but averages only the text's tokens: the
transformer sees the whole sequence, then the instruction's tokens are masked out of the
pooling (then the model's Dense and Normalize modules, as its ``modules.json`` lists them).
chromadb calls the ``InstructorEmbedding`` package for this; its last release (1.0.1) fails on
sentence-transformers 3+ (``'INSTRUCTOR' object has no attribute '_text_length'``), and its
loader is no longer called there, so even patched it would pool the instruction too. huedb
computes the INSTRUCTOR pooling itself on sentence-transformers' modules. Without an
``instruction`` a text is encoded as it is, as in chromadb.

``model_name`` is a Hugging Face id (fetched into the user's HF cache on first use, as
sentence-transformers does) or a local directory; a stored config naming a local path is not
rebuilt for other readers.
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

NAME = "instructor"
BATCH = 32
_MODELS: dict[tuple[str, str], Any] = {}
_LOCK = threading.Lock()


class InstructorEmbeddingFunction(EmbeddingFunction[Documents]):
    extra = "instructor"

    def __init__(
        self, model_name: str = "hkunlp/instructor-base", device: str = "cpu", instruction: str | None = None
    ) -> None:
        st = import_sdk("sentence_transformers", type(self).__name__, "sentence-transformers", self.extra)
        if not isinstance(model_name, str) or not model_name:
            raise InvalidArgumentError(f"{NAME}: model_name must be a model id or directory, got {model_name!r}")
        if not isinstance(device, str) or not device:
            raise InvalidArgumentError(f"{NAME}: device must be a string such as 'cpu' or 'cuda', got {device!r}")
        if instruction is not None and not isinstance(instruction, str):
            raise InvalidArgumentError(f"{NAME}: instruction must be a string or None, got {instruction!r}")
        self.model_name, self.device, self.instruction = model_name, device, instruction
        with _LOCK:
            model = _MODELS.get((model_name, device))
            if model is None:
                model = _MODELS[(model_name, device)] = st.SentenceTransformer(model_name, device=device)
        self._model = model

    def _with_instruction(self, texts: list[str]) -> np.ndarray:
        import torch

        modules = list(self._model)
        first = modules[0]
        lower = bool(getattr(first, "do_lower_case", False))
        instruction = self.instruction or ""
        context = instruction.strip().lower() if lower else instruction.strip()
        # tokens of the instruction alone, less its end token: the prefix masked out of pooling
        ctx_tokens = int(np.asarray(first.tokenizer([context], truncation=True)["attention_mask"]).sum()) - 1
        ctx_tokens = 0 if ctx_tokens <= 1 else ctx_tokens
        out = []
        for start in range(0, len(texts), BATCH):
            batch = []
            for text in texts[start : start + BATCH]:
                joined = (instruction + text.strip()).strip()
                batch.append(joined.lower() if lower else joined)
            features = first.tokenize(batch)
            features = {k: v.to(self._model.device) if hasattr(v, "to") else v for k, v in features.items()}
            with torch.no_grad():
                features = first(features)
                mask = features["attention_mask"].clone()
                mask[:, :ctx_tokens] = 0
                features["attention_mask"] = mask
                for module in modules[1:]:
                    features = module(features)
            out.append(features["sentence_embedding"].float().cpu().numpy())
        return np.concatenate(out)

    def __call__(self, input: Documents) -> Embeddings:
        texts = as_texts(type(self).__name__, input)
        if not texts:
            return []
        if self.instruction is None:
            vectors = self._model.encode(texts, convert_to_numpy=True, show_progress_bar=False)
        else:
            vectors = self._with_instruction(texts)
        return [np.asarray(v, dtype=np.float32) for v in vectors]

    @staticmethod
    def name() -> str:
        return NAME

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine", "l2", "ip"]

    def get_config(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "device": self.device, "instruction": self.instruction}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> InstructorEmbeddingFunction:
        for field in ("model_name", "device"):
            if not config.get(field):
                raise InvalidArgumentError(f"{NAME}: the config has no {field}")
        return InstructorEmbeddingFunction(config["model_name"], config["device"], config.get("instruction"))

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        validate_config_schema(NAME, config)

    @classmethod
    def persisted_config_problem(cls, config: dict[str, Any]) -> str | None:
        return local_path_problem(config.get("model_name"), None)

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        for field in ("model_name", "instruction"):
            if field in new_config and new_config[field] != old_config.get(field):
                raise InvalidArgumentError(
                    f"The {field} of an {NAME} embedding function cannot change ({old_config.get(field)!r} -> "
                    f"{new_config[field]!r}): stored vectors would no longer match. Create a new collection instead."
                )

    def __repr__(self) -> str:
        return f"InstructorEmbeddingFunction(model_name={self.model_name!r}, instruction={self.instruction!r})"


@hookimpl
def register_embedding_functions(register: Any) -> None:
    register(InstructorEmbeddingFunction)
