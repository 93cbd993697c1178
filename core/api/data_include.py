"""``include=["data"]``: a collection with a data loader loads records' data client side,
from their URIs, so the server is asked for the URIs instead."""

from __future__ import annotations

from typing import Any

from huedb.errors import InvalidArgumentError


def data_include(include: list[str], data_loader: Any, collection: str) -> tuple[list[str], bool, bool]:
    """(what to ask the server for, whether to load 'data', whether to drop the URIs that were
    asked for only to load it)."""
    if "data" not in include:
        return include, False, False
    if data_loader is None:
        raise InvalidArgumentError(
            f"include=['data'] needs a data loader: open collection {collection!r} with data_loader=ImageLoader()"
        )
    hide_uris = "uris" not in include
    server_include = [i for i in include if i != "data"] + (["uris"] if hide_uris else [])
    return server_include, True, hide_uris


def finish_data(result: Any, hide_uris: bool) -> None:
    """Drops the URIs asked for only to load the data, and lists 'data' as included."""
    if hide_uris:
        result["uris"] = None
    result["included"] = [i for i in result["included"] if not (hide_uris and i == "uris")] + ["data"]
