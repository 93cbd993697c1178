"""``huedb db``, ``huedb tenant``, ``huedb profile``, ``huedb doctor`` and ``huedb install``."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import huedb
from huedb.cli import build_cli

HUEDB = str(Path(sys.executable).with_name("huedb"))


@pytest.fixture(autouse=True)
def user_config(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("HUEDB_CONFIG_DIR", str(tmp_path / "cfg"))
    return tmp_path / "cfg"


def invoke(*args: str, input: str = None):
    return CliRunner().invoke(build_cli(), list(args), input=input)


def sh(*args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([HUEDB, *args], capture_output=True, text=True, timeout=300, env=env)


# -- db / tenant ------------------------------------------------------------------------------
def test_db_and_tenant_on_a_path(tmp_path):
    p = str(tmp_path / "db")
    assert invoke("db", "list", "--path", p).exit_code == 2  # no database there yet
    r = invoke("tenant", "create", "acme", "--path", p)
    assert r.exit_code == 0, r.output
    assert invoke("db", "create", "sales", "--path", p, "--tenant", "acme").exit_code == 0
    r = invoke("db", "list", "--path", p, "--tenant", "acme", "--json")
    assert json.loads(r.output) == [{"name": "sales", "tenant": "acme"}]
    assert json.loads(invoke("tenant", "list", "--path", p, "--json").output) == ["default_tenant", "acme"]
    r = invoke("db", "delete", "sales", "--path", p, "--tenant", "acme", input="n\n")
    assert r.exit_code == 1 and "Aborted" in r.output
    assert json.loads(invoke("db", "list", "--path", p, "--tenant", "acme", "--json").output) != []
    r = invoke("db", "delete", "sales", "--path", p, "--tenant", "acme", input="y\n")
    assert r.exit_code == 0 and "Deleted database 'sales'" in r.output
    r = invoke("db", "delete", "sales", "--path", p, "--tenant", "acme", "--yes")
    assert r.exit_code == 1 and len(r.output.strip().splitlines()) == 1  # not found, one line


def test_db_against_a_server_and_a_profile_as_binaries(huedb_run_port, user_config):
    out = sh("db", "create", "remote_db", "--host", "127.0.0.1", "--port", str(huedb_run_port))
    assert out.returncode == 0, out.stderr
    env = {**os.environ, "HUEDB_CONFIG_DIR": str(user_config), "MY_TOKEN": "unused-by-this-server"}
    port = str(huedb_run_port)
    out = sh("profile", "add", "local", "--host", "127.0.0.1", "--port", port, "--token-env", "MY_TOKEN", env=env)
    assert out.returncode == 0, out.stderr
    out = sh("db", "list", "--json", env=env)  # no --path/--host: the active profile
    assert out.returncode == 0, out.stderr
    assert {"name": "remote_db", "tenant": "default_tenant"} in json.loads(out.stdout)
    out = sh("tenant", "list", "--profile", "local", env=env)
    assert out.returncode == 1 and "not part of the REST API" in out.stderr  # Chroma's API has no tenant listing


# -- profile ------------------------------------------------------------------------------------
def test_profiles_lifecycle_and_file_mode(user_config, monkeypatch):
    r = invoke(
        "profile",
        "add",
        "staging",
        "--host",
        "stage.example",
        "--port",
        "8443",
        "--ssl",
        "--tenant",
        "t1",
        "--db",
        "d1",
        "--token-env",
        "STAGE_TOKEN",
    )
    assert r.exit_code == 0, r.output
    cfg = user_config / "config.json"
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    saved = json.loads(cfg.read_text())
    assert saved["active_profile"] == "staging"
    assert saved["profiles"]["staging"] == {
        "host": "stage.example",
        "port": 8443,
        "ssl": True,
        "tenant": "t1",
        "database": "d1",
        "token_env": "STAGE_TOKEN",
    }
    assert invoke("profile", "add", "staging").exit_code == 2  # exists
    assert invoke("profile", "add", "dev", "--port", "9000").exit_code == 0
    r = invoke("profile", "list")
    assert "staging" in r.output and "dev" in r.output and "$STAGE_TOKEN" in r.output
    assert invoke("profile", "use", "dev").exit_code == 0
    assert json.loads(invoke("profile", "show").output)["name"] == "dev"
    assert invoke("profile", "rename", "dev", "local").exit_code == 0
    shown = json.loads(invoke("profile", "show", "local").output)
    assert shown["active"] is True and shown["port"] == 9000
    assert invoke("profile", "delete", "local", "--yes").exit_code == 0
    assert json.loads(invoke("profile", "list", "--json").output)["active_profile"] is None
    assert invoke("profile", "use", "nope").exit_code == 2
    # a profile's token comes from its env var; unset, the command says so (one line)
    from huedb.cli.common import resolve_target

    monkeypatch.setenv("STAGE_TOKEN", "s3cret")
    target = resolve_target(None, None, None, False, "staging", None, None)
    assert (target.host, target.port, target.ssl, target.token, target.tenant, target.database) == (
        "stage.example",
        8443,
        True,
        "s3cret",
        "t1",
        "d1",
    )
    monkeypatch.delenv("STAGE_TOKEN")
    r = invoke("db", "list", "--profile", "staging")
    assert r.exit_code == 1 and "$STAGE_TOKEN, which is not set" in r.output


def test_keyring_profile_prompts_and_never_takes_the_token_as_an_argument(monkeypatch, user_config):
    store = {}

    class FakeKeyring:  # the system keyring is not available in CI
        @staticmethod
        def set_password(service, name, value):
            store[(service, name)] = value

        @staticmethod
        def get_password(service, name):
            return store.get((service, name))

        @staticmethod
        def delete_password(service, name):
            del store[(service, name)]

    monkeypatch.setitem(sys.modules, "keyring", FakeKeyring)
    r = invoke("profile", "add", "kr", "--token-keyring", input="tok-123\n")
    assert r.exit_code == 0 and "tok-123" not in (user_config / "config.json").read_text()
    assert store == {("huedb", "kr"): "tok-123"}
    assert invoke("profile", "rename", "kr", "kr2").exit_code == 0 and store == {("huedb", "kr2"): "tok-123"}
    assert invoke("profile", "delete", "kr2", "--yes").exit_code == 0 and store == {}
    assert invoke("profile", "add", "x", "--token-keyring", "--token-env", "V").exit_code == 2


def test_profile_as_a_binary(user_config):
    env = {**os.environ, "HUEDB_CONFIG_DIR": str(user_config)}
    assert sh("profile", "add", "p1", "--port", "8001", env=env).returncode == 0
    out = sh("profile", "show", "p1", env=env)
    assert out.returncode == 0 and json.loads(out.stdout)["port"] == 8001


# -- doctor -------------------------------------------------------------------------------------
def test_doctor_reports_versions_plugins_model_and_collections(tmp_path, monkeypatch):
    client = huedb.PersistentClient(path=str(tmp_path / "db"))
    col = client.create_collection("doc_me", embedding_function=None)
    col.add(ids=["a", "b"], embeddings=[[1.0, 2.0], [3.0, 4.0]])
    client.close()  # the index is persisted on close: doctor then sees its files
    monkeypatch.setenv("HUEDB_LOAD_PLUGINS", "exact,hnswlib,default")
    from huedb.registry import Registry, set_registry

    previous = set_registry(Registry())
    try:
        r = invoke("doctor", "--path", str(tmp_path / "db"), "--json")
    finally:
        set_registry(previous)
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    by = {c["check"]: c for c in report["checks"]}
    assert report["ok"] is True
    assert {"python", "sqlite", "numpy", "onnxruntime", "huedb"} <= set(by)
    assert (
        by["default embedding model"]["status"] == "ok" and "384 dimensions" in by["default embedding model"]["detail"]
    )
    assert by["plugin hnswlib (index_segment)"]["status"] == "ok"
    c = by["collection default_tenant/default_database/doc_me"]
    assert c["records"] == 2 and c["index"] == "hnswlib" and c["index_state"].startswith("fresh")
    assert c["bytes"] > 0 and c["files"]


def test_doctor_exits_1_on_a_broken_plugin_as_a_binary(tmp_path):
    (tmp_path / "broken_doc_mod.py").write_text("raise ImportError('needs libbar')\n")
    info = tmp_path / "broken_doc-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-doc\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[huedb]\nbroken_doc = broken_doc_mod\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "HUEDB_LOAD_PLUGINS": "broken_doc,exact"}
    out = sh("doctor", "--skip-model", env=env)
    assert out.returncode == 1 and "needs libbar" in out.stdout and "1 problem(s) found" in out.stdout
    out = sh("doctor", "--skip-model", "--path", str(tmp_path / "missing"), "--json", env=env)
    checks = {c["check"]: c for c in json.loads(out.stdout)["checks"]}
    assert out.returncode == 1 and checks["database"]["status"] == "fail"
    assert not (tmp_path / "missing").exists()


# -- install ------------------------------------------------------------------------------------
def test_install_list_and_bad_app():
    r = invoke("install", "--list")
    assert r.exit_code == 0 and "rag_starter" in r.output and "image_search" in r.output
    r = invoke("install", "nope")
    assert r.exit_code == 2 and "rag_starter" in r.output


def test_install_rag_starter_runs_offline(tmp_path):
    out = sh("install", "rag_starter", "--dir", str(tmp_path / "rag"))
    assert out.returncode == 0, out.stderr
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "no_proxy": "*",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
    }
    run = subprocess.run(
        [sys.executable, "app.py", "what does vacuum do?"],
        cwd=tmp_path / "rag",
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    assert "Indexed" in run.stdout and "[storage.md]" in run.stdout and "vacuum" in run.stdout
    assert invoke("install", "rag_starter", "--dir", str(tmp_path / "rag")).exit_code == 2  # exists


def test_install_image_search_runs_offline(tmp_path):
    r = invoke("install", "image_search", "--dir", str(tmp_path / "img"))
    assert r.exit_code == 0, r.output
    run = subprocess.run(
        [sys.executable, "app.py", "red"], cwd=tmp_path / "img", capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    top = [line.split("\t")[0] for line in run.stdout.splitlines()]
    assert set(top[:2]) == {"red_circle", "red_square"}
    by_image = subprocess.run(
        [sys.executable, "app.py", "--image", "images/blue_circle.png", "-k", "1"],
        cwd=tmp_path / "img",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert by_image.returncode == 0 and by_image.stdout.startswith("blue_circle\t"), by_image.stderr
