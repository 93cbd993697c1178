"""Google Vertex AI text embeddings over HTTP: ``POST https://<region>-aiplatform.googleapis.com
/v1/projects/<project>/locations/<region>/publishers/google/models/<model>:predict`` with
``{"instances": [{"content": ...}]}``, the request Vertex AI documents for its embedding models.

chromadb calls ``vertexai.language_models.TextEmbeddingModel`` (google-cloud-aiplatform): it
insists on an API key in ``api_key_env_var`` but authenticates with application default
credentials and never sends the key. huedb sends the key (``x-goog-api-key``, as Vertex AI
takes API keys), so the variable the config names is the one used; neither Google SDK sends
an API key to a project's regional endpoint, hence plain HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from huedb.embedding_functions import ProviderEgress
from huedb.errors import InvalidArgumentError
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.http_provider import ProviderEmbeddingFunction

DEFAULT_API_KEY_ENV_VAR = "CHROMA_GOOGLE_VERTEX_API_KEY"  # chromadb's default
STANDARD_API_KEY_ENV_VAR = "GOOGLE_API_KEY"  # chromadb prefers it when set
MAX_INSTANCES = 250  # text-embedding-004/005 and gemini-embedding: instances per :predict
MAX_INSTANCES_GECKO = 5  # the textembedding-gecko models
#: the region is part of the host name, the project and model of the path: a stored config
#: must not be able to send the key elsewhere
NAME_PATTERNS = {
    "region": re.compile(r"[a-z0-9]+(-[a-z0-9]+)*"),
    "project_id": re.compile(r"[a-z0-9][a-z0-9.:-]*"),
    "model_name": re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]*"),
}


class GoogleVertexEmbeddingFunction(ProviderEmbeddingFunction):
    ef_name = "google_vertex"
    provider = "Google Vertex AI"
    extra = "vertex"
    max_batch = MAX_INSTANCES
    config_fields = ("api_key_env_var", "model_name", "project_id", "region")
    immutable_fields = ("model_name", "project_id", "region")
    egress = ProviderEgress(
        api_key_env_vars=(DEFAULT_API_KEY_ENV_VAR, STANDARD_API_KEY_ENV_VAR),
        default_hosts=("aiplatform.googleapis.com",),
    )

    def __init__(
        self,
        api_key: str | None = None,
        model_name: str = "textembedding-gecko",
        project_id: str = "cloud-large-language-models",
        region: str = "us-central1",
        api_key_env_var: str = DEFAULT_API_KEY_ENV_VAR,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        self.model_name = self._name("model_name", model_name)
        self.project_id = self._name("project_id", project_id)
        self.region = self._name("region", region)
        self._setup(timeout, max_retries)
        self._key = self._resolve_key(api_key, api_key_env_var, DEFAULT_API_KEY_ENV_VAR, (STANDARD_API_KEY_ENV_VAR,))
        self.max_batch = MAX_INSTANCES_GECKO if "gecko" in self.model_name else MAX_INSTANCES
        base = (self._base_url(base_url) or f"https://{self.region}-aiplatform.googleapis.com").rstrip("/")
        self._url = (
            f"{base}/v1/projects/{self.project_id}/locations/{self.region}/publishers/google/models/"
            f"{self.model_name}:predict"
        )

    @classmethod
    def _name(cls, field: str, value: object) -> str:
        cls._require(field, value)
        if not NAME_PATTERNS[field].fullmatch(str(value)):
            raise InvalidArgumentError(f"{field} {value!r} is not a valid Vertex AI {field.replace('_', ' ')}")
        return str(value)

    def _endpoint(self) -> str:
        return self._url

    def _embed_batch(self, texts: list[str], query: bool) -> Sequence[Sequence[float]]:
        body = {"instances": [{"content": t} for t in texts]}
        answer = self._post_json(self._url, body, {"x-goog-api-key": self._key})
        return [p["embeddings"]["values"] for p in answer["predictions"]]


@hookimpl
def register_embedding_functions(register):
    register(GoogleVertexEmbeddingFunction)
