"""Baseten-hosted embedding models through their OpenAI-compatible endpoint (``openai`` SDK).

``api_base`` is your model's URL (``https://model-<id>.api.baseten.co/environments/production/sync/v1``);
it is persisted, so a client reopening the collection must allow that host
(``embedding_function_allowed_hosts``)."""

from __future__ import annotations

from huedb.embedding_functions import ProviderEgress
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.openai_compatible import OpenAICompatibleEmbeddingFunction

DEFAULT_API_KEY_ENV_VAR = "CHROMA_BASETEN_API_KEY"  # chromadb's default
STANDARD_API_KEY_ENV_VAR = "BASETEN_API_KEY"


class BasetenEmbeddingFunction(OpenAICompatibleEmbeddingFunction):
    ef_name = "baseten"
    provider = "Baseten"
    extra = "baseten"
    max_batch = 2048
    config_fields = ("api_base", "api_key_env_var")
    immutable_fields = ()
    egress = ProviderEgress(api_key_env_vars=(DEFAULT_API_KEY_ENV_VAR, STANDARD_API_KEY_ENV_VAR))

    def __init__(
        self,
        api_key: str | None = None,
        api_base: str | None = None,
        api_key_env_var: str = DEFAULT_API_KEY_ENV_VAR,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        self.api_base = self._require("api_base", api_base)
        self.model_name = "baseten-embedding-model"  # what Baseten's OpenAI-compatible route expects
        self._setup(timeout, max_retries)
        key = self._resolve_key(api_key, api_key_env_var, DEFAULT_API_KEY_ENV_VAR, (STANDARD_API_KEY_ENV_VAR,))
        self._connect(key, self.api_base)


@hookimpl
def register_embedding_functions(register):
    register(BasetenEmbeddingFunction)
