"""Typed Settings (issue 10, item 10): strings and env vars are coerced as chromadb 1.5.9 coerces them.

Expectations observed on the real chromadb 1.5.9 ``Settings``:
- ``Settings(allow_reset=v).allow_reset`` is False for "false", "FALSE", "0", "no", "off"
  and True for "True", "1", "yes", "on"; ``"maybe"`` raises ``pydantic.ValidationError``
  (a ValueError) whose message names ``allow_reset``; the same for ``ALLOW_RESET=maybe``.
- ``CHROMA_SERVER_HTTP_PORT=8001`` gives the int 8001; ``=abc`` raises a ValidationError
  naming ``chroma_server_http_port``.
- ``CHROMA_SERVER_CORS_ALLOW_ORIGINS='["a","b"]'`` gives ["a", "b"].
- An unknown keyword is accepted silently. huedb warns instead (issue 10).
- ``CHROMA_SERVER_SSL_VERIFY=false`` stays the string "false" in chromadb, which httpx
  then takes for a CA-bundle path; huedb makes it False (issue 10).
"""

from __future__ import annotations

import warnings

import pytest
from pydantic import ValidationError

import huedb
from huedb.config import Settings
from huedb.errors import AuthorizationError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for var in (
        "ALLOW_RESET",
        "CHROMA_SERVER_SSL_VERIFY",
        "CHROMA_SERVER_HTTP_PORT",
        "CHROMA_SERVER_CORS_ALLOW_ORIGINS",
        "EMBEDDING_FUNCTION_ALLOWED_HOSTS",
        "HUEDB_EMBEDDING_FUNCTION_ALLOWED_HOSTS",
        "EMBEDDING_FUNCTION_ALLOWED_ENV_VARS",
        "HUEDB_EMBEDDING_FUNCTION_ALLOWED_ENV_VARS",
        "SQLITE_SYNCHRONOUS",
    ):
        monkeypatch.delenv(var, raising=False)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("false", False),
        ("FALSE", False),
        ("0", False),
        ("no", False),
        ("off", False),
        ("True", True),
        ("1", True),
        ("yes", True),
        ("on", True),
    ],
)
def test_bool_strings_are_coerced(raw, expected):
    assert Settings(allow_reset=raw).allow_reset is expected


@pytest.mark.parametrize("raw, expected", [("false", False), ("TRUE", True), ("0", False)])
def test_bool_env_vars_are_coerced(monkeypatch, raw, expected):
    monkeypatch.setenv("ALLOW_RESET", raw)
    assert Settings().allow_reset is expected


def test_allow_reset_string_false_does_not_wipe_data(tmp_path):
    client = huedb.PersistentClient(path=str(tmp_path / "db"), settings=Settings(allow_reset="false"))
    client.create_collection("keep", embedding_function=None)
    with pytest.raises(AuthorizationError):
        client.reset()
    assert [c.name for c in client.list_collections()] == ["keep"]
    client.close()


def test_bad_value_raises_a_value_error_naming_the_field(monkeypatch):
    with pytest.raises(ValidationError, match="allow_reset"):
        Settings(allow_reset="maybe")
    with pytest.raises(ValueError, match="chroma_server_http_port"):
        Settings(chroma_server_http_port="abc")
    monkeypatch.setenv("CHROMA_SERVER_HTTP_PORT", "abc")
    with pytest.raises(ValidationError, match="chroma_server_http_port"):
        Settings()
    monkeypatch.setenv("CHROMA_SERVER_HTTP_PORT", "8001")
    assert Settings().chroma_server_http_port == 8001


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("false", False),
        ("False", False),
        ("true", True),
        ("/etc/ssl/ca.pem", "/etc/ssl/ca.pem"),
    ],
)
def test_ssl_verify_env_is_bool_or_ca_path(monkeypatch, raw, expected):
    monkeypatch.setenv("CHROMA_SERVER_SSL_VERIFY", raw)
    assert Settings().chroma_server_ssl_verify == expected
    assert type(Settings().chroma_server_ssl_verify) is type(expected)


def test_ssl_verify_keyword_and_default():
    assert Settings().chroma_server_ssl_verify is None
    assert Settings(chroma_server_ssl_verify=False).chroma_server_ssl_verify is False
    assert Settings(chroma_server_ssl_verify="false").chroma_server_ssl_verify is False


def test_unknown_setting_warns_and_names_it():
    with pytest.warns(UserWarning, match=r"'allow_rest'.*ignored"):
        s = Settings(allow_rest=True)
    assert s.allow_reset is False
    assert s.allow_rest is True  # still readable, for a plugin's own setting


def test_chroma_only_settings_and_known_ones_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Settings(chroma_sysdb_impl="x", migrations="none", allow_reset=True, is_persistent=False)


def test_lists_from_env_json_or_comma_separated(monkeypatch):
    monkeypatch.setenv("CHROMA_SERVER_CORS_ALLOW_ORIGINS", '["https://a", "https://b"]')
    assert Settings().chroma_server_cors_allow_origins == ["https://a", "https://b"]
    monkeypatch.setenv("CHROMA_SERVER_CORS_ALLOW_ORIGINS", "https://a, https://b")
    assert Settings().chroma_server_cors_allow_origins == ["https://a", "https://b"]


def test_embedding_function_allow_lists(monkeypatch):
    s = Settings()
    assert s.embedding_function_allowed_hosts == [] and s.embedding_function_allowed_env_vars == []
    monkeypatch.setenv("EMBEDDING_FUNCTION_ALLOWED_HOSTS", "plain.example")
    assert Settings().embedding_function_allowed_hosts == ["plain.example"]
    monkeypatch.setenv("HUEDB_EMBEDDING_FUNCTION_ALLOWED_HOSTS", "a.example, b.example")
    monkeypatch.setenv("HUEDB_EMBEDDING_FUNCTION_ALLOWED_ENV_VARS", '["MY_KEY"]')
    s = Settings()
    assert s.embedding_function_allowed_hosts == ["a.example", "b.example"]  # HUEDB_ wins
    assert s.embedding_function_allowed_env_vars == ["MY_KEY"]
    assert Settings(embedding_function_allowed_hosts=["k.example"]).embedding_function_allowed_hosts == ["k.example"]


def test_sqlite_synchronous_is_validated():
    assert Settings(sqlite_synchronous="normal").sqlite_synchronous == "NORMAL"
    with pytest.raises(ValidationError, match="sqlite_synchronous"):
        Settings(sqlite_synchronous="sometimes")


def test_copy_dict_item_access_and_assignment():
    s = Settings(allow_reset=True, chroma_server_host="h")
    c = s.copy(chroma_server_http_port="9000")
    assert (c.allow_reset, c.chroma_server_host, c.chroma_server_http_port) == (True, "h", 9000)
    assert s.chroma_server_http_port is None  # the original is unchanged
    assert Settings(**s.dict()) == s
    assert s["allow_reset"] is True
    s.allow_reset = "false"  # assignment is validated too
    assert s.allow_reset is False


def test_repr_never_shows_a_credential():
    text = repr(Settings(chroma_client_auth_credentials="hunter2", allow_reset=True))
    assert "hunter2" not in text and "allow_reset=True" in text


# -- the server's config.yaml and env vars go through the same typed Settings ----------------
def _server_config(tmp_path, text: str, environ=None):
    from huedb.server.config import load_config

    cfg_file = tmp_path / "config.yaml"
    cfg_file.write_text(f"path: {tmp_path / 'data'}\n" + text)
    return load_config(str(cfg_file), environ=environ or {})


def test_quoted_false_in_server_yaml_keeps_reset_disabled(tmp_path):
    from starlette.testclient import TestClient

    from huedb.server.app import create_app

    config = _server_config(tmp_path, 'allow_reset: "false"\nlog_json: "false"\n')
    assert config.log_json is False
    with TestClient(create_app(config)) as client:
        base = "/api/v2/tenants/default_tenant/databases/default_database/collections"
        assert client.post(base, json={"name": "keep"}).status_code == 200
        assert client.post("/api/v2/reset").status_code >= 400
        assert [c["name"] for c in client.get(base).json()] == ["keep"]


def test_bad_setting_in_server_yaml_is_a_config_error_naming_it(tmp_path, capsys):
    from huedb.errors import InvalidArgumentError
    from huedb.server.run import main

    with pytest.raises(InvalidArgumentError, match="allow_reset"):
        _server_config(tmp_path, "allow_reset: maybe\n")
    with pytest.raises(InvalidArgumentError, match="log_json"):
        _server_config(tmp_path, "log_json: sometimes\n")
    with pytest.raises(InvalidArgumentError, match="port"):
        _server_config(tmp_path, "", environ={"HUEDB_PORT": "eighty"})
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"path: {tmp_path / 'd'}\nsqlite_synchronous: sometimes\n")
    assert main(["--config", str(bad)]) == 2
    assert "sqlite_synchronous" in capsys.readouterr().err


def test_unknown_key_in_server_yaml_warns(tmp_path):
    with pytest.warns(UserWarning, match="'allow_rest'"):
        _server_config(tmp_path, "allow_rest: true\n")


def test_server_yaml_never_echoes_a_credential(tmp_path):
    from huedb.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="chroma_server_authn_credentials") as info:
        _server_config(tmp_path, "chroma_server_authn_credentials: [hunter2]\n")
    assert "hunter2" not in str(info.value)
