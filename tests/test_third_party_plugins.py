"""Third-party plugin packages, installed into the test venv by .ci/plugin_packages.sh.

``huedb-example-plugins`` provides one plugin of each kind through the
``huedb`` entry-point group (example_hash, example_flat, example_text_loader,
example_header); ``huedb-broken-plugin`` has an entry point whose import fails.
Each example plugin must be discovered, listed by ``huedb plugins`` and usable;
the broken one must be reported without breaking anything else.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import huedb
from huedb.auth import UserIdentity
from huedb.config import Settings
from huedb.distance import exact_search
from huedb.errors import AuthenticationError, PluginNotFoundError
from huedb.index import CorruptIndexError
from huedb.registry import Registry, StrictPluginError

PACKAGES = Path(__file__).parent / "plugin_packages"
EXAMPLE_DIST, EXAMPLE_VERSION = "huedb-example-plugins", "0.3.1"
BROKEN_DIST, BROKEN_VERSION = "huedb-broken-plugin", "0.0.1"
BROKEN_ERROR = "ModuleNotFoundError: No module named 'huedb_nonexistent_dependency'"
EXAMPLES = {
    "embedding_function": "example_hash",
    "index_segment": "example_flat",
    "data_loader": "example_text_loader",
    "authn_provider": "example_header",
}


@pytest.fixture(autouse=True, scope="module")
def packages_installed():
    for dist in (EXAMPLE_DIST, BROKEN_DIST):
        try:
            importlib.metadata.distribution(dist)
        except importlib.metadata.PackageNotFoundError:
            pytest.fail(f"{dist} is not installed in this environment: run .ci/plugin_packages.sh")


@pytest.fixture(autouse=True)
def default_plugin_env(monkeypatch):
    monkeypatch.delenv("HUEDB_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("HUEDB_STRICT_PLUGINS", raising=False)


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HUEDB_LOAD_PLUGINS", "HUEDB_STRICT_PLUGINS")}
    env.update(extra or {})
    return env


def run_py(code: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=clean_env(env), timeout=120
    )
    if check:
        assert out.returncode == 0, out.stderr
    return out


def last_json(out: subprocess.CompletedProcess) -> Any:
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_installed_package_matches_the_source_tree():
    """A stale install would test old code: the installed modules must equal tests/plugin_packages."""
    dist = importlib.metadata.distribution(EXAMPLE_DIST)
    installed = {str(f): f for f in dist.files or [] if str(f).endswith(".py")}
    source = PACKAGES / "huedb-example-plugins"
    for path in sorted((source / "huedb_example_plugins").glob("*.py")):
        rel = f"huedb_example_plugins/{path.name}"
        assert rel in installed, f"{rel} is not installed: run .ci/plugin_packages.sh"
        assert Path(dist.locate_file(installed[rel])).read_text() == path.read_text(), (
            f"installed {rel} differs from the source: run .ci/plugin_packages.sh"
        )


# -- discovered ----------------------------------------------------------------------


def test_each_kind_is_discovered_by_a_fresh_registry():
    registry = Registry()
    for kind, name in EXAMPLES.items():
        reg = registry.registrations()[kind][name]
        assert reg.plugin == name  # one entry point per plugin, named like it
        assert (reg.distribution, reg.version) == (EXAMPLE_DIST, EXAMPLE_VERSION)
        assert reg.obj.__module__.startswith("huedb_example_plugins.")
        assert registry.plugin_info[name].error is None
        assert registry.plugin_info[name].hooks == [kind]


def test_each_kind_is_listed_by_the_cli():
    out = subprocess.run(
        [sys.executable, "-m", "huedb.cli", "plugins", "--all"],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    for kind, name in EXAMPLES.items():
        assert {
            "name": name,
            "kind": kind,
            "plugin": name,
            "distribution": EXAMPLE_DIST,
            "version": EXAMPLE_VERSION,
            "error": None,
            "extra": None,
            "installed": None,
        } in rows
    assert {
        "name": "broken_example",
        "kind": None,
        "plugin": "broken_example",
        "distribution": BROKEN_DIST,
        "version": BROKEN_VERSION,
        "error": BROKEN_ERROR,
        "extra": None,
        "installed": None,
    } in rows
    assert any(r["name"] == "hnswlib" and r["distribution"] == "huedb" for r in rows)  # built-ins still listed


# -- the embedding function --------------------------------------------------------------


def test_example_ef_config_round_trips(fresh_registry):
    cls = fresh_registry.get("embedding_function", "example_hash")
    ef = cls(dimension=32, salt="pepper")
    rebuilt = cls.build_from_config(ef.get_config())
    assert rebuilt.get_config() == ef.get_config() == {"dimension": 32, "salt": "pepper"}
    texts = ["the quick brown fox", "lazy dogs", ""]
    np.testing.assert_array_equal(np.stack(ef(texts)), np.stack(rebuilt(texts)))
    assert np.stack(ef(texts)).shape == (3, 32)


def test_example_ef_collection_is_persisted_and_rebuilt_in_a_new_process(fresh_registry, tmp_path):
    path = tmp_path / "db"
    ef = fresh_registry.get("embedding_function", "example_hash")(dimension=48, salt="s1")
    client = huedb.PersistentClient(path=str(path))
    col = client.create_collection("hashed", embedding_function=ef)
    docs = ["apples and pears", "pears and plums", "cars and trucks", "trucks and boats"]
    col.add(ids=["a", "b", "c", "d"], documents=docs)
    here = col.query(query_texts=["fresh plums and pears"], n_results=4, include=["distances"])
    assert here["ids"][0][0] == "b"
    spec = col.configuration_json["embedding_function"]
    assert spec == {"name": "example_hash", "type": "known", "config": {"dimension": 48, "salt": "s1"}}
    # As in chromadb: with no space given, the EF's default space (cosine for example_hash) is used.
    assert col.configuration_json["hnsw"]["space"] == "cosine"
    client.close()

    # The new process never imports the plugin: the name is resolved through the entry point.
    code = f"""
        import json, sys, huedb
        c = huedb.PersistentClient(path={str(path)!r})
        col = c.get_collection("hashed")
        r = col.query(query_texts=["fresh plums and pears"], n_results=4, include=["distances"])
        ef = col.embedding_function
        print(json.dumps({{"ids": r["ids"], "distances": r["distances"], "name": ef.name(),
                          "config": ef.get_config(), "module": type(ef.resolve()).__module__}}))
    """
    there = last_json(run_py(code))
    assert there["ids"] == here["ids"]
    assert there["distances"][0] == pytest.approx(here["distances"][0], abs=1e-6)
    assert there["name"] == "example_hash" and there["config"] == {"dimension": 48, "salt": "s1"}
    assert there["module"] == "huedb_example_plugins.embedding"

    # With the plugin excluded, the collection still opens and reads; embedding names what is missing.
    code = f"""
        import json, huedb
        c = huedb.PersistentClient(path={str(path)!r})
        col = c.get_collection("hashed")
        out = {{"count": col.count(), "docs": sorted(col.get()["documents"])}}
        try:
            col.query(query_texts=["pears"], n_results=1)
        except Exception as e:
            out["error"] = type(e).__name__ + ": " + str(e)
        print(json.dumps(out))
    """
    out = last_json(run_py(code, env={"HUEDB_LOAD_PLUGINS": "hnswlib,default"}))
    assert out["count"] == 4 and out["docs"] == sorted(docs)
    assert out["error"].startswith("PluginNotFoundError: ")
    assert "'example_hash'" in out["error"] and "'huedb' entry-point group" in out["error"]
    assert "Installed: default, onnx_mini_lm_l6_v2" in out["error"]


# -- the index segment ---------------------------------------------------------------------


def test_example_index_through_a_collection(fresh_registry, tmp_path):
    path = tmp_path / "db"
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(200, 8)).astype(np.float32)
    ids = [f"id{i}" for i in range(200)]
    client = huedb.PersistentClient(path=str(path))
    col = client.create_collection("flat", configuration={"index": {"name": "example_flat"}}, embedding_function=None)
    assert col.configuration_json["index"] == {"name": "example_flat"}
    col.add(ids=ids, embeddings=vectors, metadatas=[{"even": i % 2 == 0} for i in range(200)])

    queries = rng.normal(size=(5, 8)).astype(np.float32)
    r = col.query(query_embeddings=queries, n_results=10, include=["distances"])
    labels, dists = exact_search(queries, vectors, np.arange(200), 10, "l2")
    assert r["ids"] == [[ids[j] for j in row] for row in labels]
    np.testing.assert_allclose(np.array(r["distances"]), dists, rtol=1e-4, atol=1e-4)

    # Filtered: only even records are eligible.
    r = col.query(query_embeddings=queries, n_results=10, where={"even": True}, include=[])
    even = np.arange(0, 200, 2)
    labels, _ = exact_search(queries, vectors[even], even, 10, "l2")
    assert r["ids"] == [[ids[j] for j in row] for row in labels]

    # Update and delete keep the index consistent.
    col.update(ids=["id3"], embeddings=[queries[0]])
    col.delete(ids=["id5", "id6"])
    r = col.query(query_embeddings=queries[:1], n_results=3, include=["distances"])
    assert r["ids"][0][0] == "id3" and r["distances"][0][0] == pytest.approx(0.0, abs=1e-5)
    assert "id5" not in col.query(query_embeddings=vectors[5:6], n_results=5, include=[])["ids"][0]
    assert col.count() == 198
    client.close()

    index_files = list(path.rglob("example_flat.npz"))
    assert len(index_files) == 1  # the plugin persisted itself

    # A new process loads the persisted index (through the entry point) and agrees.
    code = f"""
        import json, huedb
        c = huedb.PersistentClient(path={str(path)!r})
        col = c.get_collection("flat")
        r = col.query(query_embeddings={queries[:2].tolist()!r}, n_results=5, include=[])
        print(json.dumps({{"ids": r["ids"], "count": col.count()}}))
    """
    there = last_json(run_py(code))
    client = huedb.PersistentClient(path=str(path))
    here = client.get_collection("flat").query(query_embeddings=queries[:2], n_results=5, include=[])
    assert there == {"ids": here["ids"], "count": 198}
    client.close()


def test_example_index_corrupt_file_is_rebuilt_from_sqlite(fresh_registry, tmp_path, caplog):
    path = tmp_path / "db"
    vectors = np.random.default_rng(1).normal(size=(20, 4)).astype(np.float32)
    client = huedb.PersistentClient(path=str(path))
    col = client.create_collection(
        "flat_corrupt", configuration={"index": {"name": "example_flat"}}, embedding_function=None
    )
    col.add(ids=[str(i) for i in range(20)], embeddings=vectors)
    assert col.query(query_embeddings=vectors[7:8], n_results=1, include=[])["ids"] == [["7"]]  # builds the index
    client.close()
    (index_file,) = path.rglob("example_flat.npz")
    index_file.write_bytes(index_file.read_bytes()[:50])  # truncated

    caplog.set_level(logging.WARNING)
    client = huedb.PersistentClient(path=str(path))
    try:
        col = client.get_collection("flat_corrupt")
        r = col.query(query_embeddings=vectors[7:8], n_results=1, include=[])
        assert r["ids"] == [["7"]]
        assert col.count() == 20
    finally:
        client.close()
    assert any("corrupt" in rec.getMessage() for rec in caplog.records)


def test_example_index_segment_protocol(fresh_registry, tmp_path):
    cls = fresh_registry.get("index_segment", "example_flat")
    seg = cls(3, "cosine", {"ef_search": 10}, tmp_path)
    assert seg.count() == 0 and seg.applied_seq == 0
    assert cls.load(3, "cosine", {}, tmp_path) is None
    seg.add(np.array([10, 20, 30, 10]), np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [2, 2, 0]], dtype=np.float32), seq=4)
    assert seg.count() == 3 and seg.applied_seq == 4  # label 10: the last vector of the batch wins
    np.testing.assert_array_equal(seg.get_vectors(np.array([10, 30])), [[2, 2, 0], [0, 0, 1]])
    labels, dists = seg.query(np.array([[1, 1, 0]], dtype=np.float32), k=5)
    assert labels.tolist() == [[10, 20, 30, -1, -1]]
    assert dists[0, 0] == pytest.approx(0.0, abs=1e-6) and np.isinf(dists[0, 3:]).all()
    labels, _ = seg.query(np.array([[1, 1, 0]], dtype=np.float32), k=2, allowed=np.array([20, 30, 99]))
    assert labels.tolist() == [[20, 30]]
    seg.delete(np.array([20, 12345]), seq=5)
    assert seg.count() == 2 and seg.applied_seq == 5
    seg.persist()
    loaded = cls.load(3, "cosine", {}, tmp_path)
    assert loaded.count() == 2 and loaded.applied_seq == 5
    np.testing.assert_array_equal(loaded.get_vectors(np.array([30])), [[0, 0, 1]])
    with pytest.raises(CorruptIndexError):
        cls.load(4, "cosine", {}, tmp_path)  # persisted for another dimension
    (tmp_path / "example_flat.npz").write_bytes(b"not a zip file")
    with pytest.raises(CorruptIndexError):
        cls.load(3, "cosine", {}, tmp_path)


# -- the data loader ---------------------------------------------------------------------------


def test_example_loader_feeds_a_collection_with_uris(fresh_registry, tmp_path):
    files = {"fruit": "apples pears plums", "vehicles": "cars trucks boats", "empty": ""}
    for name, text in files.items():
        (tmp_path / f"{name}.txt").write_text(text)
    loader = fresh_registry.get("data_loader", "example_text_loader")()
    ef = fresh_registry.get("embedding_function", "example_hash")(dimension=64)
    assert loader([str(tmp_path / "fruit.txt"), None, (tmp_path / "vehicles.txt").as_uri()]) == [
        "apples pears plums",
        None,
        "cars trucks boats",
    ]

    client = huedb.EphemeralClient()
    col = client.create_collection("texts_by_uri", embedding_function=ef, data_loader=loader)
    col.add(ids=list(files), uris=[str(tmp_path / f"{n}.txt") for n in files])
    stored = col.get(ids=["fruit"], include=["embeddings", "uris"])
    np.testing.assert_allclose(stored["embeddings"][0], ef(["apples pears plums"])[0], atol=1e-6)

    r = col.query(query_texts=["boats and trucks"], n_results=1, include=["uris", "data"])
    assert r["ids"] == [["vehicles"]]
    assert r["data"] == [["cars trucks boats"]]
    (tmp_path / "query.txt").write_text("plums pears")
    r = col.query(query_uris=[str(tmp_path / "query.txt")], n_results=1, include=[])
    assert r["ids"] == [["fruit"]]
    got = col.get(ids=["fruit", "vehicles"], include=["data"])
    assert got["data"] == ["apples pears plums", "cars trucks boats"]
    client.delete_collection("texts_by_uri")


# -- the auth provider ---------------------------------------------------------------------------


def test_example_authn_provider_authenticates(fresh_registry):
    cls = fresh_registry.get("authn_provider", "example_header")
    provider = cls(Settings(chroma_server_authn_credentials="s3cret"))
    user = provider.authenticate({"X-Example-Key": "s3cret"})
    assert isinstance(user, UserIdentity) and user.user_id == "example-user"
    for headers in ({}, {"X-Example-Key": "wrong"}, {"Authorization": "Bearer s3cret"}):
        with pytest.raises(AuthenticationError):
            provider.authenticate(headers)
    assert cls(Settings()).authenticate({"x-example-key": "letmein"}).user_id == "example-user"


def test_example_authn_provider_is_selected_by_server_settings(fresh_registry):
    from huedb.server.auth import ServerAuth

    auth = ServerAuth(Settings(chroma_server_authn_provider="example_header", chroma_server_authn_credentials="k9"))
    assert auth.enabled
    assert auth.authenticate({"X-Example-Key": "k9"}).user_id == "example-user"
    with pytest.raises(AuthenticationError):
        auth.authenticate({"X-Example-Key": "nope"})


# -- the broken package --------------------------------------------------------------------------


def test_broken_plugin_failure_is_recorded_against_its_name():
    registry = Registry()
    assert registry.plugin_info == {}  # nothing is discovered before first use
    registry.registrations()
    info = registry.plugin_info["broken_example"]
    assert info.error == BROKEN_ERROR
    assert (info.distribution, info.version) == (BROKEN_DIST, BROKEN_VERSION)
    assert registry.pm.get_plugin("broken_example") is None
    (row,) = [r for r in registry.describe() if r["name"] == "broken_example"]
    assert row == {
        "name": "broken_example",
        "kind": None,
        "plugin": "broken_example",
        "distribution": BROKEN_DIST,
        "version": BROKEN_VERSION,
        "error": BROKEN_ERROR,
        "extra": None,
        "installed": None,
    }
    # Looking it up by name explains the failure.
    with pytest.raises(PluginNotFoundError, match="installed but failed to load: ModuleNotFoundError"):
        registry.get("embedding_function", "broken_example")


def test_broken_plugin_breaks_nothing_else(tmp_path):
    code = f"""
        import json, huedb
        from huedb.registry import get_registry
        c = huedb.PersistentClient(path={str(tmp_path / "db")!r})
        ef = get_registry().get("embedding_function", "example_hash")(dimension=16)
        col = c.create_collection("still_works", embedding_function=ef)
        col.add(ids=["a", "b"], documents=["red apples", "blue boats"])
        plain = c.create_collection("plain", embedding_function=None, configuration={{"index": {{"name": "exact"}}}})
        plain.add(ids=["x", "y"], embeddings=[[0.0, 1.0], [1.0, 0.0]])
        print(json.dumps({{
            "ef": col.query(query_texts=["apples"], n_results=1, include=[])["ids"],
            "exact": plain.query(query_embeddings=[[0.9, 0.1]], n_results=1, include=[])["ids"],
            "broken": get_registry().plugin_info["broken_example"].error,
            "indexes": get_registry().names("index_segment"),
        }}))
    """
    out = last_json(run_py(code))
    assert out["ef"] == [["a"]] and out["exact"] == [["y"]]
    assert out["broken"] == BROKEN_ERROR
    assert {"hnswlib", "annoy", "exact", "example_flat"} <= set(out["indexes"])

    cli = subprocess.run(
        [sys.executable, "-m", "huedb.cli", "plugins"], capture_output=True, text=True, env=clean_env(), timeout=120
    )
    assert cli.returncode == 0, cli.stderr
    assert any(r["name"] == "broken_example" and r["error"] == BROKEN_ERROR for r in json.loads(cli.stdout))


def test_strict_mode_turns_the_broken_plugin_into_an_exception(monkeypatch):
    monkeypatch.setenv("HUEDB_STRICT_PLUGINS", "1")
    with pytest.raises(StrictPluginError) as e:
        Registry().registrations()
    assert "'broken_example'" in str(e.value) and "huedb_nonexistent_dependency" in str(e.value)

    out = run_py(
        """
        import huedb
        huedb.EphemeralClient().create_collection("strict_use", embedding_function=None)
        """,
        env={"HUEDB_STRICT_PLUGINS": "1"},
        check=False,
    )
    assert out.returncode != 0
    assert "StrictPluginError" in out.stderr and "broken_example" in out.stderr
    cli = subprocess.run(
        [sys.executable, "-m", "huedb.cli", "plugins"],
        capture_output=True,
        text=True,
        env=clean_env({"HUEDB_STRICT_PLUGINS": "1"}),
        timeout=120,
    )
    assert cli.returncode != 0 and "broken_example" in cli.stderr
