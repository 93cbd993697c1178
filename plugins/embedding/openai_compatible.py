"""Providers whose SDK is OpenAI's client shape (``Client(api_key, base_url, timeout,
max_retries).embeddings.create(model, input, ...)``): Baseten and Morph through ``openai``,
Perplexity through ``perplexityai``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from huedb_plugins.embedding.http_provider import ProviderEmbeddingFunction


class OpenAICompatibleEmbeddingFunction(ProviderEmbeddingFunction):
    #: (module, client class, package) of the SDK
    sdk: ClassVar[tuple[str, str, str]] = ("openai", "OpenAI", "openai")

    def _connect(self, key: str, base_url: Any) -> None:
        module, client_class, package = self.sdk
        self._sdk = self._import(module, package)
        # SDK retries off: the base class retries (one policy for every provider).
        self._client = getattr(self._sdk, client_class)(
            api_key=key, base_url=base_url, timeout=self.timeout, max_retries=0
        )

    def _endpoint(self) -> str:
        return str(self._client.base_url)

    def _request_args(self, query: bool) -> dict[str, Any]:
        return {"model": self.model_name}

    def _decode(self, embedding: Any) -> Any:
        return embedding

    def _embed_batch(self, texts: list[str], query: bool) -> Sequence[Sequence[float]]:
        response = self._client.embeddings.create(input=texts, **self._request_args(query))
        data = sorted(response.data, key=lambda d: getattr(d, "index", 0) or 0)
        return [self._decode(d.embedding) for d in data]
