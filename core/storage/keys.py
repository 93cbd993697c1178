"""The metadata keys a collection's records have held, with their value types.

Chroma lists them in ``collection.schema`` ("discoverable" keys): each key its data has
held, once per value type (an array registers its elements' type). The list only grows:
a key stays after the records holding it are deleted or rewritten. Every backend records
the pairs of a write in that write's transaction (``key_types`` of the batch), so a read
never writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: Python type of a metadata value -> Chroma's value type name (validation admits no others)
_TYPE_NAMES: dict[type, str] = {str: "string", bool: "bool", int: "int", float: "float"}
#: a sparse vector is the only object metadata may hold
SPARSE = "sparse_vector"


def _name(value: Any) -> str | None:
    name = _TYPE_NAMES.get(type(value))
    if name is not None:
        return name
    for cls in (bool, int, float, str):  # subclasses (numpy scalars are converted earlier)
        if isinstance(value, cls):
            return _TYPE_NAMES[cls]
    if isinstance(value, Mapping):
        return SPARSE
    return None


def key_types(metadatas: Iterable[Mapping[str, Any] | None] | None) -> set[tuple[str, str]]:
    """The distinct (key, value type) pairs of a batch's metadata; None values (deletions
    in an update) register nothing."""
    seen: set[tuple[str, str]] = set()
    for md in metadatas or ():
        if not md:
            continue
        for key, value in md.items():
            if isinstance(value, list):
                seen.update((key, n) for n in {_name(item) for item in value} if n is not None)
                continue
            name = _name(value)
            if name is not None:
                seen.add((key, name))
    return seen


def by_collection(rows: Iterable[tuple[int, str, str]]) -> dict[int, list[tuple[str, str]]]:
    """``(collection, key, value type)`` rows grouped by collection, each list sorted."""
    out: dict[int, list[tuple[str, str]]] = {}
    for cid, key, vtype in rows:
        out.setdefault(int(cid), []).append((key, vtype))
    for pairs in out.values():
        pairs.sort()
    return out
