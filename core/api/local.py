"""Where settings name the embedded engine (``chroma_api_impl="huedb.api.local.LocalAPI"``)."""

from huedb.engine import LocalAPI

__all__ = ["LocalAPI"]
