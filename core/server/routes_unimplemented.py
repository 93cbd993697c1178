"""Paths of Chroma's API for features huedb does not have: 501 with a clear message.

They still require authentication when auth is on (a 501 must not leak to
anonymous callers what a 401 would hide).
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.routing import Route

from huedb.server.routes_collections import DB
from huedb.server.routes_common import Ctx, endpoint
from huedb.server.routes_system import V2

C = DB + "/collections/{collection_id}"

#: (method, path, feature description)
UNIMPLEMENTED = [
    ("POST", C + "/functions/attach", "Attached functions"),
    ("GET", C + "/functions/{function_name}", "Attached functions"),
    ("POST", C + "/attached_functions/{name}/detach", "Attached functions"),
    ("PATCH", V2 + "/tenants/{tenant_name}", "Tenant resource names (update_tenant)"),
]


def _not_implemented(feature: str):
    async def handler(ctx: Ctx):
        return JSONResponse(
            {
                "error": "ChromaError",  # as Chroma's server: chromadb's clients raise ChromaError
                "message": f"{feature} is not supported by huedb (501 Not Implemented). "
                "Supported routes are listed in docs/server.md and in GET /openapi.json.",
            },
            status_code=501,
        )

    return handler


async def v1_gone(ctx: Ctx):
    return JSONResponse(
        {"error": "Unimplemented", "message": "The v1 API is deprecated. Please use /v2 apis"}, status_code=410
    )


def routes() -> list[Route]:
    out = [
        Route(path, endpoint(None, _not_implemented(feature)), methods=[method])
        for method, path, feature in UNIMPLEMENTED
    ]
    out.append(Route("/api/v1/{rest:path}", endpoint(None, v1_gone), methods=["GET", "POST", "PUT", "PATCH", "DELETE"]))
    out.append(Route("/api/v1", endpoint(None, v1_gone), methods=["GET", "POST", "PUT", "PATCH", "DELETE"]))
    return out
