"""``huedb doctor``: checks the installation (and a database with --path) and reports.

Exit code 1 when a check failed (a warning alone keeps 0). ``--json`` prints the same
checks as JSON: a list of {"check", "status" (ok|warn|fail), "detail"}."""

from __future__ import annotations

import json
import platform
import sqlite3
from pathlib import Path
from typing import Any

import click

import huedb
from huedb.cli.common import CHROMA_DB_FILE, HUEDB_DB_FILE, dir_size, human_bytes


def _check(name: str, status: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"check": name, "status": status, "detail": detail, **extra}


def _versions() -> list[dict[str, Any]]:
    out = [
        _check("huedb", "ok", huedb.__version__),
        _check(
            "python",
            "ok" if tuple(map(int, platform.python_version_tuple()[:2])) >= (3, 10) else "fail",
            platform.python_version(),
        ),
        _check("sqlite", "ok" if sqlite3.sqlite_version_info >= (3, 35) else "fail", sqlite3.sqlite_version),
    ]
    for module in ("numpy", "onnxruntime"):
        try:
            mod = __import__(module)
            out.append(_check(module, "ok", getattr(mod, "__version__", "?")))
        except Exception as e:  # noqa: BLE001 - a broken install is what we report
            out.append(_check(module, "fail", f"{type(e).__name__}: {e}"))
    return out


def _plugins() -> list[dict[str, Any]]:
    from huedb.registry import get_registry

    try:
        rows = get_registry().describe(include_all=True)
    except Exception as e:  # noqa: BLE001
        return [_check("plugins", "fail", f"{type(e).__name__}: {e}")]
    out = []
    for r in rows:
        label = f"plugin {r['name']}" + (f" ({r['kind']})" if r["kind"] else "")
        if r["error"]:
            out.append(_check(label, "fail", r["error"], distribution=r["distribution"]))
        else:
            out.append(_check(label, "ok", f"{r['distribution'] or 'runtime'} {r['version'] or ''}".strip()))
    return out


def _default_ef() -> dict[str, Any]:
    """Embeds one sentence with the default EF: the model must be there, offline."""
    try:
        from huedb.utils.embedding_functions import DefaultEmbeddingFunction

        vectors = DefaultEmbeddingFunction()(["huedb doctor"])
        return _check(
            "default embedding model", "ok", f"all-MiniLM-L6-v2 present offline, {len(vectors[0])} dimensions"
        )
    except Exception as e:  # noqa: BLE001
        return _check("default embedding model", "fail", f"{type(e).__name__}: {e}")


def _chroma_dir(path: Path) -> dict[str, Any] | None:
    db = path / CHROMA_DB_FILE
    if not db.is_file():
        return None
    names: list[str] = []
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)  # read-only: never touch Chroma's file
        try:
            names = [r[0] for r in conn.execute("SELECT name FROM collections ORDER BY name")]
        finally:
            conn.close()
    except sqlite3.Error:
        pass
    detail = (
        f"a Chroma persist directory is here ({len(names)} collections: {', '.join(names) or 'none'}); huedb does not "
        f"read it in place: `huedb copy --all --from-chroma-dir {path} --to-path NEW_PATH`"
    )
    return _check("chroma directory", "warn", detail, collections=names)


def _database(path: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    chroma = _chroma_dir(path)
    if chroma:
        out.append(chroma)
    if not (path / HUEDB_DB_FILE).is_file():
        out.append(_check("database", "fail" if not chroma else "warn", f"no huedb database at {path}"))
        return out
    out.append(_check("database", "ok", f"{path}: {human_bytes(dir_size(path))}"))
    admin = huedb.AdminClient(
        huedb.Settings(is_persistent=True, persist_directory=str(path), anonymized_telemetry=False)
    )
    from huedb.engine import LocalAPI

    engine = LocalAPI(huedb.Settings(is_persistent=True, persist_directory=str(path), anonymized_telemetry=False))
    for tenant in admin.list_tenants():
        for database in admin.list_databases(tenant=tenant["name"]):
            client = huedb.PersistentClient(path=str(path), tenant=tenant["name"], database=database["name"])
            for col in client.list_collections():
                label = f"collection {tenant['name']}/{database['name']}/{col.name}"
                try:
                    count = col.count()
                except Exception as e:  # noqa: BLE001
                    out.append(_check(label, "fail", f"count failed: {type(e).__name__}: {e}"))
                    continue
                index = (col.configuration_json.get("index") or {}).get("name", "hnswlib")
                info = engine.index_state(str(col.id), tenant["name"], database["name"])
                state, files, size = info["state"], info["files"], info["bytes"]
                state = f"{state} ({info['detail']})"
                out.append(
                    _check(
                        label,
                        "ok",
                        f"{count} records, index {index} {state}, {len(files)} files, {human_bytes(size)}",
                        records=count,
                        index=index,
                        index_state=state,
                        files=files,
                        bytes=size,
                    )
                )
    engine.close()
    return out


def run_checks(path: str | None, check_model: bool = True) -> list[dict[str, Any]]:
    checks = _versions() + _plugins()
    if check_model:
        checks.append(_default_ef())
    if path is not None:
        checks += _database(Path(path).expanduser())
    return checks


_MARK = {"ok": "[green]ok[/]", "warn": "[yellow]warn[/]", "fail": "[red]FAIL[/]"}


@click.command()
@click.option("--path", default=None, help="also check the database at this path")
@click.option("--json", "as_json", is_flag=True, help="print the checks as JSON")
@click.option("--skip-model", is_flag=True, help="do not load the default embedding model")
def doctor(path: str | None, as_json: bool, skip_model: bool) -> int:
    """Check the installation and a database; exit 1 if something is broken."""
    checks = run_checks(path, check_model=not skip_model)
    failed = [c for c in checks if c["status"] == "fail"]
    if as_json:
        click.echo(json.dumps({"ok": not failed, "checks": checks}, indent=2))
    else:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        table = Table("check", "status", "detail")
        # Working plugins fold into one row; each broken one gets its own.
        ok_plugins = [c for c in checks if c["check"].startswith("plugin ") and c["status"] == "ok"]
        for c in checks:
            if c in ok_plugins:
                if c is ok_plugins[0]:
                    table.add_row("plugins", _MARK["ok"], f"{len(ok_plugins)} registrations load (huedb plugins --all)")
                continue
            table.add_row(escape(c["check"]), _MARK[c["status"]], escape(c["detail"]))
        Console().print(table)
        click.echo(f"{len(failed)} problem(s) found" if failed else "Everything looks fine")
    return 1 if failed else 0


def register(cli: click.Group) -> None:
    cli.add_command(doctor)
