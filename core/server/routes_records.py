"""Record routes: add, update, upsert, delete, get, query, count."""

from __future__ import annotations

from starlette.routing import Route

from huedb import wire
from huedb.server import routes_search
from huedb.server.routes_collections import DB
from huedb.server.routes_common import Ctx, endpoint

C = DB + "/collections/{collection_id}"


def _write(method_name: str, embeddings_required: bool):
    async def handler(ctx: Ctx):
        body = wire.body_object(ctx.body)
        ids = wire.required_str_list(body, "ids")
        fn = getattr(ctx.api, method_name)
        # huedb's own field: update/upsert in another modality empties the old one.
        extra = {} if method_name == "_add" else {"clear": wire.str_list(body, wire.CLEAR_FIELD) or ()}
        await ctx.call(
            fn,
            ctx.params["collection_id"],
            ids,
            wire.embeddings(body, required=embeddings_required),
            wire.metadata_list(body),
            wire.nullable_str_list(body, "documents"),
            wire.nullable_str_list(body, "uris"),
            tenant=ctx.tenant,
            database=ctx.database,
            **extra,
        )
        return {}

    handler.__name__ = method_name.strip("_")
    return handler


async def delete_records(ctx: Ctx):
    body = wire.body_object(ctx.body)
    ids = wire.str_list(body, "ids")
    limit = wire.opt_int(body, "limit")
    cid = ctx.params["collection_id"]
    where, where_document = body.get("where"), body.get("where_document")
    deleted = await ctx.call(
        ctx.api._delete, cid, ids, where, where_document, tenant=ctx.tenant, database=ctx.database, limit=limit
    )
    return {"deleted": int(deleted)}  # ServerAPI._delete returns the count, as the REST API does


async def get_records(ctx: Ctx):
    body = wire.body_object(ctx.body)
    result = await ctx.call(
        ctx.api._get,
        ctx.params["collection_id"],
        wire.str_list(body, "ids"),
        body.get("where"),
        wire.opt_int(body, "limit"),
        wire.opt_int(body, "offset"),
        body.get("where_document"),
        wire.include_list(body),
        tenant=ctx.tenant,
        database=ctx.database,
    )
    return wire.get_result_json(result)


async def query_records(ctx: Ctx):
    body = wire.body_object(ctx.body)
    n_results = wire.opt_int(body, "n_results")
    result = await ctx.call(
        ctx.api._query,
        ctx.params["collection_id"],
        wire.embeddings(body, "query_embeddings", required=True),
        10 if n_results is None else n_results,
        body.get("where"),
        body.get("where_document"),
        wire.include_list(body),
        wire.str_list(body, "ids"),
        tenant=ctx.tenant,
        database=ctx.database,
    )
    return wire.query_result_json(result)


async def count_records(ctx: Ctx):
    return await ctx.call(ctx.api._count, ctx.params["collection_id"], ctx.tenant, ctx.database)


def routes() -> list[Route]:
    return [
        Route(
            C + "/add", endpoint("collection:add", _write("_add", True), body=True, status_code=201), methods=["POST"]
        ),
        Route(C + "/update", endpoint("collection:update", _write("_update", False), body=True), methods=["POST"]),
        Route(C + "/upsert", endpoint("collection:upsert", _write("_upsert", True), body=True), methods=["POST"]),
        Route(C + "/delete", endpoint("collection:delete", delete_records, body=True), methods=["POST"]),
        Route(C + "/get", endpoint("collection:get", get_records, body=True), methods=["POST"]),
        Route(C + "/query", endpoint("collection:query", query_records, body=True), methods=["POST"]),
        Route(C + "/count", endpoint("collection:count", count_records), methods=["GET"]),
        *routes_search.routes(),
    ]
