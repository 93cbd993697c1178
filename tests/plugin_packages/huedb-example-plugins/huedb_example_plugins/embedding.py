"""``example_hash``: a deterministic feature-hashing embedding function.

Each lower-cased word is hashed (blake2b, stable across processes, unlike
``hash()``) into one of ``dimension`` buckets with a +/-1 sign; rows are then
L2-normalised. Texts sharing words get similar vectors, which is enough to
test search end to end without a model.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from huedb.embedding_functions import Documents, EmbeddingFunction, Embeddings
from huedb.errors import InvalidArgumentError
from huedb.hookspecs import hookimpl


def _bucket(token: str, dimension: int, salt: str) -> int:
    digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8, key=salt.encode("utf-8")[:64]).digest()
    value = int.from_bytes(digest, "little")
    # Low bit is the sign, the rest picks the bucket: +(b+1) or -(b+1), never 0.
    bucket = (value >> 1) % dimension
    return bucket + 1 if value & 1 else -(bucket + 1)


class ExampleHashEmbeddingFunction(EmbeddingFunction[Documents]):
    """Feature-hashing text embeddings: ``dimension`` floats per text, unit length."""

    def __init__(self, dimension: int = 64, salt: str = "huedb") -> None:
        if isinstance(dimension, bool) or not isinstance(dimension, int) or dimension < 1:
            raise InvalidArgumentError(f"dimension must be a positive integer, got {dimension!r}")
        if not isinstance(salt, str):
            raise InvalidArgumentError(f"salt must be a string, got {salt!r}")
        self.dimension = dimension
        self.salt = salt

    def __call__(self, input: Documents) -> Embeddings:
        if isinstance(input, str):
            input = [input]
        out = np.zeros((len(input), self.dimension), dtype=np.float32)
        for row, text in enumerate(input):  # hashing is per token; the maths below is vectorised
            if not isinstance(text, str):
                raise InvalidArgumentError(f"example_hash embeds strings, got {type(text).__name__}")
            signed = np.array([_bucket(t, self.dimension, self.salt) for t in text.lower().split()], dtype=np.int64)
            if signed.size:
                np.add.at(out[row], np.abs(signed) - 1, np.sign(signed).astype(np.float32))
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return list(out / norms)

    @staticmethod
    def name() -> str:
        return "example_hash"

    def get_config(self) -> dict[str, Any]:
        return {"dimension": self.dimension, "salt": self.salt}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ExampleHashEmbeddingFunction:
        return ExampleHashEmbeddingFunction(dimension=config.get("dimension", 64), salt=config.get("salt", "huedb"))

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        cls.build_from_config(config)

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        if new_config.get("dimension", old_config.get("dimension")) != old_config.get("dimension"):
            raise InvalidArgumentError("example_hash: dimension cannot change after vectors were stored")

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine", "ip", "l2"]


@hookimpl
def register_embedding_functions(register):
    register(ExampleHashEmbeddingFunction)
