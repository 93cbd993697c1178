"""System, tenant and database routes."""

from __future__ import annotations

from starlette.routing import Route

from huedb import wire
from huedb.auth import AuthzResource
from huedb.errors import InvalidArgumentError
from huedb.server.auth import IDENTITY, OPEN, identity_json
from huedb.server.routes_common import Ctx, endpoint

V2 = "/api/v2"


def query_int(ctx: Ctx, name: str) -> int | None:
    raw = ctx.request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InvalidArgumentError(f"Query parameter '{name}' must be an integer, got {raw!r}") from None
    if value < 0:
        raise InvalidArgumentError(f"Query parameter '{name}' must be >= 0, got {value}")
    return value


async def heartbeat(ctx: Ctx):
    return {"nanosecond heartbeat": ctx.api.heartbeat()}


async def version(ctx: Ctx):
    return ctx.api.get_version()


async def healthcheck(ctx: Ctx):
    return "ok"


async def pre_flight_checks(ctx: Ctx):
    return {"max_batch_size": ctx.state.config.max_batch_size, "supports_base64_encoding": True}


async def identity(ctx: Ctx):
    return identity_json(ctx.user)


async def reset(ctx: Ctx):
    return await ctx.call(ctx.api.reset)


async def create_tenant(ctx: Ctx):
    body = wire.body_object(ctx.body)
    await ctx.call(ctx.api.create_tenant, wire.req_str(body, "name"))
    return {}


def _tenant_from_body(ctx: Ctx) -> AuthzResource:
    name = ctx.body.get("name") if isinstance(ctx.body, dict) else None
    return AuthzResource(tenant=name if isinstance(name, str) else None)


async def get_tenant(ctx: Ctx):
    tenant = await ctx.call(ctx.api.get_tenant, ctx.tenant)
    return {"name": tenant["name"], "resource_name": tenant.get("resource_name")}


async def list_databases(ctx: Ctx):
    return await ctx.call(ctx.api.list_databases, query_int(ctx, "limit"), query_int(ctx, "offset"), ctx.tenant)


async def create_database(ctx: Ctx):
    body = wire.body_object(ctx.body)
    await ctx.call(ctx.api.create_database, wire.req_str(body, "name"), ctx.tenant)
    return {}


def _database_from_body(ctx: Ctx) -> AuthzResource:
    name = ctx.body.get("name") if isinstance(ctx.body, dict) else None
    return AuthzResource(tenant=ctx.tenant, database=name if isinstance(name, str) else None)


async def get_database(ctx: Ctx):
    return await ctx.call(ctx.api.get_database, ctx.database, ctx.tenant)


async def delete_database(ctx: Ctx):
    await ctx.call(ctx.api.delete_database, ctx.database, ctx.tenant)
    return {}


#: routes that need no credentials (the app skips verifying any sent to them); GET /api/v2
#: itself answers with a heartbeat, as Chroma's does (chromadb's AsyncHttpClient.heartbeat calls it)
OPEN_PATHS = (V2 + "/heartbeat", V2 + "/version", V2 + "/healthcheck", V2)


def routes() -> list[Route]:
    T = V2 + "/tenants"
    heartbeat_path, version_path, healthcheck_path, root_path = OPEN_PATHS
    return [
        Route(root_path, endpoint(OPEN, heartbeat), methods=["GET"]),
        Route(heartbeat_path, endpoint(OPEN, heartbeat), methods=["GET"]),
        Route(version_path, endpoint(OPEN, version), methods=["GET"]),
        Route(healthcheck_path, endpoint(OPEN, healthcheck), methods=["GET"]),
        Route(V2 + "/pre-flight-checks", endpoint(None, pre_flight_checks), methods=["GET"]),
        Route(V2 + "/auth/identity", endpoint(IDENTITY, identity), methods=["GET"]),
        Route(V2 + "/reset", endpoint("system:reset", reset), methods=["POST"]),
        Route(
            T, endpoint("tenant:create_tenant", create_tenant, body=True, resource=_tenant_from_body), methods=["POST"]
        ),
        Route(T + "/{tenant_name}", endpoint("tenant:get_tenant", get_tenant), methods=["GET"]),
        Route(T + "/{tenant}/databases", endpoint("db:list_databases", list_databases), methods=["GET"]),
        Route(
            T + "/{tenant}/databases",
            endpoint("db:create_database", create_database, body=True, resource=_database_from_body),
            methods=["POST"],
        ),
        Route(T + "/{tenant}/databases/{database}", endpoint("db:get_database", get_database), methods=["GET"]),
        Route(
            T + "/{tenant}/databases/{database}", endpoint("db:delete_database", delete_database), methods=["DELETE"]
        ),
    ]
