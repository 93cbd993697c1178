"""Hugging Face embeddings through ``huggingface_hub``'s ``InferenceClient.feature_extraction``:

- ``huggingface``: the hosted HF Inference API (``POST https://router.huggingface.co/hf-inference/
  models/<model>/pipeline/feature-extraction``);
- ``huggingface_server``: your own text-embeddings-inference server (``POST <url> {"inputs": [...]}``).
"""

from __future__ import annotations

from collections.abc import Sequence

from huedb.embedding_functions import ProviderEgress
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.http_provider import ProviderEmbeddingFunction

DEFAULT_API_KEY_ENV_VAR = "CHROMA_HUGGINGFACE_API_KEY"  # chromadb's default
STANDARD_API_KEY_ENV_VARS = ("HF_TOKEN", "HUGGINGFACE_API_KEY")  # huggingface_hub's, and chromadb's server EF's
HF_INFERENCE_BASE = "https://router.huggingface.co/hf-inference"
MAX_BATCH = 32  # text-embeddings-inference's default max_client_batch_size


class _FeatureExtraction(ProviderEmbeddingFunction):
    provider = "Hugging Face"
    extra = "huggingface"
    max_batch = MAX_BATCH

    def _client_for(self, model: str | None, key: str | None, provider: str | None = None):
        hub = self._import("huggingface_hub")
        kwargs = {"model": model, "api_key": key, "timeout": self.timeout}
        if provider:
            kwargs["provider"] = provider
        return hub.InferenceClient(**kwargs)

    def _embed_batch(self, texts: list[str], query: bool) -> Sequence[Sequence[float]]:
        out = self._client.feature_extraction(texts, **self._extraction_args)
        if out.ndim == 3:  # a model without pooling: one vector per token; mean-pool them
            out = out.mean(axis=1)
        return out


class HuggingFaceEmbeddingFunction(_FeatureExtraction):
    ef_name = "huggingface"
    config_fields = ("api_key_env_var", "model_name")
    egress = ProviderEgress(
        api_key_env_vars=(DEFAULT_API_KEY_ENV_VAR, *STANDARD_API_KEY_ENV_VARS),
        default_hosts=("router.huggingface.co", "api-inference.huggingface.co"),
    )

    def __init__(
        self,
        api_key: str | None = None,
        model_name: str = "sentence-transformers/all-MiniLM-L6-v2",
        api_key_env_var: str = DEFAULT_API_KEY_ENV_VAR,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        self._import("huggingface_hub")
        self.model_name = self._require("model_name", model_name)
        self._setup(timeout, max_retries)
        key = self._resolve_key(api_key, api_key_env_var, DEFAULT_API_KEY_ENV_VAR, STANDARD_API_KEY_ENV_VARS)
        self.base_url = self._base_url(base_url)
        if self.base_url:  # the same route, on another host
            self._url = f"{self.base_url.rstrip('/')}/models/{self.model_name}/pipeline/feature-extraction"
            self._client = self._client_for(self._url, key)
            self._extraction_args = {}
        else:
            self._url = f"{HF_INFERENCE_BASE}/models/{self.model_name}/pipeline/feature-extraction"
            self._client = self._client_for(None, key, provider="hf-inference")
            self._extraction_args = {"model": self.model_name}

    def _endpoint(self) -> str:
        return self._url


class HuggingFaceEmbeddingServer(_FeatureExtraction):
    """A text-embeddings-inference server at ``url`` (e.g. ``http://localhost:8080/embed``).
    A key is optional: sent as a bearer token when ``api_key_env_var`` names a set variable."""

    ef_name = "huggingface_server"
    provider = "Hugging Face server"
    config_fields = ("url", "api_key_env_var")
    immutable_fields = ()
    egress = ProviderEgress(api_key_env_vars=(DEFAULT_API_KEY_ENV_VAR, *STANDARD_API_KEY_ENV_VARS))

    def __init__(
        self,
        url: str,
        api_key_env_var: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        self._import("huggingface_hub")
        self.url = self._require("url", url)
        self._setup(timeout, max_retries)
        key = api_key
        self.api_key_env_var = api_key_env_var
        if api_key_env_var is not None:
            key = self._resolve_key(api_key, api_key_env_var, api_key_env_var)
        elif api_key:
            self._key_source = "the api_key argument"
        self._client = self._client_for(url, key)
        self._extraction_args = {}

    def _endpoint(self) -> str:
        return self.url


@hookimpl
def register_embedding_functions(register):
    register(HuggingFaceEmbeddingFunction)
    register(HuggingFaceEmbeddingServer)
