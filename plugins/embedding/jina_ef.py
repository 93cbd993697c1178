"""Jina AI embeddings over HTTP (``POST https://api.jina.ai/v1/embeddings``; Jina has no
official Python SDK). Queries use ``query_config`` (e.g. ``{"task": "retrieval.query"}``)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any, TypedDict

import numpy as np

from huedb.embedding_functions import ProviderEgress
from huedb.errors import InvalidArgumentError
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.http_provider import ProviderEmbeddingFunction

DEFAULT_API_KEY_ENV_VAR = "CHROMA_JINA_API_KEY"  # chromadb's default
STANDARD_API_KEY_ENV_VAR = "JINA_API_KEY"
API_URL = "https://api.jina.ai/v1/embeddings"
EMBEDDING_TYPES = (None, "float", "base64")
QUERY_CONFIG_FIELDS = ("task", "late_chunking", "truncate", "dimensions", "normalized")


class JinaQueryConfig(TypedDict, total=False):
    """What ``query_config`` may override for query texts (as in chromadb)."""

    task: str
    late_chunking: bool
    truncate: bool
    dimensions: int
    normalized: bool


class JinaEmbeddingFunction(ProviderEmbeddingFunction):
    ef_name = "jina"
    provider = "Jina AI"
    extra = "jina"
    max_batch = 1024
    config_fields = (
        "api_key_env_var",
        "model_name",
        "task",
        "late_chunking",
        "truncate",
        "dimensions",
        "embedding_type",
        "normalized",
        "query_config",
    )
    immutable_fields = ("model_name", "dimensions")
    egress = ProviderEgress(
        api_key_env_vars=(DEFAULT_API_KEY_ENV_VAR, STANDARD_API_KEY_ENV_VAR), default_hosts=("api.jina.ai",)
    )

    def __init__(
        self,
        api_key: str | None = None,
        model_name: str = "jina-embeddings-v2-base-en",
        api_key_env_var: str = DEFAULT_API_KEY_ENV_VAR,
        task: str | None = None,
        late_chunking: bool | None = None,
        truncate: bool | None = None,
        dimensions: int | None = None,
        embedding_type: str | None = None,
        normalized: bool | None = None,
        query_config: JinaQueryConfig | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        self.model_name = self._require("model_name", model_name)
        self.task, self.late_chunking, self.truncate, self.normalized = task, late_chunking, truncate, normalized
        self.dimensions = self._optional_positive_int("dimensions", dimensions)
        if embedding_type not in EMBEDDING_TYPES:
            raise InvalidArgumentError(f"embedding_type must be None, 'float' or 'base64', got {embedding_type!r}")
        self.embedding_type = embedding_type
        if query_config is not None and (
            not isinstance(query_config, dict) or set(query_config) - set(QUERY_CONFIG_FIELDS)
        ):
            raise InvalidArgumentError(
                f"query_config may set only {', '.join(QUERY_CONFIG_FIELDS)}, got {query_config!r}"
            )
        self.query_config = dict(query_config) if query_config else None
        self._setup(timeout, max_retries)
        self._key = self._resolve_key(api_key, api_key_env_var, DEFAULT_API_KEY_ENV_VAR, (STANDARD_API_KEY_ENV_VAR,))
        base = self._base_url(base_url)
        self._url = f"{base.rstrip('/')}/v1/embeddings" if base else API_URL

    def _endpoint(self) -> str:
        return self._url

    def _embed_batch(self, texts: list[str], query: bool) -> Sequence[Sequence[float]]:
        payload: dict[str, Any] = {"model": self.model_name, "input": texts}
        options = {f: getattr(self, f) for f in QUERY_CONFIG_FIELDS}
        if query and self.query_config:
            options.update(self.query_config)
        payload.update({k: v for k, v in options.items() if v is not None})
        if self.embedding_type is not None:
            payload["embedding_type"] = self.embedding_type
        headers = {"Authorization": f"Bearer {self._key}", "Accept-Encoding": "identity"}
        data = sorted(self._post_json(self._url, payload, headers)["data"], key=lambda d: d["index"])
        return [
            np.frombuffer(base64.b64decode(d["embedding"]), dtype="<f4")
            if isinstance(d["embedding"], str)
            else d["embedding"]
            for d in data
        ]


@hookimpl
def register_embedding_functions(register):
    register(JinaEmbeddingFunction)
