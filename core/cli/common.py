"""Shared pieces of the ``huedb`` CLI: where a command connects (a local path, a server
or a saved profile), the user config file, and small output helpers."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

import huedb
from huedb.config import DEFAULT_DATABASE, DEFAULT_TENANT

#: the SQLite file a huedb database directory holds. Checked from the outside so that
#: commands that read a database never create one at a mistyped path.
HUEDB_DB_FILE = "huedb.sqlite3"
#: the SQLite file of a Chroma persist directory
CHROMA_DB_FILE = "chroma.sqlite3"


# -- user config (profiles, theme) ------------------------------------------------------
def config_dir() -> Path:
    """``$HUEDB_CONFIG_DIR`` or ``~/.huedb`` (Chroma keeps its own in ``~/.chroma``)."""
    env = os.environ.get("HUEDB_CONFIG_DIR")
    return Path(env).expanduser() if env else Path.home() / ".huedb"


def config_path() -> Path:
    return config_dir() / "config.json"


def load_config() -> dict[str, Any]:
    path = config_path()
    if not path.exists():
        return {"profiles": {}, "active_profile": None}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise click.ClickException(f"cannot read the user config {path}: {e}") from None
    if not isinstance(data, dict):
        raise click.ClickException(f"the user config {path} is not a JSON object")
    data.setdefault("profiles", {})
    data.setdefault("active_profile", None)
    return data


def save_config(data: dict[str, Any]) -> Path:
    """Writes the config atomically with mode 0600 (it names where tokens live)."""
    directory = config_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".config.", suffix=".json")  # mkstemp files are 0600
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, config_path())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return config_path()


KEYRING_SERVICE = "huedb"


def profile_token(name: str, profile: dict[str, Any]) -> str | None:
    """The auth token of a profile: from the env var it names, or from the keyring."""
    env = profile.get("token_env")
    if env:
        value = os.environ.get(env)
        if not value:
            raise click.ClickException(f"profile {name!r} reads its token from ${env}, which is not set")
        return value
    if profile.get("token_keyring"):
        try:
            import keyring
        except ImportError:
            raise click.ClickException(
                f"profile {name!r} keeps its token in the keyring: pip install 'huedb[keyring]'"
            ) from None
        value = keyring.get_password(KEYRING_SERVICE, name)
        if not value:
            raise click.ClickException(f"no token for profile {name!r} in the keyring (service {KEYRING_SERVICE!r})")
        return value
    return None


# -- where a command connects ----------------------------------------------------------
@dataclass
class Target:
    """A database to talk to: a local path, or a server (given directly or by a profile)."""

    path: str | None = None
    host: str | None = None
    #: a PostgreSQL database (the postgres storage backend), opened in this process
    postgres_url: str | None = None
    port: int = 8000
    ssl: bool = False
    token: str | None = None
    tenant: str = DEFAULT_TENANT
    database: str = DEFAULT_DATABASE

    def describe(self) -> str:
        if self.path is not None:
            return self.path
        if self.postgres_url is not None:
            from huedb.storage.postgres.connection import describe_url  # never the user or password

            return f"PostgreSQL at {describe_url(self.postgres_url)}"
        return f"{'https' if self.ssl else 'http'}://{self.host}:{self.port}"

    def settings(self) -> huedb.Settings:
        kwargs: dict[str, Any] = {"anonymized_telemetry": False}
        if self.token:
            kwargs.update(chroma_client_auth_provider="token", chroma_client_auth_credentials=self.token)
        return huedb.Settings(**kwargs)

    def client(self, tenant: str | None = None, database: str | None = None) -> Any:
        tenant, database = tenant or self.tenant, database or self.database
        if self.path is not None:
            return huedb.PersistentClient(path=self.path, settings=self.settings(), tenant=tenant, database=database)
        if self.postgres_url is not None:
            return huedb.Client(self.postgres_settings(), tenant=tenant, database=database)
        return huedb.HttpClient(
            host=self.host or "localhost",
            port=self.port,
            ssl=self.ssl,
            settings=self.settings(),
            tenant=tenant,
            database=database,
        )

    def postgres_settings(self) -> huedb.Settings:
        return self.settings().copy(storage_backend="postgres", postgres_url=self.postgres_url)

    def admin(self) -> Any:
        if self.postgres_url is not None:
            return huedb.AdminClient(self.postgres_settings())
        if self.path is not None:
            settings = self.settings().copy(is_persistent=True, persist_directory=self.path)
            return huedb.AdminClient(settings)
        settings = self.settings().copy(
            chroma_server_host=self.host or "localhost",
            chroma_server_http_port=self.port,
            chroma_server_ssl_enabled=self.ssl,
        )
        return huedb.AdminClient(settings)


def check_database_dir(path: str, param: str = "--path") -> None:
    """Refuses a path that holds no huedb database (a typo must not create one)."""
    p = Path(path).expanduser()
    if (p / HUEDB_DB_FILE).is_file():
        return
    if (p / CHROMA_DB_FILE).is_file():
        raise click.BadParameter(
            f"{path} is a Chroma persist directory, not a huedb database; migrate it with "
            f"`huedb copy --all --from-chroma-dir {path} --to-path NEW_PATH`",
            param_hint=f"'{param}'",
        )
    raise click.BadParameter(f"no huedb database at {path}", param_hint=f"'{param}'")


def resolve_target(
    path: str | None,
    host: str | None,
    port: int | None,
    ssl: bool,
    profile: str | None,
    tenant: str | None,
    database: str | None,
    must_exist: bool = True,
    prefix: str = "",
) -> Target:
    """--path, else --host, else --profile, else the active profile; exactly one kind of place."""
    opt = lambda name: f"'--{prefix}{name}'"  # noqa: E731
    if path is not None and (host is not None or profile is not None):
        raise click.UsageError(f"{opt('path')} conflicts with {opt('host')} and {opt('profile')}")
    if host is not None and profile is not None:
        raise click.UsageError(f"{opt('host')} conflicts with {opt('profile')}")
    if path is not None:
        if must_exist:
            check_database_dir(path, f"--{prefix}path")
        return Target(path=path, tenant=tenant or DEFAULT_TENANT, database=database or DEFAULT_DATABASE)
    if host is not None:
        return Target(
            host=host,
            port=port or 8000,
            ssl=ssl,
            tenant=tenant or DEFAULT_TENANT,
            database=database or DEFAULT_DATABASE,
        )
    config = load_config()
    name = profile or config.get("active_profile")
    if name is None:
        raise click.UsageError(
            f"say where the database is: {opt('path')}, {opt('host')} or {opt('profile')} (or `huedb profile use NAME`)"
        )
    saved = config["profiles"].get(name)
    if saved is None:
        raise click.BadParameter(f"no profile named {name!r} (see `huedb profile list`)", param_hint=opt("profile"))
    return Target(
        host=saved.get("host", "localhost"),
        port=port or int(saved.get("port", 8000)),
        ssl=bool(saved.get("ssl", False)) or ssl,
        token=profile_token(name, saved),
        tenant=tenant or saved.get("tenant") or DEFAULT_TENANT,
        database=database or saved.get("database") or DEFAULT_DATABASE,
    )


def target_options(must_exist: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Adds --path/--host/--port/--ssl/--profile/--tenant/--db and passes one ``target``."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        options = [
            click.option("--path", type=str, default=None, help="a local database directory"),
            click.option("--host", type=str, default=None, help="a huedb or Chroma server"),
            click.option("--port", type=click.IntRange(1, 65535), default=None, help="server port (default 8000)"),
            click.option("--ssl", is_flag=True, default=False, help="connect to the server over HTTPS"),
            click.option("--profile", type=str, default=None, help="a saved server profile (default: the active one)"),
            click.option("--tenant", type=str, default=None, help="tenant (default: default_tenant)"),
            click.option("--db", "database", type=str, default=None, help="database (default: default_database)"),
        ]

        def wrapper(path, host, port, ssl, profile, tenant, database, **kwargs):
            target = resolve_target(path, host, port, ssl, profile, tenant, database, must_exist=must_exist)
            return fn(target=target, **kwargs)

        wrapper.__name__ = fn.__name__
        wrapper.__doc__ = fn.__doc__
        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorate


def dir_size(path: Path) -> int:
    """Bytes used by the regular files under ``path``."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += (Path(root) / name).stat().st_size
            except OSError:
                pass  # a file removed while walking (an index being rewritten)
    return total


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def plain_configuration(configuration_json: dict[str, Any]) -> dict[str, Any]:
    """A collection's configuration in the form create_collection takes back.

    Sections that are None (Chroma's ``spann: None``) are dropped; the persisted EF stays
    in its ``{"name", "type", "config"}`` form, so the new collection rebuilds the same EF."""
    out = {k: v for k, v in (configuration_json or {}).items() if v is not None and k != "embedding_function"}
    ef = (configuration_json or {}).get("embedding_function")
    if ef is not None:
        out["embedding_function"] = ef
    return out


RECORD_INCLUDE: list[str] = ["embeddings", "documents", "metadatas", "uris"]
