"""The ASGI app: Chroma's REST API v2 (Starlette) over one LocalAPI.

``create_app(config)`` opens the backend and the auth providers at once (so a
bad configuration fails before the server listens) and closes the backend at
lifespan shutdown, after uvicorn has drained in-flight requests.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from huedb.engine import LocalAPI
from huedb.errors import ChromaError, RequestTooLargeError
from huedb.server import routes_collections, routes_records, routes_system, routes_unimplemented
from huedb.server.auth import ServerAuth
from huedb.server.config import ServerConfig
from huedb.server.routes_common import Ctx, endpoint, error_response

logger = logging.getLogger("huedb.server")
access_logger = logging.getLogger("huedb.server.access")

_OPENAPI_PATH = Path(__file__).with_name("openapi.json")


class BodySizeLimit:
    """413 for bodies over ``limit`` bytes: by Content-Length up front, else while streaming."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > self.limit
            except ValueError:
                too_big = False
            if too_big:
                await self._reject(scope, receive, send)
                return
        received = 0
        started = False

        async def limited_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge(self._message())
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reject(scope, receive, send)

    def _message(self) -> str:
        return (
            f"Request body exceeds this server's limit of {self.limit} bytes; "
            "send smaller batches (or raise max_request_bytes in the server config)"
        )

    async def _reject(self, scope: Any, receive: Any, send: Any) -> None:
        response = JSONResponse({"error": "RequestTooLargeError", "message": self._message()}, status_code=413)
        await response(scope, receive, send)


class _TooLarge(RequestTooLargeError):
    """Raised from receive(): endpoints turn it into a 413 like any ChromaError."""

    @classmethod
    def name(cls) -> str:
        return "RequestTooLargeError"


class RequestTimeoutError(ChromaError):
    """The client stopped sending its request body (the connection is then closed)."""

    def code(self) -> int:
        return 408


class ClientDisconnected(ChromaError):
    """The client went away before sending its whole request body: nothing to answer."""

    def code(self) -> int:
        return 499  # nginx's "client closed request": never sent, only logged


class RequestBodyGuard:
    """While a request body is arriving: each piece must come within ``timeout`` seconds,
    and a client that disconnects ends the request with one INFO line (not an error).

    uvicorn waits forever for a slow body; a timeout answers 408 with ``Connection:
    close`` so the connection is dropped too. Once the body is complete, ``receive``
    is passed through untouched (it then only reports a disconnect).
    """

    def __init__(self, app: Any, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = {"body_done": False, "timed_out": False}

        async def guarded_receive() -> Any:
            if state["body_done"]:
                return await receive()
            try:
                with anyio.fail_after(self.timeout):
                    message = await receive()
            except TimeoutError:
                state["timed_out"] = True
                logger.info("request body timed out", extra=_request_fields(scope, timeout_s=self.timeout))
                raise RequestTimeoutError(
                    f"The request body did not arrive within {self.timeout} s of the previous part"
                ) from None
            if message["type"] == "http.disconnect":
                state["body_done"] = True
                logger.info("client disconnected before sending the whole request body", extra=_request_fields(scope))
                raise ClientDisconnected("client disconnected")
            state["body_done"] = not message.get("more_body", False)
            return message

        async def closing_send(message: Any) -> None:
            if state["timed_out"] and message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, guarded_receive, closing_send)


def _request_fields(scope: Any, **more: Any) -> dict:
    return {"http_method": scope.get("method"), "path": scope.get("path"), **more}


class AuthPrecheck:
    """Verifies credentials off the event loop before routing (see ``ServerAuth.precheck``).

    The route's own ``authenticate`` call then reuses the outcome; open routes skip it.
    """

    def __init__(self, app: Any, auth: ServerAuth, open_paths: Iterable[str]) -> None:
        self.app = app
        self.auth = auth
        self.open_paths = frozenset(open_paths)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.auth.enabled and scope.get("path") not in self.open_paths:
            await self.auth.precheck(Headers(scope=scope))
        await self.app(scope, receive, send)


class AccessLog:
    """One structured log record per request: method, path, status, duration (never headers or bodies)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            access_logger.info(
                "request",
                extra={
                    "http_method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status["code"],
                    "duration_ms": round((time.perf_counter() - start) * 1000, 2),
                },
            )


class CatchAll:
    """Last line of defence: an exception escaping the app becomes a JSON 500 (and is logged)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = False

        async def send_wrapper(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except _TooLarge:
            raise
        except Exception as exc:
            if scope["type"] != "http" or started:
                raise
            await error_response(exc)(scope, receive, send)


async def _http_exception(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 404:
        body = {
            "error": "NotFoundError",
            "message": f"No route {request.method} {request.url.path}; see GET /openapi.json",
        }
    elif exc.status_code == 405:
        body = {"error": "MethodNotAllowed", "message": f"Method {request.method} is not allowed on {request.url.path}"}
    else:
        body = {"error": "HTTPError", "message": str(exc.detail)}
    return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))


def _openapi_spec() -> dict:
    return json.loads(_OPENAPI_PATH.read_text(encoding="utf-8"))


async def openapi(ctx: Ctx):
    return ctx.state.openapi


def create_app(config: ServerConfig | None = None, api: Any = None) -> Starlette:
    """The server app. ``api``: an existing LocalAPI to serve (tests); by default one is opened from ``config``."""
    config = (config or ServerConfig()).validate()
    settings = config.make_settings()
    auth = ServerAuth(settings)  # fails now on bad auth settings
    owned = api is None
    backend = api if api is not None else LocalAPI(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        logger.info("huedb server ready", extra={"path": config.path, "auth": auth.enabled})
        try:
            yield
        finally:
            if owned:
                backend.close()  # after uvicorn drained in-flight requests: their writes are committed
            logger.info("huedb server stopped")

    routes = (
        routes_system.routes()
        + routes_collections.routes()
        + routes_records.routes()
        + routes_unimplemented.routes()
        + [Route("/openapi.json", endpoint(None, openapi), methods=["GET"])]
    )
    middleware = [
        Middleware(CatchAll),
        Middleware(AccessLog),
        Middleware(RequestBodyGuard, timeout=config.timeout_request_body),
        Middleware(BodySizeLimit, limit=config.max_request_bytes),
    ]
    if config.cors_allow_origins:
        middleware.append(
            Middleware(
                CORSMiddleware, allow_origins=config.cors_allow_origins, allow_methods=["*"], allow_headers=["*"]
            )
        )
    middleware.append(Middleware(AuthPrecheck, auth=auth, open_paths=routes_system.OPEN_PATHS))
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        # Starlette's stubs type every handler as taking Exception, though it calls each with the class it is keyed by.
        exception_handlers={HTTPException: _http_exception, Exception: _last_resort},  # type: ignore[dict-item]
    )
    app.state.config = config
    app.state.settings = settings
    app.state.auth = auth
    app.state.api = backend
    app.state.openapi = _openapi_spec()
    return app


async def _last_resort(request: Request, exc: Exception) -> Response:
    return error_response(exc)
