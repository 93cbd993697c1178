"""Collection routes. As in Chroma's API, GET and DELETE on
``.../collections/{collection_id}`` take the collection *name*; PUT takes its id."""

from __future__ import annotations

from starlette.routing import Route

from huedb import wire
from huedb.auth import AuthzResource
from huedb.errors import InvalidArgumentError
from huedb.server.routes_common import Ctx, endpoint
from huedb.server.routes_system import V2, query_int

DB = V2 + "/tenants/{tenant}/databases/{database}"


async def list_collections(ctx: Ctx):
    models = await ctx.call(
        ctx.api.list_collections, query_int(ctx, "limit"), query_int(ctx, "offset"), ctx.tenant, ctx.database
    )
    return [wire.collection_json(m) for m in models]


async def count_collections(ctx: Ctx):
    return await ctx.call(ctx.api.count_collections, ctx.tenant, ctx.database)


async def create_collection(ctx: Ctx):
    body = wire.body_object(ctx.body)
    name = wire.req_str(body, "name")
    configuration = wire.opt_dict(body, "configuration")
    metadata = wire.opt_dict(body, "metadata")
    get_or_create = wire.opt_bool(body, "get_or_create")
    schema = wire.opt_dict(body, "schema")  # Chroma's index schema (huedb.index_schema)
    model = await ctx.call(
        ctx.api.create_collection, name, configuration, metadata, get_or_create, ctx.tenant, ctx.database, schema
    )
    return wire.collection_json(model)


def _collection_from_body(ctx: Ctx) -> AuthzResource:
    name = ctx.body.get("name") if isinstance(ctx.body, dict) else None
    return AuthzResource(tenant=ctx.tenant, database=ctx.database, collection=name if isinstance(name, str) else None)


async def get_collection(ctx: Ctx):
    model = await ctx.call(ctx.api.get_collection, ctx.params["collection_id"], ctx.tenant, ctx.database)
    return wire.collection_json(model)


async def get_collection_by_id(ctx: Ctx):
    model = await ctx.call(ctx.api.get_collection_by_id, ctx.params["collection_id"], ctx.tenant, ctx.database)
    return wire.collection_json(model)


def _parse_crn(crn: str) -> tuple[str, str, str]:
    parts = crn.split(":")
    if len(parts) != 3 or not all(parts):
        raise InvalidArgumentError(f"Invalid CRN {crn!r}: expected <tenant>:<database>:<collection name>")
    return parts[0], parts[1], parts[2]


def _crn_resource(ctx: Ctx) -> AuthzResource:
    tenant, database, name = _parse_crn(ctx.params["crn"])
    return AuthzResource(tenant=tenant, database=database, collection=name)


async def get_collection_by_crn(ctx: Ctx):
    tenant, database, name = _parse_crn(ctx.params["crn"])
    model = await ctx.call(ctx.api.get_collection, name, tenant, database)
    return wire.collection_json(model)


async def update_collection(ctx: Ctx):
    body = wire.body_object(ctx.body)
    model = await ctx.call(
        ctx.api.modify_collection,
        ctx.params["collection_id"],
        wire.opt_str(body, "new_name"),
        wire.opt_dict(body, "new_metadata"),
        wire.opt_dict(body, "new_configuration"),
        ctx.tenant,
        ctx.database,
    )
    # UpdateCollectionResponse is an open object: the updated collection saves clients a round trip.
    return wire.collection_json(model)


async def delete_collection(ctx: Ctx):
    await ctx.call(ctx.api.delete_collection, ctx.params["collection_id"], ctx.tenant, ctx.database)
    return {}


async def fork_count(ctx: Ctx):
    count = await ctx.call(ctx.api._fork_count, ctx.params["collection_id"], ctx.tenant, ctx.database)
    return {"count": count}


async def fork_collection(ctx: Ctx):
    new_name = wire.req_str(wire.body_object(ctx.body), "new_name")
    model = await ctx.call(ctx.api._fork, ctx.params["collection_id"], new_name, ctx.tenant, ctx.database)
    return wire.collection_json(model)


async def indexing_status(ctx: Ctx):
    # Writes are indexed before they are acknowledged: everything is always indexed.
    total = await ctx.call(ctx.api._count, ctx.params["collection_id"], ctx.tenant, ctx.database)
    return {"op_indexing_progress": 1.0, "num_unindexed_ops": 0, "num_indexed_ops": total, "total_ops": total}


def routes() -> list[Route]:
    C = DB + "/collections"
    return [
        Route(C, endpoint("db:list_collections", list_collections), methods=["GET"]),
        Route(
            C,
            endpoint("db:create_collection", create_collection, body=True, resource=_collection_from_body),
            methods=["POST"],
        ),
        Route(DB + "/collections_count", endpoint("db:count_collections", count_collections), methods=["GET"]),
        Route(
            C + "/by-id/{collection_id}", endpoint("collection:get_collection", get_collection_by_id), methods=["GET"]
        ),
        Route(C + "/{collection_id}", endpoint("collection:get_collection", get_collection), methods=["GET"]),
        Route(
            C + "/{collection_id}",
            endpoint("collection:update_collection", update_collection, body=True),
            methods=["PUT"],
        ),
        Route(C + "/{collection_id}", endpoint("collection:delete_collection", delete_collection), methods=["DELETE"]),
        Route(
            C + "/{collection_id}/fork",
            endpoint("collection:fork_collection", fork_collection, body=True),
            methods=["POST"],
        ),
        Route(C + "/{collection_id}/fork_count", endpoint("collection:get_collection", fork_count), methods=["GET"]),
        Route(
            C + "/{collection_id}/indexing_status",
            endpoint("collection:get_collection", indexing_status),
            methods=["GET"],
        ),
        Route(
            V2 + "/collections/{crn}",
            endpoint("collection:get_collection", get_collection_by_crn, resource=_crn_resource),
            methods=["GET"],
        ),
    ]
