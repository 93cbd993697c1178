"""The storage-backend conformance suite (huedb.testing.StorageBackendConformance) on SQLite
and PostgreSQL, plus what huedb's own backends share beyond the kit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from huedb.errors import InvalidArgumentError
from huedb.storage import StorageBackend
from huedb.storage.sqlite import SqliteBackend
from huedb.testing import StorageBackendConformance


class SparseQueryChecks:
    """Both built-in backends check a sparse query alike (huedb.storage.sparse_query) before
    reading postings."""

    @pytest.mark.parametrize(
        "indices, values, message",
        [([1, 2], [0.5], "as many values as indices, got 2 indices and 1 values"), ([3, 3], [1.0, 1.0], "unique")],
    )
    def test_a_bad_sparse_query_is_refused(self, backend, collection, indices, values, message) -> None:
        with backend.read() as tx, pytest.raises(InvalidArgumentError, match=message):
            tx.sparse_knn(collection.storage_key, "sv", np.array(indices), np.array(values), 5, None)


class TestSqliteFile(StorageBackendConformance, SparseQueryChecks):
    def make_backend(self, tmp_path: Path) -> StorageBackend:
        return SqliteBackend(tmp_path / "db")


class TestSqliteMemory(StorageBackendConformance, SparseQueryChecks):
    def make_backend(self, tmp_path: Path) -> StorageBackend:
        return SqliteBackend(None)

    # In memory, readers and writers share one connection under a lock: a reader holds
    # writers off for the whole snapshot, so there are no later commits to hide.
    test_a_read_snapshot_does_not_see_later_commits = None  # type: ignore[assignment]


@pytest.mark.postgres
class TestPostgres(StorageBackendConformance, SparseQueryChecks):
    """The same suite on PostgreSQL (pgvector), one fresh database per test."""

    @pytest.fixture(autouse=True)
    def _database(self, postgres_database: str) -> None:
        self.url = postgres_database

    def make_backend(self, tmp_path: Path) -> StorageBackend:
        from huedb.storage.postgres import PostgresBackend

        return PostgresBackend(self.url)
