"""Clients: constructors, tenants/databases, settings, reset, close, sharing.

These tests build clients directly (they are about specific client kinds);
Collection scenarios use the shared ``client`` fixture elsewhere.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time

import pytest

import huedb
from huedb.config import Settings
from huedb.errors import AuthorizationError, NotFoundError


def _persistent(path, **kwargs):
    return huedb.PersistentClient(path=str(path), **kwargs)


def _admin(path):
    return huedb.AdminClient(Settings(is_persistent=True, persist_directory=str(path)))


# --- constructors -----------------------------------------------------------------


def test_ephemeral_client_works_and_writes_nothing_to_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    c = huedb.EphemeralClient()
    col = c.create_collection("eph", embedding_function=None)
    col.add(ids=["a"], embeddings=[[1.0, 2.0]])
    assert col.count() == 1
    assert os.listdir(tmp_path) == []


def test_persistent_client_reopen_sees_data(tmp_path):
    c = _persistent(tmp_path / "db")
    c.create_collection("keep", embedding_function=None).add(ids=["a", "b"], embeddings=[[1.0], [2.0]])
    c.close()
    c2 = _persistent(tmp_path / "db")
    assert c2.get_collection("keep").count() == 2
    c2.close()


def test_persistent_client_accepts_pathlib_path(tmp_path):
    c = huedb.PersistentClient(path=tmp_path / "p")
    c.create_collection("abc", embedding_function=None)
    assert [x.name for x in c.list_collections()] == ["abc"]
    c.close()


def test_client_with_settings_persistent(tmp_path):
    d = str(tmp_path / "viasettings")
    c = huedb.Client(Settings(is_persistent=True, persist_directory=d))
    c.create_collection("from-settings", embedding_function=None).add(ids=["x"], embeddings=[[0.5]])
    c.close()
    c2 = _persistent(d)
    assert c2.get_collection("from-settings").count() == 1
    c2.close()


def test_client_settings_readback(tmp_path):
    d = str(tmp_path / "rb")
    c = _persistent(d)
    s = c.get_settings()
    assert s.is_persistent is True
    assert s.persist_directory == d
    c.close()
    assert huedb.EphemeralClient().get_settings().is_persistent is False


def test_default_tenant_and_database(tmp_path):
    c = _persistent(tmp_path / "td")
    assert c.tenant == "default_tenant"
    assert c.database == "default_database"
    c.close()


# --- heartbeat / version ---------------------------------------------------------


def test_heartbeat_is_int_nanoseconds(tmp_path):
    c = _persistent(tmp_path / "hb")
    before = time.time_ns()
    hb = c.heartbeat()
    after = time.time_ns()
    assert type(hb) is int
    # Nanoseconds since the epoch: within a second of the local clock.
    assert before - 1_000_000_000 <= hb <= after + 1_000_000_000
    c.close()


def test_get_version_is_str(tmp_path):
    c = _persistent(tmp_path / "ver")
    v = c.get_version()
    assert isinstance(v, str) and v


# --- settings, env vars, configure ------------------------------------------------


def test_settings_defaults(monkeypatch):
    for var in ("ALLOW_RESET", "IS_PERSISTENT", "PERSIST_DIRECTORY", "ANONYMIZED_TELEMETRY"):
        monkeypatch.delenv(var, raising=False)
    s = Settings()
    assert s.allow_reset is False
    assert s.is_persistent is False
    assert s.persist_directory == "./chroma"
    assert s.anonymized_telemetry is True


def test_settings_explicit_values():
    s = Settings(allow_reset=True, is_persistent=True, persist_directory="/x/y", anonymized_telemetry=False)
    assert (s.allow_reset, s.is_persistent, s.persist_directory, s.anonymized_telemetry) == (True, True, "/x/y", False)


def test_settings_from_env_vars(monkeypatch, tmp_path):
    # chromadb reads the upper-cased field name (ALLOW_RESET, not CHROMA_ALLOW_RESET).
    monkeypatch.setenv("ALLOW_RESET", "TRUE")
    monkeypatch.setenv("IS_PERSISTENT", "1")
    monkeypatch.setenv("PERSIST_DIRECTORY", str(tmp_path / "envdir"))
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    s = Settings()
    assert s.allow_reset is True
    assert s.is_persistent is True
    assert s.persist_directory == str(tmp_path / "envdir")
    assert s.anonymized_telemetry is False


def test_env_persist_directory_is_used_by_client(monkeypatch, tmp_path):
    d = tmp_path / "envdb"
    monkeypatch.setenv("IS_PERSISTENT", "TRUE")
    monkeypatch.setenv("PERSIST_DIRECTORY", str(d))
    c = huedb.Client(Settings())
    c.create_collection("envcol", embedding_function=None)
    c.close()
    monkeypatch.delenv("IS_PERSISTENT")
    monkeypatch.delenv("PERSIST_DIRECTORY")
    c2 = _persistent(d)
    assert [x.name for x in c2.list_collections()] == ["envcol"]
    c2.close()


def test_explicit_setting_wins_over_env(monkeypatch):
    monkeypatch.setenv("ALLOW_RESET", "TRUE")
    assert Settings(allow_reset=False).allow_reset is False


def test_configure_and_get_settings():
    previous = huedb.get_settings().allow_reset
    assert isinstance(huedb.get_settings(), Settings)
    try:
        huedb.configure(allow_reset=True)
        assert huedb.get_settings().allow_reset is True
        # Clients created afterwards use the configured settings.
        c = huedb.Client()
        c.create_collection("cfgd", embedding_function=None)
        c.reset()
        assert c.list_collections() == []
    finally:
        huedb.configure(allow_reset=previous)
    assert huedb.get_settings().allow_reset is previous


def test_anonymized_telemetry_accepted_and_nothing_sent(tmp_path, monkeypatch):
    """huedb accepts the setting but never opens a network connection."""
    attempts = []
    real_connect = socket.socket.connect

    def spy(self, address):
        attempts.append(address)
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    c = huedb.PersistentClient(path=str(tmp_path / "tel"), settings=Settings(anonymized_telemetry=True))
    col = c.create_collection("tele", embedding_function=None)
    col.add(ids=["a"], embeddings=[[1.0, 0.0]], documents=["doc"])
    col.query(query_embeddings=[[1.0, 0.0]], n_results=1)
    c.delete_collection("tele")
    c.close()
    assert attempts == []


def test_telemetry_module_exists_and_does_nothing(monkeypatch):
    """chromadb.telemetry's import paths exist (code patches Posthog.capture to silence Chroma);
    every capture is a no-op that opens no connection."""
    from huedb.telemetry.product import ProductTelemetryClient, ProductTelemetryEvent
    from huedb.telemetry.product.posthog import Posthog

    attempts = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: attempts.append(address))

    class Started(ProductTelemetryEvent):
        def __init__(self) -> None:
            super().__init__()
            self.version = "x"

    event = Started()
    assert (event.name, event.properties, event.batch_size) == ("Started", {"version": "x"}, 1)
    for telemetry in (Posthog(), ProductTelemetryClient()):
        assert telemetry.capture(event) is None
        assert telemetry.context == {}
    monkeypatch.setattr(Posthog, "capture", lambda self, event: None)  # the usual silencing patch
    assert Posthog().capture(event) is None
    assert attempts == []


# --- reset --------------------------------------------------------------------------


def test_reset_raises_unless_allowed(tmp_path):
    c = _persistent(tmp_path / "noreset")
    c.create_collection("survivor", embedding_function=None)
    with pytest.raises(AuthorizationError, match="(?i)reset"):
        c.reset()
    assert [x.name for x in c.list_collections()] == ["survivor"]
    c.close()


def test_reset_when_allowed_clears_everything(tmp_path):
    c = _persistent(tmp_path / "reset", settings=Settings(allow_reset=True))
    c.create_collection("gone1", embedding_function=None).add(ids=["a"], embeddings=[[1.0]])
    c.create_collection("gone2", embedding_function=None)
    c.reset()
    assert c.list_collections() == []
    assert c.count_collections() == 0
    # The client stays usable after a reset.
    c.create_collection("gone1", embedding_function=None)
    assert c.count_collections() == 1
    c.close()


# --- close / context manager -------------------------------------------------------


def test_context_manager_closes_and_data_persists(tmp_path):
    d = tmp_path / "ctx"
    with _persistent(d) as c:
        c.create_collection("ctx", embedding_function=None).add(ids=["a"], embeddings=[[1.0, 2.0]])
    with _persistent(d) as c2:
        assert c2.get_collection("ctx").count() == 1


def test_close_is_idempotent_and_use_after_close_is_a_clear_error(tmp_path):
    c = _persistent(tmp_path / "closed")
    c.create_collection("abc", embedding_function=None)
    c.close()
    c.close()
    with pytest.raises(Exception, match="(?i)clos"):
        c.list_collections()


# --- sharing ----------------------------------------------------------------------


def test_two_clients_on_one_path_share_state(tmp_path):
    d = tmp_path / "shared"
    a = _persistent(d)
    b = _persistent(d)
    col_a = a.create_collection("shared", embedding_function=None)
    col_a.add(ids=["1"], embeddings=[[1.0, 1.0]])
    col_b = b.get_collection("shared")
    assert col_b.count() == 1
    col_b.add(ids=["2"], embeddings=[[2.0, 2.0]])
    assert col_a.count() == 2
    assert col_a.get(ids=["2"], include=["embeddings"])["embeddings"].tolist() == [[2.0, 2.0]]
    b.delete_collection("shared")
    assert a.list_collections() == []
    a.close()
    b.close()


def _run_child(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_persistent_client_sees_data_written_by_earlier_process(tmp_path):
    d = str(tmp_path / "proc")
    _run_child(
        f"""
        import huedb
        c = huedb.PersistentClient(path={d!r})
        col = c.create_collection("fromchild", metadata={{"origin": "child"}}, embedding_function=None)
        col.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]], documents=["alpha", "beta"],
                metadatas=[{{"n": 1}}, {{"n": 2}}])
        c.close()
        """
    )
    c = _persistent(d)
    col = c.get_collection("fromchild")
    assert col.metadata == {"origin": "child"}
    got = col.get(include=["documents", "metadatas", "embeddings"])
    assert got["ids"] == ["a", "b"]
    assert got["documents"] == ["alpha", "beta"]
    assert got["metadatas"] == [{"n": 1}, {"n": 2}]
    assert got["embeddings"].tolist() == [[1.0, 0.0], [0.0, 1.0]]
    # ...and a later process sees what this one wrote.
    col.add(ids=["c"], embeddings=[[0.5, 0.5]], documents=["gamma"])
    c.close()
    out = _run_child(
        f"""
        import huedb
        c = huedb.PersistentClient(path={d!r})
        print(c.get_collection("fromchild").get()["documents"])
        """
    )
    assert out.strip() == "['alpha', 'beta', 'gamma']"


# --- tenants and databases (AdminClient) --------------------------------------------


def test_admin_tenants(tmp_path):
    adm = _admin(tmp_path / "adm")
    adm.create_tenant("tenant1")
    assert adm.get_tenant("tenant1")["name"] == "tenant1"
    names = [t["name"] for t in adm.list_tenants()]
    assert "tenant1" in names and "default_tenant" in names
    with pytest.raises(NotFoundError):
        adm.get_tenant("nosuchtenant")


def test_admin_duplicate_tenant_is_an_error(tmp_path):
    adm = _admin(tmp_path / "admdup")
    adm.create_tenant("tenant1")
    with pytest.raises(Exception, match="tenant1"):
        adm.create_tenant("tenant1")


def test_admin_databases(tmp_path):
    adm = _admin(tmp_path / "admdb")
    adm.create_tenant("tenant1")
    adm.create_database("db1", tenant="tenant1")
    adm.create_database("db2", tenant="tenant1")
    db = adm.get_database("db1", tenant="tenant1")
    assert db["name"] == "db1" and db["tenant"] == "tenant1"
    assert [d["name"] for d in adm.list_databases(tenant="tenant1")] == ["db1", "db2"]
    assert [d["name"] for d in adm.list_databases()] == ["default_database"]
    with pytest.raises(NotFoundError):
        adm.get_database("nope", tenant="tenant1")
    with pytest.raises(Exception, match="db1"):
        adm.create_database("db1", tenant="tenant1")
    adm.delete_database("db1", tenant="tenant1")
    assert [d["name"] for d in adm.list_databases(tenant="tenant1")] == ["db2"]
    with pytest.raises(NotFoundError):
        adm.delete_database("db1", tenant="tenant1")


def test_admin_short_names_rejected(tmp_path):
    from huedb.errors import InvalidArgumentError

    adm = _admin(tmp_path / "admshort")
    with pytest.raises(InvalidArgumentError):
        adm.create_tenant("ab")
    with pytest.raises(InvalidArgumentError):
        adm.create_database("ab")


def test_tenant_and_database_arguments_isolate_collections(tmp_path):
    d = tmp_path / "iso"
    adm = _admin(d)
    adm.create_tenant("tenant1")
    adm.create_database("db1", tenant="tenant1")
    scoped = _persistent(d, tenant="tenant1", database="db1")
    assert (scoped.tenant, scoped.database) == ("tenant1", "db1")
    scoped.create_collection("inner", embedding_function=None).add(ids=["a"], embeddings=[[1.0]])
    default = _persistent(d)
    assert default.list_collections() == []
    # The same name may exist in another database.
    default.create_collection("inner", embedding_function=None)
    assert default.get_collection("inner").count() == 0
    assert scoped.get_collection("inner").count() == 1
    scoped.close()
    reopened = _persistent(d, tenant="tenant1", database="db1")
    assert [x.name for x in reopened.list_collections()] == ["inner"]
    reopened.close()
    default.close()


def test_missing_tenant_or_database_is_not_found(tmp_path):
    d = tmp_path / "missing"
    adm = _admin(d)
    adm.create_tenant("tenant1")
    with pytest.raises(NotFoundError):
        _persistent(d, tenant="nosuchtenant")
    with pytest.raises(NotFoundError):
        _persistent(d, tenant="tenant1", database="nosuchdb")


def test_deleting_a_database_deletes_its_collections(tmp_path):
    d = tmp_path / "deldb"
    adm = _admin(d)
    adm.create_database("scratch")
    c = _persistent(d, database="scratch")
    c.create_collection("doomed", embedding_function=None).add(ids=["a"], embeddings=[[1.0]])
    c.close()
    adm.delete_database("scratch")
    adm.create_database("scratch")
    c2 = _persistent(d, database="scratch")
    assert c2.list_collections() == []
    c2.close()
