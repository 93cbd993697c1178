"""Every hook in huedb.hookspecs is documented and tested (datasette's check).

Adding a hookspec without a docstring, a section in docs/plugins.md or a test
that mentions it fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from huedb import hookspecs
from huedb.registry import KINDS, OTHER_HOOKS

TESTS = Path(__file__).resolve().parent
DOCS = TESTS.parent / "docs" / "plugins.md"
PROJECT = hookspecs.hookspec.project_name


def hook_names() -> list[str]:
    return sorted(
        name
        for name in dir(hookspecs)
        if callable(getattr(hookspecs, name)) and hasattr(getattr(hookspecs, name), f"{PROJECT}_spec")
    )


def documented(hook: str) -> bool:
    """docs/plugins.md has a heading naming the hook (``### register_x`` or ``### `register_x` ...``)."""
    pattern = re.compile(rf"^#+\s+`?{re.escape(hook)}\b")
    return any(pattern.match(line) for line in DOCS.read_text().splitlines())


def mentions_in_tests(hook: str) -> list[str]:
    me = Path(__file__).resolve()
    return [p.name for p in sorted(TESTS.rglob("test_*.py")) if p.resolve() != me and hook in p.read_text()]


HOOKS = hook_names()


def test_there_are_hooks_and_each_is_a_registry_kind_or_a_listed_other_hook():
    assert HOOKS, "no hookspecs found in huedb.hookspecs"
    assert sorted([*KINDS.values(), *OTHER_HOOKS]) == HOOKS


def test_the_checks_can_fail():
    assert not documented("register_made_up_things")
    assert mentions_in_tests("register_made_up_things_" + "x") == []


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_docstring(hook):
    doc = getattr(hookspecs, hook).__doc__
    assert doc and doc.strip(), f"hookspec {hook} needs a docstring"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_section_in_the_plugin_docs(hook):
    assert documented(hook), f"docs/plugins.md needs a section heading for {hook}"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_mentioned_by_a_test(hook):
    assert mentions_in_tests(hook), f"no test under tests/ mentions {hook}: add one that registers a plugin through it"
