"""The Search API route: ``POST .../collections/{collection_id}/search``.

The body is chromadb's ``SearchRequestPayload`` (``{"searches": [...], "read_level": ...}``,
each search as ``Search.to_dict()`` gives it) and the answer its ``SearchResponse``. Search is
authorized as ``collection:query``, the read it generalises, so existing RBAC roles cover it.
"""

from __future__ import annotations

from starlette.routing import Route

from huedb import wire
from huedb.errors import InvalidArgumentError
from huedb.server.routes_collections import DB
from huedb.server.routes_common import Ctx, endpoint

C = DB + "/collections/{collection_id}"


async def search_records(ctx: Ctx):
    body = wire.body_object(ctx.body)
    searches = body.get("searches")
    if not isinstance(searches, list):
        raise InvalidArgumentError("searches: the body needs a list of search payloads under 'searches'")
    return await ctx.call(
        ctx.api._search,
        ctx.params["collection_id"],
        searches,
        tenant=ctx.tenant,
        database=ctx.database,
        read_level=body.get("read_level"),
    )


def routes() -> list[Route]:
    return [Route(C + "/search", endpoint("collection:query", search_records, body=True), methods=["POST"])]
