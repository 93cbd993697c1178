"""Nomic embeddings over HTTP (``POST https://api-atlas.nomic.ai/v1/embedding/text``).

chromadb calls the ``nomic`` SDK, but that SDK cannot take the key huedb reads from
``api_key_env_var`` (it authenticates only with the token ``nomic login`` stores in
``~/.nomic``), keeps one global client, retries 429/5xx itself with waits of up to 16 s and
has no timeout; so huedb sends the SDK's request itself: the same body, with the key as a
bearer token, in batches of the SDK's size. Queries use ``query_config["task_type"]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

from huedb.embedding_functions import ProviderEgress
from huedb.errors import InvalidArgumentError
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.http_provider import ProviderEmbeddingFunction

DEFAULT_API_KEY_ENV_VAR = "NOMIC_API_KEY"  # chromadb's default
API_URL = "https://api-atlas.nomic.ai/v1/embedding/text"
TASK_TYPES = ("search_document", "search_query", "classification", "clustering")


class NomicQueryConfig(TypedDict):
    """The task type used for query texts (as in chromadb)."""

    task_type: str


class NomicEmbeddingFunction(ProviderEmbeddingFunction):
    ef_name = "nomic"
    provider = "Nomic"
    extra = "nomic"
    max_batch = 10  # what the nomic SDK sends per request
    config_fields = ("model", "api_key_env_var", "task_type", "query_config")
    immutable_fields = ("model",)
    base_url_env_vars = ("ATLAS_API_PATH",)  # the nomic SDK's endpoint override
    egress = ProviderEgress(api_key_env_vars=(DEFAULT_API_KEY_ENV_VAR,), default_hosts=("api-atlas.nomic.ai",))

    def __init__(
        self,
        model: str,
        task_type: str,
        query_config: NomicQueryConfig | None = None,
        api_key_env_var: str = DEFAULT_API_KEY_ENV_VAR,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        self.model = self._require("model", model)
        self.task_type = self._task_type("task_type", task_type)
        if query_config is not None:
            if not isinstance(query_config, dict) or set(query_config) != {"task_type"}:
                raise InvalidArgumentError(f"query_config must be {{'task_type': ...}} or None, got {query_config!r}")
            self._task_type("query_config['task_type']", query_config["task_type"])
        self.query_config = dict(query_config) if query_config else None
        self._setup(timeout, max_retries)
        self._key = self._resolve_key(api_key, api_key_env_var, DEFAULT_API_KEY_ENV_VAR)
        base = self._base_url(base_url)
        self._url = f"{base.rstrip('/')}/v1/embedding/text" if base else API_URL

    @staticmethod
    def _task_type(name: str, value: Any) -> str:
        if value not in TASK_TYPES:
            raise InvalidArgumentError(f"{name} must be one of {', '.join(TASK_TYPES)}; got {value!r}")
        return value

    def _endpoint(self) -> str:
        return self._url

    def _embed_batch(self, texts: list[str], query: bool) -> Sequence[Sequence[float]]:
        task_type = self.query_config["task_type"] if query and self.query_config else self.task_type
        body = {"model": self.model, "texts": texts, "task_type": task_type, "long_text_mode": "truncate"}
        answer = self._post_json(self._url, body, {"Authorization": f"Bearer {self._key}"})
        return answer["embeddings"]


@hookimpl
def register_embedding_functions(register):
    register(NomicEmbeddingFunction)
