"""``huedb db create|list|delete`` and ``huedb tenant create|list``, on a path or a server."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from huedb.cli.common import Target, target_options


@click.group()
def db() -> None:
    """Create, list and delete databases of a tenant."""


@db.command("create")
@click.argument("name")
@target_options(must_exist=False)
def db_create(target: Target, name: str) -> None:
    """Create database NAME (in --tenant)."""
    target.admin().create_database(name, tenant=target.tenant)
    click.echo(f"Created database {name!r} in tenant {target.tenant!r} at {target.describe()}")


@db.command("list")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@target_options()
def db_list(target: Target, as_json: bool) -> None:
    """List the databases of --tenant."""
    rows = target.admin().list_databases(tenant=target.tenant)
    if as_json:
        import json

        click.echo(json.dumps([{"name": r["name"], "tenant": r["tenant"]} for r in rows], indent=2))
        return
    table = Table("database", "tenant", title=f"{target.describe()}")
    for r in rows:
        table.add_row(r["name"], r["tenant"])
    Console().print(table)


@db.command("delete")
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="do not ask for confirmation")
@target_options()
def db_delete(target: Target, name: str, yes: bool) -> None:
    """Delete database NAME and every collection in it."""
    admin = target.admin()
    admin.get_database(name, tenant=target.tenant)  # NotFoundError before asking
    if not yes:
        click.confirm(f"Delete database {name!r} of tenant {target.tenant!r} and all its collections?", abort=True)
    admin.delete_database(name, tenant=target.tenant)
    click.echo(f"Deleted database {name!r}")


@click.group()
def tenant() -> None:
    """Create and list tenants."""


@tenant.command("create")
@click.argument("name")
@target_options(must_exist=False)
def tenant_create(target: Target, name: str) -> None:
    """Create tenant NAME (with no databases: add one with `huedb db create`)."""
    target.admin().create_tenant(name)
    click.echo(f"Created tenant {name!r} at {target.describe()}")


@tenant.command("list")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@target_options()
def tenant_list(target: Target, as_json: bool) -> None:
    """List tenants."""
    rows = target.admin().list_tenants()
    if as_json:
        import json

        click.echo(json.dumps([r["name"] for r in rows]))
        return
    table = Table("tenant", title=target.describe())
    for r in rows:
        table.add_row(r["name"])
    Console().print(table)


def register(cli: click.Group) -> None:
    cli.add_command(db)
    cli.add_command(tenant)
