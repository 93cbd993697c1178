"""What Chroma Cloud's hosted embedding functions (chroma-cloud-qwen, chroma-cloud-splade) share:
the key variable, the endpoint and the check of the model a constructor is given."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from huedb.errors import InvalidArgumentError

DEFAULT_API_KEY_ENV_VAR = "CHROMA_API_KEY"
EMBED_URL = "https://embed.trychroma.com"


def check_model(model: Any, models: Sequence[str]) -> str:
    """The name of ``model`` (chromadb passes an enum member), which must be one of ``models``:
    those Chroma Cloud serves for the embedding function."""
    name = getattr(model, "value", model)
    if name not in models:
        raise InvalidArgumentError(f"model must be one of {', '.join(models)}, got {name!r}")
    return name
