"""Storage backends: the system of record behind the engine (see ``protocol``)."""

from __future__ import annotations

from pathlib import Path

from huedb.storage.protocol import (
    NewRecords,
    ReadTx,
    RecordChanges,
    Records,
    Selection,
    StaleRead,
    StorageBackend,
    WriteTx,
)

__all__ = [
    "NewRecords",
    "ReadTx",
    "RecordChanges",
    "Records",
    "Selection",
    "StaleRead",
    "StorageBackend",
    "WriteTx",
    "open_storage",
]


def open_storage(
    directory: Path | None,
    synchronous: str = "FULL",
    backend: str = "sqlite",
    postgres_url: str | None = None,
    read_cache_bytes: int | None = None,
) -> StorageBackend:
    """SQLite (the default) under ``directory`` (None: in memory), or PostgreSQL at ``postgres_url``.
    ``read_cache_bytes``: what SQLite keeps of repeated filters' reads (None: its default)."""
    if backend == "postgres":
        if not postgres_url:
            raise ValueError("storage_backend='postgres' needs postgres_url (or HUEDB_POSTGRES_URL)")
        try:
            from huedb.storage.postgres import PostgresBackend
        except ImportError as e:
            raise ImportError(
                f"The postgres backend needs the postgres extra: pip install 'huedb[postgres]' ({e})"
            ) from e
        return PostgresBackend(postgres_url)
    from huedb.storage.sqlite import SqliteBackend

    return SqliteBackend(directory, synchronous=synchronous, read_cache_bytes=read_cache_bytes)
