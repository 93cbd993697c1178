"""The ``huedb`` command line (Click): the group, its error handling, and the small commands
(``plugins``, ``run``, ``bench``, ``vacuum``). Bigger commands live in sibling modules."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

import huedb
from huedb.cli.common import check_database_dir, dir_size, human_bytes
from huedb.registry import KINDS, get_registry

#: with HUEDB_DEBUG=1 unexpected errors show their traceback
DEBUG_ENV = "HUEDB_DEBUG"


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


class HueGroup(click.Group):
    """A Click group whose errors are one line: usage errors exit 2, others 1.

    Click's own format is a usage block plus an error; scripts and humans both want the
    single line that says what was wrong. ``--help`` still shows the full usage."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            rv = super().main(args=args, prog_name=prog_name or "huedb", standalone_mode=False, **extra)
        except click.UsageError as e:
            hint = f" (see `{e.ctx.command_path} --help`)" if e.ctx is not None else ""
            click.echo(f"Error: {_one_line(e.format_message())}{hint}", err=True)
            return self._exit(2, standalone_mode)
        except click.ClickException as e:
            click.echo(f"Error: {_one_line(e.format_message())}", err=True)
            return self._exit(e.exit_code, standalone_mode)
        except click.exceptions.Abort:
            click.echo("Aborted.", err=True)
            return self._exit(1, standalone_mode)
        except click.exceptions.Exit as e:
            return self._exit(e.exit_code, standalone_mode)
        except BrokenPipeError:
            raise
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            return self._exit(130, standalone_mode)
        except Exception as e:  # noqa: BLE001 - a CLI reports, it does not dump a stack
            if os.environ.get(DEBUG_ENV):
                raise
            click.echo(f"Error: {type(e).__name__}: {_one_line(str(e))}", err=True)
            return self._exit(1, standalone_mode)
        if isinstance(rv, int) and rv:
            return self._exit(rv, standalone_mode)
        return self._exit(0, standalone_mode) if standalone_mode else rv

    @staticmethod
    def _exit(code: int, standalone_mode: bool) -> int:
        if standalone_mode:
            sys.exit(code)
        return code


@click.group(cls=HueGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(huedb.__version__, "--version", "-V", prog_name="huedb", message="%(prog)s %(version)s")
def cli() -> None:
    """huedb: a vector database that speaks Chroma's API."""


# -- plugins -----------------------------------------------------------------------------
@cli.command()
@click.option("--all", "include_all", is_flag=True, help="include huedb's built-in plugins")
@click.option("--kind", type=click.Choice(sorted(KINDS)), default=None, help="only plugins of this kind")
def plugins(include_all: bool, kind: str | None) -> None:
    """List installed plugins as JSON."""
    rows = get_registry().describe(include_all=include_all, kind=kind)
    click.echo(json.dumps(rows, indent=2))


# -- run / bench: they own their arguments -------------------------------------------------
_PASSTHROUGH = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


@cli.command(context_settings=_PASSTHROUGH, add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run(args: list[str]) -> int:
    """Serve a database over Chroma's REST API (needs the [server] extra; see `huedb run --help`)."""
    try:
        from huedb.server.run import main as run_main
    except ImportError as e:
        raise click.ClickException(f"the server needs the [server] extra: pip install 'huedb[server]' ({e})") from None
    try:
        return int(run_main(list(args)) or 0)
    except SystemExit as e:  # argparse inside `run` exits 2 on bad arguments, 0 on --help
        return int(e.code or 0) if not isinstance(e.code, str) else 2


@cli.command(context_settings=_PASSTHROUGH, add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench(args: list[str]) -> int:
    """Run the benchmark harness (from a source checkout; see `huedb bench --help`)."""
    try:
        from bench.__main__ import main as bench_main
    except ImportError:
        raise click.ClickException(
            "the benchmark harness lives in the source tree: run `python -m bench` from a checkout"
        ) from None
    try:
        return int(bench_main(list(args)) or 0)
    except SystemExit as e:
        return int(e.code or 0) if not isinstance(e.code, str) else 2


# -- vacuum (and its `utils vacuum` alias, as in Chroma's docs) ----------------------------
@click.command()
@click.option("--path", required=True, type=str, help="the database directory (a PersistentClient path)")
def vacuum(path: str) -> None:
    """Compact SQLite and rewrite index files without deleted vectors."""
    from rich.console import Console

    check_database_dir(path)
    before = dir_size(Path(path))
    console = Console(stderr=True)
    started = time.monotonic()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(f"Vacuuming {path} ({human_bytes(before)})", total=None)

        def step(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=what)

        client = huedb.PersistentClient(path=path)
        try:
            client._vacuum(progress=step)
        finally:
            client.close()
    after = dir_size(Path(path))
    click.echo(
        f"Vacuumed {path} in {time.monotonic() - started:.1f}s: {human_bytes(before)} -> {human_bytes(after)} "
        f"({human_bytes(max(before - after, 0))} reclaimed)"
    )


cli.add_command(vacuum)


@cli.group()
def utils() -> None:
    """Maintenance commands (as in Chroma's CLI)."""


utils.add_command(vacuum)


def _register_builtin_commands() -> None:
    from huedb.cli import admin, browse, copy, doctor, exchange, install, profile

    for module in (admin, browse, copy, doctor, exchange, install, profile):
        module.register(cli)


_registered = False


def build_cli() -> click.Group:
    """The group with huedb's own commands and every plugin's (``register_commands``)."""
    global _registered
    if not _registered:
        _registered = True
        _register_builtin_commands()
        get_registry().register_commands(cli)
    return cli


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the exit code."""
    group = build_cli()
    try:
        code = group.main(args=list(sys.argv[1:] if argv is None else argv), prog_name="huedb", standalone_mode=False)
        sys.stdout.flush()
    except BrokenPipeError:
        # `huedb plugins | head`: the reader left. Point stdout at /dev/null so the final
        # flush at exit cannot raise again, and exit as a SIGPIPE'd process does.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (AttributeError, OSError, ValueError):  # stdout is not a file (captured, in tests)
            pass
        return 141
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
