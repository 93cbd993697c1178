"""Fake embedding APIs for the provider EFs, each speaking its provider's wire format.

``FakeEmbeddingAPI`` does what they share (route check, key check, the provider's batch
limit, deterministic ``fake_embedding`` vectors, the provider's error body); each subclass
says where its key travels, where its texts are in the request, and how its answer looks.
"""

from __future__ import annotations

import re
from typing import Any

from . import FakeServer, fake_embedding


class FakeEmbeddingAPI(FakeServer):
    #: regex the request path (without query string) must match
    route = r"/v1/embeddings"
    #: most texts one request may carry (as the provider documents); more is a 400
    max_inputs = 2048

    def __init__(self, valid_keys=("test-key",), dim: int = 8, max_inputs: int | None = None) -> None:
        super().__init__()
        self.valid_keys = set(valid_keys)
        self.dim = dim
        if max_inputs is not None:
            self.max_inputs = max_inputs

    # -- what subclasses describe ------------------------------------------------------
    def key(self, path: str, headers: dict[str, str], body: Any) -> str | None:
        return headers.get("authorization", "").removeprefix("Bearer ") or None

    def texts(self, body: Any) -> Any:
        return body.get("input") if isinstance(body, dict) else None

    def answer(self, body: Any, vectors: list[list[float]], path: str) -> Any:
        data = [{"object": "embedding", "embedding": v, "index": i} for i, v in enumerate(vectors)]
        return {
            "object": "list",
            "data": data,
            "model": body.get("model"),
            "usage": {"prompt_tokens": len(vectors), "total_tokens": len(vectors)},
        }

    def error_body(self, status: int) -> Any:
        return {"error": {"message": f"fake error {status}", "code": status}}

    def dim_for(self, body: Any) -> int:
        return self.dim

    # -- shared --------------------------------------------------------------------------
    @property
    def embedding_requests(self):
        return [r for r in self.requests if re.fullmatch(self.route, r.path.split("?")[0])]

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict[str, str], Any]:
        if method != "POST" or not re.fullmatch(self.route, path.split("?")[0]):
            return 404, {}, self.error_body(404)
        if self.valid_keys and self.key(path, headers, body) not in self.valid_keys:
            return 401, {}, self.error_body(401)
        texts = self.texts(body)
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            return 400, {}, self.error_body(400)
        if len(texts) > self.max_inputs:
            return 400, {}, self.error_body(400)
        dim = self.dim_for(body)
        return 200, {}, self.answer(body, [fake_embedding(t, dim).tolist() for t in texts], path)


class FakeOllama(FakeEmbeddingAPI):
    """``POST /api/embed {"model", "input"}`` -> ``{"model", "embeddings"}``; no key."""

    route = r"/api/embed"

    def __init__(self, dim: int = 8) -> None:
        super().__init__(valid_keys=(), dim=dim)

    def answer(self, body, vectors, path):
        return {
            "model": body["model"],
            "embeddings": vectors,
            "total_duration": 1000,
            "load_duration": 10,
            "prompt_eval_count": len(vectors),
        }

    def error_body(self, status):
        return {"error": f"fake error {status}"}


class FakeVoyage(FakeEmbeddingAPI):
    max_inputs = 1000

    def error_body(self, status):
        return {"detail": f"fake error {status}"}

    def answer(self, body, vectors, path):
        out = super().answer(body, vectors, path)
        out["usage"] = {"total_tokens": len(vectors)}
        return out


class FakeMistral(FakeEmbeddingAPI):
    def answer(self, body, vectors, path):
        out = super().answer(body, vectors, path)
        out["id"] = "embd-fake"
        out["usage"]["completion_tokens"] = 0
        return out

    def error_body(self, status):
        return {"object": "error", "message": f"fake error {status}", "type": "fake", "code": str(status)}


class FakeTogether(FakeEmbeddingAPI):
    pass


class FakeJina(FakeEmbeddingAPI):
    def dim_for(self, body):
        return body.get("dimensions") or self.dim

    def error_body(self, status):
        return {"detail": f"fake error {status}"}


class FakeOpenAICompatible(FakeEmbeddingAPI):
    """OpenAI's format on any path prefix (Baseten, Morph, Perplexity...)."""

    route = r"(/[^/]+)*/embeddings"

    def dim_for(self, body):
        return body.get("dimensions") or self.dim


class FakeGemini(FakeEmbeddingAPI):
    """Gemini API: ``POST /v1[beta]/models/<model>:batchEmbedContents``, key in ``x-goog-api-key``."""

    route = r"/v1(beta)?/models/[^/:]+:batchEmbedContents"
    max_inputs = 100

    def key(self, path, headers, body):
        return headers.get("x-goog-api-key")

    def texts(self, body):
        try:
            return [part["text"] for r in body["requests"] for part in r["content"]["parts"]]
        except (KeyError, TypeError):
            return None

    def dim_for(self, body):
        return body["requests"][0].get("outputDimensionality") or self.dim

    def answer(self, body, vectors, path):
        return {"embeddings": [{"values": v} for v in vectors]}

    def error_body(self, status):
        names = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}
        return {"error": {"code": status, "message": f"fake error {status}", "status": names.get(status, "UNKNOWN")}}


class FakeCloudflare(FakeEmbeddingAPI):
    """Workers AI: ``POST /client/v4/accounts/<account>/ai/run/<model> {"text": [...]}``."""

    route = r"(/client/v4/accounts/[^/]+/ai/run|/v1/[^/]+/[^/]+/workers-ai)/@cf/.+"
    max_inputs = 100

    def texts(self, body):
        return body.get("text") if isinstance(body, dict) else None

    def answer(self, body, vectors, path):
        return {
            "result": {"shape": [len(vectors), len(vectors[0])], "data": vectors},
            "success": True,
            "errors": [],
            "messages": [],
        }

    def error_body(self, status):
        return {
            "result": None,
            "success": False,
            "errors": [{"code": status, "message": f"fake error {status}"}],
            "messages": [],
        }


class FakeTEI(FakeEmbeddingAPI):
    """text-embeddings-inference (and the HF Inference API's feature-extraction pipeline):
    ``POST <path> {"inputs": [...]}`` -> ``[[...], ...]``."""

    route = r"/.*"
    max_inputs = 32

    def texts(self, body):
        return body.get("inputs") if isinstance(body, dict) else None

    def answer(self, body, vectors, path):
        return vectors

    def error_body(self, status):
        return {"error": f"fake error {status}", "error_type": "fake"}


class FakeVertex(FakeEmbeddingAPI):
    """Vertex AI ``:predict`` with ``{"instances": [{"content": ...}]}``, key in ``x-goog-api-key``."""

    route = r"/v1/projects/[^/]+/locations/[^/]+/publishers/google/models/[^/:]+:predict"
    max_inputs = 250

    def key(self, path, headers, body):
        return headers.get("x-goog-api-key")

    def texts(self, body):
        try:
            return [i["content"] for i in body["instances"]]
        except (KeyError, TypeError):
            return None

    def answer(self, body, vectors, path):
        return {
            "predictions": [
                {"embeddings": {"values": v, "statistics": {"token_count": 1, "truncated": False}}} for v in vectors
            ]
        }

    def error_body(self, status):
        return {"error": {"code": status, "message": f"fake error {status}", "status": "FAKE"}}


class FakeNomic(FakeEmbeddingAPI):
    """Nomic Atlas: ``POST /v1/embedding/text {"model", "texts", "task_type"}`` -> ``{"embeddings"}``."""

    route = r"/v1/embedding/text"
    max_inputs = 10  # what the nomic SDK sends per request

    def texts(self, body):
        return body.get("texts") if isinstance(body, dict) else None

    def answer(self, body, vectors, path):
        return {"embeddings": vectors, "usage": {"prompt_tokens": len(vectors), "total_tokens": len(vectors)}}

    def error_body(self, status):
        return {"detail": f"fake error {status}"}


class FakeRoboflow(FakeEmbeddingAPI):
    """Roboflow inference: ``POST /clip/embed_text?api_key=...`` with ``{"text": [...]}``."""

    route = r"/clip/embed_text"
    max_inputs = 100

    def key(self, path, headers, body):
        match = re.search(r"[?&]api_key=([^&]+)", path)
        return match.group(1) if match else None

    def texts(self, body):
        return body.get("text") if isinstance(body, dict) else None

    def answer(self, body, vectors, path):
        return {"embeddings": vectors, "time": 0.01}

    def error_body(self, status):
        return {"message": f"fake error {status}"}


class FakeChromaQwen(FakeEmbeddingAPI):
    """Chroma Cloud's Qwen embedding endpoint: ``{"instructions", "texts"}`` -> ``{"embeddings"}``,
    key in ``x-chroma-token``."""

    route = r"/embed"
    max_inputs = 100

    def key(self, path, headers, body):
        return headers.get("x-chroma-token")

    def texts(self, body):
        return body.get("texts") if isinstance(body, dict) else None

    def answer(self, body, vectors, path):
        return {"embeddings": vectors}

    def error_body(self, status):
        return {"error": f"fake error {status}"}


def int8_vector(text: str, dim: int):
    """What the Perplexity fake sends for ``text``: ``fake_embedding`` quantised to int8."""
    import numpy as np

    return np.round(fake_embedding(text, dim) * 127).astype(np.int8)


class FakePerplexity(FakeEmbeddingAPI):
    """Perplexity: OpenAI's shape, each embedding a base64 string of int8 values."""

    def dim_for(self, body):
        return body.get("dimensions") or self.dim

    def handle(self, method, path, headers, body):
        status, extra, payload = super().handle(method, path, headers, body)
        if status == 200:
            import base64

            for item, text in zip(payload["data"], self.texts(body)):
                item["embedding"] = base64.b64encode(int8_vector(text, self.dim_for(body)).tobytes()).decode()
        return status, extra, payload


class FakeBedrock(FakeEmbeddingAPI):
    """Bedrock runtime ``InvokeModel`` for Titan text embeddings: ``POST /model/<id>/invoke``
    with ``{"inputText": ...}`` -> ``{"embedding", "inputTextTokenCount"}``, signed with SigV4
    (the key is the access key id in the ``Authorization`` header's ``Credential=``)."""

    route = r"/model/[^/]+/invoke"
    max_inputs = 1

    def key(self, path, headers, body):
        match = re.search(r"Credential=([^/,]+)/", headers.get("authorization", ""))
        return match.group(1) if match else None

    def texts(self, body):
        return [body["inputText"]] if isinstance(body, dict) and isinstance(body.get("inputText"), str) else None

    def answer(self, body, vectors, path):
        return {"embedding": vectors[0], "inputTextTokenCount": len(body["inputText"].split())}

    def handle(self, method, path, headers, body):
        status, extra, payload = super().handle(method, path, headers, body)
        if status == 401:  # AWS answers a bad signature or unknown key with 403
            return 403, {}, self.error_body(403)
        return status, extra, payload

    def error_body(self, status):
        names = {
            400: "ValidationException",
            403: "UnrecognizedClientException",
            404: "ResourceNotFoundException",
            429: "ThrottlingException",
            503: "ServiceUnavailableException",
        }
        return {"__type": names.get(status, "InternalServerException"), "message": f"fake error {status}"}


def fake_sparse(text: str) -> dict:
    """What the Chroma Cloud SPLADE fake answers for ``text``: one term per distinct word
    (index from a hash, unsorted as the service may send them), weight from the word's length."""
    import hashlib

    words = sorted(set(text.lower().split()), reverse=True)
    indices = [int.from_bytes(hashlib.sha256(w.encode()).digest()[:3], "little") for w in words]
    return {"indices": indices, "values": [len(w) / 10 for w in words], "labels": words}


class FakeChromaSplade(FakeEmbeddingAPI):
    """Chroma Cloud's sparse endpoint: ``POST /embed_sparse {"texts", "task", "target",
    "fetch_tokens"}`` -> ``{"embeddings": [{"indices", "values", "labels"?}]}``, key in
    ``x-chroma-token``."""

    route = r"/embed_sparse"
    max_inputs = 100

    def key(self, path, headers, body):
        return headers.get("x-chroma-token")

    def texts(self, body):
        return body.get("texts") if isinstance(body, dict) else None

    def answer(self, body, vectors, path):
        items = [fake_sparse(t) for t in body["texts"]]
        if body.get("fetch_tokens") != "true":
            for item in items:
                del item["labels"]
        return {"embeddings": items}

    def error_body(self, status):
        return {"error": f"fake error {status}"}


class FakeVertexGenAI(FakeEmbeddingAPI):
    """Vertex AI as the google-genai SDK calls it (``vertexai=True``):
    ``POST /v1beta1/projects/<p>/locations/<l>/publishers/google/models/<m>:batchEmbedContents``
    (``{"requests": [{"content", "embedContentConfig"}]}`` -> ``{"embeddings": [{"values"}]}``),
    ``:embedContent`` for one text (-> ``{"embedding", "truncated", "usageMetadata"}``) and
    ``:predict`` for text-embedding models (``{"instances", "parameters"}`` -> ``{"predictions"}``);
    a Bearer token from Google's OAuth token endpoint, which this fake also serves at ``/token``
    (a service account's ``token_uri``)."""

    route = (
        r"/v1beta1/projects/[^/]+/locations/[^/]+/publishers/google/models/[^/:]+"
        r":(batchEmbedContents|embedContent|predict)"
    )
    max_inputs = 100
    token = "vertex-token"

    def __init__(self, dim: int = 8) -> None:
        super().__init__(valid_keys=(self.token,), dim=dim)
        self.token_requests = 0

    def _dispatch(self, method, path, headers, body):
        if path == "/token":  # the OAuth exchange is not an embedding request: failures do not apply
            self.token_requests += 1
            return 200, {}, {"access_token": self.token, "expires_in": 3600, "token_type": "Bearer"}
        return super()._dispatch(method, path, headers, body)

    def texts(self, body):
        try:
            if "instances" in body:
                return [i["content"] for i in body["instances"]]
            if "requests" in body:
                return [p["text"] for r in body["requests"] for p in r["content"]["parts"]]
            return [p["text"] for p in body["content"]["parts"]]
        except (KeyError, TypeError):
            return None

    def dim_for(self, body):
        config = body.get("parameters") or (body.get("requests") or [body])[0].get("embedContentConfig") or {}
        return config.get("outputDimensionality") or self.dim

    def answer(self, body, vectors, path):
        if path.endswith(":predict"):
            stats = {"token_count": 1, "truncated": False}
            return {"predictions": [{"embeddings": {"values": v, "statistics": stats}} for v in vectors]}
        usage = {"promptTokenCount": len(vectors)}
        if path.endswith(":embedContent"):
            return {"embedding": {"values": vectors[0]}, "truncated": False, "usageMetadata": usage}
        return {"embeddings": [{"values": v} for v in vectors], "usageMetadata": usage}

    def error_body(self, status):
        names = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}
        return {"error": {"code": status, "message": f"fake error {status}", "status": names.get(status, "UNKNOWN")}}
