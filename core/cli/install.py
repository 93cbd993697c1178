"""``huedb install --list`` / ``huedb install APP``: copy a sample app shipped in the package
into a new folder. Every app runs offline with a plain ``pip install huedb``."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import click

APPS_PACKAGE = "huedb.cli.apps"
#: files that are never copied (caches of a developer's own runs of the app)
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "data", "images")


def apps_root() -> Path:
    return Path(str(resources.files(APPS_PACKAGE)))


def list_apps() -> dict[str, dict[str, str]]:
    out = {}
    for d in sorted(apps_root().iterdir()):
        manifest = d / "app.json"
        if d.is_dir() and manifest.is_file():
            out[d.name] = json.loads(manifest.read_text())
    return out


@click.command()
@click.argument("app", required=False)
@click.option("--list", "show_list", is_flag=True, help="list the sample apps")
@click.option("--dir", "dest", type=click.Path(file_okay=False), default=None, help="folder to create (default: ./APP)")
def install(app: str | None, show_list: bool, dest: str | None) -> None:
    """Copy sample app APP into a new folder (see --list)."""
    apps = list_apps()
    if show_list or app is None:
        if app is None and not show_list:
            raise click.UsageError("name an app, or --list to see them")
        from rich.console import Console
        from rich.table import Table

        table = Table("app", "description", "run")
        for name, info in apps.items():
            table.add_row(name, info["description"], info["run"])
        Console().print(table)
        return
    if app not in apps:
        raise click.BadParameter(f"no sample app {app!r}; the apps are {', '.join(apps)}", param_hint="'APP'")
    target = Path(dest or app)
    if target.exists():
        raise click.BadParameter(f"{target} exists; choose a new folder with --dir", param_hint="'--dir'")
    shutil.copytree(apps_root() / app, target, ignore=_IGNORE)
    click.echo(f"Installed {app} into {target}\nRun it: cd {target} && {apps[app]['run']}")


def register(cli: click.Group) -> None:
    cli.add_command(install)
