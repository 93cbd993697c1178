"""Cloudflare Workers AI embeddings over HTTP (``POST https://api.cloudflare.com/client/v4/
accounts/<account>/ai/run/<model> {"text": [...]}``, or through an AI Gateway with ``gateway_id``)."""

from __future__ import annotations

from collections.abc import Sequence

from huedb.embedding_functions import ProviderEgress
from huedb.errors import ChromaError
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.http_provider import ProviderEmbeddingFunction

DEFAULT_API_KEY_ENV_VAR = "CHROMA_CLOUDFLARE_API_KEY"  # chromadb's default
STANDARD_API_KEY_ENV_VAR = "CLOUDFLARE_API_TOKEN"  # Cloudflare's own
API_ROOT = "https://api.cloudflare.com"
GATEWAY_ROOT = "https://gateway.ai.cloudflare.com"


class CloudflareWorkersAIEmbeddingFunction(ProviderEmbeddingFunction):
    ef_name = "cloudflare_workers_ai"
    provider = "Cloudflare Workers AI"
    extra = "cloudflare"
    max_batch = 100  # Workers AI text-embedding models take at most 100 texts
    config_fields = ("api_key_env_var", "model_name", "account_id", "gateway_id")
    egress = ProviderEgress(
        api_key_env_vars=(DEFAULT_API_KEY_ENV_VAR, STANDARD_API_KEY_ENV_VAR),
        default_hosts=("api.cloudflare.com", "gateway.ai.cloudflare.com"),
    )

    def __init__(
        self,
        model_name: str,
        account_id: str,
        api_key: str | None = None,
        api_key_env_var: str = DEFAULT_API_KEY_ENV_VAR,
        gateway_id: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        self.model_name = self._require("model_name", model_name)
        self.account_id = self._require("account_id", account_id)
        self.gateway_id = gateway_id if gateway_id is None else self._require("gateway_id", gateway_id)
        self._setup(timeout, max_retries)
        self._key = self._resolve_key(api_key, api_key_env_var, DEFAULT_API_KEY_ENV_VAR, (STANDARD_API_KEY_ENV_VAR,))
        base = (self._base_url(base_url) or "").rstrip("/")
        if gateway_id:
            self._url = f"{base or GATEWAY_ROOT}/v1/{account_id}/{gateway_id}/workers-ai/{model_name}"
        else:
            self._url = f"{base or API_ROOT}/client/v4/accounts/{account_id}/ai/run/{model_name}"

    def _endpoint(self) -> str:
        return self._url

    def _embed_batch(self, texts: list[str], query: bool) -> Sequence[Sequence[float]]:
        answer = self._post_json(self._url, {"text": texts}, {"Authorization": f"Bearer {self._key}"})
        if not answer.get("success", True) or not isinstance(answer.get("result"), dict):
            raise ChromaError(f"Cloudflare Workers AI failed: {answer.get('errors')}")
        return answer["result"]["data"]


@hookimpl
def register_embedding_functions(register):
    register(CloudflareWorkersAIEmbeddingFunction)
