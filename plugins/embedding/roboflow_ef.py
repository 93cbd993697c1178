"""Roboflow CLIP text embeddings over HTTP (``POST <api_url>/clip/embed_text?api_key=...``),
against Roboflow's hosted inference or a self-hosted inference server at ``api_url``."""

from __future__ import annotations

from collections.abc import Sequence

from huedb.embedding_functions import ProviderEgress
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.http_provider import ProviderEmbeddingFunction

DEFAULT_API_KEY_ENV_VAR = "CHROMA_ROBOFLOW_API_KEY"  # chromadb's default
STANDARD_API_KEY_ENV_VAR = "ROBOFLOW_API_KEY"


class RoboflowEmbeddingFunction(ProviderEmbeddingFunction):
    ef_name = "roboflow"
    provider = "Roboflow"
    extra = "roboflow"
    max_batch = 100
    config_fields = ("api_key_env_var", "api_url")
    immutable_fields = ()
    egress = ProviderEgress(
        api_key_env_vars=(DEFAULT_API_KEY_ENV_VAR, STANDARD_API_KEY_ENV_VAR), default_hosts=("infer.roboflow.com",)
    )

    def __init__(
        self,
        api_key: str | None = None,
        api_url: str = "https://infer.roboflow.com",
        api_key_env_var: str = DEFAULT_API_KEY_ENV_VAR,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        self.api_url = self._require("api_url", api_url)
        self._setup(timeout, max_retries)
        self._key = self._resolve_key(api_key, api_key_env_var, DEFAULT_API_KEY_ENV_VAR, (STANDARD_API_KEY_ENV_VAR,))

    def _endpoint(self) -> str:
        return self.api_url

    def _embed_batch(self, texts: list[str], query: bool) -> Sequence[Sequence[float]]:
        url = f"{self.api_url.rstrip('/')}/clip/embed_text"
        return self._post_json(url, {"text": texts}, params={"api_key": self._key})["embeddings"]


@hookimpl
def register_embedding_functions(register):
    register(RoboflowEmbeddingFunction)
