"""PostgreSQL connections: a psycopg 3 pool, one transaction per read or write.

A write is one transaction at READ COMMITTED; writes to one collection serialise on
its catalog row (``SELECT ... FOR UPDATE`` in ``collection_state``), in every process.
A read is one REPEATABLE READ, READ ONLY transaction: one snapshot for all its
statements. Errors the user can cause become typed huedb errors; a connection
failure names host and port, never the password.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from huedb.errors import InternalError, InvalidArgumentError
from huedb.storage.postgres.schema import KEYS_MIGRATION, MIGRATION_LOCK, MIGRATIONS, SCHEMA, SCHEMA_VERSION


class PostgresUnavailableError(InternalError):
    """PostgreSQL cannot be reached, refused the connection, or dropped it mid-request.
    Sent as chromadb's InternalError, with HTTP 503 (the server is fine; retry later)."""

    @classmethod
    def name(cls) -> str:
        return "InternalError"

    def code(self) -> int:
        return 503


def describe_url(url: str) -> str:
    """host:port/dbname of a URL, without user or password."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(url)
    except Exception:  # noqa: BLE001 - an unparsable URL: show nothing of it
        return "the configured PostgreSQL URL (unparsable)"
    host = parts.get("host") or "localhost"
    return f"{host}:{parts.get('port') or 5432}/{parts.get('dbname') or ''}"


def _translate(exc: BaseException) -> Exception | None:
    import psycopg

    nul = "NUL" in str(exc) or "0x00" in str(exc)  # psycopg's text dumper, or PostgreSQL (binary COPY)
    if isinstance(exc, psycopg.DataError) and nul:
        return InvalidArgumentError(
            "Text must not hold a NUL character (\\x00) on the PostgreSQL backend: ids, documents, URIs and "
            "metadata keys are PostgreSQL text, which cannot store it"
        )
    if isinstance(exc, psycopg.errors.UntranslatableCharacter | psycopg.errors.CharacterNotInRepertoire):
        return InvalidArgumentError(f"Text PostgreSQL cannot store: {exc}")
    if isinstance(exc, UnicodeEncodeError):
        return InvalidArgumentError(
            "Text must be valid Unicode (a lone surrogate cannot be encoded as UTF-8): ids, documents, URIs, "
            "metadata and filter values"
        )
    if isinstance(exc, psycopg.errors.StatementTooComplex | psycopg.errors.ProgramLimitExceeded):
        return InvalidArgumentError(f"The filter is too complex for PostgreSQL ({exc}): nest it less or split it")
    return None


def reraise(exc: BaseException) -> NoReturn:
    typed = _translate(exc)
    if typed is None:
        raise exc
    raise typed from exc


def _connect_error(url: str, exc: BaseException) -> PostgresUnavailableError:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return PostgresUnavailableError(f"Cannot connect to PostgreSQL at {describe_url(url)}: {reason}")


def _ensure_extensions(conn: Any, url: str) -> None:
    import psycopg

    for ext, how in (
        ("vector", "install pgvector (https://github.com/pgvector/pgvector) on the server"),
        ("pg_trgm", "pg_trgm ships with PostgreSQL's contrib modules"),
    ):
        try:
            conn.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}")
        except psycopg.Error as e:
            raise InternalError(
                f"The PostgreSQL database {describe_url(url)} lacks the {ext!r} extension and huedb could not "
                f"create it ({str(e).splitlines()[0]}): {how}, then run CREATE EXTENSION {ext} as a superuser"
            ) from None


def migrate(url: str) -> None:
    """Creates or upgrades the schema, once, under an advisory lock (several processes may start together)."""
    import psycopg

    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as e:
        raise _connect_error(url, e) from None
    with conn:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            _ensure_extensions(conn, url)
            conn.execute(SCHEMA)
            row = conn.execute("SELECT value::int FROM huedb_meta WHERE key = 'schema_version'").fetchone()
            conn.execute(MIGRATIONS)
            if row is None or row[0] < 3:
                conn.execute(KEYS_MIGRATION)
            conn.execute(
                "INSERT INTO huedb_meta(key, value) VALUES ('schema_version', %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(SCHEMA_VERSION),),
            )


class Pool:
    """The process's connections to one database."""

    def __init__(self, url: str, max_size: int = 16) -> None:
        from psycopg_pool import ConnectionPool

        self.url = url
        self._max_size = max_size
        migrate(url)
        self._pool = ConnectionPool(
            url, min_size=1, max_size=max_size, configure=self._configure, open=False, kwargs={"connect_timeout": 10}
        )
        try:
            self._pool.open(wait=True, timeout=30)
        except Exception as e:  # noqa: BLE001 - PoolTimeout hides the cause
            self._pool.close()
            raise _connect_error(url, e) from None
        self._closed = False

    @staticmethod
    def _configure(conn: Any) -> None:
        from pgvector.psycopg import register_vector

        conn.autocommit = True  # transactions are begun explicitly, with their isolation level
        register_vector(conn)

    @contextmanager
    def transaction(self, write: bool) -> Iterator[Any]:
        import psycopg

        if self._closed:
            raise RuntimeError("This huedb client has been closed; create a new client")
        begin = "BEGIN ISOLATION LEVEL READ COMMITTED" if write else self.begin_read
        with self._connection(begin) as conn:
            try:
                yield conn
            except BaseException as e:
                try:
                    conn.execute("ROLLBACK")
                except Exception:  # noqa: BLE001 - a broken connection: the pool discards it
                    pass
                if isinstance(e, psycopg.OperationalError) and conn.broken:
                    raise self._lost(e, "the request was rolled back, nothing of it was applied: retry it") from None
                reraise(e)
            try:
                conn.execute("COMMIT")
            except psycopg.OperationalError as e:
                if not conn.broken:
                    raise
                outcome = "it dropped during COMMIT, so the write may or may not be applied: read it back"
                raise self._lost(e, outcome) from None

    begin_read = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

    @contextmanager
    def idle_connection(self) -> Iterator[Any]:
        """A pooled connection, nothing sent: the caller begins (or not), ends, and translates
        errors (a read on it retries with ``transaction`` when it fails)."""
        if self._closed:
            raise RuntimeError("This huedb client has been closed; create a new client")
        with self._pool.connection() as conn:
            yield conn

    @contextmanager
    def _connection(self, begin: str) -> Iterator[Any]:
        """A pooled connection in a begun transaction. A connection PostgreSQL closed while it
        sat in the pool (a restart, pg_terminate_backend) fails at BEGIN, before anything was
        sent: the pool drops it and the next one is tried."""
        import psycopg

        for attempt in range(self._max_size + 2):
            with self._pool.connection() as conn:
                try:
                    conn.execute(begin)
                except psycopg.OperationalError as e:
                    if not conn.broken or attempt == self._max_size + 1:
                        raise self._lost(e, "nothing was applied: retry it") from None
                    continue
                yield conn
                return

    def _lost(self, exc: BaseException, outcome: str) -> PostgresUnavailableError:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return PostgresUnavailableError(
            f"Lost the connection to PostgreSQL at {describe_url(self.url)} ({reason}); {outcome}"
        )

    def build_index(self, cid: int) -> bool:
        """A collection's HNSW index, built on a connection of its own: the caller's read snapshot
        keeps its pooled connection, and a pool full of such readers must not wait for itself."""
        import psycopg

        from huedb.storage.postgres.catalog import build_index

        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as e:
            raise _connect_error(self.url, e) from None
        with conn:
            return build_index(conn, cid)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._pool.close()

    def vacuum(self) -> None:
        with self._pool.connection() as conn:
            conn.execute("VACUUM (ANALYZE)")
