"""huedb's HTTP server: Chroma's REST API v2 over the embedded LocalAPI.

``create_app(config)`` builds the ASGI app (Starlette); ``run.main`` runs it on uvicorn.
"""

from __future__ import annotations

from huedb.server.config import ServerConfig, load_config

__all__ = ["ServerConfig", "load_config", "create_app"]


def create_app(*args, **kwargs):  # imported lazily: starlette is in the [server] extra
    from huedb.server.app import create_app as _create_app

    return _create_app(*args, **kwargs)
