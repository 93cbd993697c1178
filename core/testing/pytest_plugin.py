"""pytest fixtures for huedb plugin authors (loaded through the ``pytest11`` entry point).

``huedb_registry``: a fresh ``huedb.registry.Registry`` with entry-point autoload
OFF, installed as the process registry for one test and swapped back afterwards.
Nothing installed in the environment leaks into the test (simonw/llm's pattern):
the test registers exactly the plugins it is about.

``huedb_register``: registers a plugin into that registry, e.g.
``huedb_register(my_package.index)`` (a module with hookimpls) or
``huedb_register(MySegment, kind="index_segment")`` (one class).

Kept light on purpose: pytest loads this module in every run of every project
in an environment where huedb is installed, so huedb is imported only when a
fixture is used.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from huedb.registry import Registry


def _one_class_plugin(cls: Any, kind: str, name: str | None) -> Any:
    """A plugin object whose one hookimpl registers ``cls`` under ``kind``."""
    from huedb.hookspecs import hookimpl
    from huedb.registry import KINDS

    if kind not in KINDS:
        raise ValueError(f"unknown plugin kind {kind!r}; expected one of {', '.join(KINDS)}")

    def hook(register: Callable[..., None]) -> None:
        register(cls, name=name)

    # pluggy finds hookimpls by attribute name, so the attribute is named after the hook.
    return types.SimpleNamespace(**{KINDS[kind]: hookimpl(hook)})


@pytest.fixture
def huedb_registry() -> Iterator[Registry]:
    """A fresh registry without entry-point discovery, installed for this test only."""
    from huedb.registry import Registry, set_registry

    registry = Registry(load_entrypoints=False)
    previous = set_registry(registry)
    try:
        yield registry
    finally:
        set_registry(previous)


@pytest.fixture
def huedb_register(huedb_registry: Registry) -> Callable[..., str]:
    """``huedb_register(plugin, name=None, kind=None) -> plugin name``.

    ``plugin`` is a module or object with ``@hookimpl`` functions; with ``kind``
    (``"index_segment"``, ``"embedding_function"``, ...) it is a single class to
    register under that kind (``name`` then overrides the class's own name).
    The registration lives in ``huedb_registry`` and ends with the test.
    """

    def register(plugin: Any, name: str | None = None, kind: str | None = None) -> str:
        if kind is not None:
            wrapper = _one_class_plugin(plugin, kind, name)
            plugin_name = f"{getattr(plugin, '__module__', '?')}.{getattr(plugin, '__qualname__', plugin)}"
            if name is not None:  # the same class under a second name is a second plugin
                plugin_name += f"[{name}]"
            return huedb_registry.register_plugin(wrapper, name=plugin_name)
        return huedb_registry.register_plugin(plugin, name=name)

    return register
