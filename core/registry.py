"""The plugin registry: one pluggy PluginManager, fed by the ``huedb`` entry-point group.

Discovery is lazy (first use), tolerant (a plugin that fails to import is
recorded against its name and everything else keeps working) and can be
restricted with ``HUEDB_LOAD_PLUGINS=a,b`` (empty: load none). Set
``HUEDB_STRICT_PLUGINS=1`` to turn recorded load errors into exceptions.

Nothing is dropped silently. Recorded against the plugin, by name:
an import error; an entry-point name that two distributions declare (the
second is not loaded, and the record names both); a hookimpl of a hook that
does not exist (a misspelling, with the closest real hook name); a plugin that
registered nothing; a registration name claimed by two plugins.
"""

from __future__ import annotations

import difflib
import inspect
import os
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pluggy

from huedb import hookspecs
from huedb.embedding_functions import ef_class_name
from huedb.entry_points import entry_points_with_owners
from huedb.errors import PluginConflictError, PluginNotFoundError, PluginValidationError

ENTRY_POINT_GROUP = "huedb"

#: kind -> hook name
KINDS: dict[str, str] = {
    "embedding_function": "register_embedding_functions",
    "index_segment": "register_index_segments",
    "data_loader": "register_data_loaders",
    "authn_provider": "register_authn_providers",
    "authz_provider": "register_authz_providers",
    "client_auth_provider": "register_client_auth_providers",
}

#: hooks that are not registry kinds: their consumer calls them with its own argument
#: (``register_commands(cli)`` is called by the ``huedb`` command line, see Registry.register_commands)
OTHER_HOOKS: tuple[str, ...] = ("register_commands",)


def _strict() -> bool:
    return os.environ.get("HUEDB_STRICT_PLUGINS", "").strip().lower() not in ("", "0", "false", "no", "off")


class StrictPluginError(RuntimeError):
    """Raised under HUEDB_STRICT_PLUGINS=1 when a plugin failed to load."""


@dataclass
class Registration:
    name: str
    kind: str
    obj: Any
    plugin: str  # the plugin (entry point or registered object) that provided it
    distribution: str | None = None
    version: str | None = None


@dataclass
class PluginInfo:
    name: str
    distribution: str | None = None
    version: str | None = None
    error: str | None = None
    hooks: list[str] = field(default_factory=list)


def _object_name(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', type(obj).__qualname__)}"


def _registration_name(kind: str, cls: Any) -> str:
    if kind == "embedding_function":
        name = ef_class_name(cls)
    else:
        name = getattr(cls, "name", None)
        if callable(name):
            name = name()
    if not isinstance(name, str) or not name:
        raise ValueError(f"{_object_name(cls)} has no usable name; pass register(cls, name='...')")
    return name


class Registry:
    """Wraps one PluginManager. Tests create a fresh one per test."""

    def __init__(self, load_entrypoints: bool = True) -> None:
        self.pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
        self.pm.add_hookspecs(hookspecs)
        self._load_entrypoints = load_entrypoints
        self._discovered = False
        self._lock = threading.RLock()
        self.plugin_info: dict[str, PluginInfo] = {}
        self._from_entry_points: set = set()
        self._cache: dict[str, dict[str, Registration]] | None = None

    # -- discovery -------------------------------------------------------
    def discover(self) -> None:
        with self._lock:
            if self._discovered:
                return
            self._discovered = True
            if self._load_entrypoints:
                self._load_from_entry_points()

    def _load_from_entry_points(self) -> None:
        wanted = os.environ.get("HUEDB_LOAD_PLUGINS")
        allowed = None if wanted is None else {n.strip() for n in wanted.split(",") if n.strip()}
        strict = _strict()
        for ep, distribution, version in entry_points_with_owners(ENTRY_POINT_GROUP, allowed):
            info = PluginInfo(name=ep.name, distribution=distribution, version=version)
            first = self.plugin_info.get(ep.name)
            if first is not None:
                if first.distribution == info.distribution:
                    continue  # the same distribution seen twice on sys.path
                self._record_entry_point_conflict(first, info, strict)
                continue
            self.plugin_info[ep.name] = info
            self._from_entry_points.add(ep.name)
            try:
                module = ep.load()
                self.pm.register(module, name=ep.name)
            except Exception as e:  # noqa: BLE001 - any import failure is recorded, not fatal
                info.error = f"{type(e).__name__}: {e}"
                if strict:
                    raise StrictPluginError(f"plugin {ep.name!r} failed to load: {info.error}") from e
                continue
            unknown = self._unknown_hooks(module)
            if unknown:
                info.error = unknown
                if strict:
                    try:
                        self.pm.check_pending()
                    except pluggy.PluginValidationError as e:
                        raise StrictPluginError(f"plugin {ep.name!r}: {unknown}") from e
            self._cache = None

    def _record_entry_point_conflict(self, first: PluginInfo, second: PluginInfo, strict: bool) -> None:
        """Two distributions declare one entry-point name: only the first is loaded."""
        message = (
            f"PluginConflictError: entry point {first.name!r} in group {ENTRY_POINT_GROUP!r} is declared by two "
            f"distributions, {first.distribution!r} {first.version} (loaded) and {second.distribution!r} "
            f"{second.version} (not loaded). Uninstall one of them, or rename one entry point."
        )
        if strict:
            raise StrictPluginError(message)
        second.name = f"{second.name} ({second.distribution})"
        second.error = message
        self.plugin_info[second.name] = second

    def _unknown_hooks(self, plugin: Any) -> str | None:
        """What a plugin implements that no hookspec defines (None when all is known)."""
        unknown = sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or [] if caller.spec is None)
        if not unknown:
            return None
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, [*KINDS.values(), *OTHER_HOOKS], n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        return (
            f"PluginValidationError: unknown hook {', '.join(hints)}; "
            f"the hooks are {', '.join([*KINDS.values(), *OTHER_HOOKS])} (see docs/plugins.md)"
        )

    # -- registration ----------------------------------------------------
    def register_plugin(
        self, plugin: Any, name: str | None = None, distribution: str | None = None, version: str | None = None
    ) -> str:
        """Registers a plugin object (module or instance with hookimpls). ``distribution``
        and ``version`` say which installed package provides it (tests register huedb's
        own plugins by hand this way, with entry-point discovery off)."""
        self.discover()
        with self._lock:
            plugin_name = self.pm.register(plugin, name=name)
            if plugin_name is None:
                raise ValueError(f"plugin {name!r} is blocked or already registered")
            unknown = self._unknown_hooks(plugin)
            if unknown:
                self.pm.unregister(name=plugin_name)
                raise PluginValidationError(f"plugin {plugin_name!r}: {unknown}")
            self.plugin_info.setdefault(
                plugin_name, PluginInfo(name=plugin_name, distribution=distribution, version=version)
            )
            self._cache = None
            try:
                self.registrations()  # surfaces name conflicts now, not at first use
            except PluginConflictError:
                self.pm.unregister(name=plugin_name)
                self.plugin_info.pop(plugin_name, None)
                self._cache = None
                raise
            return plugin_name

    def unregister_plugin(self, name: str) -> None:
        with self._lock:
            self.pm.unregister(name=name)
            self.plugin_info.pop(name, None)
            self._cache = None

    # -- lookup ----------------------------------------------------------
    def registrations(self) -> dict[str, dict[str, Registration]]:
        """kind -> name -> Registration, computed once per change of plugins."""
        self.discover()
        with self._lock:
            if self._cache is not None:
                return self._cache
            table: dict[str, dict[str, Registration]] = {kind: {} for kind in KINDS}
            for kind, hook_name in KINDS.items():
                hook = getattr(self.pm.hook, hook_name)
                for impl in hook.get_hookimpls():  # registration order
                    self._collect_safely(table[kind], kind, impl.plugin_name, impl.function)
            self._flag_plugins_that_registered_nothing()
            self._cache = table
            return table

    def _flag_plugins_that_registered_nothing(self) -> None:
        # A plugin that only adds CLI commands registers no class, and that is fine.
        commands = {impl.plugin_name for impl in self.pm.hook.register_commands.get_hookimpls()}
        for name in self._from_entry_points:
            info = self.plugin_info[name]
            if info.error is None and not info.hooks and name not in commands:
                info.error = (
                    f"registered nothing: plugin {name!r} loaded, but no hookimpl of it called register(); "
                    f"mark each hook with huedb.hookspecs.hookimpl and call register(cls) in it"
                )
                if _strict():
                    raise StrictPluginError(f"plugin {name!r} {info.error}")

    def _collect_safely(self, into: dict[str, Registration], kind: str, plugin_name: str, fn: Callable) -> None:
        """One faulty installed plugin is recorded against its name; it never breaks the others."""
        staged: dict[str, Registration] = dict(into)
        try:
            self._collect(staged, kind, plugin_name, fn)
        except Exception as e:  # noqa: BLE001
            info = self.plugin_info.get(plugin_name)
            if info is None or plugin_name not in self._from_entry_points:
                raise  # runtime registrations (register_embedding_function) fail loudly
            info.error = f"{type(e).__name__}: {e}"
            if _strict():
                raise StrictPluginError(f"plugin {plugin_name!r} failed to register: {info.error}") from e
            return
        into.clear()
        into.update(staged)

    def _collect(self, into: dict[str, Registration], kind: str, plugin_name: str, fn: Callable) -> None:
        info = self.plugin_info.get(plugin_name)

        def register(cls: Any, name: str | None = None) -> None:
            key = name or _registration_name(kind, cls)
            existing = into.get(key)
            if existing is not None and existing.obj is not cls:
                raise PluginConflictError(
                    f"{kind.replace('_', ' ')} name {key!r} is claimed twice: by plugin "
                    f"{existing.plugin!r} ({_object_name(existing.obj)}) and by plugin "
                    f"{plugin_name!r} ({_object_name(cls)}). Rename one of them, or "
                    f"uninstall one plugin."
                )
            into[key] = Registration(
                name=key,
                kind=kind,
                obj=cls,
                plugin=plugin_name,
                distribution=info.distribution if info else None,
                version=info.version if info else None,
            )
            if info is not None and kind not in info.hooks:
                info.hooks.append(kind)

        fn(register=register)

    def register_commands(self, cli: Any) -> None:
        """Calls every plugin's ``register_commands(cli)`` with the ``huedb`` Click group.

        As with a failed registration, an installed plugin whose hook raises is recorded
        against its name (``huedb plugins`` shows it) and the CLI still starts;
        under HUEDB_STRICT_PLUGINS it raises StrictPluginError.
        """
        self.discover()
        for impl in self.pm.hook.register_commands.get_hookimpls():
            try:
                impl.function(cli=cli)
            except Exception as e:  # noqa: BLE001
                info = self.plugin_info.get(impl.plugin_name)
                if info is None or impl.plugin_name not in self._from_entry_points:
                    raise
                info.error = f"{type(e).__name__}: {e}"
                if _strict():
                    raise StrictPluginError(
                        f"plugin {impl.plugin_name!r} failed to register commands: {info.error}"
                    ) from e

    def get(self, kind: str, name: str) -> Any:
        reg = self.registrations()[kind].get(name)
        if reg is None:
            raise PluginNotFoundError(self.not_found_message(kind, name))
        return reg.obj

    def names(self, kind: str) -> list[str]:
        return sorted(self.registrations()[kind])

    def not_found_message(self, kind: str, name: str, context: str = "") -> str:
        """Says what is missing, where it comes from, and what is installed (``context``
        replaces the opening, e.g. "Collection 'docs' uses embedding function 'openai'")."""
        from huedb.plugin_report import not_found_message

        return not_found_message(self, kind, name, context)

    def describe(self, include_all: bool = False, kind: str | None = None) -> list[dict[str, Any]]:
        """Rows for ``huedb plugins``: one per registered name, plus failed plugins."""
        from huedb.plugin_report import describe

        return describe(self, include_all, kind)


_registry: Registry | None = None
_registry_lock = threading.Lock()


def get_registry() -> Registry:
    global _registry
    with _registry_lock:
        if _registry is None:
            _registry = Registry()
        return _registry


def set_registry(registry: Registry | None) -> Registry | None:
    """Swaps the process registry (tests use a fresh one); returns the previous one."""
    global _registry
    with _registry_lock:
        previous, _registry = _registry, registry
        return previous


class _SingleClassPlugin:
    """A one-class plugin built by ``register_embedding_function``."""

    def __init__(self, cls: Any, name: str | None) -> None:
        self.cls = cls
        self.name = name

    @hookspecs.hookimpl
    def register_embedding_functions(self, register):
        register(self.cls, name=self.name)


def is_user_registration(registry: Registry, registration: Registration) -> bool:
    """Whether user code registered it at run time (register_embedding_function), not a plugin."""
    return isinstance(registry.pm.get_plugin(registration.plugin), _SingleClassPlugin)


def register_embedding_function(cls: Any = None, *, name: str | None = None) -> Any:
    """Registers an EmbeddingFunction class; usable as a decorator or a call.

    As on chromadb, user code may register a name again: the same class is a no-op, one of the
    same module and qualified name (a re-run cell) replaces it, another class replaces it with a
    warning. A name owned by an installed plugin (e.g. "openai") raises PluginConflictError."""

    def do_register(c: Any) -> Any:
        if not inspect.isclass(c):
            raise TypeError(f"register_embedding_function expects a class, got {c!r}")
        key = name or _registration_name("embedding_function", c)
        registry = get_registry()
        with registry._lock:
            existing = registry.registrations()["embedding_function"].get(key)
            if existing is not None and existing.obj is c:
                return c
            if existing is not None and is_user_registration(registry, existing):
                if _object_name(existing.obj) != _object_name(c):
                    warnings.warn(
                        f"Embedding function name {key!r} was registered by {_object_name(existing.obj)}; "
                        f"{_object_name(c)} now replaces it (the last registration wins). Give one of them "
                        "another name() if both are needed.",
                        UserWarning,
                        stacklevel=3,
                    )
                registry.unregister_plugin(existing.plugin)
            # an installed plugin's name falls through: register_plugin raises PluginConflictError
            registry.register_plugin(_SingleClassPlugin(c, name), name=f"{_object_name(c)}:{key}")
        return c

    if cls is None:
        return do_register
    return do_register(cls)
