"""Chroma Cloud's hosted SPLADE sparse embeddings over HTTP (``chroma-cloud-splade``):
``POST https://embed.trychroma.com/embed_sparse`` with ``{"texts", "task", "target",
"fetch_tokens"}``, key in ``x-chroma-token``, model in ``x-chroma-embedding-model``; the answer
is ``{"embeddings": [{"indices", "values", "labels"?}, ...]}``.

Retries, timeout, batching and error translation come from ``ProviderEmbeddingFunction``;
only the output differs: one ``SparseVector`` per text, indices sorted, token labels kept when
``include_tokens``. The endpoint follows ``CHROMA_EMBED_URL`` as in chromadb (never persisted).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from huedb.api.types import SparseVector, SparseVectors
from huedb.embedding_functions import Documents, ProviderEgress
from huedb.errors import ChromaError, InvalidArgumentError
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.chroma_cloud import DEFAULT_API_KEY_ENV_VAR, EMBED_URL, check_model
from huedb_plugins.embedding.http_provider import ProviderEmbeddingFunction, as_texts

MODELS = ("prithivida/Splade_PP_en_v1",)


def _sparse(item: Any, include_tokens: bool) -> SparseVector:
    if not isinstance(item, dict) or len(item.get("indices", ())) != len(item.get("values", ())):
        raise ChromaError(f"Chroma Cloud returned a sparse embedding that is not {{indices, values}}: {item!r:.200}")
    labels = item.get("labels") if include_tokens else None
    triples = sorted(zip(item["indices"], item["values"], labels or [None] * len(item["indices"])))
    return SparseVector(
        indices=[int(i) for i, _, _ in triples],
        values=[float(v) for _, v, _ in triples],
        labels=[str(t) for _, _, t in triples] if labels else None,
    )


class ChromaCloudSpladeEmbeddingFunction(ProviderEmbeddingFunction):
    ef_name = "chroma-cloud-splade"
    provider = "Chroma Cloud"
    extra = "chroma-cloud"
    max_batch = 100  # as for Chroma Cloud's dense endpoint
    config_fields = ("api_key_env_var", "model", "include_tokens")
    immutable_fields = ("model", "include_tokens")
    base_url_env_vars = ("CHROMA_EMBED_URL",)  # chromadb's variable for this endpoint
    egress = ProviderEgress(api_key_env_vars=(DEFAULT_API_KEY_ENV_VAR,), default_hosts=("embed.trychroma.com",))

    def __init__(
        self,
        api_key_env_var: str = DEFAULT_API_KEY_ENV_VAR,
        model: str = MODELS[0],
        include_tokens: bool = False,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        model = check_model(model, MODELS)
        if not isinstance(include_tokens, bool):
            raise InvalidArgumentError(f"include_tokens must be a bool, got {include_tokens!r}")
        self.model, self.include_tokens = model, include_tokens
        self._setup(timeout, max_retries)
        self._key = self._resolve_key(api_key, api_key_env_var, DEFAULT_API_KEY_ENV_VAR)
        self._url = (self._base_url(base_url) or EMBED_URL).rstrip("/") + "/embed_sparse"

    @staticmethod
    def is_sparse() -> bool:
        return True

    def _endpoint(self) -> str:
        return self._url

    def _embed_batch(self, texts: list[str], query: bool) -> Sequence[Any]:
        body = {"texts": texts, "task": "", "target": "", "fetch_tokens": "true" if self.include_tokens else "false"}
        headers = {"x-chroma-token": self._key, "x-chroma-embedding-model": self.model}
        answer: Any = self._post_json(self._url, body, headers)
        if not isinstance(answer, dict) or not isinstance(answer.get("embeddings"), list):
            raise ChromaError(f"Chroma Cloud sparse embedding failed: {answer!r:.300}")
        return answer["embeddings"]

    def _embed(self, input: Documents | str, query: bool) -> SparseVectors:  # type: ignore[override]
        texts = as_texts(type(self).__name__, input)
        out: SparseVectors = []
        for start in range(0, len(texts), self.max_batch):
            chunk = texts[start : start + self.max_batch]
            items = self._with_retries(chunk, query)
            if len(items) != len(chunk):
                raise ChromaError(f"Chroma Cloud returned {len(items)} sparse embeddings for {len(chunk)} inputs")
            out.extend(_sparse(item, self.include_tokens) for item in items)
        return out

    def default_space(self) -> str:  # sparse vectors are compared by inner product
        return "ip"

    def supported_spaces(self) -> list[str]:
        return ["ip"]


@hookimpl
def register_embedding_functions(register):
    register(ChromaCloudSpladeEmbeddingFunction)
