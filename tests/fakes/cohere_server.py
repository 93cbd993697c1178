"""A fake Cohere embed server: ``POST /v1/embed`` (what ``cohere.Client.embed`` calls).

Answers ``embeddings_floats`` responses (``embeddings_by_type`` when
``embedding_types`` is sent) with ``fake_embedding`` vectors; images are
embedded from their data URI string.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from . import FakeServer, fake_embedding

MAX_TEXTS = 96

_ERRORS = {
    401: "invalid api token",
    429: "You are using a Trial key, which is limited to 100 API calls / minute.",
}


class FakeCohere(FakeServer):
    def __init__(self, valid_keys: Iterable[str] = ("co-test",), dim: int = 8) -> None:
        super().__init__()
        self.valid_keys = set(valid_keys)
        self.dim = dim

    def error_body(self, status: int) -> Any:
        return {"id": str(uuid.uuid4()), "message": _ERRORS.get(status, f"fake error {status}")}

    @property
    def embed_requests(self):
        return [r for r in self.requests if r.path == "/v1/embed"]

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict[str, str], Any]:
        if method != "POST" or path != "/v1/embed":
            return 404, {}, {"message": f"route not found: {method} {path}"}
        if headers.get("authorization", "").removeprefix("Bearer ") not in self.valid_keys:
            return 401, {}, self.error_body(401)
        if not isinstance(body, dict):
            return 400, {}, {"message": "invalid request: body must be a JSON object"}
        texts, images = body.get("texts"), body.get("images")
        if bool(texts) == bool(images):
            return 400, {}, {"message": "invalid request: exactly one of texts or images must be provided"}
        if texts is not None and len(texts) > MAX_TEXTS:
            return (
                400,
                {},
                {
                    "message": f"invalid request: total number of texts must be at most {MAX_TEXTS} "
                    f"- received {len(texts)}"
                },
            )
        if images is not None and not all(isinstance(i, str) and i.startswith("data:image/") for i in images):
            return 400, {}, {"message": "invalid request: images must be data URIs"}
        if body.get("input_type") not in ("search_document", "search_query", "classification", "clustering", "image"):
            return 400, {}, {"message": f"invalid request: bad input_type {body.get('input_type')!r}"}
        inputs = texts if texts is not None else images
        vectors = [fake_embedding(x, self.dim).tolist() for x in inputs]
        meta = {"api_version": {"version": "1"}, "billed_units": {"input_tokens": len(inputs)}}
        if body.get("embedding_types"):
            return (
                200,
                {},
                {
                    "id": str(uuid.uuid4()),
                    "response_type": "embeddings_by_type",
                    "embeddings": {"float": vectors},
                    "texts": texts or [],
                    "meta": meta,
                },
            )
        return (
            200,
            {},
            {
                "id": str(uuid.uuid4()),
                "response_type": "embeddings_floats",
                "embeddings": vectors,
                "texts": texts or [],
                "meta": meta,
            },
        )
