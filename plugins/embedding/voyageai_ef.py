"""VoyageAI embeddings through the official ``voyageai`` SDK (``POST /v1/embeddings``)."""

from __future__ import annotations

from collections.abc import Sequence

from huedb.embedding_functions import ProviderEgress
from huedb.errors import InvalidArgumentError
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.http_provider import ProviderEmbeddingFunction

DEFAULT_API_KEY_ENV_VAR = "CHROMA_VOYAGE_API_KEY"  # chromadb's default
STANDARD_API_KEY_ENV_VAR = "VOYAGE_API_KEY"  # the SDK's own
INPUT_TYPES = (None, "query", "document")


class VoyageAIEmbeddingFunction(ProviderEmbeddingFunction):
    """Embeds text with Voyage AI. With ``input_type="document"``, queries are embedded with
    ``input_type="query"`` (Voyage's retrieval pairing); otherwise both use ``input_type``."""

    ef_name = "voyageai"
    provider = "VoyageAI"
    extra = "voyageai"
    max_batch = 1000  # Voyage's documented list limit
    config_fields = ("api_key_env_var", "model_name", "input_type", "truncation")
    egress = ProviderEgress(
        api_key_env_vars=(DEFAULT_API_KEY_ENV_VAR, STANDARD_API_KEY_ENV_VAR),
        default_hosts=("api.voyageai.com", "ai.mongodb.com"),
    )

    def __init__(
        self,
        api_key: str | None = None,
        model_name: str = "voyage-large-2",
        api_key_env_var: str = DEFAULT_API_KEY_ENV_VAR,
        input_type: str | None = None,
        truncation: bool = True,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        voyageai = self._import("voyageai")
        self.model_name = self._require("model_name", model_name)
        if input_type not in INPUT_TYPES:
            raise InvalidArgumentError(f"input_type must be None, 'query' or 'document', got {input_type!r}")
        self.input_type = input_type
        self.truncation = self._require("truncation", truncation, bool)
        self._setup(timeout, max_retries)
        key = self._resolve_key(api_key, api_key_env_var, DEFAULT_API_KEY_ENV_VAR, (STANDARD_API_KEY_ENV_VAR,))
        self.base_url = self._base_url(base_url)
        self._client = voyageai.Client(api_key=key, max_retries=0, timeout=self.timeout, base_url=self.base_url)

    def _endpoint(self) -> str:
        return str(
            getattr(self._client, "_params", {}).get("base_url") or self.base_url or "https://api.voyageai.com/v1"
        )

    def _embed_batch(self, texts: list[str], query: bool) -> Sequence[Sequence[float]]:
        input_type = "query" if query and self.input_type == "document" else self.input_type
        result = self._client.embed(texts, model=self.model_name, input_type=input_type, truncation=self.truncation)
        return result.embeddings


@hookimpl
def register_embedding_functions(register):
    register(VoyageAIEmbeddingFunction)
