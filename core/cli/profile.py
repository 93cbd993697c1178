"""``huedb profile add|list|show|use|rename|delete``: named servers in the user config.

A profile holds host, port, ssl, tenant and database, and says where its auth token is:
the name of an environment variable (``--token-env``) or the keyring (``--token-keyring``,
prompted for, never an argument, so it stays out of shell history). The config file is
written with mode 0600."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from huedb.cli.common import KEYRING_SERVICE, config_path, load_config, save_config


def _keyring() -> Any:
    try:
        import keyring
    except ImportError:
        raise click.ClickException("keeping a token in the keyring needs: pip install 'huedb[keyring]'") from None
    return keyring


def _get(config: dict[str, Any], name: str) -> dict[str, Any]:
    profile = config["profiles"].get(name)
    if profile is None:
        raise click.BadParameter(f"no profile named {name!r} (see `huedb profile list`)", param_hint="'NAME'")
    return profile


@click.group()
def profile() -> None:
    """Named server profiles (host, port, tenant, database, token source)."""


@profile.command("add")
@click.argument("name")
@click.option("--host", default="localhost", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--ssl", is_flag=True, help="use HTTPS")
@click.option("--tenant", default=None, help="default tenant of this profile")
@click.option("--db", "database", default=None, help="default database of this profile")
@click.option("--token-env", default=None, metavar="VAR", help="read the auth token from this environment variable")
@click.option("--token-keyring", is_flag=True, help="prompt for the token and keep it in the system keyring")
@click.option("--use", "make_active", is_flag=True, help="make it the active profile")
@click.option("--force", is_flag=True, help="replace an existing profile of that name")
def add(
    name: str,
    host: str,
    port: int,
    ssl: bool,
    tenant: str | None,
    database: str | None,
    token_env: str | None,
    token_keyring: bool,
    make_active: bool,
    force: bool,
) -> None:
    """Save a server as profile NAME."""
    if token_env and token_keyring:
        raise click.UsageError("'--token-env' conflicts with '--token-keyring'")
    config = load_config()
    if name in config["profiles"] and not force:
        raise click.BadParameter(f"profile {name!r} exists (use --force to replace it)", param_hint="'NAME'")
    entry: dict[str, Any] = {"host": host, "port": port, "ssl": ssl}
    if tenant:
        entry["tenant"] = tenant
    if database:
        entry["database"] = database
    if token_env:
        entry["token_env"] = token_env
    if token_keyring:
        keyring = _keyring()
        token = click.prompt(f"Token for profile {name!r}", hide_input=True)
        keyring.set_password(KEYRING_SERVICE, name, token)
        entry["token_keyring"] = True
    config["profiles"][name] = entry
    if make_active or config.get("active_profile") is None:
        config["active_profile"] = name
    path = save_config(config)
    click.echo(f"Saved profile {name!r} in {path}" + (" (active)" if config["active_profile"] == name else ""))


@profile.command("list")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def list_(as_json: bool) -> None:
    """List profiles; the active one is marked."""
    config = load_config()
    active = config.get("active_profile")
    if as_json:
        click.echo(json.dumps({"active_profile": active, "profiles": config["profiles"]}, indent=2, sort_keys=True))
        return
    table = Table("", "name", "server", "tenant", "database", "token")
    for name, p in sorted(config["profiles"].items()):
        scheme = "https" if p.get("ssl") else "http"
        token = f"${p['token_env']}" if p.get("token_env") else ("keyring" if p.get("token_keyring") else "-")
        table.add_row(
            "*" if name == active else "",
            name,
            f"{scheme}://{p.get('host')}:{p.get('port')}",
            p.get("tenant", "-"),
            p.get("database", "-"),
            token,
        )
    Console().print(table)


@profile.command("show")
@click.argument("name", required=False)
def show(name: str | None) -> None:
    """Show profile NAME (default: the active one) as JSON; never the token itself."""
    config = load_config()
    name = name or config.get("active_profile")
    if name is None:
        raise click.UsageError("no active profile: name one, or `huedb profile use NAME`")
    click.echo(
        json.dumps(
            {"name": name, "active": name == config.get("active_profile"), **_get(config, name)},
            indent=2,
            sort_keys=True,
        )
    )


@profile.command("use")
@click.argument("name")
def use(name: str) -> None:
    """Make NAME the active profile (used when a command gets no --path/--host/--profile)."""
    config = load_config()
    _get(config, name)
    config["active_profile"] = name
    save_config(config)
    click.echo(f"Active profile: {name}")


@profile.command("rename")
@click.argument("old")
@click.argument("new")
def rename(old: str, new: str) -> None:
    """Rename profile OLD to NEW."""
    config = load_config()
    entry = _get(config, old)
    if new in config["profiles"]:
        raise click.BadParameter(f"profile {new!r} exists", param_hint="'NEW'")
    if entry.get("token_keyring"):
        keyring = _keyring()
        token = keyring.get_password(KEYRING_SERVICE, old)
        if token is not None:
            keyring.set_password(KEYRING_SERVICE, new, token)
            keyring.delete_password(KEYRING_SERVICE, old)
    config["profiles"][new] = config["profiles"].pop(old)
    if config.get("active_profile") == old:
        config["active_profile"] = new
    save_config(config)
    click.echo(f"Renamed profile {old!r} to {new!r}")


@profile.command("delete")
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="do not ask for confirmation")
def delete(name: str, yes: bool) -> None:
    """Delete profile NAME (and its keyring token)."""
    config = load_config()
    entry = _get(config, name)
    if not yes:
        click.confirm(f"Delete profile {name!r}?", abort=True)
    if entry.get("token_keyring"):
        keyring = _keyring()
        if keyring.get_password(KEYRING_SERVICE, name) is not None:
            keyring.delete_password(KEYRING_SERVICE, name)
    del config["profiles"][name]
    if config.get("active_profile") == name:
        config["active_profile"] = None
    save_config(config)
    click.echo(f"Deleted profile {name!r}")


def register(cli: click.Group) -> None:
    cli.add_command(profile)


__all__ = ["profile", "register", "config_path"]
