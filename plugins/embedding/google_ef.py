"""Google embeddings (Gemini API, or Vertex AI with ``vertexai=True``) through the official
``google-genai`` SDK. The Gemini API gets ``POST /v1/models/<model>:batchEmbedContents`` with the
key in ``x-goog-api-key``. Vertex AI gets ``POST /v1beta1/projects/<project>/locations/<location>/
publishers/google/models/<model>:batchEmbedContents`` (``:embedContent`` for one text,
``:predict`` for the ``text-embedding-*`` models), authenticated with Google credentials: the
application default credentials (``GOOGLE_APPLICATION_CREDENTIALS``, ``gcloud auth
application-default login``, or the metadata server), or ``credentials=`` (never persisted).

Three of chromadb's names live here: ``google_gemini`` (also registered as ``google_genai``,
the same class in chromadb) and ``google_generative_ai`` (chromadb calls the deprecated
``google-generativeai`` SDK for it; huedb sends the same request through ``google-genai``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

from huedb.embedding_functions import ProviderEgress
from huedb.errors import AuthenticationError, ChromaError, InvalidArgumentError
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.http_provider import ProviderEmbeddingFunction, detail_of

DEFAULT_API_KEY_ENV_VAR = "GEMINI_API_KEY"  # chromadb's default and the SDK's
STANDARD_API_KEY_ENV_VAR = "GOOGLE_API_KEY"  # the SDK's other variable
MAX_BATCH = 100  # batchEmbedContents takes at most 100 requests
#: task types whose queries Google pairs with another task type
QUERY_TASK_TYPES = {"RETRIEVAL_DOCUMENT": "RETRIEVAL_QUERY"}
VERTEX_BASE_URL_ENV = "GOOGLE_VERTEX_BASE_URL"
#: what a Vertex AI project id and location may look like (they become part of the URL path)
PROJECT = re.compile(r"[a-z0-9][a-z0-9.:-]*")
LOCATION = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
EGRESS = ProviderEgress(
    api_key_env_vars=(DEFAULT_API_KEY_ENV_VAR, STANDARD_API_KEY_ENV_VAR),
    default_hosts=("generativelanguage.googleapis.com", "aiplatform.googleapis.com"),
)


class _GoogleGenAIBase(ProviderEmbeddingFunction):
    provider = "Google"
    extra = "google"
    max_batch = MAX_BATCH
    base_url_env_vars = ("GOOGLE_GEMINI_BASE_URL",)
    egress = EGRESS
    immutable_fields = ("model_name", "dimension")

    def _connect(
        self,
        api_key: str | None,
        api_key_env_var: str | None,
        model_name: str,
        task_type: str | None,
        dimension: int | None,
        vertexai: bool | None,
        project: str | None,
        location: str | None,
        base_url: str | None,
        timeout: float | None,
        max_retries: int | None,
        credentials: Any = None,
    ) -> None:
        self._genai = self._import("google.genai", "google-genai")
        self.model_name = self._require("model_name", model_name)
        if task_type is not None:
            self._require("task_type", task_type)
        self.task_type = task_type
        self.dimension = self._optional_positive_int("dimension", dimension)
        self.vertexai, self.project, self.location = vertexai, project, location
        self._setup(timeout, max_retries)
        if vertexai:  # the SDK's variable for Vertex AI's endpoint, not the Gemini API's
            self.base_url = base_url or os.environ.get(self.base_url_env_var()) or os.environ.get(VERTEX_BASE_URL_ENV)
        else:
            self.base_url = self._base_url(base_url)
        http_options = self._genai.types.HttpOptions(
            base_url=self.base_url, timeout=int(self.timeout * 1000), retry_options=None
        )
        if vertexai:
            self._connect_vertex(api_key_env_var, project, location, http_options, credentials)
            return
        key = self._resolve_key(
            api_key, api_key_env_var or DEFAULT_API_KEY_ENV_VAR, DEFAULT_API_KEY_ENV_VAR, (STANDARD_API_KEY_ENV_VAR,)
        )
        self._client = self._genai.Client(api_key=key, http_options=http_options)

    def _connect_vertex(
        self,
        api_key_env_var: str | None,
        project: str | None,
        location: str | None,
        http_options: Any,
        credentials: Any,
    ) -> None:
        """Vertex AI authenticates with Google credentials, not an API key: a key variable set in
        the environment is not sent (chromadb refuses to start then; huedb ignores it)."""
        for field, value, pattern in (("project", project, PROJECT), ("location", location, LOCATION)):
            if not isinstance(value, str) or not pattern.fullmatch(value):
                raise InvalidArgumentError(
                    f"vertexai=True needs {field}= (a Google Cloud {field} such as "
                    f"{'my-project' if field == 'project' else 'us-central1'}), got {value!r}"
                )
        self.api_key_env_var = api_key_env_var
        self._key_source = (
            "the Google credentials" if credentials is not None else "Google application default credentials"
        )
        if credentials is None:
            import google.auth
            import google.auth.exceptions

            try:  # fail now, with what to do, rather than on the first request
                credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
            except google.auth.exceptions.DefaultCredentialsError as e:
                raise InvalidArgumentError(
                    "GoogleGeminiEmbeddingFunction with vertexai=True needs Google Cloud credentials: set "
                    "GOOGLE_APPLICATION_CREDENTIALS to a service account key file, run "
                    "`gcloud auth application-default login`, or pass credentials=... (never persisted). "
                    f"google-auth said: {e}"
                ) from e
        self._client = self._genai.Client(
            vertexai=True, project=project, location=location, credentials=credentials, http_options=http_options
        )

    def _endpoint(self) -> str:
        if self.vertexai:
            return self.base_url or f"https://{self.location}-aiplatform.googleapis.com"
        return self.base_url or "https://generativelanguage.googleapis.com"

    def _translate(self, err: BaseException) -> ChromaError | None:
        translated = super()._translate(err)
        if self.vertexai and isinstance(translated, AuthenticationError):
            status = 401 if "HTTP 401" in str(translated) else 403
            return AuthenticationError(
                f"Vertex AI refused {self._key_source} (HTTP {status}): check that they are valid and may call "
                f"Vertex AI in project {self.project!r}, location {self.location!r}. Server said: {detail_of(err)}"
            )
        return translated

    def _embed_batch(self, texts: list[str], query: bool) -> Sequence[Sequence[float]]:
        task_type = QUERY_TASK_TYPES.get(self.task_type, self.task_type) if query else self.task_type
        config = self._genai.types.EmbedContentConfig(task_type=task_type, output_dimensionality=self.dimension)
        response = self._client.models.embed_content(model=self.model_name, contents=texts, config=config)
        return [e.values for e in response.embeddings]


class GoogleGeminiEmbeddingFunction(_GoogleGenAIBase):
    """chromadb's ``GoogleGeminiEmbeddingFunction`` (alias ``GoogleGenaiEmbeddingFunction``).
    With ``task_type="RETRIEVAL_DOCUMENT"``, queries use ``RETRIEVAL_QUERY``."""

    ef_name = "google_gemini"
    config_fields = ("model_name", "api_key_env_var", "vertexai", "project", "location")

    def __init__(
        self,
        model_name: str = "gemini-embedding-001",
        task_type: str | None = None,
        dimension: int | None = None,
        api_key_env_var: str | None = DEFAULT_API_KEY_ENV_VAR,
        vertexai: bool | None = None,
        project: str | None = None,
        location: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        credentials: Any = None,
    ) -> None:
        self._connect(
            api_key,
            api_key_env_var,
            model_name,
            task_type,
            dimension,
            vertexai,
            project,
            location,
            base_url,
            timeout,
            max_retries,
            credentials,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        if self.task_type is not None:
            config["task_type"] = self.task_type
        if self.dimension is not None:
            config["dimension"] = self.dimension
        return config


GoogleGenaiEmbeddingFunction = GoogleGeminiEmbeddingFunction


class GoogleGenerativeAiEmbeddingFunction(_GoogleGenAIBase):
    """chromadb's ``GoogleGenerativeAiEmbeddingFunction``: documents as ``RETRIEVAL_DOCUMENT`` by
    default, queries then as ``RETRIEVAL_QUERY``."""

    ef_name = "google_generative_ai"
    config_fields = ("api_key_env_var", "model_name", "task_type")

    def __init__(
        self,
        api_key: str | None = None,
        model_name: str = "gemini-embedding-001",
        task_type: str = "RETRIEVAL_DOCUMENT",
        api_key_env_var: str = DEFAULT_API_KEY_ENV_VAR,
        dimension: int | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        if task_type is None:
            raise InvalidArgumentError("task_type must be a Google task type such as 'RETRIEVAL_DOCUMENT'")
        self._connect(
            api_key, api_key_env_var, model_name, task_type, dimension, None, None, None, base_url, timeout, max_retries
        )

    def get_config(self) -> dict:
        config = super().get_config()
        if self.dimension is not None:
            config["dimension"] = self.dimension
        return config


@hookimpl
def register_embedding_functions(register):
    register(GoogleGeminiEmbeddingFunction)
    register(GoogleGeminiEmbeddingFunction, name="google_genai")
    register(GoogleGenerativeAiEmbeddingFunction)
