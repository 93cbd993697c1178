"""The ``huedb`` group: --version, one-line errors, `plugins | head`, vacuum (+ `utils
vacuum`), `run` pass-through, and the register_commands(cli) plugin hook."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import click
import httpx
import numpy as np
import pytest
from click.testing import CliRunner

import huedb
from huedb.cli import build_cli, main
from huedb.hookspecs import hookimpl
from huedb.registry import Registry

HUEDB = str(Path(sys.executable).with_name("huedb"))


def sh(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([HUEDB, *args], capture_output=True, text=True, timeout=120, **kw)


def invoke(*args: str):
    return CliRunner().invoke(build_cli(), list(args))


def test_version_in_process_and_as_a_binary():
    result = invoke("--version")
    assert result.exit_code == 0 and result.output.strip() == f"huedb {huedb.__version__}"
    out = sh("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"huedb {huedb.__version__}"


@pytest.mark.parametrize(
    "args",
    [
        ["no-such-command"],
        ["plugins", "--kind", "vector_db"],
        ["vacuum"],
        ["export", "c"],
        ["copy", "--all"],
        ["db", "create"],
        ["profile", "use"],
        ["install", "--dir"],
        ["doctor", "--bogus"],
        ["import", "/no/such/file.jsonl", "--path", "/tmp/x"],
    ],
)
def test_bad_arguments_are_one_line_exit_2(args: list[str]):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output


def test_bad_arguments_from_the_binary_too():
    out = sh("plugins", "--kind", "vector_db")
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "'vector_db' is not one of" in out.stderr and "Traceback" not in out.stderr


def test_plugins_piped_into_head_prints_no_broken_pipe():
    # Many rows (every built-in, --all), closed after one line.
    out = subprocess.run(
        f"'{HUEDB}' plugins --all | head -n 1", shell=True, capture_output=True, text=True, timeout=120
    )
    assert out.stdout.strip() == "["
    assert (
        "BrokenPipeError" not in out.stderr and "Traceback" not in out.stderr and "Exception ignored" not in out.stderr
    )


def test_plugins_broken_pipe_in_process(monkeypatch, capsys):
    def closed(*a, **k):
        raise BrokenPipeError

    monkeypatch.setattr(click, "echo", closed)
    assert main(["plugins"]) == 141  # the exit status of a process killed by SIGPIPE, no traceback
    assert "Traceback" not in capsys.readouterr().err


def _db(path: Path) -> None:
    client = huedb.PersistentClient(path=str(path))
    col = client.create_collection("vac", embedding_function=None)
    col.add(
        ids=[str(i) for i in range(500)], embeddings=np.random.default_rng(0).normal(size=(500, 16)).astype(np.float32)
    )
    col.delete(ids=[str(i) for i in range(400)])
    client.close()


def test_vacuum_refuses_a_path_without_a_database(tmp_path):
    typo = tmp_path / "typo"
    result = invoke("vacuum", "--path", str(typo))
    assert result.exit_code == 2 and "no huedb database at" in result.output
    assert not typo.exists()  # nothing was created
    out = sh("vacuum", "--path", str(typo))
    assert out.returncode == 2 and not typo.exists() and "Vacuumed" not in out.stdout


def test_vacuum_a_chroma_directory_points_at_the_migration(tmp_path):
    (tmp_path / "chroma.sqlite3").write_bytes(b"")
    result = invoke("utils", "vacuum", "--path", str(tmp_path))
    assert result.exit_code == 2 and "huedb copy --all --from-chroma-dir" in result.output


def test_vacuum_reports_bytes_and_keeps_the_records(tmp_path):
    _db(tmp_path / "db")
    result = invoke("vacuum", "--path", str(tmp_path / "db"))
    assert result.exit_code == 0, result.output
    assert "reclaimed" in result.output and "->" in result.output
    assert huedb.PersistentClient(path=str(tmp_path / "db")).get_collection("vac").count() == 100


def test_utils_vacuum_alias_as_a_binary(tmp_path):
    _db(tmp_path / "db")
    out = sh("utils", "vacuum", "--path", str(tmp_path / "db"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"Vacuumed {tmp_path / 'db'}") and "reclaimed" in out.stdout


def test_run_passes_its_arguments_through():
    result = invoke("run", "--port", "not-a-port")
    assert result.exit_code == 2
    out = sh("run", "--help")
    assert out.returncode == 0 and "--config" in out.stdout and "--path" in out.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_serves_a_database(tmp_path):
    port = _free_port()
    proc = subprocess.Popen(
        [HUEDB, "run", "--path", str(tmp_path / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None, "server did not start"
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# -- register_commands ----------------------------------------------------------------------
def test_register_commands_hook_adds_a_command(tmp_path, monkeypatch):
    """A plugin adds a command through register_commands(cli); it runs like huedb's own."""

    class HelloPlugin:
        @hookimpl
        def register_commands(self, cli):
            @cli.command()
            @click.argument("who")
            def hello(who: str) -> None:
                """Say hello."""
                click.echo(f"hello {who}")

    registry = Registry(load_entrypoints=False)
    registry.register_plugin(HelloPlugin(), name="hello_plugin")
    group = click.Group("huedb-test")
    registry.register_commands(group)
    result = CliRunner().invoke(group, ["hello", "world"])
    assert result.exit_code == 0 and result.output == "hello world\n"


def test_register_commands_from_an_installed_plugin_as_a_binary(tmp_path):
    """An entry-point plugin that only adds a command is loaded, runs, and is not flagged
    as 'registered nothing'; one whose hook raises is recorded and the CLI still works."""
    info = tmp_path / "cli_cmd_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: cli-cmd-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[huedb]\ncli_cmd = cli_cmd_mod\ncli_cmd_bad = cli_cmd_bad_mod\n")
    (tmp_path / "cli_cmd_mod.py").write_text(
        textwrap.dedent(
            """
        import click
        from huedb.hookspecs import hookimpl

        @hookimpl
        def register_commands(cli):
            @cli.command()
            def shout():
                click.echo("SHOUT")
        """
        )
    )
    (tmp_path / "cli_cmd_bad_mod.py").write_text(
        textwrap.dedent(
            """
        from huedb.hookspecs import hookimpl

        @hookimpl
        def register_commands(cli):
            raise RuntimeError("cannot add my command")
        """
        )
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])),
        "HUEDB_LOAD_PLUGINS": "cli_cmd,cli_cmd_bad",
    }
    out = sh("shout", env=env)
    assert out.returncode == 0 and out.stdout == "SHOUT\n", out.stderr
    out = sh("plugins", env=env)
    import json

    rows = json.loads(out.stdout)
    assert [r["name"] for r in rows] == ["cli_cmd_bad"]
    assert rows[0]["error"] == "RuntimeError: cannot add my command"


def test_register_commands_strict_raises(monkeypatch):
    class Bad:
        @hookimpl
        def register_commands(self, cli):
            raise RuntimeError("boom")

    registry = Registry(load_entrypoints=False)
    registry.register_plugin(Bad(), name="bad_runtime")
    with pytest.raises(RuntimeError, match="boom"):  # a runtime registration fails loudly
        registry.register_commands(click.Group("g"))


def test_python_dash_m_huedb_cli():
    out = subprocess.run([sys.executable, "-m", "huedb.cli", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == f"huedb {huedb.__version__}"
