"""The storage-backend conformance suite (huedb.testing.StorageBackendConformance) on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from huedb.storage import StorageBackend
from huedb.storage.sqlite import SqliteBackend
from huedb.testing import StorageBackendConformance


class TestSqliteFile(StorageBackendConformance):
    def make_backend(self, tmp_path: Path) -> StorageBackend:
        return SqliteBackend(tmp_path / "db")


class TestSqliteMemory(StorageBackendConformance):
    def make_backend(self, tmp_path: Path) -> StorageBackend:
        return SqliteBackend(None)

    # In memory, readers and writers share one connection under a lock: a reader holds
    # writers off for the whole snapshot, so there are no later commits to hide.
    test_a_read_snapshot_does_not_see_later_commits = None  # type: ignore[assignment]


@pytest.mark.postgres
class TestPostgres(StorageBackendConformance):
    """The same suite on PostgreSQL (pgvector), one fresh database per test."""

    @pytest.fixture(autouse=True)
    def _database(self, postgres_database: str) -> None:
        self.url = postgres_database

    def make_backend(self, tmp_path: Path) -> StorageBackend:
        from huedb.storage.postgres import PostgresBackend

        return PostgresBackend(self.url)
