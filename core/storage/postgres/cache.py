"""The process's cache of collection rows, each with its row's token (see cached.py)."""

from __future__ import annotations

import json
from typing import Any

from huedb.storage.postgres import catalog
from huedb.types import CollectionModel

#: (model, record count, configuration JSON, token)
Entry = tuple[CollectionModel, int, str, str]


class CollectionCache:
    """collection id -> its row as last read by this process, with the row's token."""

    #: entries kept at most (cleared whole beyond it: rebuilding one costs one read)
    MAX_ENTRIES = 4096

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}

    def get(self, collection_id: str) -> Entry | None:
        return self._entries.get(str(collection_id))

    def put(self, collection_id: str, entry: Entry) -> None:
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        self._entries[str(collection_id)] = entry

    def drop(self, collection_id: str) -> None:
        self._entries.pop(str(collection_id), None)


def cache_entry(model: CollectionModel, count: int, token: str) -> Entry:
    return model, count, json.dumps(model.configuration_json), token


def read_row(conn: Any, collection_id: str, cache: CollectionCache) -> Entry:
    """The collection's row in ``conn``'s snapshot, remembered in ``cache``."""
    entry = cache_entry(*catalog.collection_by_id_counted(conn, collection_id))
    cache.put(collection_id, entry)
    return entry
