"""SQLite connections: one writer, per-thread readers, WAL mode.

A write is a single ``BEGIN IMMEDIATE`` transaction: committed whole or
rolled back whole, and acknowledged only after COMMIT returns. Readers run
concurrently with the writer (WAL); an in-memory store has one connection
shared under a lock.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from huedb.errors import InternalError, InvalidArgumentError
from huedb.filters import regexp
from huedb.storage.sqlite.schema import SCHEMA, SCHEMA_VERSION, migrate

DB_FILENAME = "huedb.sqlite3"
_SYNC_LEVELS = {"OFF", "NORMAL", "FULL", "EXTRA"}


class CorruptDatabaseError(InternalError):
    """The SQLite file is damaged or not a database. Sent as chromadb's InternalError."""

    @classmethod
    def name(cls) -> str:
        return "InternalError"


#: sqlite3.DatabaseError messages that mean the file itself is bad (not a busy or locked database)
_CORRUPT_SIGNS = ("not a database", "malformed", "corrupt")
#: limits of SQLite's parser that a (validated) filter could still reach
_TOO_COMPLEX_SIGNS = ("parser stack overflow", "Expression tree is too large", "too many SQL variables")


def _translate(exc: BaseException, db_path: Path | None) -> Exception | None:
    """A typed error for a damaged file or for text SQLite cannot store; None for the rest."""
    if isinstance(exc, UnicodeEncodeError):
        bad = exc.object[exc.start : exc.end] if isinstance(exc.object, str) else ""
        return InvalidArgumentError(
            f"Text must be valid Unicode, got a string holding a lone surrogate {ascii(bad)} at position {exc.start}: "
            "ids, documents, URIs, metadata and filter values must be encodable as UTF-8"
        )
    if isinstance(exc, sqlite3.OperationalError) and any(sign in str(exc) for sign in _TOO_COMPLEX_SIGNS):
        return InvalidArgumentError(f"The filter is too complex for SQLite ({exc}): nest it less deeply or split it")
    if isinstance(exc, sqlite3.DatabaseError) and any(sign in str(exc) for sign in _CORRUPT_SIGNS):
        where = str(db_path) if db_path is not None else "the in-memory database"
        return CorruptDatabaseError(
            f"{where} is not a valid huedb/SQLite database ({exc}): restore it from a backup, "
            "or move it away to start with an empty database"
        )
    return None


def _reraise(exc: BaseException, db_path: Path | None) -> NoReturn:
    typed = _translate(exc, db_path)
    if typed is None:
        raise exc
    raise typed from exc


def _enable_wal(conn: sqlite3.Connection, attempts: int = 300) -> None:
    """Switches to WAL. Two processes creating one file at once can get "database is
    locked" here without SQLite's busy handler ever running, so retry for a while."""
    for attempt in range(attempts):
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or attempt == attempts - 1:
                raise
            time.sleep(0.1)


#: bytes per page of a new database file (older files keep theirs until ``huedb vacuum``)
PAGE_SIZE = 8192


class Store:
    def __init__(self, directory: Path | None, synchronous: str = "FULL") -> None:
        self.directory = directory
        self.synchronous = synchronous.upper()
        if self.synchronous not in _SYNC_LEVELS:
            raise ValueError(f"sqlite_synchronous must be one of {sorted(_SYNC_LEVELS)}, got {synchronous!r}")
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._readers: list = []
        self._readers_lock = threading.Lock()
        self._closed = False
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            self.db_path: Path | None = directory / DB_FILENAME
        else:
            self.db_path = None
        try:
            self._writer = self._connect()
            try:  # one transaction: one process creates or migrates the file at a time
                self._writer.executescript("BEGIN IMMEDIATE;" + SCHEMA)
                migrate(self._writer)
                self._writer.execute(
                    "INSERT INTO huedb_meta(key, value) VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE "
                    "SET value=excluded.value WHERE CAST(value AS INTEGER) < CAST(excluded.value AS INTEGER)",
                    (str(SCHEMA_VERSION),),
                )
                self._writer.execute("COMMIT")
            except BaseException:
                if self._writer.in_transaction:
                    self._writer.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as e:
            _reraise(e, self.db_path)

    @property
    def persistent(self) -> bool:
        return self.db_path is not None

    def _connect(self) -> sqlite3.Connection:
        target = str(self.db_path) if self.db_path is not None else ":memory:"
        conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None, timeout=30.0)
        # Takes effect only in a new file (before WAL): a 1.5 KB vector row fills a 4 KiB page
        # twice with 0.9 KiB left over, an 8 KiB page five times (see docs/benchmarks.md, disk).
        conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
        if self.db_path is not None:
            _enable_wal(conn)
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        # Zero freed pages so deleted documents and vectors do not linger in the file.
        conn.execute("PRAGMA secure_delete=ON")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA cache_size=-4096")  # 4 MiB per connection; the OS page cache does the rest
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.create_function("huedb_regexp", 2, regexp, deterministic=True)  # RE2: linear time
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One all-or-nothing transaction; writers are serialised."""
        with self._write_lock:
            self._check_open()
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException as e:
                conn.execute("ROLLBACK")
                _reraise(e, self.db_path)
            conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for a multi-statement read."""
        self._check_open()
        if self.db_path is None:
            with self._write_lock:
                try:
                    yield self._writer
                except (UnicodeEncodeError, sqlite3.DatabaseError) as e:
                    _reraise(e, self.db_path)
            return
        conn = self._reader()
        try:
            yield conn
        except (UnicodeEncodeError, sqlite3.DatabaseError) as e:
            _reraise(e, self.db_path)
        finally:
            conn.execute("COMMIT")

    def _reader(self) -> sqlite3.Connection:
        """This thread's reader connection, inside a new BEGIN."""
        while True:
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._connect()
                with self._readers_lock:
                    self._readers.append(conn)
                self._local.conn = conn
            with self._readers_lock:  # vacuum closes idle readers under it (_close_idle_readers)
                if conn in self._readers:
                    conn.execute("BEGIN")
                    return conn
            self._local.conn = None  # closed by a vacuum: open another

    def checkpoint(self) -> None:
        """Folds the WAL into the main file and truncates it (no deleted data left in the log)."""
        if self.db_path is not None:
            with self._write_lock:
                self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def vacuum(self) -> None:
        with self._write_lock:
            self._check_open()
            # Merge FTS segments so postings of deleted documents are dropped, then rebuild the file.
            self._writer.execute("INSERT INTO docs_fts(docs_fts) VALUES ('optimize')")
            if not self._vacuum_to_page_size():
                self._writer.execute("VACUUM")
            self.checkpoint()

    def _vacuum_to_page_size(self) -> bool:
        """VACUUMs a file written with another page size into PAGE_SIZE pages (a WAL file
        cannot change its page size, so it leaves WAL for the VACUUM). False when the file
        has the page size already or another connection keeps it in WAL."""
        if self.db_path is None or self._writer.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE:
            return False
        self._close_idle_readers()
        try:
            if self._writer.execute("PRAGMA journal_mode=DELETE").fetchone()[0].lower() != "delete":
                return False
            self._writer.execute(f"PRAGMA page_size={PAGE_SIZE}")
            self._writer.execute("VACUUM")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            _enable_wal(self._writer)

    def _close_idle_readers(self) -> None:
        """Closes this process's reader connections that are not inside a read (their
        threads open new ones): a file leaves WAL only when no other connection has it open."""
        with self._readers_lock:
            for conn in [c for c in self._readers if not c.in_transaction]:
                self._readers.remove(conn)
                conn.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("This huedb client has been closed; create a new client")

    def close(self) -> None:
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            for conn in self._readers:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            try:
                if self.db_path is not None:
                    self._writer.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                self._writer.close()
