"""The endpoint wrapper every route uses: auth, body parsing, threadpool, errors.

A handler is ``async def handler(ctx: Ctx) -> Any``; what it returns is sent as
JSON (a ``Response`` is sent as is). Sync LocalAPI calls go through
``ctx.call`` so they run in the threadpool and never block the event loop.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from huedb.auth import AuthzResource, UserIdentity
from huedb.errors import (
    AuthorizationError,
    ChromaError,
    DuplicateIDError,
    ForbiddenError,
    InvalidArgumentError,
    InvalidDimensionException,
    NotImplementedFeatureError,
)
from huedb.server.auth import IDENTITY, OPEN
from huedb.sparse import json_default

logger = logging.getLogger("huedb.server")

#: our error classes whose wire name differs (Chroma clients map these names to their classes)
_WIRE_NAMES = {
    DuplicateIDError: "DuplicateID",
    InvalidDimensionException: "InvalidDimension",
    ForbiddenError: "AuthError",
    NotImplementedFeatureError: "ChromaError",  # a 501, as Chroma's server names it
}


def error_body(exc: BaseException) -> tuple[int, dict[str, str]]:
    """(status, {"error", "message"}) for any exception; unknown ones become a bare 500."""
    if isinstance(exc, ChromaError):
        name = next((n for cls, n in _WIRE_NAMES.items() if isinstance(exc, cls)), None)
        if name is None:
            name = "AuthorizationError" if isinstance(exc, AuthorizationError) else type(exc).name()
        status = exc.code()
        return status, {"error": name, "message": _utf8_safe(exc.message() or name)}
    if isinstance(exc, (ValueError, TypeError)):
        # Plain ValueErrors are user errors in the core (e.g. reset disabled, bad settings).
        return 400, {"error": "InvalidArgumentError", "message": _utf8_safe(str(exc) or type(exc).__name__)}
    if isinstance(exc, RecursionError):
        return 400, {"error": "InvalidArgumentError", "message": "The request is nested too deeply"}
    return 500, {"error": "InternalError", "message": "Internal server error; the server log has the details"}


def _utf8_safe(text: str) -> str:
    """The message with lone surrogates (echoed from a hostile request) escaped, so that
    the error body itself can be encoded as UTF-8 instead of failing with a 500."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class ResultResponse(JSONResponse):
    """JSONResponse that sends SparseVector metadata values in their ``#type`` JSON form."""

    def render(self, content: Any) -> bytes:
        return json.dumps(
            content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"), default=json_default
        ).encode("utf-8")


def error_response(exc: BaseException) -> JSONResponse:
    status, body = error_body(exc)
    # chromadb's header: its clients put it on the raised error's trace_id, to match the server log
    trace_id = uuid.uuid4().hex
    if status >= 500:
        logger.error("unhandled error (trace id %s)", trace_id, exc_info=exc)
    return JSONResponse(body, status_code=status, headers={"chroma-trace-id": trace_id})


@dataclass
class Ctx:
    request: Request
    api: Any  # LocalAPI
    state: Any  # app.state: config, auth, api
    user: UserIdentity | None
    params: dict[str, str]
    tenant: str | None
    database: str | None
    body: Any = None

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(fn, *args, **kwargs)


async def read_json(request: Request, required: bool) -> Any:
    raw = await request.body()
    if not raw.strip():
        if required:
            raise InvalidArgumentError("Expected a JSON request body")
        return None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InvalidArgumentError(
            f"The request body is not valid JSON: {e.__class__.__name__} at position {getattr(e, 'pos', '?')}"
        ) from None
    except RecursionError:
        raise InvalidArgumentError("The request body is nested too deeply") from None


Handler = Callable[[Ctx], Awaitable[Any]]
ResourceFn = Callable[[Ctx], AuthzResource]


def default_resource(ctx: Ctx) -> AuthzResource:
    return AuthzResource(tenant=ctx.tenant, database=ctx.database, collection=ctx.params.get("collection_id"))


def endpoint(
    action: str | None,
    handler: Handler,
    body: bool | None = None,
    resource: ResourceFn = default_resource,
    status_code: int = 200,
) -> Callable[[Request], Awaitable[Response]]:
    """Wraps a handler. ``action``: OPEN, IDENTITY, an authz action, or None (authn only).

    ``body``: True (required JSON), False (optional JSON), None (no body read).
    """

    async def run(request: Request) -> Response:
        state = request.app.state
        try:
            user = None
            if action != OPEN:
                user = state.auth.authenticate(request.headers)
            params = dict(request.path_params)
            tenant = params.get("tenant", params.get("tenant_name"))
            database = params.get("database")
            tenant, database = state.auth.scope(user, tenant, database)
            ctx = Ctx(request, state.api, state, user, params, tenant, database)
            if body is not None:
                ctx.body = await read_json(request, required=body)
            if action not in (OPEN, IDENTITY, None) and user is not None:
                state.auth.authorize(user, action, resource(ctx))
            result = await handler(ctx)
        except Exception as exc:  # every failure becomes {error, message}
            return error_response(exc)
        if isinstance(result, Response):
            return result
        return ResultResponse(result, status_code=status_code)

    run.__name__ = getattr(handler, "__name__", "endpoint")
    return run
