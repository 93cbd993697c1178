"""``huedb plugins [--all] [--kind K]``: JSON rows of name, kind, distribution, version, error,
and the plugin's extra with whether its packages are installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import huedb
from huedb.cli import main
from huedb.embedding_functions import EmbeddingFunction
from huedb.registry import KINDS, register_embedding_function

ROW_KEYS = {"name", "kind", "plugin", "distribution", "version", "error", "extra", "installed"}
BUILTINS = {
    ("index_segment", "hnswlib"),
    ("index_segment", "annoy"),
    ("index_segment", "exact"),
    ("embedding_function", "default"),
    ("embedding_function", "onnx_mini_lm_l6_v2"),
    ("embedding_function", "openai"),
    ("embedding_function", "cohere"),
    ("data_loader", "image"),
}


def run_cli(*args: str, env: dict[str, str] | None = None, pythonpath: Path | None = None) -> tuple[int, str, str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("HUEDB_LOAD_PLUGINS", "HUEDB_STRICT_PLUGINS")}
    full_env.update(env or {})
    if pythonpath is not None:
        full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), full_env.get("PYTHONPATH")]))
    out = subprocess.run(
        [sys.executable, "-m", "huedb.cli", "plugins", *args], capture_output=True, text=True, env=full_env, timeout=120
    )
    return out.returncode, out.stdout, out.stderr


def rows_of(stdout: str) -> list[dict[str, Any]]:
    rows = json.loads(stdout)
    assert isinstance(rows, list)
    for row in rows:
        assert set(row) == ROW_KEYS
    return rows


@pytest.fixture(scope="module")
def fake_site(tmp_path_factory) -> Path:
    """A sys.path entry holding an installed-looking distribution with one index segment plugin."""
    root = tmp_path_factory.mktemp("cli_site")
    info = root / "cli_fake_plugin-2.5.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: cli-fake-plugin\nVersion: 2.5.0\n")
    (info / "entry_points.txt").write_text("[huedb]\ncli_fake = cli_fake_plugin_mod\n")
    (root / "cli_fake_plugin_mod.py").write_text(
        textwrap.dedent(
            """
            from huedb.hookspecs import hookimpl

            class CliFakeIndex:
                name = "cli_fake_index"

            class CliFakeLoader:
                name = "cli_fake_loader"

            @hookimpl
            def register_index_segments(register):
                register(CliFakeIndex)

            @hookimpl
            def register_data_loaders(register):
                register(CliFakeLoader)
            """
        )
    )
    return root


def test_default_lists_third_party_plugins_only(fake_site):
    rc, out, err = run_cli(pythonpath=fake_site)
    assert rc == 0, err
    rows = rows_of(out)
    assert {
        "name": "cli_fake_index",
        "kind": "index_segment",
        "plugin": "cli_fake",
        "distribution": "cli-fake-plugin",
        "version": "2.5.0",
        "error": None,
        "extra": None,
        "installed": None,
    } in rows
    assert any(r["name"] == "cli_fake_loader" and r["kind"] == "data_loader" for r in rows)
    assert not [r for r in rows if r["distribution"] == "huedb" and r["error"] is None]


def test_all_includes_builtins_with_their_version(fake_site):
    rc, out, err = run_cli("--all", pythonpath=fake_site)
    assert rc == 0, err
    rows = rows_of(out)
    by_key = {(r["kind"], r["name"]): r for r in rows}
    assert BUILTINS <= set(by_key)
    for key in BUILTINS:
        assert by_key[key]["distribution"] == "huedb"
        assert by_key[key]["version"] == huedb.__version__
        assert by_key[key]["error"] is None
    assert ("index_segment", "cli_fake_index") in by_key
    assert rows == sorted(rows, key=lambda r: (r["kind"] or "", r["name"]))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_kind_filters(kind, fake_site, fresh_registry, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(fake_site))  # before the fresh registry's (lazy) discovery
    assert main(["plugins", "--all", "--kind", kind]) == 0
    rows = rows_of(capsys.readouterr().out)
    assert rows, f"no built-in or fake plugin of kind {kind}"
    assert {r["kind"] for r in rows} == {kind}


def test_embedding_functions_list_their_extra_and_whether_it_is_installed(fake_site):
    rc, out, err = run_cli("--all", "--kind", "embedding_function")
    assert rc == 0, err
    by_name = {r["name"]: r for r in rows_of(out)}
    assert by_name["default"]["extra"] is None and by_name["default"]["installed"] is None  # needs no extra
    assert by_name["openai"]["extra"] == "openai" and by_name["openai"]["installed"] is True  # [test] installs it
    assert by_name["amazon_bedrock"]["extra"] == "bedrock" and by_name["google_vertex"]["extra"] == "vertex"
    assert all(isinstance(r["installed"], bool) for r in by_name.values() if r["extra"])


def test_installed_reads_the_extras_requirements_from_package_metadata(tmp_path, monkeypatch):
    from huedb.plugin_report import _extra_installed

    info = tmp_path / "cli_extras-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: cli-extras\nVersion: 1.0\n"
        'Requires-Dist: numpy>=1; extra == "here"\n'
        'Requires-Dist: numpy; extra == "half"\n'
        'Requires-Dist: no-such-package-xyz>=2; extra == "half"\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    _extra_installed.cache_clear()
    try:
        assert _extra_installed("cli-extras", "here") is True
        assert _extra_installed("cli-extras", "half") is False
        assert _extra_installed("cli-extras", "none") is True  # an extra that requires nothing
        assert _extra_installed("no-such-distribution", "here") is None
    finally:
        _extra_installed.cache_clear()


def test_kind_without_all_hides_builtins(fake_site):
    rc, out, err = run_cli("--kind", "index_segment", pythonpath=fake_site)
    assert rc == 0, err
    names = {r["name"] for r in rows_of(out)}
    assert "cli_fake_index" in names
    assert not names & {"hnswlib", "annoy", "exact"}


def test_unknown_kind_is_a_usage_error():
    rc, out, err = run_cli("--kind", "vector_db")
    assert rc == 2
    assert "'vector_db' is not one of" in err and err.count("\n") == 1  # one line, no traceback
    assert "index_segment" in err  # lists the valid kinds


def test_a_failed_plugin_is_listed_with_its_error(tmp_path):
    info = tmp_path / "cli_broken-0.9.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: cli-broken\nVersion: 0.9\n")
    (info / "entry_points.txt").write_text("[huedb]\ncli_broken = cli_broken_mod\n")
    (tmp_path / "cli_broken_mod.py").write_text("raise ImportError('needs libfoo')\n")
    rc, out, err = run_cli(env={"HUEDB_LOAD_PLUGINS": "cli_broken,exact"}, pythonpath=tmp_path)
    assert rc == 0, err
    assert rows_of(out) == [
        {
            "name": "cli_broken",
            "kind": None,
            "plugin": "cli_broken",
            "distribution": "cli-broken",
            "version": "0.9",
            "error": "ImportError: needs libfoo",
            "extra": None,
            "installed": None,
        }
    ]
    rc, out, err = run_cli(
        env={"HUEDB_LOAD_PLUGINS": "cli_broken,exact", "HUEDB_STRICT_PLUGINS": "1"}, pythonpath=tmp_path
    )
    assert rc != 0
    assert "StrictPluginError" in err and "cli_broken" in err and "needs libfoo" in err


def test_load_plugins_empty_lists_nothing():
    rc, out, err = run_cli("--all", env={"HUEDB_LOAD_PLUGINS": ""})
    assert rc == 0, err
    assert rows_of(out) == []


def test_the_console_script_is_installed():
    script = Path(sys.executable).with_name("huedb")
    out = subprocess.run(
        [str(script), "plugins", "--all", "--kind", "index_segment"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert {"hnswlib", "annoy", "exact"} <= {r["name"] for r in rows_of(out.stdout)}


def test_runtime_registered_ef_is_listed(fresh_registry, capsys):
    @register_embedding_function
    class CliListedEF(EmbeddingFunction):
        def __call__(self, input):
            return [[1.0] for _ in input]

        @staticmethod
        def name() -> str:
            return "cli_listed_ef"

        def get_config(self):
            return {}

    plugin = fresh_registry.registrations()["embedding_function"]["cli_listed_ef"].plugin
    try:
        assert main(["plugins", "--kind", "embedding_function"]) == 0
        rows = rows_of(capsys.readouterr().out)
        assert {
            "name": "cli_listed_ef",
            "kind": "embedding_function",
            "plugin": plugin,
            "distribution": None,
            "version": None,
            "error": None,
            "extra": None,
            "installed": None,
        } in rows
    finally:
        fresh_registry.unregister_plugin(plugin)
