"""A collection's embedding function is persisted as ``{"name", "type", "config"}`` and rebuilt.

Covers: the three types (known, custom, legacy); secrets never stored;
rebuilding on get_collection, in this process and in a new one; lazy rebuilding
when the plugin is missing; conflicts and session overrides; the
``configuration={"embedding_function": ef}`` form; default/supported spaces;
``embed_query`` for query texts; schema validation of persisted configs.
"""

from __future__ import annotations

import importlib
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import huedb
import huedb.schemas
from fakes.openai_server import FakeOpenAI
from huedb import EmbeddingFunction, register_embedding_function
from huedb.errors import InvalidArgumentError, NotFoundError

OPENAI_KEY = "sk-test-NEVER-PERSIST-4f9a1c"
KEY_VAR = "HUEDB_TEST_PERSIST_OPENAI_KEY"

# Embedding functions shared with the subprocesses (written to a module on their PYTHONPATH).
EF_MODULE = "huedb_persist_test_efs"
EF_SOURCE = '''
from huedb import EmbeddingFunction


class ScaledLenEF(EmbeddingFunction):
    """[len(text) * scale, 1.0]: the config changes the vectors, so a wrong rebuild shows."""

    builds = 0  # build_from_config calls, to observe lazy rebuilding

    def __init__(self, scale=1.0):
        self.scale = float(scale)

    def __call__(self, input):
        return [[len(t) * self.scale, 1.0] for t in input]

    @staticmethod
    def name():
        return "scaled_len"

    def get_config(self):
        return {"scale": self.scale}

    @staticmethod
    def build_from_config(config):
        ScaledLenEF.builds += 1
        return ScaledLenEF(config["scale"])


class QueryModeEF(EmbeddingFunction):
    """Documents embed as [len, 0]; queries (embed_query) as [0, len]."""

    def __call__(self, input):
        return [[float(len(t)), 0.0] for t in input]

    def embed_query(self, input):
        return [[0.0, float(len(t))] for t in input]

    @staticmethod
    def name():
        return "query_mode"

    def get_config(self):
        return {}

    @staticmethod
    def build_from_config(config):
        return QueryModeEF()


class AngularOnlyEF(EmbeddingFunction):
    """Supports cosine and ip only, defaults to cosine."""

    def __call__(self, input):
        return [[float(len(t)), 1.0] for t in input]

    @staticmethod
    def name():
        return "angular_only"

    def get_config(self):
        return {}

    @staticmethod
    def build_from_config(config):
        return AngularOnlyEF()

    def default_space(self):
        return "cosine"

    def supported_spaces(self):
        return ["cosine", "ip"]
'''


@pytest.fixture(scope="module")
def ef_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("persist_efs")
    (root / f"{EF_MODULE}.py").write_text(EF_SOURCE)
    return root


@pytest.fixture
def efs(ef_dir, fresh_registry, monkeypatch):
    """The EF module, with its classes registered in a fresh registry (unregistered on teardown)."""
    monkeypatch.syspath_prepend(str(ef_dir))
    module = importlib.import_module(EF_MODULE)
    plugins = []
    for cls in (module.ScaledLenEF, module.QueryModeEF, module.AngularOnlyEF):
        register_embedding_function(cls)
        plugins.append(fresh_registry.registrations()["embedding_function"][cls.name()].plugin)
    module.ScaledLenEF.builds = 0
    yield module
    for plugin in plugins:
        fresh_registry.unregister_plugin(plugin)


class LegacyEF:
    """An old-style EF: a callable without name()/get_config()."""

    def __call__(self, input):
        return [[float(len(t)), 2.0] for t in input]


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "db"


@pytest.fixture
def persistent(db_path):
    c = huedb.PersistentClient(path=str(db_path))
    yield c
    c.close()


def run_py(code: str, db_path: Path, ef_dir: Path | None = None, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Runs ``code`` in a new interpreter (``path`` bound to the db); returns the JSON it prints last."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("HUEDB_LOAD_PLUGINS", "HUEDB_STRICT_PLUGINS", KEY_VAR)}
    full_env.update(env or {})
    if ef_dir is not None:
        full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ef_dir), full_env.get("PYTHONPATH")]))
    prelude = f"import json, huedb\npath = {str(db_path)!r}\n"
    out = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def stored_spec(db_path: Path, name: str) -> dict[str, Any]:
    """The EF spec as written in SQLite, read without huedb."""
    (db_file,) = [p for p in db_path.iterdir() if p.suffix in (".sqlite3", ".sqlite", ".db")]
    conn = sqlite3.connect(str(db_file))
    try:
        (raw,) = conn.execute("SELECT configuration FROM collections WHERE name = ?", (name,)).fetchone()
    finally:
        conn.close()
    return json.loads(raw)["embedding_function"]


# -- what is persisted ----------------------------------------------------------------


def test_known_ef_persists_name_type_and_config(fresh_registry, persistent, db_path, monkeypatch):
    monkeypatch.delenv(KEY_VAR, raising=False)
    openai_cls = fresh_registry.get("embedding_function", "openai")
    ef = openai_cls(api_key=OPENAI_KEY, api_key_env_var=KEY_VAR, model_name="text-embedding-3-small", dimensions=8)
    col = persistent.create_collection("known_ef", embedding_function=ef)
    spec = col.configuration_json["embedding_function"]
    assert spec == {"name": "openai", "type": "known", "config": ef.get_config()}
    assert spec["config"]["api_key_env_var"] == KEY_VAR
    assert spec["config"]["model_name"] == "text-embedding-3-small"
    assert not any("key" in k and k != "api_key_env_var" for k in spec["config"])
    schema = json.loads((Path(huedb.schemas.__file__).parent / "openai.json").read_text())
    jsonschema.validate(spec["config"], schema)
    assert stored_spec(db_path, "known_ef") == spec


def test_a_user_registered_ef_persists_as_known(efs, persistent, db_path):
    # chromadb 1.5.9 persists a user's registered EF with type "known", like its own
    col = persistent.create_collection("custom_ef", embedding_function=efs.ScaledLenEF(2.5))
    expected = {"name": "scaled_len", "type": "known", "config": {"scale": 2.5}}
    assert col.configuration_json["embedding_function"] == expected
    assert stored_spec(db_path, "custom_ef") == expected


def test_legacy_ef_persists_its_type_only(fresh_registry, persistent, db_path):
    col = persistent.create_collection("legacy_ef", embedding_function=LegacyEF())
    col.add(ids=["a", "b"], documents=["x", "xyz"])
    assert stored_spec(db_path, "legacy_ef") == {"type": "legacy"}
    # Not rebuildable: reopened without an EF it can read, and needs an EF to embed.
    reopened = persistent.get_collection("legacy_ef")
    assert reopened.embedding_function is None
    assert sorted(reopened.get()["ids"]) == ["a", "b"]
    with pytest.raises(InvalidArgumentError, match="no embedding function"):
        reopened.query(query_texts=["xy"], n_results=1)
    # A legacy EF passed on get is simply used (nothing to compare it with).
    again = persistent.get_collection("legacy_ef", embedding_function=LegacyEF())
    assert again.query(query_texts=["xyz"], n_results=1, include=["distances"])["ids"] == [["b"]]


def test_no_embedding_function_with_a_configuration_persists_legacy(fresh_registry, persistent):
    # As chromadb: embedding_function=None means "no EF" only when a configuration is given
    # (without one, the default EF is used: tests/test_chroma_behaviours.py).
    col = persistent.create_collection("no_ef", configuration={"hnsw": {"space": "l2"}}, embedding_function=None)
    assert col.configuration_json["embedding_function"] == {"type": "legacy"}
    assert persistent.get_collection("no_ef").embedding_function is None


# -- secrets ---------------------------------------------------------------------------


class LeakyEF(EmbeddingFunction):
    def __init__(self, field: str = "api_key") -> None:
        self.field = field

    def __call__(self, input):
        return [[1.0, 2.0] for _ in input]

    @staticmethod
    def name() -> str:
        return "leaky"

    def get_config(self):
        return {self.field: "sk-leaked-123", "model": "m"}

    @staticmethod
    def build_from_config(config):
        return LeakyEF()


@pytest.mark.parametrize("field", ["api_key", "API_KEY", "token", "password", "secret"])
def test_a_config_holding_a_secret_is_refused(fresh_registry, client, field):
    with pytest.raises(InvalidArgumentError) as e:
        client.create_collection("leaky_ef", embedding_function=LeakyEF(field))
    assert field in str(e.value) and "api_key_env_var" in str(e.value)
    with pytest.raises(NotFoundError):
        client.get_collection("leaky_ef")
    with pytest.raises(InvalidArgumentError, match="secret"):
        client.create_collection("leaky_ef2", configuration={"embedding_function": LeakyEF(field)})


@pytest.fixture
def openai_server():
    with FakeOpenAI(valid_keys=[OPENAI_KEY], dim=8) as fake:
        yield fake


def test_openai_key_never_reaches_disk_and_rebuilds_from_env_in_a_new_process(
    fresh_registry, openai_server, db_path, monkeypatch
):
    monkeypatch.delenv(KEY_VAR, raising=False)
    openai_cls = fresh_registry.get("embedding_function", "openai")
    ef = openai_cls(api_key=OPENAI_KEY, api_key_env_var=KEY_VAR, api_base=openai_server.url + "/v1")
    client = huedb.PersistentClient(path=str(db_path))
    col = client.create_collection("openai_docs", embedding_function=ef)
    docs = ["red apples", "green pears", "blue berries"]
    col.add(ids=["a", "b", "c"], documents=docs)
    here = col.query(query_texts=["green pears"], n_results=3, include=["distances"])
    assert here["ids"][0][0] == "b"
    config = col.configuration_json["embedding_function"]["config"]
    assert config["api_key_env_var"] == KEY_VAR and config["api_base"] == openai_server.url + "/v1"
    client.close()

    files = [p for p in db_path.rglob("*") if p.is_file()]
    assert files
    for p in files:
        assert OPENAI_KEY.encode() not in p.read_bytes(), f"the API key was written to {p}"

    # The reader allows the fake's host and the non-default variable (docs/auth.md: a persisted
    # config reaches only what the reader allows).
    allow = (
        f"settings=huedb.Settings(embedding_function_allowed_hosts=[{openai_server.url.split('//')[1]!r}], "
        f"embedding_function_allowed_env_vars=[{KEY_VAR!r}])"
    )
    code = """
        c = huedb.PersistentClient(path=path, ALLOW)
        col = c.get_collection("openai_docs")
        r = col.query(query_texts=["green pears"], n_results=3, include=["distances"])
        print(json.dumps({"ids": r["ids"], "distances": r["distances"], "ef": col.embedding_function.name()}))
    """.replace("ALLOW", allow)
    there = run_py(code, db_path, env={KEY_VAR: OPENAI_KEY})
    assert there["ef"] == "openai"
    assert there["ids"] == here["ids"]
    assert there["distances"][0] == pytest.approx(here["distances"][0], abs=1e-5)
    # Every embedding request carried the key from the environment.
    assert {r.headers["authorization"] for r in openai_server.embedding_requests} == {f"Bearer {OPENAI_KEY}"}

    # Without the variable, the collection still opens and reads; embedding says what is missing.
    code = """
        c = huedb.PersistentClient(path=path, ALLOW)
        col = c.get_collection("openai_docs")
        out = {"ids": sorted(col.get()["ids"])}
        try:
            col.query(query_texts=["x"], n_results=1)
        except Exception as e:
            out["error"] = type(e).__name__ + ": " + str(e)
        print(json.dumps(out))
    """.replace("ALLOW", allow)
    missing = run_py(code, db_path)
    assert missing["ids"] == ["a", "b", "c"]
    assert missing["error"].startswith("InvalidArgumentError") and KEY_VAR in missing["error"]


# -- rebuilding --------------------------------------------------------------------------


def test_get_collection_rebuilds_the_persisted_ef_lazily(efs, client):
    col = client.create_collection("rebuild_me", embedding_function=efs.ScaledLenEF(3.0))
    col.add(ids=["short", "long"], documents=["ab", "abcdefgh"])
    expected = col.query(query_texts=["abcdef"], n_results=2, include=["distances"])

    reopened = client.get_collection("rebuild_me")
    assert reopened.embedding_function.name() == "scaled_len"
    assert reopened.embedding_function.get_config() == {"scale": 3.0}
    assert efs.ScaledLenEF.builds == 0  # nothing built yet: opening does not need the EF
    got = reopened.query(query_texts=["abcdef"], n_results=2, include=["distances"])
    assert efs.ScaledLenEF.builds == 1
    assert got["ids"] == expected["ids"] == [["long", "short"]]
    assert got["distances"][0] == pytest.approx(expected["distances"][0])
    # scale 3: "abcdef" -> 18, "abcdefgh" -> 24: squared L2 distance 36
    assert got["distances"][0][0] == pytest.approx(36.0)
    # listing collections rebuilds too
    (listed,) = [c for c in client.list_collections() if c.name == "rebuild_me"]
    assert listed.embedding_function.get_config() == {"scale": 3.0}


def test_rebuilt_in_a_new_process(efs, persistent, db_path, ef_dir):
    col = persistent.create_collection("cross_process", embedding_function=efs.ScaledLenEF(0.5))
    col.add(ids=["one", "two", "three"], documents=["a", "aaaa", "aaaaaaaaaa"])
    here = col.query(query_texts=["aaaaa"], n_results=3, include=["distances"])
    code = """
        from huedb import register_embedding_function
        from huedb_persist_test_efs import ScaledLenEF
        register_embedding_function(ScaledLenEF)
        c = huedb.PersistentClient(path=path)
        col = c.get_collection("cross_process")
        r = col.query(query_texts=["aaaaa"], n_results=3, include=["distances"])
        print(json.dumps({"ids": r["ids"], "distances": r["distances"], "builds": ScaledLenEF.builds,
                          "config": col.embedding_function.get_config()}))
    """
    there = run_py(code, db_path, ef_dir)
    assert there["ids"] == here["ids"] == [["two", "one", "three"]]
    assert there["distances"][0] == pytest.approx(here["distances"][0])
    assert there["config"] == {"scale": 0.5} and there["builds"] == 1


def test_missing_custom_ef_opens_and_reads_and_fails_only_to_embed(efs, persistent, db_path, ef_dir):
    col = persistent.create_collection("orphan", embedding_function=efs.ScaledLenEF(1.0))
    col.add(ids=["x", "y"], documents=["ab", "abcd"], metadatas=[{"k": 1}, {"k": 2}])
    # The new process never registers ScaledLenEF.
    code = """
        c = huedb.PersistentClient(path=path)
        col = c.get_collection("orphan")
        out = {
            "ids": sorted(col.get()["ids"]),
            "where": col.get(where={"k": 2})["documents"],
            "count": col.count(),
            "peek": len(col.peek()["ids"]),
            "by_vector": col.query(query_embeddings=[[4.0, 1.0]], n_results=1)["ids"],
            "repr": repr(col.embedding_function),
        }
        for what, call in [("query", lambda: col.query(query_texts=["abc"], n_results=1)),
                           ("add", lambda: col.add(ids=["z"], documents=["z"]))]:
            try:
                call()
                out[what] = None
            except Exception as e:
                out[what] = type(e).__name__ + ": " + str(e)
        out["count_after"] = col.count()
        print(json.dumps(out))
    """
    out = run_py(code, db_path, ef_dir)
    assert out["ids"] == ["x", "y"] and out["where"] == ["abcd"] and out["count"] == 2 and out["peek"] == 2
    assert out["by_vector"] == [["y"]]
    assert "scaled_len" in out["repr"]
    for what in ("query", "add"):
        msg = out[what]
        assert msg.startswith("PluginNotFoundError: ")
        assert "'orphan'" in msg and "'scaled_len'" in msg  # the collection and the EF
        assert "register_embedding_function" in msg  # how to provide it
        installed = msg.split("Installed: ", 1)[1]
        assert "default" in installed and "openai" in installed  # what is installed
    assert out["count_after"] == 2


def test_missing_known_ef_names_the_extra_to_install(fresh_registry, persistent, db_path):
    openai_cls = fresh_registry.get("embedding_function", "openai")
    col = persistent.create_collection(
        "needs_openai", embedding_function=openai_cls(api_key=OPENAI_KEY, api_key_env_var=KEY_VAR)
    )
    col.add(ids=["p", "q"], embeddings=[[1.0, 0.0], [0.0, 1.0]], documents=["p doc", "q doc"])
    # Only the index plugin and the default EF load: the openai plugin is "not installed".
    code = """
        c = huedb.PersistentClient(path=path)
        col = c.get_collection("needs_openai")
        out = {"docs": sorted(col.get()["documents"]),
               "nearest": col.query(query_embeddings=[[0.1, 0.9]], n_results=1)["ids"]}
        try:
            col.query(query_texts=["q"], n_results=1)
        except Exception as e:
            out["error"] = type(e).__name__ + ": " + str(e)
        print(json.dumps(out))
    """
    out = run_py(code, db_path, env={"HUEDB_LOAD_PLUGINS": "hnswlib,default"})
    assert out["docs"] == ["p doc", "q doc"] and out["nearest"] == [["q"]]
    msg = out["error"]
    assert msg.startswith("PluginNotFoundError: ")
    assert "'openai'" in msg
    assert "pip install 'huedb[openai]'" in msg
    assert msg.rstrip(".").endswith("Installed: default, onnx_mini_lm_l6_v2")


# -- conflicts and overrides ---------------------------------------------------------------


def test_a_different_ef_on_get_is_a_clear_error(efs, client):
    client.create_collection("conflict", embedding_function=efs.ScaledLenEF(2.0))
    for call in (client.get_collection, client.get_or_create_collection):
        with pytest.raises(InvalidArgumentError) as e:
            call("conflict", embedding_function=efs.QueryModeEF())
        msg = str(e.value)
        assert "'conflict'" in msg and "'scaled_len'" in msg and "'query_mode'" in msg
        assert "Omit embedding_function=" in msg


def test_the_same_ef_on_get_overrides_for_the_session_only(efs, client):
    col = client.create_collection("override", embedding_function=efs.ScaledLenEF(1.0))
    col.add(ids=["a"], embeddings=[[0.0, 1.0]])
    session_ef = efs.ScaledLenEF(10.0)
    for call in (client.get_collection, client.get_or_create_collection):
        overridden = call("override", embedding_function=session_ef)
        assert overridden.embedding_function is session_ef
        # "abc" embeds as [30, 1] with scale 10: squared distance 900 to [0, 1]
        assert overridden.query(query_texts=["abc"], n_results=1, include=["distances"])["distances"][0][
            0
        ] == pytest.approx(900.0)
    # The persisted EF is unchanged.
    again = client.get_collection("override")
    assert again.configuration_json["embedding_function"]["config"] == {"scale": 1.0}
    assert again.query(query_texts=["abc"], n_results=1, include=["distances"])["distances"][0][0] == pytest.approx(9.0)


def test_get_or_create_keeps_the_existing_collections_ef(efs, client):
    client.create_collection("keep_ef", embedding_function=efs.ScaledLenEF(4.0))
    col = client.get_or_create_collection("keep_ef")
    assert col.embedding_function.get_config() == {"scale": 4.0}
    created = client.get_or_create_collection("fresh_ef", embedding_function=efs.ScaledLenEF(5.0))
    assert created.configuration_json["embedding_function"]["config"] == {"scale": 5.0}


# -- configuration={"embedding_function": ef} -------------------------------------------------


def test_ef_in_configuration_is_accepted(efs, client):
    ef = efs.ScaledLenEF(2.0)
    col = client.create_collection("ef_in_config", configuration={"embedding_function": ef, "hnsw": {"space": "l2"}})
    assert col.configuration_json["embedding_function"] == {
        "name": "scaled_len",
        "type": "known",
        "config": {"scale": 2.0},
    }
    assert col.embedding_function is ef
    assert col.configuration["embedding_function"] is ef
    col.add(ids=["a", "b"], documents=["a", "aaaaa"])
    assert col.query(query_texts=["aaaa"], n_results=1)["ids"] == [["b"]]
    assert client.get_collection("ef_in_config").embedding_function.get_config() == {"scale": 2.0}
    # The same EF passed both ways is fine (as on chromadb): the same object, or an equal one
    # (same class and config); two different EFs are ambiguous.
    client.create_collection("ef_both_same", configuration={"embedding_function": ef}, embedding_function=ef)
    equal = client.create_collection(
        "ef_both_equal", configuration={"embedding_function": ef}, embedding_function=efs.ScaledLenEF(2.0)
    )
    assert equal.configuration_json["embedding_function"]["config"] == {"scale": 2.0}
    with pytest.raises(InvalidArgumentError, match="once"):
        client.create_collection(
            "ef_both_diff", configuration={"embedding_function": ef}, embedding_function=efs.ScaledLenEF(3.0)
        )


# -- spaces ------------------------------------------------------------------------------


def test_an_ef_without_l2_gets_its_default_space(efs, client):
    col = client.create_collection("angular", embedding_function=efs.AngularOnlyEF())
    assert col.configuration_json["hnsw"]["space"] == "cosine"
    col.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 2.0]])
    assert col.query(query_embeddings=[[0.0, 5.0]], n_results=1, include=["distances"])["distances"][0][
        0
    ] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [{"configuration": {"hnsw": {"space": "l2"}}}, {"metadata": {"hnsw:space": "l2"}}],
    ids=["configuration", "legacy-metadata"],
)
def test_an_unsupported_space_warns_and_is_kept(efs, client, kwargs):
    # chromadb 1.5.9: UserWarning "space l2 is not supported by <name>. Supported spaces: [...]"
    expected = r"space l2 is not supported by angular_only\. Supported spaces: \['cosine', 'ip'\]"
    with pytest.warns(UserWarning, match=expected):
        col = client.create_collection("bad_space", embedding_function=efs.AngularOnlyEF(), **kwargs)
    assert col.configuration_json["hnsw"]["space"] == "l2"
    assert client.get_collection("bad_space").configuration_json["hnsw"]["space"] == "l2"


def test_a_supported_space_is_kept(efs, client):
    col = client.create_collection(
        "ip_space", embedding_function=efs.AngularOnlyEF(), configuration={"hnsw": {"space": "ip"}}
    )
    assert col.configuration_json["hnsw"]["space"] == "ip"


# -- embed_query ---------------------------------------------------------------------------


def test_query_texts_use_embed_query(efs, client):
    col = client.create_collection("asymmetric", embedding_function=efs.QueryModeEF())
    col.add(ids=["one", "five"], documents=["a", "bbbbb"])  # [1, 0] and [5, 0]
    stored = col.get(include=["embeddings"])
    assert [list(v) for v in stored["embeddings"]] == [[1.0, 0.0], [5.0, 0.0]]
    # "ccc" as a query is [0, 3] (embed_query), not [3, 0] (__call__): distances 10 and 34.
    r = col.query(query_texts=["ccc"], n_results=2, include=["distances"])
    assert r["ids"] == [["one", "five"]] and r["distances"][0] == pytest.approx([10.0, 34.0])
    # The rebuilt (persisted) EF does the same.
    r = client.get_collection("asymmetric").query(query_texts=["ccc"], n_results=2, include=["distances"])
    assert r["distances"][0] == pytest.approx([10.0, 34.0])


def test_without_embed_query_queries_use_call(efs, client):
    col = client.create_collection("symmetric", embedding_function=efs.ScaledLenEF(1.0))
    col.add(ids=["one", "five"], documents=["a", "bbbbb"])  # [1, 1] and [5, 1]
    r = col.query(query_texts=["ccc"], n_results=2, include=["distances"])  # [3, 1]
    assert r["distances"][0] == pytest.approx([4.0, 4.0])


# -- schema validation -------------------------------------------------------------------------


class FakeOllamaEF(EmbeddingFunction):
    """A custom EF under a name that has a JSON schema (core/schemas/ollama.json)."""

    def __init__(self, **config: Any) -> None:
        self.config = config

    def __call__(self, input):
        return [[1.0, float(len(t))] for t in input]

    @staticmethod
    def name() -> str:
        return "ollama"

    def get_config(self):
        return dict(self.config)

    @staticmethod
    def build_from_config(config):
        return FakeOllamaEF(**config)


@pytest.fixture
def fake_ollama(fresh_registry, monkeypatch):
    # The built-in Ollama plugin owns the name: this test's own registry loads every plugin but it.
    import importlib.metadata

    others = {ep.name for ep in importlib.metadata.entry_points(group="huedb")} - {"ollama"}
    monkeypatch.setenv("HUEDB_LOAD_PLUGINS", ",".join(sorted(others)))
    register_embedding_function(FakeOllamaEF)
    plugin = fresh_registry.registrations()["embedding_function"]["ollama"].plugin
    yield FakeOllamaEF
    fresh_registry.unregister_plugin(plugin)


@pytest.mark.parametrize(
    "config, problem",
    [
        ({"url": "http://127.0.0.1:11434"}, "'model_name' is a required property"),
        ({"url": 11434, "model_name": "nomic"}, "is not of type 'string'"),
        ({"url": "http://x", "model_name": "nomic", "temperature": 1}, "Additional properties are not allowed"),
    ],
)
def test_persisted_config_is_validated_against_its_schema(fake_ollama, client, config, problem):
    with pytest.raises(InvalidArgumentError) as e:
        client.create_collection("schema_checked", embedding_function=fake_ollama(**config))
    assert "'ollama'" in str(e.value) and problem in str(e.value)
    with pytest.raises(NotFoundError):
        client.get_collection("schema_checked")


def test_a_valid_config_passes_its_schema(fake_ollama, client):
    col = client.create_collection(
        "schema_ok", embedding_function=fake_ollama(url="http://x", model_name="nomic", timeout=5)
    )
    assert col.configuration_json["embedding_function"]["config"] == {
        "url": "http://x",
        "model_name": "nomic",
        "timeout": 5,
    }
    assert client.get_collection("schema_ok").embedding_function.get_config()["timeout"] == 5


def test_a_persisted_spec_is_validated_too(fresh_registry, client):
    bad = {"name": "openai", "type": "known", "config": {"model_name": "m"}}  # api_key_env_var missing
    with pytest.raises(InvalidArgumentError, match="'api_key_env_var' is a required property"):
        client.create_collection("spec_checked", configuration={"embedding_function": bad})


def test_names_without_a_schema_are_not_schema_checked(efs, client):
    col = client.create_collection("free_config", embedding_function=efs.ScaledLenEF(7.0))
    assert col.configuration_json["embedding_function"]["config"] == {"scale": 7.0}
