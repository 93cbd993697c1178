"""A LangChain ``Embeddings`` object as an embedding function (``huedb[langchain]``).

Like chromadb's, it cannot be rebuilt from a stored config (a LangChain object is code, not
settings): pass ``embedding_function=`` again when you open the collection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from huedb.embedding_functions import Documents, EmbeddingFunction, Embeddings
from huedb.errors import InvalidArgumentError
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.http_provider import as_texts
from huedb_plugins.embedding.providers import import_sdk


class ChromaLangchainEmbeddingFunction(EmbeddingFunction[Documents]):
    """Wraps ``embedding_function`` (a ``langchain_core.embeddings.Embeddings``): documents go
    through its ``embed_documents``, query texts through ``embed_query``."""

    extra = "langchain"  # the huedb extra that installs its packages (huedb plugins lists it)

    def __init__(self, embedding_function: Any) -> None:
        core = import_sdk("langchain_core.embeddings", type(self).__name__, "langchain-core", "langchain")
        if not isinstance(embedding_function, core.Embeddings):
            raise InvalidArgumentError(
                "embedding_function must be a langchain_core.embeddings.Embeddings, "
                f"got {type(embedding_function).__name__}"
            )
        self.embedding_function = embedding_function
        cls = type(embedding_function)
        self._embedding_function_class = f"{cls.__module__}.{cls.__qualname__}"

    def __call__(self, input: Documents) -> Embeddings:
        texts = as_texts(type(self).__name__, input)
        return (
            [np.asarray(v, dtype=np.float32) for v in self.embedding_function.embed_documents(texts)] if texts else []
        )

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return self.embedding_function.embed_documents(list(texts))

    def embed_query(self, input: Any) -> Any:  # type: ignore[override]
        # huedb's collections pass a batch of query texts; LangChain code passes one string.
        if isinstance(input, str):
            return self.embedding_function.embed_query(input)
        return [
            np.asarray(self.embedding_function.embed_query(t), dtype=np.float32)
            for t in as_texts(type(self).__name__, input)
        ]

    @staticmethod
    def name() -> str:
        return "langchain"  # chromadb 1.5.9's name() (its catalogue key is "chroma_langchain")

    def get_config(self) -> dict[str, Any]:
        return {
            "embedding_function_class": self._embedding_function_class,
            "note": "A LangChain embedding function cannot be rebuilt from a config: pass it again.",
        }

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaLangchainEmbeddingFunction:
        raise InvalidArgumentError(
            f"A LangChain embedding function ({config.get('embedding_function_class', 'unknown class')}) cannot be "
            f"rebuilt from a stored config: pass embedding_function=ChromaLangchainEmbeddingFunction(<your "
            f"LangChain Embeddings>) when you open the collection."
        )


@hookimpl
def register_embedding_functions(register):
    register(ChromaLangchainEmbeddingFunction)
