"""Ollama embeddings through the official ``ollama`` SDK (``POST /api/embed``)."""

from __future__ import annotations

from collections.abc import Sequence

from huedb.embedding_functions import ProviderEgress
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.http_provider import ProviderEmbeddingFunction


class OllamaEmbeddingFunction(ProviderEmbeddingFunction):
    """Embeds text with a model served by Ollama (``url`` is persisted, as in chromadb)."""

    ef_name = "ollama"
    provider = "Ollama"
    extra = "ollama"
    max_batch = 256  # Ollama has no documented limit; this bounds one request's size
    config_fields = ("url", "model_name", "timeout")
    # No API key. ``url`` is persisted, so a rebuilt EF reaches only hosts the reader allows
    # (Ollama's default, http://localhost:11434, too: docs/auth.md allows no host implicitly).
    egress = ProviderEgress()

    def __init__(
        self,
        url: str = "http://localhost:11434",
        model_name: str = "chroma/all-minilm-l6-v2-f32",
        timeout: int = 60,
        max_retries: int | None = None,
    ) -> None:
        ollama = self._import("ollama")
        self.url = self._require("url", url)
        self.model_name = self._require("model_name", model_name)
        self._setup(timeout, max_retries)
        self._timeout_setting = timeout
        # chromadb once took the full endpoint (".../api/embeddings"); the SDK wants the host.
        host = url.rstrip("/")
        for suffix in ("/api/embeddings", "/api/embed"):
            if host.endswith(suffix):
                host = host[: -len(suffix)]
        self._client = ollama.Client(host=host, timeout=self.timeout)

    def get_config(self):
        config = super().get_config()
        config["timeout"] = self._timeout_setting
        return config

    def _endpoint(self) -> str:
        return self.url

    def _embed_batch(self, texts: list[str], query: bool) -> Sequence[Sequence[float]]:
        return self._client.embed(model=self.model_name, input=texts).embeddings


@hookimpl
def register_embedding_functions(register):
    register(OllamaEmbeddingFunction)
