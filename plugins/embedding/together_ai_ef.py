"""Together AI embeddings through the official ``together`` SDK (``POST /v1/embeddings``)."""

from __future__ import annotations

from collections.abc import Sequence

from huedb.embedding_functions import ProviderEgress
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.http_provider import ProviderEmbeddingFunction

DEFAULT_API_KEY_ENV_VAR = "CHROMA_TOGETHER_AI_API_KEY"  # chromadb's default
STANDARD_API_KEY_ENV_VAR = "TOGETHER_API_KEY"  # the SDK's own


class TogetherAIEmbeddingFunction(ProviderEmbeddingFunction):
    ef_name = "together_ai"
    provider = "Together AI"
    extra = "together"
    max_batch = 128
    config_fields = ("api_key_env_var", "model_name")
    base_url_env_vars = ("TOGETHER_BASE_URL",)
    egress = ProviderEgress(
        api_key_env_vars=(DEFAULT_API_KEY_ENV_VAR, STANDARD_API_KEY_ENV_VAR), default_hosts=("api.together.xyz",)
    )

    def __init__(
        self,
        model_name: str,
        api_key: str | None = None,
        api_key_env_var: str = DEFAULT_API_KEY_ENV_VAR,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        together = self._import("together")
        self.model_name = self._require("model_name", model_name)
        self._setup(timeout, max_retries)
        key = self._resolve_key(api_key, api_key_env_var, DEFAULT_API_KEY_ENV_VAR, (STANDARD_API_KEY_ENV_VAR,))
        self.base_url = self._base_url(base_url)
        self._client = together.Together(api_key=key, base_url=self.base_url, timeout=self.timeout, max_retries=0)

    def _endpoint(self) -> str:
        return str(self._client.base_url)

    def _embed_batch(self, texts: list[str], query: bool) -> Sequence[Sequence[float]]:
        response = self._client.embeddings.create(model=self.model_name, input=texts)
        return [d.embedding for d in sorted(response.data, key=lambda d: d.index)]


@hookimpl
def register_embedding_functions(register):
    register(TogetherAIEmbeddingFunction)
