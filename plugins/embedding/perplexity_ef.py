"""Perplexity embeddings through the official ``perplexityai`` SDK (``POST /v1/embeddings``);
Perplexity answers base64-encoded int8 vectors, returned as float32."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from huedb.embedding_functions import ProviderEgress
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.openai_compatible import OpenAICompatibleEmbeddingFunction

DEFAULT_API_KEY_ENV_VAR = "PERPLEXITY_API_KEY"  # chromadb's default and the SDK's


class PerplexityEmbeddingFunction(OpenAICompatibleEmbeddingFunction):
    ef_name = "perplexity"
    provider = "Perplexity"
    extra = "perplexity"
    sdk = ("perplexity", "Perplexity", "perplexityai")
    max_batch = 512
    config_fields = ("api_key_env_var", "model_name", "dimensions")
    immutable_fields = ("model_name", "dimensions")
    base_url_env_vars = ("PERPLEXITY_BASE_URL",)
    egress = ProviderEgress(api_key_env_vars=(DEFAULT_API_KEY_ENV_VAR,), default_hosts=("api.perplexity.ai",))

    def __init__(
        self,
        api_key: str | None = None,
        model_name: str = "pplx-embed-v1-0.6b",
        api_key_env_var: str = DEFAULT_API_KEY_ENV_VAR,
        dimensions: int | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        self.model_name = self._require("model_name", model_name)
        self.dimensions = self._optional_positive_int("dimensions", dimensions)
        self._setup(timeout, max_retries)
        key = self._resolve_key(api_key, api_key_env_var, DEFAULT_API_KEY_ENV_VAR)
        self._connect(key, self._base_url(base_url))

    def _request_args(self, query: bool) -> dict[str, Any]:
        args: dict[str, Any] = {"model": self.model_name}
        if self.dimensions is not None:
            args["dimensions"] = self.dimensions
        return args

    def _decode(self, embedding: Any) -> Any:
        if isinstance(embedding, str):
            return np.frombuffer(base64.b64decode(embedding), dtype=np.int8).astype(np.float32)
        return embedding


@hookimpl
def register_embedding_functions(register):
    register(PerplexityEmbeddingFunction)
