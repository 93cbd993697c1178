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


def _type_name(cls: type) -> str | None:
    name = _TYPE_NAMES.get(cls)
    if name is not None:
        return name
    for base in (bool, int, float, str):  # subclasses (numpy scalars are converted earlier)
        if issubclass(cls, base):
            return _TYPE_NAMES[base]
    return SPARSE if issubclass(cls, Mapping) else None  # None: a deletion in an update


def key_types(metadatas: Iterable[Mapping[str, Any] | None] | None) -> set[tuple[str, str]]:
    """The distinct (key, value type) pairs of a batch's metadata; None values (deletions
    in an update) register nothing. On the write path: one pass over the values, in a set
    comprehension, then per distinct (key, Python type); lists get a second look."""
    mds = [md for md in metadatas or () if md]
    seen: set[tuple[str, str]] = set()
    lists: set[str] = set()
    for key, cls in {(key, type(value)) for md in mds for key, value in md.items()}:
        if issubclass(cls, list):
            lists.add(key)
            continue
        name = _type_name(cls)
        if name is not None:
            seen.add((key, name))
    for key in lists:
        items = {type(item) for md in mds if isinstance(value := md.get(key), list) for item in value}
        seen.update((key, name) for name in map(_type_name, items) if name is not None)
    return seen


def by_collection(rows: Iterable[tuple[int, str, str]]) -> dict[int, list[tuple[str, str]]]:
    """``(collection, key, value type)`` rows grouped by collection, each list sorted."""
    out: dict[int, list[tuple[str, str]]] = {}
    for cid, key, vtype in rows:
        out.setdefault(int(cid), []).append((key, vtype))
    for pairs in out.values():
        pairs.sort()
    return out
