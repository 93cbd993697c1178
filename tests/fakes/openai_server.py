"""A fake OpenAI (and Azure OpenAI) embeddings server.

``POST /v1/embeddings`` and ``POST /openai/deployments/<id>/embeddings`` return
``{"object": "list", "data": [...], "model": ..., "usage": ...}`` with
``fake_embedding`` vectors, as float lists or base64 float32 (``encoding_format``).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from . import FakeServer, fake_embedding

MAX_INPUTS = 2048

_ERRORS = {
    401: (
        "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        "invalid_api_key",
    ),
    429: ("Rate limit reached for requests", "requests", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request.", "server_error", None),
}


def _error(status: int, message: str, type_: str = "invalid_request_error", code: Any = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


class FakeOpenAI(FakeServer):
    def __init__(self, valid_keys: Iterable[str] = ("sk-test",), dim: int = 8) -> None:
        super().__init__()
        self.valid_keys = set(valid_keys)
        self.dim = dim

    def error_body(self, status: int) -> Any:
        message, type_, code = _ERRORS.get(status, (f"fake error {status}", "server_error", None))
        return _error(status, message, type_, code)

    @property
    def embedding_requests(self):
        return [r for r in self.requests if r.path.split("?")[0].endswith("/embeddings")]

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict[str, str], Any]:
        route = path.split("?")[0]
        if method != "POST" or not route.endswith("/embeddings"):
            return 404, {}, _error(404, f"Invalid URL ({method} {route})")
        key = headers.get("api-key") or headers.get("authorization", "").removeprefix("Bearer ")
        if key not in self.valid_keys:
            return 401, {}, self.error_body(401)
        if not isinstance(body, dict) or "model" not in body or "input" not in body:
            return 400, {}, _error(400, "you must provide a model and an input")
        texts = body["input"]
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) and t for t in texts):
            return 400, {}, _error(400, "'$.input' is invalid. Please check the API reference.")
        if len(texts) > MAX_INPUTS:
            return 400, {}, _error(400, f"'$.input' is invalid: array too long, expected at most {MAX_INPUTS} items")
        dim = body.get("dimensions") or self.dim
        fmt = body.get("encoding_format", "float")
        data = []
        for i, text in enumerate(texts):
            vec = fake_embedding(text, dim)
            value = base64.b64encode(vec.astype("<f4").tobytes()).decode("ascii") if fmt == "base64" else vec.tolist()
            data.append({"object": "embedding", "index": i, "embedding": value})
        data.reverse()  # real servers do not promise order; clients must sort by index
        tokens = sum(len(t.split()) for t in texts)
        return (
            200,
            {},
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )
