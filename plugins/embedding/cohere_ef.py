"""Cohere embeddings through the official ``cohere`` SDK (v1 ``/v1/embed``, like chromadb).

The SDK (and pillow, for images) is imported on first construction, so this
plugin is listed even when ``huedb[cohere]`` is not installed. Configs store
the *name* of the environment variable holding the key, never the key.
"""

from __future__ import annotations

import base64
import io
import os
from typing import Any

import numpy as np

from huedb.embedding_functions import Embeddable, EmbeddingFunction, Embeddings, ProviderEgress
from huedb.errors import AuthenticationError, ChromaError, InvalidArgumentError, QuotaError
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.providers import import_sdk, resolve_api_key

DEFAULT_API_KEY_ENV_VAR = "CHROMA_COHERE_API_KEY"  # chromadb's default
STANDARD_API_KEY_ENV_VAR = "COHERE_API_KEY"  # also accepted when the default name is unset
MAX_TEXTS_PER_REQUEST = 96  # Cohere rejects larger `texts` arrays
TRUNCATE_MODES = ("NONE", "START", "END")


def _resolve_api_key(api_key: str | None, api_key_env_var: str) -> tuple[str, str]:
    return resolve_api_key(
        "CohereEmbeddingFunction", api_key, api_key_env_var, DEFAULT_API_KEY_ENV_VAR, STANDARD_API_KEY_ENV_VAR
    )


class CohereEmbeddingFunction(EmbeddingFunction[Embeddable]):
    """Embeds text (and, with Embed v3+ models, numpy images) with Cohere's embed API.

    Documents are embedded with ``input_type="search_document"``, queries
    (``embed_query``) with ``"search_query"``, images with ``"image"``.
    """

    extra = "cohere"  # the huedb extra that installs its packages (huedb plugins lists it)

    # Where a rebuilt config may take its key from and send text to (huedb.ef_persistence.check_persisted_ef).
    egress = ProviderEgress(
        api_key_env_vars=(DEFAULT_API_KEY_ENV_VAR, STANDARD_API_KEY_ENV_VAR),
        default_hosts=("api.cohere.com",),
    )

    def __init__(
        self,
        api_key: str | None = None,
        model_name: str = "large",
        api_key_env_var: str = DEFAULT_API_KEY_ENV_VAR,
        truncate: str | None = None,
        api_base: str | None = None,
        max_retries: int | None = None,
    ) -> None:
        cohere = import_sdk("cohere", "CohereEmbeddingFunction", "cohere", "cohere")
        if not isinstance(model_name, str) or not model_name:
            raise InvalidArgumentError(f"model_name must be a non-empty string, got {model_name!r}")
        if truncate is not None and truncate not in TRUNCATE_MODES:
            raise InvalidArgumentError(f"truncate must be one of {', '.join(TRUNCATE_MODES)} or None, got {truncate!r}")

        self._cohere = cohere
        self._api_key, self.api_key_env_var = _resolve_api_key(api_key, api_key_env_var)
        self._key_source = "the api_key argument" if api_key else f"the {self.api_key_env_var} environment variable"
        self.model_name = model_name
        self.truncate = truncate
        # Not persisted: where to reach Cohere is a property of the environment (CO_API_URL).
        self.api_base = api_base or os.environ.get("CO_API_URL") or None
        self.max_retries = max_retries
        client_args: dict[str, Any] = {"base_url": self.api_base, "client_name": "huedb"}
        if max_retries is not None:
            client_args["max_retries"] = max_retries
        self._client = cohere.Client(self._api_key, **client_args)

    # -- embedding -------------------------------------------------------
    def __call__(self, input: Embeddable | str) -> Embeddings:
        return self._embed(input, text_input_type="search_document")

    def embed_query(self, input: Embeddable | str) -> Embeddings:
        return self._embed(input, text_input_type="search_query")

    def _embed(self, input: Embeddable | str, text_input_type: str) -> Embeddings:
        items = [input] if isinstance(input, str) else list(input)
        if not items:
            return []
        is_text = np.fromiter((isinstance(x, str) for x in items), dtype=bool, count=len(items))
        for i, x in enumerate(items):
            if not is_text[i] and not (isinstance(x, np.ndarray) and x.ndim in (2, 3)):
                raise InvalidArgumentError(
                    f"CohereEmbeddingFunction embeds text (str) or images (HxW or HxWxC numpy arrays): "
                    f"input[{i}] is {type(x).__name__}{getattr(x, 'shape', '')}."
                )
        text_idx = np.flatnonzero(is_text)
        image_idx = np.flatnonzero(~is_text)
        parts: list[tuple[np.ndarray, np.ndarray]] = []
        if text_idx.size:
            texts = [items[i] for i in text_idx]
            parts.append((text_idx, self._batched("texts", texts, MAX_TEXTS_PER_REQUEST, text_input_type)))
        if image_idx.size:
            images = [_to_data_uri(items[i], int(i)) for i in image_idx]
            # Embed v3 models take one image per call; v4+ take a batch.
            per_call = MAX_TEXTS_PER_REQUEST if "v4" in self.model_name else 1
            parts.append((image_idx, self._batched("images", images, per_call, "image")))
        dim = parts[0][1].shape[1]
        if any(p[1].shape[1] != dim for p in parts):
            raise ChromaError(f"Cohere model {self.model_name!r} returned text and image vectors of different sizes")
        out = np.empty((len(items), dim), dtype=np.float32)
        for idx, vecs in parts:
            out[idx] = vecs
        return list(out)

    def _batched(self, field: str, values: list[str], per_call: int, input_type: str) -> np.ndarray:
        chunks = [self._request(field, values[s : s + per_call], input_type) for s in range(0, len(values), per_call)]
        return np.concatenate(chunks, axis=0)

    def _request(self, field: str, values: list[str], input_type: str) -> np.ndarray:
        kwargs: dict[str, Any] = {field: values, "model": self.model_name, "input_type": input_type}
        if self.truncate is not None:
            kwargs["truncate"] = self.truncate
        try:
            response = self._client.embed(batching=False, **kwargs)
        except Exception as e:  # noqa: BLE001 - translated below; unknown errors re-raised as-is
            translated = self._translate(e)
            if translated is None:
                raise
            raise translated from e
        vectors = response.embeddings
        if not isinstance(vectors, list):  # "embeddings_by_type" responses
            vectors = getattr(vectors, "float_", None) or getattr(vectors, "float", None)
        arr = np.asarray(vectors, dtype=np.float32)
        if arr.ndim != 2 or arr.shape[0] != len(values):
            raise ChromaError(f"Cohere returned {arr.shape[0] if arr.ndim else 0} embeddings for {len(values)} inputs")
        return arr

    def _translate(self, err: Exception) -> ChromaError | None:
        import httpx
        from cohere.core.api_error import ApiError

        if isinstance(err, httpx.TransportError):
            return ChromaError(f"Could not reach Cohere at {self.api_base or 'https://api.cohere.com'}: {err}")
        if not isinstance(err, ApiError):
            return None
        status = err.status_code
        body = err.body
        detail = body.get("message", body) if isinstance(body, dict) else body
        if status in (401, 498):
            return AuthenticationError(
                f"Cohere rejected the API key (HTTP {status}) from {self._key_source}; "
                f"set {self.api_key_env_var} to a valid key. Server said: {detail}"
            )
        if status == 403:
            return AuthenticationError(
                f"Cohere refused the API key from {self._key_source} for model {self.model_name!r} (HTTP 403). "
                f"Server said: {detail}"
            )
        if status == 429:
            retries = self.max_retries if self.max_retries is not None else 2  # the SDK's default
            return QuotaError(
                f"Cohere kept answering 429 Too Many Requests after {retries} retries; wait and try again, "
                f"send smaller batches, or pass max_retries=... to retry longer. Server said: {detail}"
            )
        if status in (400, 404, 422):
            return InvalidArgumentError(
                f"Cohere refused the embed request for model {self.model_name!r} (HTTP {status}): {detail}"
            )
        return ChromaError(f"Cohere embed request failed (HTTP {status}): {detail}")

    # -- config ----------------------------------------------------------
    @staticmethod
    def name() -> str:
        return "cohere"

    def default_space(self) -> str:
        return "ip" if self.model_name == "embed-multilingual-v2.0" else "cosine"

    def supported_spaces(self) -> list[str]:
        if self.model_name in ("embed-english-v2.0", "embed-english-light-v2.0"):
            return ["cosine"]
        if self.model_name == "embed-multilingual-v2.0":
            return ["ip"]
        return ["cosine", "l2", "ip"]

    def supports_images(self) -> bool:
        return True

    def get_config(self) -> dict[str, Any]:
        # truncate, api_base and max_retries are session-only: the shared cohere
        # schema (additionalProperties: false) has no field for them.
        return {"api_key_env_var": self.api_key_env_var, "model_name": self.model_name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> CohereEmbeddingFunction:
        known = ("api_key_env_var", "model_name", "truncate")  # truncate: accepted if a config carries it
        return CohereEmbeddingFunction(**{k: config[k] for k in known if config.get(k) is not None})

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        if "model_name" in new_config and new_config["model_name"] != old_config.get("model_name"):
            raise InvalidArgumentError(
                f"The model_name of a Cohere embedding function cannot change ({old_config.get('model_name')!r} -> "
                f"{new_config['model_name']!r}): stored vectors would no longer match. Create a new collection instead."
            )


def _to_data_uri(image: np.ndarray, position: int) -> str:
    """A numpy image -> a PNG data URI, the format Cohere's embed API takes."""
    try:
        from PIL import Image
    except ImportError as e:
        raise InvalidArgumentError("Embedding images with Cohere needs pillow: pip install pillow") from e
    try:
        pil = Image.fromarray(image)
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(
            f"input[{position}] is not a valid image array (shape {image.shape}, dtype {image.dtype}); "
            f"expected HxW or HxWx3/4 uint8: {e}"
        ) from e
    buffer = io.BytesIO()
    pil.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@hookimpl
def register_embedding_functions(register):
    register(CohereEmbeddingFunction)
