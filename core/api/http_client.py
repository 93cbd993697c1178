"""HttpClient, AsyncHttpClient and CloudClient: huedb's clients for a remote server.

They return the same Client (and Collection) as embedded mode, over HttpAPI;
embedding functions run client side. ``AsyncHttpClient`` is awaitable and its
methods are coroutines over an httpx.AsyncClient (huedb.api.async_client).
"""

from __future__ import annotations

import os
from typing import Any

from huedb.api.async_client import AsyncAdminClientAPI, AsyncClientAPI, AsyncCollection, admin, connect
from huedb.api.client import AdminClient, Client
from huedb.config import DEFAULT_DATABASE, DEFAULT_TENANT, Settings, get_settings
from huedb.errors import InvalidArgumentError

HTTP_API_IMPL = "huedb.api.http_api.HttpAPI"


def _http_settings(
    host: str, port: Any, ssl: bool, headers: dict[str, str] | None, settings: Settings | None
) -> Settings:
    # As chromadb: no settings means fresh ones (defaults and environment), not the process-wide
    # settings that configure() changes, whose cached server host would otherwise make a mismatch.
    base = settings if settings is not None else Settings()
    if headers is not None and not isinstance(headers, dict):
        raise InvalidArgumentError("headers must be a dict of header names to values")
    if port is not None:
        try:
            port = int(port)
        except (TypeError, ValueError):
            raise InvalidArgumentError(f"port must be an integer, got {port!r}") from None
    # As chromadb: settings given here naming another server than the arguments is a mistake, not an
    # override (configure()'s global settings are defaults, which the arguments override).
    if settings is not None and base.chroma_server_host and base.chroma_server_host != host:
        raise ValueError(
            f"Chroma server host provided in settings[{base.chroma_server_host}] is different to the one "
            f"provided in HttpClient: [{host}]"
        )
    if (
        settings is not None
        and base.chroma_server_http_port
        and port is not None
        and base.chroma_server_http_port != port
    ):
        raise ValueError(
            f"Chroma server http port provided in settings[{base.chroma_server_http_port}] is different to the "
            f"one provided in HttpClient: [{port}]"
        )
    merged_headers = dict(base.chroma_server_headers or {})
    merged_headers.update(headers or {})
    return base.copy(
        chroma_api_impl=HTTP_API_IMPL,
        chroma_server_host=host,
        chroma_server_http_port=port,
        chroma_server_ssl_enabled=bool(ssl),
        chroma_server_headers=merged_headers or None,
    )


def HttpClient(
    host: str = "localhost",
    port: int = 8000,
    ssl: bool = False,
    headers: dict[str, str] | None = None,
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> Client:
    """A client for a huedb (or Chroma) server at ``host:port``."""
    return Client(_http_settings(host, port, ssl, headers, settings), tenant, database)


def CloudClient(
    api_key: str | None = None,
    tenant: str | None = None,
    database: str | None = None,
    cloud_host: str = "api.trychroma.com",
    cloud_port: int = 443,
    enable_ssl: bool = True,
    settings: Settings | None = None,
) -> Client:
    """A client for a hosted server with API-key (token) auth, sent as ``X-Chroma-Token``.

    ``api_key``, ``tenant`` and ``database`` default to CHROMA_API_KEY,
    CHROMA_TENANT and CHROMA_DATABASE; a missing tenant or database is taken
    from the key's identity (``/auth/identity``) when it is bound to one.
    """
    api_key = api_key or os.environ.get("CHROMA_API_KEY")
    if not api_key:
        raise ValueError("CloudClient needs an API key: pass api_key=... or set CHROMA_API_KEY")
    tenant = tenant or os.environ.get("CHROMA_TENANT") or None
    database = database or os.environ.get("CHROMA_DATABASE") or None
    cloud = _http_settings(cloud_host, cloud_port, enable_ssl, None, settings).copy(
        chroma_client_auth_provider="token",
        chroma_client_auth_credentials=api_key,
        chroma_auth_token_transport_header="X-Chroma-Token",
    )
    if tenant is None or database is None:
        from huedb.api.http_api import HttpAPI

        api = HttpAPI(cloud)
        try:
            ident = api.get_user_identity()
        finally:
            api.close()
        dbs = [d for d in ident.get("databases") or [] if d != "*"]
        if tenant is None:
            found = ident.get("tenant")
            tenant = found if isinstance(found, str) and found not in ("", "*") else DEFAULT_TENANT
        if database is None:
            database = dbs[0] if len(dbs) == 1 else DEFAULT_DATABASE
    return Client(cloud, tenant, database)


# -- async -------------------------------------------------------------------
async def AsyncHttpClient(
    host: str = "localhost",
    port: int = 8000,
    ssl: bool = False,
    headers: dict[str, str] | None = None,
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> AsyncClientAPI:
    """``client = await huedb.AsyncHttpClient(...)``; then ``await client.get_collection(...)`` etc.
    Requests are awaited on an httpx.AsyncClient (huedb.api.async_client)."""
    sync = Client(_http_settings(host, port, ssl, headers, settings), tenant, database, _validate=False)
    return await connect(sync)


async def AsyncAdminClient(settings: Settings | None = None) -> AsyncAdminClientAPI:
    return admin(AdminClient(settings if settings is not None else get_settings()))


__all__: list[str] = [
    "AsyncAdminClient",
    "AsyncClientAPI",
    "AsyncCollection",
    "AsyncHttpClient",
    "CloudClient",
    "HttpClient",
]
