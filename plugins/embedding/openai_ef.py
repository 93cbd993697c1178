"""OpenAI (and Azure OpenAI) embeddings through the official ``openai`` SDK.

The SDK is imported on first construction, so this plugin is listed even
when ``huedb[openai]`` is not installed. Configs store the *name* of the
environment variable holding the key, never the key.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import numpy as np

from huedb.embedding_functions import Documents, EmbeddingFunction, Embeddings, ProviderEgress
from huedb.errors import AuthenticationError, ChromaError, InvalidArgumentError, QuotaError
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.providers import import_sdk, resolve_api_key

DEFAULT_API_KEY_ENV_VAR = "CHROMA_OPENAI_API_KEY"  # chromadb's default
STANDARD_API_KEY_ENV_VAR = "OPENAI_API_KEY"  # the SDK's own variable, also accepted
MAX_INPUTS_PER_REQUEST = 2048  # OpenAI rejects larger `input` arrays


def _resolve_api_key(api_key: str | None, api_key_env_var: str) -> tuple[str, str]:
    return resolve_api_key(
        "OpenAIEmbeddingFunction", api_key, api_key_env_var, DEFAULT_API_KEY_ENV_VAR, STANDARD_API_KEY_ENV_VAR
    )


class OpenAIEmbeddingFunction(EmbeddingFunction[Documents]):
    """Embeds text with OpenAI's ``/embeddings`` API (``api_type="azure"`` for Azure OpenAI)."""

    extra = "openai"  # the huedb extra that installs its packages (huedb plugins lists it)

    # Where a rebuilt config may take its key from and send text to (huedb.ef_persistence.check_persisted_ef).
    egress = ProviderEgress(
        api_key_env_vars=(DEFAULT_API_KEY_ENV_VAR, STANDARD_API_KEY_ENV_VAR),
        default_hosts=("api.openai.com",),
    )

    def __init__(
        self,
        api_key: str | None = None,
        model_name: str = "text-embedding-ada-002",
        organization_id: str | None = None,
        api_base: str | None = None,
        api_type: str | None = None,
        api_version: str | None = None,
        deployment_id: str | None = None,
        default_headers: dict[str, str] | None = None,
        dimensions: int | None = None,
        api_key_env_var: str = DEFAULT_API_KEY_ENV_VAR,
        max_retries: int | None = None,
    ) -> None:
        openai = import_sdk("openai", "OpenAIEmbeddingFunction", "openai", "openai")
        if not isinstance(model_name, str) or not model_name:
            raise InvalidArgumentError(f"model_name must be a non-empty string, got {model_name!r}")
        if dimensions is not None and (
            isinstance(dimensions, bool) or not isinstance(dimensions, int) or dimensions < 1
        ):
            raise InvalidArgumentError(f"dimensions must be a positive integer or None, got {dimensions!r}")
        if api_type is not None and api_type not in ("openai", "azure"):
            raise InvalidArgumentError(f"api_type must be None, 'openai' or 'azure', got {api_type!r}")

        self._openai = openai
        self._api_key, self.api_key_env_var = _resolve_api_key(api_key, api_key_env_var)
        self._key_source = "the api_key argument" if api_key else f"the {self.api_key_env_var} environment variable"
        self.model_name = model_name
        self.organization_id = organization_id
        self.api_base = api_base
        self.api_type = api_type
        self.api_version = api_version
        self.deployment_id = deployment_id
        self.default_headers = dict(default_headers) if default_headers else None
        self.dimensions = dimensions
        self.max_retries = max_retries
        self._client = self._make_client()

    def _make_client(self) -> Any:
        common: dict[str, Any] = {"api_key": self._api_key, "default_headers": self.default_headers}
        if self.max_retries is not None:
            common["max_retries"] = self.max_retries
        if self.api_type == "azure":
            missing = [n for n in ("api_base", "api_version", "deployment_id") if getattr(self, n) is None]
            if missing:
                raise InvalidArgumentError(
                    f"Azure OpenAI needs {', '.join(missing)}: pass api_base='https://<resource>.openai.azure.com', "
                    f"api_version='2024-02-01' and deployment_id='<your deployment>'."
                )
            return self._openai.AzureOpenAI(
                azure_endpoint=self.api_base,
                azure_deployment=self.deployment_id,
                api_version=self.api_version,
                **common,
            )
        return self._openai.OpenAI(organization=self.organization_id, base_url=self.api_base, **common)

    # -- embedding -------------------------------------------------------
    def __call__(self, input: Documents | str) -> Embeddings:
        texts = _as_texts(input)
        if not texts:
            return []
        chunks = [
            self._embed_chunk(texts[start : start + MAX_INPUTS_PER_REQUEST])
            for start in range(0, len(texts), MAX_INPUTS_PER_REQUEST)
        ]
        return list(np.concatenate(chunks, axis=0))

    def _embed_chunk(self, texts: list[str]) -> np.ndarray:
        params: dict[str, Any] = {"model": self.model_name, "input": texts, "encoding_format": "base64"}
        # ada-002 rejects `dimensions`; newer models and compatible servers take it.
        if self.dimensions is not None and not self.model_name.startswith("text-embedding-ada"):
            params["dimensions"] = self.dimensions
        try:
            response = self._client.embeddings.create(**params)
        except self._openai.OpenAIError as e:
            raise self._translate(e) from e
        return _decode(response.data, len(texts))

    def _translate(self, err: Exception) -> ChromaError:
        openai = self._openai
        detail = getattr(err, "message", None) or str(err)
        status = getattr(err, "status_code", None)
        env_hint = f"set {self.api_key_env_var} to a valid key"
        if isinstance(err, openai.AuthenticationError):
            return AuthenticationError(
                f"OpenAI rejected the API key (HTTP 401) from {self._key_source}; {env_hint}. Server said: {detail}"
            )
        if isinstance(err, openai.PermissionDeniedError):
            return AuthenticationError(
                f"OpenAI refused the API key from {self._key_source} for model {self.model_name!r} (HTTP 403); "
                f"check the key's project and permissions. Server said: {detail}"
            )
        if isinstance(err, openai.RateLimitError):
            retries = self._client.max_retries
            return QuotaError(
                f"OpenAI kept answering 429 Too Many Requests after {retries} retries; wait and try again, "
                f"send smaller batches, or pass max_retries=... to retry longer. Server said: {detail}"
            )
        if status in (400, 404, 422):
            return InvalidArgumentError(
                f"OpenAI refused the embeddings request for model {self.model_name!r} (HTTP {status}): {detail}"
            )
        if isinstance(err, openai.APIConnectionError):
            return ChromaError(f"Could not reach OpenAI at {self._client.base_url}: {detail}")
        return ChromaError(f"OpenAI embeddings request failed (HTTP {status}): {detail}")

    # -- config ----------------------------------------------------------
    @staticmethod
    def name() -> str:
        return "openai"

    def default_space(self) -> str:
        return "cosine"  # OpenAI vectors are unit length

    def supported_spaces(self) -> list[str]:
        return ["cosine", "l2", "ip"]

    def get_config(self) -> dict[str, Any]:
        return {
            "api_key_env_var": self.api_key_env_var,
            "model_name": self.model_name,
            "organization_id": self.organization_id,
            "api_base": self.api_base,
            "api_type": self.api_type,
            "api_version": self.api_version,
            "deployment_id": self.deployment_id,
            "default_headers": self.default_headers,
            "dimensions": self.dimensions,
        }

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OpenAIEmbeddingFunction:
        known = (
            "api_key_env_var",
            "model_name",
            "organization_id",
            "api_base",
            "api_type",
            "api_version",
            "deployment_id",
            "default_headers",
            "dimensions",
        )
        return OpenAIEmbeddingFunction(**{k: config[k] for k in known if config.get(k) is not None})

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        for field in ("model_name", "dimensions"):
            if field in new_config and new_config[field] != old_config.get(field):
                raise InvalidArgumentError(
                    f"The {field} of an OpenAI embedding function cannot change ({old_config.get(field)!r} -> "
                    f"{new_config[field]!r}): stored vectors would no longer match. Create a new collection instead."
                )


def _as_texts(input: Sequence[str] | str) -> list[str]:
    if isinstance(input, str):
        return [input]
    texts = list(input)
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if bad is not None:
        raise InvalidArgumentError(
            f"OpenAIEmbeddingFunction embeds text only: input[{bad}] is {type(texts[bad]).__name__}, expected str."
        )
    return texts


def _decode(data: Sequence[Any], expected: int) -> np.ndarray:
    """Response items (base64 or float lists) -> (n, dim) float32, in request order."""
    if len(data) != expected:
        raise ChromaError(f"OpenAI returned {len(data)} embeddings for {expected} inputs")
    order = np.argsort(np.fromiter((d.index for d in data), dtype=np.int64, count=len(data)), kind="stable")
    rows = [
        np.frombuffer(base64.b64decode(d.embedding), dtype="<f4")
        if isinstance(d.embedding, str)
        else np.asarray(d.embedding, dtype=np.float32)
        for d in data
    ]
    if len({r.shape[0] for r in rows}) != 1:
        raise ChromaError("OpenAI returned embeddings of different lengths in one response")
    return np.stack(rows).astype(np.float32, copy=False)[order]


@hookimpl
def register_embedding_functions(register):
    register(OpenAIEmbeddingFunction)
