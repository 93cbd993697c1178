"""One System per storage location and process: its storage backend and index segments.

Every client of one path in a process shares the System (as chromadb shares one
per path); the last client to close it closes the storage and persists the indexes.
"""

from __future__ import annotations

import threading
from pathlib import Path

from huedb.config import Settings
from huedb.engine.segments import SegmentManager
from huedb.storage import StorageBackend, open_storage
from huedb.types import DEFAULT_DATABASE, DEFAULT_TENANT


class System:
    def __init__(self, key: str, directory: Path | None, settings: Settings) -> None:
        self.key = key
        self.settings = settings
        self.storage: StorageBackend = open_storage(
            directory,
            settings.sqlite_synchronous,
            settings.storage_backend,
            settings.postgres_url,
            settings.read_cache_bytes,
        )
        self.segments = SegmentManager(self.storage, settings.candidate_vectors_cache_bytes)
        self.refcount = 0
        with self.storage.write() as tx:
            tx.ensure_defaults(DEFAULT_TENANT, DEFAULT_DATABASE)

    def close(self) -> None:
        try:
            self.segments.close()
        finally:
            self.storage.close()


_systems: dict[str, System] = {}
_systems_lock = threading.Lock()


def _system_key(settings: Settings) -> tuple[str, Path | None]:
    if settings.storage_backend == "postgres":  # one System per database URL (no local directory)
        return f"postgres:{settings.postgres_url}", None
    if settings.is_persistent:
        path = Path(settings.persist_directory).expanduser().resolve()
        return str(path), path
    return "ephemeral", None


def acquire_system(settings: Settings) -> System:
    key, directory = _system_key(settings)
    with _systems_lock:
        system = _systems.get(key)
        if system is None:
            system = System(key, directory, settings)
            _systems[key] = system
        system.refcount += 1
        return system


def release_system(system: System) -> None:
    with _systems_lock:
        system.refcount -= 1
        if system.refcount > 0:
            return
        if _systems.get(system.key) is system:
            del _systems[system.key]
    system.close()  # also one that forget_systems() already dropped from the table


def forget_systems() -> None:
    """Makes the next client of each location start a new System (chromadb's
    ``clear_system_cache``). Clients already open keep theirs, closed on their last release."""
    with _systems_lock:
        _systems.clear()


def open_systems() -> dict[str, System]:
    """The Systems open in this process, by location (for tests and diagnostics)."""
    with _systems_lock:
        return dict(_systems)
