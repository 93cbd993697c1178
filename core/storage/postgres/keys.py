"""The metadata keys a collection has held (``meta_keys``; see ``huedb.storage.keys``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from huedb.storage.keys import by_collection, key_types


def record(conn: Any, cid: int, metadatas: Iterable[Mapping[str, Any] | None] | None) -> None:
    """Adds the batch's (key, value type) pairs, in the write's transaction (one statement)."""
    pairs = sorted(key_types(metadatas))  # one order for every writer: no deadlock between two
    if pairs:
        conn.execute(
            "INSERT INTO meta_keys(collection_id, key, vtype) "
            "SELECT %s, k, t FROM unnest(%s::text[], %s::text[]) AS u(k, t) ON CONFLICT DO NOTHING",
            (cid, [k for k, _ in pairs], [t for _, t in pairs]),
        )


def seen(conn: Any, cids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    """collection -> its sorted (key, value type) pairs (collections with none are left out)."""
    if not cids:
        return {}
    rows = conn.execute(
        "SELECT collection_id, key, vtype FROM meta_keys WHERE collection_id = ANY(%s)", ([int(c) for c in cids],)
    ).fetchall()
    return by_collection(rows)


def copy(conn: Any, source: int, target: int) -> None:
    """A fork's keys are its source's."""
    conn.execute(
        "INSERT INTO meta_keys(collection_id, key, vtype) SELECT %s, key, vtype FROM meta_keys "
        "WHERE collection_id = %s ON CONFLICT DO NOTHING",
        (target, source),
    )
