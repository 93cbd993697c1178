"""ChromaBm25EmbeddingFunction (persisted name ``chroma_bm25``): BM25 document weights
as sparse vectors, term for term what chromadb 1.5.9 computes.

A text is tokenised as Chroma does: every run of characters that are neither word
characters nor whitespace becomes a space, the text is lowercased and split on
whitespace; English stopwords (NLTK's list of 179, Chroma's default) and tokens longer
than ``token_max_length`` are dropped, and the rest are stemmed with the Snowball English
stemmer (package ``snowballstemmer``). A token's index is the absolute value of its
signed 32-bit MurmurHash3 (seed 0, package ``mmh3``); tokens sharing a hash count as one
term. A term occurring ``tf`` times in a text of ``n`` tokens weighs

    tf * (k + 1) / (tf + k * (1 - b + b * n / avg_doc_length))

with k = 1.2, b = 0.75 and avg_doc_length = 256 by default. The IDF half of BM25 is
applied at query time from the collection's statistics (a sparse index with bm25=True).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from huedb.api.types import Documents, SparseEmbeddingFunction, SparseVector, SparseVectors
from huedb.ef_persistence import validate_config_schema
from huedb.errors import InvalidArgumentError
from huedb.hookspecs import hookimpl

NAME = "chroma_bm25"
DEFAULT_K = 1.2
DEFAULT_B = 0.75
DEFAULT_AVG_DOC_LENGTH = 256.0
DEFAULT_TOKEN_MAX_LENGTH = 40

#: NLTK's English stopwords, Chroma's default list for BM25
DEFAULT_CHROMA_BM25_STOPWORDS: list[str] = """
    a about above after again against ain all am an and any are aren aren't as at be because been before being
    below between both but by can couldn couldn't d did didn didn't do does doesn doesn't doing don don't down
    during each few for from further had hadn hadn't has hasn hasn't have haven haven't having he her here hers
    herself him himself his how i if in into is isn isn't it it's its itself just ll m ma me mightn mightn't more
    most mustn mustn't my myself needn needn't no nor not now o of off on once only or other our ours ourselves
    out over own re s same shan shan't she she's should should've shouldn shouldn't so some such t than that
    that'll the their theirs them themselves then there these they this those through to too under until up ve
    very was wasn wasn't we were weren weren't what when where which while who whom why will with won won't wouldn
    wouldn't y you you'd you'll you're you've your yours yourself yourselves
""".split()

_NOT_WORD = re.compile(r"[^\w\s]+")


def _stemmer() -> Any:
    try:
        import snowballstemmer
    except ImportError:
        raise ValueError(
            "ChromaBm25EmbeddingFunction needs the snowballstemmer package: pip install 'huedb[bm25]'"
        ) from None
    return snowballstemmer.stemmer("english")


def _hasher() -> Any:
    try:
        import mmh3
    except ImportError:
        raise ValueError("ChromaBm25EmbeddingFunction needs the mmh3 package: pip install 'huedb[bm25]'") from None
    return mmh3.hash


class ChromaBm25EmbeddingFunction(SparseEmbeddingFunction[Documents]):
    def __init__(
        self,
        k: float = DEFAULT_K,
        b: float = DEFAULT_B,
        avg_doc_length: float = DEFAULT_AVG_DOC_LENGTH,
        token_max_length: int = DEFAULT_TOKEN_MAX_LENGTH,
        stopwords: Iterable[str] | None = None,
        include_tokens: bool = False,
    ) -> None:
        self.k = float(k)
        self.b = float(b)
        self.avg_doc_length = float(avg_doc_length)
        self.token_max_length = int(token_max_length)
        self.include_tokens = bool(include_tokens)
        self.stopwords: list[str] | None = None if stopwords is None else [str(w) for w in stopwords]
        words = DEFAULT_CHROMA_BM25_STOPWORDS if self.stopwords is None else self.stopwords
        self._stop = frozenset(w.lower() for w in words)
        self._stem = _stemmer().stemWord
        self._hash = _hasher()

    def tokenize(self, text: str) -> list[str]:
        """The stemmed tokens of ``text`` that count, in order."""
        out = []
        for word in _NOT_WORD.sub(" ", text).lower().split():
            if word in self._stop or len(word) > self.token_max_length:
                continue
            stem = self._stem(word).strip()
            if stem:
                out.append(stem)
        return out

    def _encode(self, text: str) -> SparseVector:
        tokens = self.tokenize(text)
        if not tokens:
            return SparseVector(indices=[], values=[])  # no labels, even with include_tokens (as chromadb)
        counts: dict[int, int] = {}
        labels: dict[int, str] = {}
        for token in tokens:
            h = abs(self._hash(token, seed=0))
            counts[h] = counts.get(h, 0) + 1
            labels.setdefault(h, token)
        norm = self.k * (1.0 - self.b + self.b * float(len(tokens)) / self.avg_doc_length)
        indices = sorted(counts)
        values = [counts[h] * (self.k + 1.0) / (counts[h] + norm) for h in indices]
        return SparseVector(
            indices=indices, values=values, labels=[labels[h] for h in indices] if self.include_tokens else None
        )

    def __call__(self, input: Documents) -> SparseVectors:
        return [self._encode(text) for text in input or []]

    def embed_query(self, input: Documents) -> SparseVectors:
        return self(input)

    @staticmethod
    def name() -> str:
        return NAME

    @staticmethod
    def is_sparse() -> bool:
        return True

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaBm25EmbeddingFunction:
        return ChromaBm25EmbeddingFunction(
            k=config.get("k", DEFAULT_K),
            b=config.get("b", DEFAULT_B),
            avg_doc_length=config.get("avg_doc_length", DEFAULT_AVG_DOC_LENGTH),
            token_max_length=config.get("token_max_length", DEFAULT_TOKEN_MAX_LENGTH),
            stopwords=config.get("stopwords"),
            include_tokens=config.get("include_tokens", False),
        )

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "k": self.k,
            "b": self.b,
            "avg_doc_length": self.avg_doc_length,
            "token_max_length": self.token_max_length,
            "include_tokens": self.include_tokens,
        }
        if self.stopwords is not None:
            config["stopwords"] = list(self.stopwords)
        return config

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        allowed = {"k", "b", "avg_doc_length", "token_max_length", "stopwords", "include_tokens"}
        for key in new_config:
            if key not in allowed:
                raise InvalidArgumentError(f"Updating {key!r} is not supported for {NAME}")

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        validate_config_schema(NAME, config)

    def __repr__(self) -> str:
        return f"ChromaBm25EmbeddingFunction(k={self.k}, b={self.b}, avg_doc_length={self.avg_doc_length})"


@hookimpl
def register_embedding_functions(register: Any) -> None:
    register(ChromaBm25EmbeddingFunction)
