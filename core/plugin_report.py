"""What the registry tells people: ``huedb plugins`` rows and "not installed" messages."""

from __future__ import annotations

import importlib.metadata
import re
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from huedb.registry import Registry

#: where well-known plugins come from, for "not installed" messages
KNOWN_PROVIDERS: dict[str, str] = {
    "default": "huedb (built in: pip install huedb)",
    "onnx_mini_lm_l6_v2": "huedb (built in: pip install huedb)",
    "openai": "pip install 'huedb[openai]'",
    "cohere": "pip install 'huedb[cohere]'",
    "open_clip": "pip install 'huedb[clip]'",
    "hnswlib": "huedb (built in: pip install huedb)",
    "annoy": "huedb (built in: pip install huedb)",
    "exact": "huedb (built in: pip install huedb)",
}


def not_found_message(registry: Registry, kind: str, name: str, context: str = "") -> str:
    from huedb.registry import ENTRY_POINT_GROUP

    label = kind.replace("_", " ")
    hint = KNOWN_PROVIDERS.get(name)
    where = (
        f"It is provided by: {hint}."
        if hint
        else (
            f"Install the package that provides it (a plugin in the {ENTRY_POINT_GROUP!r} entry-point group), "
            f"or register it with register_embedding_function."
        )
    )
    failed = registry.plugin_info.get(name)
    broken = f" Plugin {name!r} is installed but failed to load: {failed.error}." if failed and failed.error else ""
    installed = ", ".join(registry.names(kind)) or "none"
    opening = f"{context}, which is not installed." if context else f"{label} {name!r} is not installed."
    return f"{opening}{broken} {where} Installed: {installed}."


def _row(
    name: str,
    kind: str | None,
    plugin: str,
    distribution: str | None,
    version: str | None,
    error: str | None,
    extra: str | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "kind": kind,
        "plugin": plugin,
        "distribution": distribution,
        "version": version,
        "error": error,
        "extra": extra,
        "installed": _extra_installed(distribution, extra) if extra else None,
    }


def _extra_of(obj: Any) -> str | None:
    """The extra a plugin class declares (``extra = "bedrock"``) for its optional packages."""
    extra = getattr(obj, "extra", None)
    return extra if isinstance(extra, str) and extra else None


@cache
def _extra_installed(distribution: str | None, extra: str) -> bool | None:
    """Whether every package ``distribution[extra]`` requires is installed (read from package
    metadata: nothing is imported). None when the distribution is unknown."""
    if not distribution:
        return None
    try:
        requires = importlib.metadata.distribution(distribution).requires or []
    except importlib.metadata.PackageNotFoundError:
        return None
    marker = re.compile(r"""extra\s*==\s*["']""" + re.escape(extra) + r"""["']""")
    for requirement in requires:
        spec, _, markers = requirement.partition(";")
        if not marker.search(markers):
            continue
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
        if match is None:
            continue
        try:
            importlib.metadata.version(match.group(1))
        except importlib.metadata.PackageNotFoundError:
            return False
    return True


def describe(registry: Registry, include_all: bool = False, kind: str | None = None) -> list[dict[str, Any]]:
    """One row per registered name, plus plugins that failed (or registered nothing);
    built-ins only with ``include_all``."""
    rows: list[dict[str, Any]] = []
    for k, regs in registry.registrations().items():
        if kind and k != kind:
            continue
        rows.extend(_row(r.name, k, r.plugin, r.distribution, r.version, None, _extra_of(r.obj)) for r in regs.values())
    if not kind:
        rows.extend(
            _row(i.name, None, i.name, i.distribution, i.version, i.error)
            for i in registry.plugin_info.values()
            if i.error
        )
    if not include_all:
        rows = [r for r in rows if r["distribution"] not in ("huedb",) or r["error"]]
    return sorted(rows, key=lambda r: (r["kind"] or "", r["name"]))
