"""Entry points of a group, each with the distribution that declares it."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator


def entry_points_with_owners(
    group: str, allowed: set[str] | None = None
) -> Iterator[tuple[importlib.metadata.EntryPoint, str | None, str | None]]:
    """(entry point, distribution name, version) for each entry point of ``group`` (only the
    ``allowed`` names when given). A distribution's name and version come from parsing its METADATA
    file; each is parsed once, not once per entry point (that was most of discovery's time)."""
    owners: dict[int, tuple[str | None, str | None]] = {}
    for ep in importlib.metadata.entry_points(group=group):
        if allowed is not None and ep.name not in allowed:
            continue
        dist = getattr(ep, "dist", None)
        if id(dist) not in owners:
            metadata = dist.metadata if dist is not None else None
            owners[id(dist)] = (metadata["Name"], metadata["Version"]) if metadata is not None else (None, None)
        yield (ep, *owners[id(dist)])
