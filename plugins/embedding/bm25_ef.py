"""Bm25EmbeddingFunction (persisted name ``bm25``): chromadb's older BM25 sparse EF, which
runs fastembed's ``Qdrant/bm25`` model. That "model" is no network: it is a tokeniser, a
stopword list per language, a Snowball stemmer and a hash. huedb computes the same vectors
without fastembed (see tests/fixtures/bm25.json, captured from chromadb 1.5.9 + fastembed):

- characters that are neither word characters nor whitespace become spaces, the text is
  lowercased, every non-word character becomes a space and the text is split on whitespace;
- tokens that are punctuation, stopwords (of ``language``) or longer than
  ``token_max_length`` are dropped; the rest are stemmed (Snowball, package
  ``snowballstemmer``) unless ``disable_stemmer``;
- a term's index is ``abs(murmurhash3_32(stem, seed=0))``; documents weigh a term occurring
  ``tf`` times in ``n`` tokens ``tf * (k + 1) / (tf + k * (1 - b + b * n / avg_len))``
  (k = 1.2, b = 0.75, avg_len = 256), queries weigh every distinct term 1.0.

English stopwords are NLTK's list (Qdrant/bm25's ``english.txt``), shipped with huedb. Other
languages read ``<language>.txt`` from ``specific_model_path``, or from a fastembed cache
(``cache_dir``, ``$FASTEMBED_CACHE_PATH``) that already holds Qdrant/bm25: huedb never
downloads it.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

from huedb.api.types import Documents, SparseEmbeddingFunction, SparseVector, SparseVectors
from huedb.ef_persistence import validate_config_schema
from huedb.errors import InvalidArgumentError
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.chroma_bm25 import DEFAULT_CHROMA_BM25_STOPWORDS, _hasher
from huedb_plugins.embedding.local_models import TaskSparseMixin

NAME = "bm25"
TASKS = ("document", "query")
#: the languages fastembed's Bm25 has a Snowball stemmer (and Qdrant/bm25 a stopword file) for
LANGUAGES = (
    "arabic",
    "danish",
    "dutch",
    "english",
    "finnish",
    "french",
    "german",
    "greek",
    "hungarian",
    "italian",
    "norwegian",
    "portuguese",
    "romanian",
    "russian",
    "spanish",
    "swedish",
    "tamil",
    "turkish",
)
#: fastembed's Bm25 arguments with no effect here (no ONNX session to configure)
IGNORED_KWARGS = frozenset({"threads", "lazy_load", "parallel", "cuda", "device_ids", "providers"})
_NOT_WORD_OR_SPACE = re.compile(r"[^\w\s]")
_NOT_WORD = re.compile(r"[^\w]")


@lru_cache(maxsize=1)
def _punctuation() -> frozenset[str]:
    """Every Unicode punctuation character (categories P*): such a token is dropped."""
    return frozenset(c for c in map(chr, range(sys.maxunicode)) if unicodedata.category(c).startswith("P"))


def _tokens(text: str) -> list[str]:
    return _NOT_WORD.sub(" ", _NOT_WORD_OR_SPACE.sub(" ", text).lower()).split()


def _cached_stopword_file(cache_dir: str | None, language: str) -> Path | None:
    roots = [cache_dir, os.environ.get("FASTEMBED_CACHE_PATH"), os.path.join(tempfile.gettempdir(), "fastembed_cache")]
    for root in filter(None, roots):
        for found in sorted(Path(root).glob(f"models--Qdrant--bm25/snapshots/*/{language}.txt")):
            return found
    return None


class Bm25EmbeddingFunction(TaskSparseMixin, SparseEmbeddingFunction[Documents]):
    """chromadb's ``Bm25EmbeddingFunction`` (deprecated there in favour of ``ChromaBm25EmbeddingFunction``)."""

    def __init__(
        self,
        avg_len: float | None = None,
        task: str | None = "document",
        cache_dir: str | None = None,
        k: float | None = None,
        b: float | None = None,
        language: str | None = None,
        token_max_length: int | None = None,
        disable_stemmer: bool | None = None,
        specific_model_path: str | None = None,
        query_config: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if task not in TASKS:
            raise InvalidArgumentError(f"bm25: task must be 'document' or 'query', got {task!r}")
        if query_config is not None and (
            not isinstance(query_config, dict) or query_config.get("task") not in TASKS or set(query_config) - {"task"}
        ):
            raise InvalidArgumentError(
                f"bm25: query_config must be {{'task': 'document' | 'query'}}, got {query_config!r}"
            )
        for key, value in kwargs.items():
            if not isinstance(value, (str, int, float, bool, list, dict, tuple)):
                raise InvalidArgumentError(f"bm25: keyword argument {key!r} is not a primitive type (str, number, ...)")
            if key not in IGNORED_KWARGS and key != "stopwords":
                raise InvalidArgumentError(
                    f"bm25: unknown argument {key!r}; expected one of avg_len, task, cache_dir, k, b, language, "
                    f"token_max_length, disable_stemmer, specific_model_path, query_config, stopwords"
                )
        self.task = task
        self.query_config = query_config
        self.cache_dir = cache_dir
        self.k, self.b, self.avg_len = k, b, avg_len
        self.language = language
        self.token_max_length = token_max_length
        self.disable_stemmer = disable_stemmer
        self.specific_model_path = specific_model_path
        self.kwargs = kwargs
        self._k = 1.2 if k is None else float(k)
        self._b = 0.75 if b is None else float(b)
        self._avg_len = 256.0 if avg_len is None else float(avg_len)
        self._max_len = 40 if token_max_length is None else int(token_max_length)
        lang = language or "english"
        if not disable_stemmer and lang not in LANGUAGES:
            raise InvalidArgumentError(
                f"bm25: language {lang!r} is not supported; expected one of {', '.join(LANGUAGES)}"
            )
        self._hash = _hasher()
        self._stem = None if disable_stemmer else self._stemmer(lang)
        if "stopwords" in kwargs:
            self._stop = frozenset(str(w).lower() for w in kwargs["stopwords"])
        else:
            self._stop = frozenset() if disable_stemmer else self._load_stopwords(lang)

    @staticmethod
    def _stemmer(language: str) -> Any:
        try:
            import snowballstemmer
        except ImportError:
            raise ValueError(
                "Bm25EmbeddingFunction needs the snowballstemmer package: pip install snowballstemmer"
            ) from None
        return snowballstemmer.stemmer(language).stemWord

    def _load_stopwords(self, language: str) -> frozenset[str]:
        if self.specific_model_path:
            path: Path | None = Path(self.specific_model_path) / f"{language}.txt"
        elif language == "english":
            return frozenset(DEFAULT_CHROMA_BM25_STOPWORDS)
        else:
            path = _cached_stopword_file(self.cache_dir, language)
        if path is None or not path.is_file():
            if language == "tamil":  # Qdrant/bm25 has no Tamil list: none applies
                return frozenset()
            raise InvalidArgumentError(
                f"bm25: no stopword list for {language!r} ({path or 'Qdrant/bm25 is not in the fastembed cache'}). "
                f"huedb never downloads it: put Qdrant/bm25's {language}.txt in a directory and pass "
                f"specific_model_path=<that directory>, or pass stopwords=[...]"
            )
        return frozenset(line.strip().lower() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())

    def tokenize(self, text: str) -> list[str]:
        """The (stemmed) terms of ``text`` that count, in order."""
        punctuation = _punctuation()
        out = []
        for token in _tokens(text):
            if token in punctuation or token in self._stop or len(token) > self._max_len:
                continue
            stem = self._stem(token) if self._stem is not None else token
            if stem:
                out.append(stem)
        return out

    def _document(self, text: str) -> SparseVector:
        terms = self.tokenize(text)
        counts: dict[str, int] = {}
        for term in terms:
            counts[term] = counts.get(term, 0) + 1
        norm = self._k * (1.0 - self._b + self._b * len(terms) / self._avg_len)
        weights = {abs(self._hash(t, seed=0)): n * (self._k + 1.0) / (n + norm) for t, n in counts.items()}
        indices = sorted(weights)
        return SparseVector(indices=indices, values=[weights[i] for i in indices])

    def _query(self, text: str) -> SparseVector:
        indices = sorted({abs(self._hash(t, seed=0)) for t in self.tokenize(text)})
        return SparseVector(indices=indices, values=[1.0] * len(indices))

    def _encode(self, input: Documents, task: str) -> SparseVectors:
        if isinstance(input, str):
            input = [input]
        for i, text in enumerate(input):
            if not isinstance(text, str):
                raise InvalidArgumentError(f"bm25 embeds text only: input[{i}] is {type(text).__name__}, expected str")
        encode = self._query if task == "query" else self._document
        return [encode(text) for text in input]

    @staticmethod
    def name() -> str:
        return NAME

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> Bm25EmbeddingFunction:
        fields = ("task", "query_config", "cache_dir", "k", "b", "avg_len", "language")
        more = ("token_max_length", "disable_stemmer", "specific_model_path")
        args = {f: config.get(f) for f in (*fields, *more)}
        args["task"] = args["task"] or "document"
        return Bm25EmbeddingFunction(**args, **(config.get("kwargs") or {}))

    def get_config(self) -> dict[str, Any]:
        # chromadb also stores query_config=None, which its own schema refuses: left out here
        config: dict[str, Any] = {"task": self.task}
        if self.query_config is not None:
            config["query_config"] = dict(self.query_config)
        config.update(
            cache_dir=self.cache_dir,
            k=self.k,
            b=self.b,
            avg_len=self.avg_len,
            language=self.language,
            token_max_length=self.token_max_length,
            disable_stemmer=self.disable_stemmer,
            specific_model_path=self.specific_model_path,
            kwargs=dict(self.kwargs),
        )
        return config

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        """As in chromadb, anything may change (e.g. a moved ``specific_model_path``)."""

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        validate_config_schema(NAME, config)

    def __repr__(self) -> str:
        return f"Bm25EmbeddingFunction(task={self.task!r}, language={self.language or 'english'!r})"


@hookimpl
def register_embedding_functions(register: Any) -> None:
    register(Bm25EmbeddingFunction)
