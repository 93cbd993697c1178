"""What the registry tells people: ``huedb plugins`` rows and "not installed" messages."""

from __future__ import annotations

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
) -> dict[str, Any]:
    return {
        "name": name,
        "kind": kind,
        "plugin": plugin,
        "distribution": distribution,
        "version": version,
        "error": error,
    }


def describe(registry: Registry, include_all: bool = False, kind: str | None = None) -> list[dict[str, Any]]:
    """One row per registered name, plus plugins that failed (or registered nothing);
    built-ins only with ``include_all``."""
    rows: list[dict[str, Any]] = []
    for k, regs in registry.registrations().items():
        if kind and k != kind:
            continue
        rows.extend(_row(r.name, k, r.plugin, r.distribution, r.version, None) for r in regs.values())
    if not kind:
        rows.extend(
            _row(i.name, None, i.name, i.distribution, i.version, i.error)
            for i in registry.plugin_info.values()
            if i.error
        )
    if not include_all:
        rows = [r for r in rows if r["distribution"] not in ("huedb",) or r["error"]]
    return sorted(rows, key=lambda r: (r["kind"] or "", r["name"]))
