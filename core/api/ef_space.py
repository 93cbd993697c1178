"""The space rule of create_collection: the collection's space against its embedding function."""

from __future__ import annotations

import warnings
from typing import Any

from huedb.configuration import vector_index_request


def check_space(name: str, ef: Any, configuration: dict[str, Any], metadata: dict[str, Any] | None) -> None:
    """The collection's space against its embedding function, as chromadb applies it: no space
    given takes the EF's default space (written into ``configuration``); a space the EF does not
    list warns and is kept."""
    requested = vector_index_request(configuration, metadata)  # checked by validate_request already
    space = requested.get("space")
    try:
        supported = list(ef.supported_spaces())
    except Exception:  # a lazily-built EF whose plugin is missing: nothing to check
        return
    if space is None:
        # As chromadb: with no space given, the embedding function's default space is used
        # (in the section the request uses, so the legacy-metadata rule sees the same request).
        vector_index = "spann" if configuration.get("spann") is not None else "hnsw"
        configuration[vector_index] = {**requested, "space": ef.default_space()}
        return
    if space not in supported:  # chromadb warns and keeps the space
        warnings.warn(
            f"space {space} is not supported by {ef.name()}. Supported spaces: {supported} "
            f"(collection {name!r} keeps {space}; distances may not mean what the model intends)",
            UserWarning,
            stacklevel=5,  # the user's call: check_space, the steps, drive, the sync method
        )
