"""Mistral embeddings through the official ``mistralai`` SDK (``POST /v1/embeddings``)."""

from __future__ import annotations

from collections.abc import Sequence

from huedb.embedding_functions import ProviderEgress
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.http_provider import ProviderEmbeddingFunction

DEFAULT_API_KEY_ENV_VAR = "MISTRAL_API_KEY"  # chromadb's default and the SDK's


class MistralEmbeddingFunction(ProviderEmbeddingFunction):
    ef_name = "mistral"
    provider = "Mistral"
    extra = "mistral"
    max_batch = 128
    config_fields = ("model", "api_key_env_var")
    immutable_fields = ("model",)
    egress = ProviderEgress(api_key_env_vars=(DEFAULT_API_KEY_ENV_VAR,), default_hosts=("api.mistral.ai",))

    def __init__(
        self,
        model: str = "mistral-embed",
        api_key_env_var: str = DEFAULT_API_KEY_ENV_VAR,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        sdk = self._import("mistralai.client", "mistralai")
        self.model = self._require("model", model)
        self._setup(timeout, max_retries)
        key = self._resolve_key(api_key, api_key_env_var, DEFAULT_API_KEY_ENV_VAR)
        self.base_url = self._base_url(base_url)
        self._client = sdk.Mistral(api_key=key, server_url=self.base_url, timeout_ms=int(self.timeout * 1000))

    def _endpoint(self) -> str:
        return self.base_url or "https://api.mistral.ai"

    def _embed_batch(self, texts: list[str], query: bool) -> Sequence[Sequence[float]]:
        response = self._client.embeddings.create(model=self.model, inputs=texts)
        return [d.embedding for d in sorted(response.data, key=lambda d: d.index or 0)]


@hookimpl
def register_embedding_functions(register):
    register(MistralEmbeddingFunction)
