"""Storage backends: the system of record behind the engine (see ``protocol``)."""

from __future__ import annotations

from pathlib import Path

from huedb.storage.protocol import NewRecords, ReadTx, RecordChanges, Records, Selection, StorageBackend, WriteTx

__all__ = [
    "NewRecords",
    "ReadTx",
    "RecordChanges",
    "Records",
    "Selection",
    "StorageBackend",
    "WriteTx",
    "open_storage",
]


def open_storage(directory: Path | None, synchronous: str = "FULL") -> StorageBackend:
    """The default backend, SQLite, under ``directory`` (None: in memory)."""
    from huedb.storage.sqlite import SqliteBackend

    return SqliteBackend(directory, synchronous=synchronous)
