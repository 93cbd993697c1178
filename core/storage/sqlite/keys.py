"""The metadata keys a collection has held (``meta_keys``; see ``huedb.storage.keys``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from huedb.storage.keys import by_collection, key_types
from huedb.storage.sqlite.selection import ids_param


def record(conn: sqlite3.Connection, cid: int, metadatas: Iterable[Mapping[str, Any] | None] | None) -> None:
    """Adds the batch's (key, value type) pairs, in the write's transaction."""
    pairs = key_types(metadatas)
    if pairs:
        conn.executemany(
            "INSERT OR IGNORE INTO meta_keys(collection_id, key, vtype) VALUES (?, ?, ?)",
            [(cid, key, vtype) for key, vtype in pairs],
        )


def seen(conn: sqlite3.Connection, cids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    """collection -> its sorted (key, value type) pairs (collections with none are left out)."""
    if not cids:
        return {}
    rows = conn.execute(
        "SELECT collection_id, key, vtype FROM meta_keys WHERE collection_id IN (SELECT value FROM json_each(?))",
        (ids_param(list(cids)),),
    )
    return by_collection(rows)


def copy(conn: sqlite3.Connection, source: int, target: int) -> None:
    """A fork's keys are its source's."""
    conn.execute(
        "INSERT OR IGNORE INTO meta_keys(collection_id, key, vtype) SELECT ?, key, vtype FROM meta_keys "
        "WHERE collection_id=?",
        (target, source),
    )
