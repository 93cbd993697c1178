"""How HttpAPI reaches a server: the base URL from settings, path quoting, and typed errors
rebuilt from a server's ``{"error", "message"}`` body."""

from __future__ import annotations

import urllib.parse
from typing import Any

import httpx

from huedb.config import Settings
from huedb.errors import (
    ChromaError,
    DuplicateIDError,
    ForbiddenError,
    InvalidDimensionException,
    NotImplementedFeatureError,
    error_from_name,
)

#: Chroma's wire names for errors whose class name differs in huedb
_ALIASES = {
    "DuplicateID": DuplicateIDError,
    "InvalidDimension": InvalidDimensionException,
    "AuthError": ForbiddenError,
}


def raise_for_error(response: httpx.Response) -> None:
    if response.is_success:
        return
    name, message = None, None
    try:
        body = response.json()
        if isinstance(body, dict):
            name, message = body.get("error"), body.get("message")
    except ValueError:
        pass
    if not isinstance(name, str):
        text = response.text[:500]
        raise ChromaError(f"HTTP {response.status_code} from {response.request.url.path}: {text}")
    message = message if isinstance(message, str) else name
    cls = _ALIASES.get(name)
    if response.status_code == 501 and name == "ChromaError":  # Chroma's and huedb's 501s
        cls = NotImplementedFeatureError
    raise cls(message) if cls is not None else error_from_name(name, message)


def base_url(settings: Settings) -> str:
    host = str(settings.chroma_server_host or "localhost")
    ssl = bool(settings.chroma_server_ssl_enabled)
    port = settings.chroma_server_http_port
    if host.startswith(("http://", "https://")):
        parsed = urllib.parse.urlparse(host)
        ssl = parsed.scheme == "https"
        host = parsed.hostname or "localhost"
        port = parsed.port or port
    if port is None:
        port = 443 if ssl else 8000
    path = str(settings.chroma_server_api_default_path or "/api/v2").rstrip("/")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # IPv6 literal
    return f"{'https' if ssl else 'http'}://{host}:{int(port)}{path}"


def _q(part: Any) -> str:
    return urllib.parse.quote(str(part), safe="")


#: keep each write request under this many bytes (servers default to a 64 MiB limit)
_TARGET_REQUEST_BYTES = 16 * 1024 * 1024


def chunk_size(n: int, encoded: Any, documents: Any) -> int:
    """Records per write request: all of them (one request is one transaction on the server,
    whatever the announced max batch size), unless the request would grow past
    _TARGET_REQUEST_BYTES (estimated from the first vector and the documents)."""
    if n == 0:
        return 1
    per_record = 64
    if encoded:
        first = encoded[0]
        per_record += len(first) if isinstance(first, str) else 12 * len(first or [])
    if documents:
        per_record += sum(len(d) for d in documents if isinstance(d, str)) // n
    return max(1, min(n, _TARGET_REQUEST_BYTES // per_record))
