"""Morph embeddings through their OpenAI-compatible API (``openai`` SDK,
``POST https://api.morphllm.com/v1/embeddings``)."""

from __future__ import annotations

from typing import Any

from huedb.embedding_functions import ProviderEgress
from huedb.errors import InvalidArgumentError
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.openai_compatible import OpenAICompatibleEmbeddingFunction

DEFAULT_API_KEY_ENV_VAR = "MORPH_API_KEY"  # chromadb's default and Morph's
DEFAULT_API_BASE = "https://api.morphllm.com/v1"


class MorphEmbeddingFunction(OpenAICompatibleEmbeddingFunction):
    ef_name = "morph"
    provider = "Morph"
    extra = "morph"
    max_batch = 2048
    config_fields = ("api_key_env_var", "model_name", "api_base", "encoding_format")
    egress = ProviderEgress(api_key_env_vars=(DEFAULT_API_KEY_ENV_VAR,), default_hosts=("api.morphllm.com",))

    def __init__(
        self,
        api_key: str | None = None,
        model_name: str = "morph-embedding-v2",
        api_base: str = DEFAULT_API_BASE,
        encoding_format: str = "float",
        api_key_env_var: str = DEFAULT_API_KEY_ENV_VAR,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        self.model_name = self._require("model_name", model_name)
        self.api_base = self._require("api_base", api_base or DEFAULT_API_BASE)
        if encoding_format != "float":
            raise InvalidArgumentError(f"encoding_format must be 'float', got {encoding_format!r}")
        self.encoding_format = encoding_format
        self._setup(timeout, max_retries)
        key = self._resolve_key(api_key, api_key_env_var, DEFAULT_API_KEY_ENV_VAR)
        self._connect(key, self.api_base)

    def _request_args(self, query: bool) -> dict[str, Any]:
        return {"model": self.model_name, "encoding_format": self.encoding_format}


@hookimpl
def register_embedding_functions(register):
    register(MorphEmbeddingFunction)
