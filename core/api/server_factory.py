"""Which ServerAPI a client's settings ask for: the embedded engine or HttpAPI."""

from __future__ import annotations

import os

from huedb.api.server_api import ServerAPI
from huedb.config import Settings

#: ``chroma_api_impl`` values that name an in-process engine: huedb's, and chromadb's local
#: implementations (the Rust bindings, and the Python ``SegmentAPI`` older code and docs name)
LOCAL_API_IMPLS = (
    "huedb.api.local.LocalAPI",
    "huedb.engine.LocalAPI",
    "chromadb.api.segment.SegmentAPI",
    "chromadb.api.rust.RustBindingsAPI",
)


def make_server_api(settings: Settings) -> ServerAPI:
    impl = str(settings.chroma_api_impl or "")
    if settings.chroma_server_host or "fastapi" in impl.lower() or "http" in impl.lower():
        from huedb.api.http_api import HttpAPI

        return HttpAPI(settings)
    if impl not in LOCAL_API_IMPLS:
        # As chromadb: a name it does not know is an error, not silently the embedded engine.
        raise ValueError(
            f"Unsupported Chroma API implementation {impl}: use one of {', '.join(LOCAL_API_IMPLS)} "
            "(embedded), or an HTTP implementation such as chromadb.api.fastapi.FastAPI with chroma_server_host"
        )
    _refuse_chroma_directory(settings)
    from huedb.engine import LocalAPI

    return LocalAPI(settings)


def _refuse_chroma_directory(settings: Settings) -> None:
    """A Chroma persist directory is not opened as an empty huedb one beside it."""
    path = os.path.expanduser(str(settings.persist_directory or ""))
    has = os.path.exists
    if settings.is_persistent and has(f"{path}/chroma.sqlite3") and not has(f"{path}/huedb.sqlite3"):
        raise ValueError(
            f"{path} is a Chroma persist directory (chroma.sqlite3), which huedb does not open in place. "
            f"Copy it into a huedb one: huedb copy --all --from-chroma-dir {path} --to-path {path}-huedb "
            "(docs/cli.md), then open that path."
        )
