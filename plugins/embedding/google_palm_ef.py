"""GooglePalmEmbeddingFunction (``google_palm``): kept so collections created with it still open.

Google shut the PaLM API down (its embedding model ``models/embedding-gecko-001`` went with it),
and chromadb's class needs the deprecated ``google-generativeai`` package whose
``generate_embeddings`` call reached it. No service computes these vectors any more, so this
EF never sends a request: it can be built from a stored config (without a key or any SDK),
persists what chromadb persists, and every embedding call raises ``PalmAPIShutDownError``
saying what to do instead. A collection that uses it still opens, and ``get``, ``delete`` and
queries by ``query_embeddings`` work; only documents and query texts need an EF.
"""

from __future__ import annotations

from typing import Any

from huedb.ef_persistence import validate_config_schema
from huedb.embedding_functions import Documents, EmbeddingFunction, Embeddings, ProviderEgress
from huedb.errors import ChromaError, InvalidArgumentError
from huedb.hookspecs import hookimpl

NAME = "google_palm"
DEFAULT_API_KEY_ENV_VAR = "CHROMA_GOOGLE_PALM_API_KEY"
DEFAULT_MODEL = "models/embedding-gecko-001"


class PalmAPIShutDownError(ChromaError, ValueError):
    """The PaLM API no longer exists; a ValueError too, as chromadb's failures here are."""


class GooglePalmEmbeddingFunction(EmbeddingFunction[Documents]):
    # no extra: nothing is imported, nothing is sent
    egress = ProviderEgress(api_key_env_vars=(DEFAULT_API_KEY_ENV_VAR, "GOOGLE_API_KEY"))

    def __init__(
        self,
        api_key: str | None = None,
        model_name: str = DEFAULT_MODEL,
        api_key_env_var: str = DEFAULT_API_KEY_ENV_VAR,
    ) -> None:
        if not isinstance(model_name, str) or not model_name:
            raise InvalidArgumentError(f"{NAME}: model_name must be a non-empty string, got {model_name!r}")
        if not isinstance(api_key_env_var, str) or not api_key_env_var:
            raise InvalidArgumentError(f"{NAME}: api_key_env_var must name a variable, got {api_key_env_var!r}")
        # api_key is accepted for chromadb's signature; it is neither used nor persisted
        self.model_name, self.api_key_env_var = model_name, api_key_env_var

    def _shut_down(self) -> PalmAPIShutDownError:
        return PalmAPIShutDownError(
            f"GooglePalmEmbeddingFunction cannot embed: Google shut the PaLM API down, so no service computes "
            f"{self.model_name!r} vectors any more. The collection's stored vectors still work with get() and "
            f"query(query_embeddings=...). To embed text, create a new collection with "
            f"GoogleGeminiEmbeddingFunction(model_name='gemini-embedding-001') (pip install 'huedb[google]') and "
            f"add your documents to it again: PaLM and Gemini vectors are not comparable."
        )

    def __call__(self, input: Documents) -> Embeddings:
        raise self._shut_down()

    def embed_query(self, input: Documents) -> Embeddings:
        raise self._shut_down()

    @staticmethod
    def name() -> str:
        return NAME

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine", "l2", "ip"]

    def get_config(self) -> dict[str, Any]:
        return {"api_key_env_var": self.api_key_env_var, "model_name": self.model_name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> GooglePalmEmbeddingFunction:
        return GooglePalmEmbeddingFunction(
            model_name=config.get("model_name") or DEFAULT_MODEL,
            api_key_env_var=config.get("api_key_env_var") or DEFAULT_API_KEY_ENV_VAR,
        )

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        if "model_name" in new_config and new_config["model_name"] != old_config.get("model_name"):
            raise InvalidArgumentError(f"The model_name of a {NAME} embedding function cannot change.")

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        validate_config_schema(NAME, config)

    def __repr__(self) -> str:
        return f"GooglePalmEmbeddingFunction(model_name={self.model_name!r})"


@hookimpl
def register_embedding_functions(register: Any) -> None:
    register(GooglePalmEmbeddingFunction)
