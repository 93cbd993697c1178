"""Field checks of the Schema index configs, as chromadb 1.5.9 makes them."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from huedb.index_schema import DOCUMENT

#: a misspelt parameter is an error, as on chromadb, never silently dropped
STRICT = ConfigDict(extra="forbid")

#: SPANN fields chromadb accepts (its internal ones are accepted and not stored)
SPANN_FIELDS = frozenset(
    "search_nprobe search_rng_factor search_rng_epsilon nreplica_count write_nprobe write_rng_factor "
    "write_rng_epsilon split_threshold num_samples_kmeans initial_lambda reassign_neighbor_count merge_threshold "
    "num_centers_to_merge_to ef_construction ef_search max_neighbors center_drift_threshold quantize".split()
)


def known_fields(data: Any, allowed: frozenset[str], stored: set[str], cls_name: str) -> Any:
    """Refuses a field chromadb does not know; drops the known ones the model does not store."""
    if not isinstance(data, dict):
        return data
    for name in data:
        if name not in allowed:
            raise ValueError(f"'{name}' is not a valid field for {cls_name}")
    return {k: v for k, v in data.items() if k in stored}


def source_key_name(key: Any) -> str | None:
    """A source_key as its name: a str or a Key; of the '#' keys only #document (chromadb's rule)."""
    name = key if key is None or isinstance(key, str) else getattr(key, "name", None)
    if key is not None and not isinstance(name, str):
        raise ValueError(f"source_key must be str or Key, got {type(key).__name__}")
    if name and name.startswith("#") and name != DOCUMENT:
        raise ValueError("source_key cannot begin with '#'. The only valid key starting with '#' is Key.DOCUMENT.")
    return name
