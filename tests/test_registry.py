"""The plugin registry: lazy entry-point discovery, error recording, HUEDB_LOAD_PLUGINS,
HUEDB_STRICT_PLUGINS, register_embedding_function and name conflicts.

Entry points are tested for real: each test writes fake distributions (a
``*.dist-info`` directory with METADATA and entry_points.txt, plus the plugin
module) into a tmp dir put on ``sys.path``, exactly what an installed package
looks like to ``importlib.metadata``. Every test uses a fresh Registry.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path

import pytest

from huedb.embedding_functions import EmbeddingFunction
from huedb.errors import PluginConflictError, PluginNotFoundError
from huedb.hookspecs import hookimpl
from huedb.registry import (
    ENTRY_POINT_GROUP,
    KINDS,
    Registry,
    StrictPluginError,
    get_registry,
    register_embedding_function,
)

# -- fake distributions ------------------------------------------------------


class FakeDists:
    """Writes installed-looking distributions into one sys.path entry."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: list[str] = []

    def add(self, dist: str, version: str, entry_points: dict[str, str], modules: dict[str, str]) -> None:
        info = self.root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        lines = [f"[{ENTRY_POINT_GROUP}]"] + [f"{name} = {target}" for name, target in entry_points.items()]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        for module, source in modules.items():
            (self.root / f"{module}.py").write_text(textwrap.dedent(source))
            self.modules.append(module)


@pytest.fixture
def fake_dists(tmp_path, monkeypatch):
    root = tmp_path / "site"
    root.mkdir()
    dists = FakeDists(root)
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delenv("HUEDB_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("HUEDB_STRICT_PLUGINS", raising=False)
    yield dists
    for module in dists.modules:
        sys.modules.pop(module, None)


def uid() -> str:
    return uuid.uuid4().hex[:10]


def ef_module(ef_name: str) -> str:
    return f"""
        from huedb.embedding_functions import EmbeddingFunction
        from huedb.hookspecs import hookimpl

        class FakeEF(EmbeddingFunction):
            def __call__(self, input):
                return [[float(len(t)), 1.0] for t in input]

            @staticmethod
            def name():
                return {ef_name!r}

            def get_config(self):
                return {{}}

            @staticmethod
            def build_from_config(config):
                return FakeEF()

        @hookimpl
        def register_embedding_functions(register):
            register(FakeEF)
    """


@pytest.fixture
def one_fake_ef(fake_dists):
    """A distribution 'fake-ef-dist' 1.2.3 with entry point `ep_<id>` registering EF `ef_<id>`."""
    tag = uid()
    module = f"fake_ef_{tag}"
    fake_dists.add("fake-ef-dist", "1.2.3", {f"ep_{tag}": module}, {module: ef_module(f"ef_{tag}")})
    return {"entry_point": f"ep_{tag}", "ef": f"ef_{tag}", "module": module}


# -- lazy discovery ------------------------------------------------------------


def test_discovery_is_lazy_and_happens_once(one_fake_ef, monkeypatch):
    calls = []
    real = importlib.metadata.entry_points

    def counting(*args, **kwargs):
        calls.append(kwargs.get("group"))
        return real(*args, **kwargs)

    monkeypatch.setattr(importlib.metadata, "entry_points", counting)
    registry = Registry()
    assert calls == []  # constructing the registry discovers nothing
    assert one_fake_ef["module"] not in sys.modules
    assert registry.pm.get_plugins() == set()

    assert one_fake_ef["ef"] in registry.names("embedding_function")
    registry.get("embedding_function", one_fake_ef["ef"])
    registry.describe(include_all=True)
    registry.registrations()
    assert calls == [ENTRY_POINT_GROUP]  # once, however many lookups
    assert one_fake_ef["module"] in sys.modules


def test_concurrent_first_use_discovers_once(one_fake_ef, monkeypatch):
    calls = []
    real = importlib.metadata.entry_points

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(importlib.metadata, "entry_points", counting)
    registry = Registry()
    barrier = threading.Barrier(8)
    seen = []

    def use():
        barrier.wait()
        seen.append(registry.get("embedding_function", one_fake_ef["ef"]))

    threads = [threading.Thread(target=use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(seen) == 8 and len(set(map(id, seen))) == 1


def test_importing_huedb_loads_no_plugin():
    code = textwrap.dedent(
        """
        import json, sys
        import huedb, huedb.registry, huedb.utils.embedding_functions
        print(json.dumps({
            "registry": huedb.registry._registry is not None,
            "plugin_modules": sorted(m for m in sys.modules
                                     if m.startswith(("huedb_plugins.", "huedb_example_plugins"))),
        }))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(out.stdout) == {"registry": False, "plugin_modules": []}


def test_load_entrypoints_false_registers_nothing(one_fake_ef):
    registry = Registry(load_entrypoints=False)
    assert all(registry.names(kind) == [] for kind in KINDS)


# -- discovered plugins carry their distribution ------------------------------------------


def test_entry_point_plugin_is_registered_with_its_distribution(one_fake_ef):
    registry = Registry()
    reg = registry.registrations()["embedding_function"][one_fake_ef["ef"]]
    assert reg.plugin == one_fake_ef["entry_point"]
    assert (reg.distribution, reg.version) == ("fake-ef-dist", "1.2.3")
    assert registry.pm.get_plugin(one_fake_ef["entry_point"]) is sys.modules[one_fake_ef["module"]]
    assert registry.get("embedding_function", one_fake_ef["ef"])()(["abc"]) == [[3.0, 1.0]]
    row = next(r for r in registry.describe() if r["name"] == one_fake_ef["ef"])
    assert row == {
        "name": one_fake_ef["ef"],
        "kind": "embedding_function",
        "plugin": one_fake_ef["entry_point"],
        "distribution": "fake-ef-dist",
        "version": "1.2.3",
        "error": None,
        "extra": None,
        "installed": None,
    }


def test_builtins_are_entry_points_of_the_huedb_distribution():
    registry = Registry()
    for kind, name in [("index_segment", "hnswlib"), ("index_segment", "exact"), ("embedding_function", "default")]:
        reg = registry.registrations()[kind][name]
        assert reg.distribution == "huedb"
    builtin_names = {r["name"] for r in registry.describe(include_all=True) if r["distribution"] == "huedb"}
    assert {"hnswlib", "annoy", "exact", "default", "openai", "cohere"} <= builtin_names
    assert not any(r["distribution"] == "huedb" for r in registry.describe())


# -- import errors are recorded, not fatal -----------------------------------------------


def test_import_error_is_recorded_against_the_plugin_name(fake_dists, one_fake_ef):
    tag = uid()
    fake_dists.add(
        "fake-broken-dist",
        "0.1",
        {f"broken_{tag}": f"broken_mod_{tag}", f"crashing_{tag}": f"crashing_mod_{tag}"},
        {
            f"broken_mod_{tag}": "import module_that_does_not_exist_anywhere\n",
            f"crashing_mod_{tag}": "raise RuntimeError('plugin init exploded')\n",
        },
    )
    registry = Registry()
    # Everything else still loads.
    assert one_fake_ef["ef"] in registry.names("embedding_function")
    assert "exact" in registry.names("index_segment")

    broken = registry.plugin_info[f"broken_{tag}"]
    assert broken.error == "ModuleNotFoundError: No module named 'module_that_does_not_exist_anywhere'"
    assert (broken.distribution, broken.version) == ("fake-broken-dist", "0.1")
    assert registry.plugin_info[f"crashing_{tag}"].error == "RuntimeError: plugin init exploded"
    assert registry.pm.get_plugin(f"broken_{tag}") is None

    rows = {r["name"]: r for r in registry.describe()}
    assert rows[f"broken_{tag}"]["error"].startswith("ModuleNotFoundError")
    assert rows[f"broken_{tag}"]["kind"] is None
    assert rows[f"broken_{tag}"]["distribution"] == "fake-broken-dist"
    assert rows[f"crashing_{tag}"]["error"] == "RuntimeError: plugin init exploded"
    # Looking the broken name up says it is installed but failed, and why.
    with pytest.raises(PluginNotFoundError) as e:
        registry.get("embedding_function", f"broken_{tag}")
    msg = str(e.value)
    assert f"'broken_{tag}' is installed but failed to load" in msg
    assert "module_that_does_not_exist_anywhere" in msg


# -- HUEDB_LOAD_PLUGINS ------------------------------------------------------------


def test_load_plugins_restricts_to_the_named_entry_points(one_fake_ef, monkeypatch):
    monkeypatch.setenv("HUEDB_LOAD_PLUGINS", f" exact ,{one_fake_ef['entry_point']}")
    registry = Registry()
    assert registry.names("index_segment") == ["exact"]
    assert registry.names("embedding_function") == [one_fake_ef["ef"]]
    assert sorted(registry.plugin_info) == sorted(["exact", one_fake_ef["entry_point"]])
    with pytest.raises(PluginNotFoundError) as e:
        registry.get("index_segment", "hnswlib")
    assert "Installed: exact." in str(e.value)


def test_load_plugins_empty_loads_none(one_fake_ef, monkeypatch):
    monkeypatch.setenv("HUEDB_LOAD_PLUGINS", "")
    registry = Registry()
    assert all(registry.names(kind) == [] for kind in KINDS)
    assert registry.plugin_info == {}
    assert one_fake_ef["module"] not in sys.modules
    assert registry.describe(include_all=True) == []


def test_load_plugins_skips_broken_plugins_not_named(fake_dists, monkeypatch):
    tag = uid()
    fake_dists.add(
        "fake-broken-dist", "0.1", {f"broken_{tag}": f"broken_mod_{tag}"}, {f"broken_mod_{tag}": "import nope_nope\n"}
    )
    monkeypatch.setenv("HUEDB_LOAD_PLUGINS", "exact")
    monkeypatch.setenv("HUEDB_STRICT_PLUGINS", "1")
    registry = Registry()
    assert registry.names("index_segment") == ["exact"]  # strict, yet the broken one was never tried


# -- HUEDB_STRICT_PLUGINS -----------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_strict_mode_raises_on_a_broken_plugin(fake_dists, monkeypatch, value):
    tag = uid()
    fake_dists.add(
        "fake-broken-dist", "0.1", {f"broken_{tag}": f"broken_mod_{tag}"}, {f"broken_mod_{tag}": "import nope_nope\n"}
    )
    monkeypatch.setenv("HUEDB_LOAD_PLUGINS", f"exact,broken_{tag}")
    monkeypatch.setenv("HUEDB_STRICT_PLUGINS", value)
    registry = Registry()
    with pytest.raises(StrictPluginError) as e:
        registry.registrations()
    assert f"broken_{tag}" in str(e.value)
    assert "No module named 'nope_nope'" in str(e.value)
    assert isinstance(e.value.__cause__, ImportError)


@pytest.mark.parametrize("value", ["0", "", "false"])
def test_strict_mode_off_values_record_instead(fake_dists, monkeypatch, value):
    tag = uid()
    fake_dists.add(
        "fake-broken-dist", "0.1", {f"broken_{tag}": f"broken_mod_{tag}"}, {f"broken_mod_{tag}": "import nope_nope\n"}
    )
    monkeypatch.setenv("HUEDB_LOAD_PLUGINS", f"exact,broken_{tag}")
    monkeypatch.setenv("HUEDB_STRICT_PLUGINS", value)
    registry = Registry()
    assert registry.names("index_segment") == ["exact"]
    assert "nope_nope" in registry.plugin_info[f"broken_{tag}"].error


def test_strict_mode_is_quiet_when_everything_loads(one_fake_ef, monkeypatch):
    monkeypatch.setenv("HUEDB_LOAD_PLUGINS", f"exact,{one_fake_ef['entry_point']}")
    monkeypatch.setenv("HUEDB_STRICT_PLUGINS", "1")
    assert Registry().names("embedding_function") == [one_fake_ef["ef"]]


# -- conflicts between installed plugins --------------------------------------------


def test_two_distributions_claiming_one_name_is_recorded_naming_both(fake_dists, monkeypatch):
    """The second claimant is reported (naming both owners) and left out; the first keeps the name."""
    tag = uid()
    fake_dists.add(
        "fake-a", "1.0", {f"first_{tag}": f"first_mod_{tag}"}, {f"first_mod_{tag}": ef_module(f"clash_{tag}")}
    )
    fake_dists.add(
        "fake-b", "1.0", {f"second_{tag}": f"second_mod_{tag}"}, {f"second_mod_{tag}": ef_module(f"clash_{tag}")}
    )
    registry = Registry()
    regs = registry.registrations()["embedding_function"]
    assert regs[f"clash_{tag}"].plugin in (f"first_{tag}", f"second_{tag}")
    loser = f"second_{tag}" if regs[f"clash_{tag}"].plugin == f"first_{tag}" else f"first_{tag}"
    msg = registry.plugin_info[loser].error
    assert "PluginConflictError" in msg and f"'clash_{tag}'" in msg
    assert f"'first_{tag}'" in msg and f"'second_{tag}'" in msg
    # Unrelated lookups keep working.
    assert "exact" in registry.names("index_segment")
    error_rows = [r for r in registry.describe(include_all=True) if r["error"]]
    assert any(r["name"] == loser for r in error_rows)


def test_two_distributions_claiming_one_name_raise_in_strict_mode(fake_dists, monkeypatch):
    tag = uid()
    fake_dists.add(
        "fake-a", "1.0", {f"first_{tag}": f"first_mod_{tag}"}, {f"first_mod_{tag}": ef_module(f"clash_{tag}")}
    )
    fake_dists.add(
        "fake-b", "1.0", {f"second_{tag}": f"second_mod_{tag}"}, {f"second_mod_{tag}": ef_module(f"clash_{tag}")}
    )
    monkeypatch.setenv("HUEDB_LOAD_PLUGINS", f"first_{tag},second_{tag},exact")
    monkeypatch.setenv("HUEDB_STRICT_PLUGINS", "1")
    registry = Registry()
    with pytest.raises(StrictPluginError) as e:
        registry.registrations()
    assert f"'first_{tag}'" in str(e.value) and f"'second_{tag}'" in str(e.value)


# -- register_embedding_function ---------------------------------------------------


class ShoutEF(EmbeddingFunction):
    """A custom EF registered at run time."""

    def __call__(self, input):
        return [[float(t.isupper()), float(len(t))] for t in input]

    @staticmethod
    def name() -> str:
        return "shout_test_registry"

    def get_config(self):
        return {}

    @staticmethod
    def build_from_config(config):
        return ShoutEF()


def _plugin_of(registry: Registry, kind: str, name: str) -> str:
    return registry.registrations()[kind][name].plugin


@pytest.fixture
def shout_registered(fresh_registry):
    """ShoutEF registered with the call form; unregistered on teardown."""
    assert register_embedding_function(ShoutEF) is ShoutEF
    plugin = _plugin_of(fresh_registry, "embedding_function", "shout_test_registry")
    yield plugin
    fresh_registry.unregister_plugin(plugin)
    assert "shout_test_registry" not in fresh_registry.names("embedding_function")


def test_register_as_a_call_goes_through_the_plugin_manager(fresh_registry, shout_registered):
    assert fresh_registry is get_registry()
    assert fresh_registry.get("embedding_function", "shout_test_registry") is ShoutEF
    plugin = fresh_registry.pm.get_plugin(shout_registered)
    assert plugin is not None
    impls = fresh_registry.pm.hook.register_embedding_functions.get_hookimpls()
    assert any(impl.plugin is plugin for impl in impls)
    # Entry-point plugins are still there alongside it.
    assert "exact" in fresh_registry.names("index_segment")


def test_registered_class_appears_in_listings(fresh_registry, shout_registered):
    rows = [r for r in fresh_registry.describe() if r["name"] == "shout_test_registry"]
    assert rows == [
        {
            "name": "shout_test_registry",
            "kind": "embedding_function",
            "plugin": shout_registered,
            "distribution": None,
            "version": None,
            "error": None,
            "extra": None,
            "installed": None,
        }
    ]
    assert "shout_test_registry" in fresh_registry.names("embedding_function")
    assert [r["name"] for r in fresh_registry.describe(kind="embedding_function") if r["name"] == "shout_test_registry"]


def test_register_as_a_decorator(fresh_registry):
    @register_embedding_function
    class WhisperEF(ShoutEF):
        @staticmethod
        def name() -> str:
            return "whisper_test_registry"

    try:
        assert fresh_registry.get("embedding_function", "whisper_test_registry") is WhisperEF
        assert any(r["name"] == "whisper_test_registry" for r in fresh_registry.describe())
    finally:
        fresh_registry.unregister_plugin(_plugin_of(fresh_registry, "embedding_function", "whisper_test_registry"))


def test_register_with_an_explicit_name(fresh_registry):
    @register_embedding_function(name="alias_test_registry")
    class Aliased(ShoutEF):
        pass

    try:
        assert fresh_registry.get("embedding_function", "alias_test_registry") is Aliased
    finally:
        fresh_registry.unregister_plugin(_plugin_of(fresh_registry, "embedding_function", "alias_test_registry"))


def test_registering_the_same_class_twice_is_a_no_op(fresh_registry, shout_registered):
    before = set(fresh_registry.pm.list_name_plugin())
    assert register_embedding_function(ShoutEF) is ShoutEF
    register_embedding_function(ShoutEF)
    assert set(fresh_registry.pm.list_name_plugin()) == before
    assert fresh_registry.get("embedding_function", "shout_test_registry") is ShoutEF


def test_another_user_class_with_the_name_replaces_it_with_a_warning(fresh_registry, shout_registered):
    # chromadb 1.5.9: registering a second class under a registered name works; the last one wins.
    class Impostor(ShoutEF):
        pass  # inherits name() -> "shout_test_registry"

    with pytest.warns(UserWarning, match=r"'shout_test_registry'.*ShoutEF.*Impostor now replaces it"):
        register_embedding_function(Impostor)
    try:
        assert fresh_registry.get("embedding_function", "shout_test_registry") is Impostor
        # the old one-class plugin is gone, not left beside the new one
        owners = [p for p in fresh_registry.pm.list_name_plugin() if p[0].endswith(":shout_test_registry")]
        assert [name for name, _ in owners] == [_plugin_of(fresh_registry, "embedding_function", "shout_test_registry")]
    finally:
        fresh_registry.unregister_plugin(_plugin_of(fresh_registry, "embedding_function", "shout_test_registry"))


def _redefined_shout() -> type:
    """ShoutEF as a notebook cell run again defines it: a new class, same module and qualname."""

    class ShoutEF2(ShoutEF):
        pass

    ShoutEF2.__qualname__ = ShoutEF.__qualname__
    ShoutEF2.__module__ = ShoutEF.__module__
    return ShoutEF2


def test_the_same_module_and_qualname_again_just_replaces(fresh_registry, shout_registered, recwarn):
    again = _redefined_shout()
    assert register_embedding_function(again) is again
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]
    assert fresh_registry.get("embedding_function", "shout_test_registry") is again
    # and an instance of the redefined class is persisted (re-registered) without an error
    from huedb.ef_persistence import serialize

    third = _redefined_shout()
    assert serialize(third()) == {"name": "shout_test_registry", "type": "known", "config": {}}
    assert fresh_registry.get("embedding_function", "shout_test_registry") is third


def test_a_name_method_that_is_not_static_works(fresh_registry, client):
    # chromadb accepts an EF whose name() is an ordinary method
    class OrdinaryNameEF(ShoutEF):
        def name(self) -> str:
            return "ordinary_name_test_registry"

    register_embedding_function(OrdinaryNameEF)
    assert fresh_registry.get("embedding_function", "ordinary_name_test_registry") is OrdinaryNameEF
    col = client.create_collection("ordinary_name", embedding_function=OrdinaryNameEF())
    assert col.configuration_json["embedding_function"] == {
        "name": "ordinary_name_test_registry",
        "type": "known",
        "config": {},
    }
    col.add(ids=["a", "b"], documents=["A", "bb"])
    assert col.get(ids=["a"], include=["embeddings"])["embeddings"][0].tolist() == [1.0, 1.0]


def test_a_user_class_cannot_claim_a_third_party_plugins_name(fresh_registry):
    class ThirdParty(ShoutEF):
        @staticmethod
        def name() -> str:
            return "third_party_test_registry"

    class Plugin:
        @hookimpl
        def register_embedding_functions(self, register):
            register(ThirdParty)

    fresh_registry.register_plugin(Plugin(), name="thirdparty", distribution="huedb-thirdparty", version="1.0")

    class Mine(ShoutEF):
        @staticmethod
        def name() -> str:
            return "third_party_test_registry"

    try:
        with pytest.raises(PluginConflictError, match="plugin 'thirdparty'"):
            register_embedding_function(Mine)
        assert fresh_registry.get("embedding_function", "third_party_test_registry") is ThirdParty
    finally:
        fresh_registry.unregister_plugin("thirdparty")


def test_a_name_owned_by_an_entry_point_plugin_raises_naming_it(fresh_registry):
    class MyDefault(ShoutEF):
        @staticmethod
        def name() -> str:
            return "default"

    with pytest.raises(PluginConflictError) as e:
        register_embedding_function(MyDefault)
    msg = str(e.value)
    assert "plugin 'default'" in msg  # the built-in entry point that owns it
    assert "MyDefault" in msg
    assert fresh_registry.get("embedding_function", "default").__name__ == "DefaultEmbeddingFunction"


def test_register_rejects_non_classes(fresh_registry):
    with pytest.raises(TypeError, match="expects a class"):
        register_embedding_function(ShoutEF())


def test_unknown_name_lists_what_is_installed(fresh_registry):
    with pytest.raises(PluginNotFoundError) as e:
        fresh_registry.get("index_segment", "faiss_gpu")
    msg = str(e.value)
    assert "index segment 'faiss_gpu' is not installed" in msg
    assert "hnswlib" in msg and "exact" in msg and "annoy" in msg
    with pytest.raises(PluginNotFoundError, match=r"pip install 'huedb\[openai\]'"):
        Registry(load_entrypoints=False).get("embedding_function", "openai")


# -- every kind through one plugin object ---------------------------------------------


class _Named:
    def __init__(self, *args, **kwargs):
        self.args = args


def _cls(name: str) -> type:
    return type(f"Cls_{name}", (_Named,), {"name": name})


class EveryKindPlugin:
    """One plugin object implementing all six hooks (register_embedding_functions,
    register_index_segments, register_data_loaders, register_authn_providers,
    register_authz_providers, register_client_auth_providers)."""

    classes = {kind: _cls(f"every_{kind}") for kind in KINDS if kind != "embedding_function"}

    @hookimpl
    def register_embedding_functions(self, register):
        register(ShoutEF, name="every_embedding_function")

    @hookimpl
    def register_index_segments(self, register):
        register(self.classes["index_segment"])

    @hookimpl
    def register_data_loaders(self, register):
        register(self.classes["data_loader"])

    @hookimpl
    def register_authn_providers(self, register):
        register(self.classes["authn_provider"])

    @hookimpl
    def register_authz_providers(self, register):
        register(self.classes["authz_provider"])

    @hookimpl
    def register_client_auth_providers(self, register):
        register(self.classes["client_auth_provider"])


def test_each_hook_registers_its_kind(fresh_registry):
    plugin_name = fresh_registry.register_plugin(EveryKindPlugin(), name="every-kind")
    try:
        assert fresh_registry.get("embedding_function", "every_embedding_function") is ShoutEF
        for kind, cls in EveryKindPlugin.classes.items():
            assert fresh_registry.get(kind, f"every_{kind}") is cls
            assert fresh_registry.registrations()[kind][f"every_{kind}"].plugin == "every-kind"
        listed = {(r["kind"], r["name"]) for r in fresh_registry.describe() if r["plugin"] == "every-kind"}
        assert listed == {(kind, f"every_{kind}") for kind in KINDS}
        assert sorted(fresh_registry.plugin_info[plugin_name].hooks) == sorted(KINDS)
    finally:
        fresh_registry.unregister_plugin(plugin_name)
    assert all(f"every_{kind}" not in fresh_registry.names(kind) for kind in KINDS)


def test_a_hookspec_per_kind():
    """Every hookspec is a registry kind, or a hook its consumer calls itself (OTHER_HOOKS)."""
    from huedb import hookspecs
    from huedb.registry import OTHER_HOOKS

    assert sorted([*KINDS.values(), *OTHER_HOOKS]) == sorted(
        n for n in dir(hookspecs) if n.startswith("register_") and hasattr(getattr(hookspecs, n), "huedb_spec")
    )


# -- nothing is dropped silently (pluggy-strict) -------------------------------------


def test_two_distributions_declaring_one_entry_point_name_are_both_named(fake_dists):
    tag = uid()
    fake_dists.add("fake-first", "1.0", {f"ep_{tag}": f"one_{tag}"}, {f"one_{tag}": ef_module(f"one_{tag}")})
    fake_dists.add("fake-second", "2.0", {f"ep_{tag}": f"two_{tag}"}, {f"two_{tag}": ef_module(f"two_{tag}")})
    registry = Registry()
    names = registry.names("embedding_function")
    assert (f"one_{tag}" in names) != (f"two_{tag}" in names)  # exactly one of them is loaded
    (row,) = [r for r in registry.describe(include_all=True) if r["error"] and f"ep_{tag}" in r["name"]]
    assert "fake-first" in row["error"] and "fake-second" in row["error"] and "PluginConflictError" in row["error"]


def test_two_distributions_declaring_one_entry_point_name_raise_in_strict_mode(fake_dists, monkeypatch):
    tag = uid()
    fake_dists.add("fake-first", "1.0", {f"ep_{tag}": f"one_{tag}"}, {f"one_{tag}": ef_module(f"one_{tag}")})
    fake_dists.add("fake-second", "2.0", {f"ep_{tag}": f"two_{tag}"}, {f"two_{tag}": ef_module(f"two_{tag}")})
    monkeypatch.setenv("HUEDB_LOAD_PLUGINS", f"ep_{tag}")
    monkeypatch.setenv("HUEDB_STRICT_PLUGINS", "1")
    with pytest.raises(StrictPluginError, match="fake-first.*fake-second"):
        Registry().registrations()


MISSPELLED = """
    from huedb.hookspecs import hookimpl

    @hookimpl
    def register_embeding_functions(register):
        raise AssertionError("never called")
"""


def test_a_misspelled_hook_is_recorded_with_the_right_name(fake_dists):
    tag = uid()
    fake_dists.add("fake-typo", "1.0", {f"typo_{tag}": f"typo_{tag}"}, {f"typo_{tag}": MISSPELLED})
    registry = Registry()
    registry.discover()  # lazy: nothing is loaded before first use
    error = registry.plugin_info[f"typo_{tag}"].error
    assert "'register_embeding_functions'" in error and "did you mean 'register_embedding_functions'" in error


def test_a_misspelled_hook_raises_in_strict_mode(fake_dists, monkeypatch):
    tag = uid()
    fake_dists.add("fake-typo", "1.0", {f"typo_{tag}": f"typo_{tag}"}, {f"typo_{tag}": MISSPELLED})
    monkeypatch.setenv("HUEDB_LOAD_PLUGINS", f"typo_{tag}")
    monkeypatch.setenv("HUEDB_STRICT_PLUGINS", "1")
    with pytest.raises(StrictPluginError, match=f"typo_{tag}.*register_embeding_functions"):
        Registry().registrations()


def test_registering_an_object_with_a_misspelled_hook_fails_loudly(fresh_registry):
    from huedb.errors import PluginValidationError

    class Typo:
        @hookimpl
        def register_index_segment(self, register):
            raise AssertionError("never called")

    with pytest.raises(PluginValidationError, match="did you mean 'register_index_segments'"):
        fresh_registry.register_plugin(Typo(), name="typo")
    assert not fresh_registry.pm.has_plugin("typo")


NOTHING = """
    def register_embedding_functions(register):  # no @hookimpl: pluggy never sees it
        raise AssertionError("never called")
"""


def test_a_plugin_that_registers_nothing_is_listed(fake_dists, monkeypatch):
    tag = uid()
    fake_dists.add("fake-empty", "1.0", {f"empty_{tag}": f"empty_{tag}"}, {f"empty_{tag}": NOTHING})
    registry = Registry()
    (row,) = [r for r in registry.describe(include_all=True) if r["name"] == f"empty_{tag}"]
    assert row["error"].startswith("registered nothing") and row["distribution"] == "fake-empty"
    monkeypatch.setenv("HUEDB_LOAD_PLUGINS", f"empty_{tag}")
    monkeypatch.setenv("HUEDB_STRICT_PLUGINS", "1")
    with pytest.raises(StrictPluginError, match="registered nothing"):
        Registry().registrations()
