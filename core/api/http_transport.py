"""How HttpAPI reaches a server: the base URL from settings, path quoting, and typed errors
rebuilt from a server's ``{"error", "message"}`` body."""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from huedb import wire
from huedb.api.steps import Steps, steps_of
from huedb.config import Settings
from huedb.errors import (
    ChromaError,
    DuplicateIDError,
    ForbiddenError,
    InvalidArgumentError,
    InvalidDimensionException,
    NotImplementedFeatureError,
    error_from_name,
)
from huedb.registry import get_registry
from huedb.requests import validate_write


@dataclass(frozen=True)
class HttpCall:
    """One REST request (a step of an HttpAPI method: huedb.api.steps)."""

    method: str
    path: str
    json: Any = None
    params: dict[str, Any] | None = None


def client_headers(settings: Settings) -> dict[str, str]:
    """Every request's headers: JSON, the user's headers, and the client auth provider's."""
    headers: dict[str, str] = {"Content-Type": "application/json"}
    extra = settings.chroma_server_headers
    if extra:
        if not isinstance(extra, dict):
            raise InvalidArgumentError(
                "chroma_server_headers (the headers= argument) must be a dict of header names to values"
            )
        headers.update({str(k): str(v) for k, v in extra.items()})
    provider_name = settings.chroma_client_auth_provider
    if provider_name:
        provider = get_registry().get("client_auth_provider", provider_name)(settings)
        headers.update(provider.authenticate())
    return headers


def build_request(http: httpx.Client | httpx.AsyncClient, url: str, call: HttpCall) -> httpx.Request:
    """The request of ``call`` (its JSON body can be sent by a sync or an async client)."""
    try:
        return http.build_request(call.method, url + call.path, json=call.json, params=call.params)
    except UnicodeEncodeError as e:
        # JSON is UTF-8: a lone surrogate (in a name, metadata, a configuration...) cannot be sent.
        bad = e.object[e.start : e.end] if isinstance(e.object, str) else ""
        raise InvalidArgumentError(
            f"Text must be valid Unicode, got a string holding a lone surrogate {bad!a}: "
            "every string sent to the server must be encodable as UTF-8"
        ) from None
    except (ValueError, TypeError) as e:  # NaN or infinity, numpy scalars: what JSON cannot carry
        raise InvalidArgumentError(
            f"The request cannot be sent as JSON: {e}; pass plain Python str, int, float "
            "(finite), bool, list and dict values"
        ) from None


def not_connected(url: str) -> ValueError:
    return ValueError(f"Could not connect to a huedb/Chroma server at {url}. Are you sure it is running?")


def decode(response: httpx.Response) -> Any:
    raise_for_error(response)
    return response.json() if response.content else None


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
    error = cls(message) if cls is not None else error_from_name(name, message)
    error.trace_id = response.headers.get("chroma-trace-id")
    raise error


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


def write_steps(
    api: Any,
    op: str,
    collection_id: str,
    ids: Any,
    embeddings: Any,
    metadatas: Any,
    documents: Any,
    uris: Any,
    tenant: str,
    database: str,
    clear: Sequence[str] = (),
) -> Steps[None]:
    """The requests of HttpAPI's add / update / upsert (steps: huedb.api.steps)."""
    # Checked here, before anything is sent: JSON would silently turn non-str metadata keys into
    # strings and fail on numpy scalars or lone surrogates.
    request = validate_write(
        op, ids, embeddings, metadatas, documents, uris, clear=clear or None, embeddings_required=True
    )
    encoded: Any = None
    if request.embeddings is not None:
        # base64 strings when the server takes them (smaller, exact), else lists
        b64 = request.embeddings.size and (yield from steps_of(api.supports_base64_encoding))
        encoded = wire.encode_embeddings_b64(request.embeddings) if b64 else request.embeddings.tolist()
    columns = {
        "embeddings": encoded,
        "metadatas": request.metadatas,
        "documents": request.documents,
        "uris": request.uris,
    }
    path = api._coll(collection_id, tenant, database) + "/" + op
    # huedb's modality replacement; sent only when used, so a Chroma server sees its own schema.
    extra = {wire.CLEAR_FIELD: list(request.clear)} if request.clear else {}
    n = len(request.ids)
    step = chunk_size(n, encoded, request.documents)
    for start in range(0, n, step):
        chunk = {k: (None if v is None else v[start : start + step]) for k, v in columns.items()}
        yield HttpCall("POST", path, json={"ids": request.ids[start : start + step], **chunk, **extra})
