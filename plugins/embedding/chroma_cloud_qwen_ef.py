"""Chroma Cloud's hosted Qwen3 embeddings over HTTP (``POST https://embed.trychroma.com``,
``{"instructions", "texts"}``, key in ``x-chroma-token``). Documents and queries get the
task's ``documents`` / ``query`` instruction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from huedb.embedding_functions import ProviderEgress
from huedb.errors import ChromaError, InvalidArgumentError
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.chroma_cloud import DEFAULT_API_KEY_ENV_VAR, EMBED_URL, check_model
from huedb_plugins.embedding.http_provider import ProviderEmbeddingFunction

MODELS = ("Qwen/Qwen3-Embedding-0.6B",)
TARGETS = ("documents", "query")
DEFAULT_INSTRUCTIONS = {
    "nl_to_code": {
        "documents": "",
        "query": "Given a question about coding, retrieval code or passage that can solve user's question",
    }
}


class ChromaCloudQwenEmbeddingFunction(ProviderEmbeddingFunction):
    ef_name = "chroma-cloud-qwen"
    provider = "Chroma Cloud"
    extra = "chroma-cloud"
    max_batch = 100
    config_fields = ("api_key_env_var", "model", "task", "instructions")
    immutable_fields = ("model", "task", "instructions")
    # CHROMA_EMBED_URL is chromadb's variable for this endpoint
    base_url_env_vars = ("CHROMA_EMBED_URL",)
    egress = ProviderEgress(api_key_env_vars=(DEFAULT_API_KEY_ENV_VAR,), default_hosts=("embed.trychroma.com",))

    def __init__(
        self,
        model: str = MODELS[0],
        task: str | None = None,
        instructions: dict[str, dict[str, str]] | None = None,
        api_key_env_var: str = DEFAULT_API_KEY_ENV_VAR,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        self.model = check_model(model, MODELS)
        self.task = task
        instructions = DEFAULT_INSTRUCTIONS if instructions is None else instructions
        self.instructions = {
            str(t): {getattr(k, "value", k): v for k, v in targets.items()} for t, targets in instructions.items()
        }
        for t, targets in self.instructions.items():
            if set(targets) - set(TARGETS) or not all(isinstance(v, str) for v in targets.values()):
                raise InvalidArgumentError(
                    f"instructions[{t!r}] must map 'documents'/'query' to strings, got {targets!r}"
                )
        self._setup(timeout, max_retries)
        self._key = self._resolve_key(api_key, api_key_env_var, DEFAULT_API_KEY_ENV_VAR)
        self._url = (self._base_url(base_url) or EMBED_URL).rstrip("/")

    def _endpoint(self) -> str:
        return self._url

    def _embed_batch(self, texts: list[str], query: bool) -> Sequence[Sequence[float]]:
        instruction = self.instructions.get(self.task or "", {}).get("query" if query else "documents", "")
        headers = {"x-chroma-token": self._key, "x-chroma-embedding-model": self.model}
        answer: Any = self._post_json(self._url, {"instructions": instruction, "texts": texts}, headers)
        if "embeddings" not in answer:
            raise ChromaError(f"Chroma Cloud embedding failed: {answer.get('error', answer)}")
        return answer["embeddings"]


@hookimpl
def register_embedding_functions(register):
    register(ChromaCloudQwenEmbeddingFunction)
