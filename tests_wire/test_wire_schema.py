"""The real chromadb 1.5.9 client with a Schema against ``huedb run``: a turned-off index makes
filters raise (chromadb's InvalidArgumentError, as on Chroma local), the schema comes back from
get_collection, and a BM25 sparse index (filled by chromadb's client from the documents) answers
collection.search(...) as embedded huedb does: a hybrid Rrf of dense and BM25 Knn, a GroupBy and
a batch of 3 searches."""

from __future__ import annotations

import numpy as np
import pytest
from chromadb import Schema, SparseVectorIndexConfig, StringInvertedIndexConfig
from chromadb.errors import InvalidArgumentError
from chromadb.execution.expression import GroupBy, K, Knn, MinK, Rrf, Search
from chromadb.utils.embedding_functions import ChromaBm25EmbeddingFunction
from test_wire_compat import REPO, client, server  # noqa: F401 - pytest fixtures
from test_wire_search import _close, _embedded, _plain


@pytest.fixture(autouse=True)
def _ef_schemas(monkeypatch):
    """chromadb-client 1.5.9's wheel lacks the EF config schemas its ChromaBm25EmbeddingFunction
    validates against when a Schema is serialised (site-packages/schemas/embedding_functions is
    only in the full chromadb wheel): point it at huedb's copy of the same JSON schemas."""
    from chromadb.utils.embedding_functions.schemas import schema_utils

    monkeypatch.setattr(schema_utils, "SCHEMAS_DIR", str(REPO / "core" / "schemas"))
    schema_utils.cached_schemas.clear()


WORDS = "quick brown fox lazy dog zebra rare cat sleeps jumps river stone vector search hybrid".split()


def test_a_disabled_index_raises_over_the_wire(client):  # noqa: F811
    schema = Schema().delete_index(StringInvertedIndexConfig(), key="genre")
    col = client.create_collection("wire-schema-off", schema=schema, embedding_function=None)
    col.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]], metadatas=[{"genre": "x", "n": 1}, {"genre": "y"}])
    with pytest.raises(InvalidArgumentError, match="Cannot filter using metadata key 'genre' with type 'Str'"):
        col.get(where={"genre": "x"})
    assert col.get(where={"n": 1})["ids"] == ["a"]
    again = client.get_collection("wire-schema-off")
    served = again.schema.serialize_to_json()
    assert served["keys"]["genre"]["string"]["string_inverted_index"]["enabled"] is False
    # the keys the data holds are listed too, as chromadb's own server does
    assert served["keys"]["n"] == {"int": {"int_inverted_index": {"enabled": True, "config": {}}}}
    assert "n" not in col.schema.keys  # the collection object held keeps what it was created with
    assert [sorted(c.schema.keys) for c in client.list_collections()] == [["#document", "#embedding", "genre", "n"]]


def _records(n: int = 60) -> list[dict]:
    rng = np.random.default_rng(11)
    out = []
    for i in range(n):
        words = rng.choice(WORDS, size=int(rng.integers(3, 9))).tolist()
        out.append(
            {
                "id": f"b{i:02d}",
                "embedding": rng.random(4).round(4).tolist(),
                "document": " ".join(words),
                "metadata": {"cat": i % 3},
            }
        )
    return out


def _bm25_schema() -> Schema:
    config = SparseVectorIndexConfig(source_key=K.DOCUMENT, embedding_function=ChromaBm25EmbeddingFunction(), bm25=True)
    return Schema().create_index(config, key="bm25")


def _batches() -> list[list[Search]]:
    dense = Knn(query=[0.4, 0.6, 0.2, 0.9], limit=20, return_rank=True)
    sparse = Knn(query="rare zebra river", key="bm25", limit=20, return_rank=True)
    hybrid = Rrf([dense, sparse], k=60)
    return [
        [Search().rank(hybrid).limit(10).select(K.SCORE, K.DOCUMENT, "bm25")],
        [
            Search()
            .rank(hybrid)
            .group_by(GroupBy(keys=K("cat"), aggregate=MinK(keys=K.SCORE, k=2)))
            .select(K.SCORE, "cat")
        ],
        [
            Search().rank(Knn(query="quick brown fox", key="bm25", limit=5)).select(K.SCORE),
            Search().where(K("cat") == 1).rank(hybrid).limit(4, offset=1).select(K.SCORE),
            Search().rank(Rrf([dense, sparse], weights=[0.3, 0.7], normalize=True)).limit(6).select(K.SCORE),
        ],
    ]


def test_bm25_hybrid_search_matches_embedded_huedb(client):  # noqa: F811
    records = _records()
    schema = _bm25_schema()
    col = client.create_collection("wire-search", schema=schema, embedding_function=None)
    col.add(
        ids=[r["id"] for r in records],
        embeddings=[r["embedding"] for r in records],
        documents=[r["document"] for r in records],
        metadatas=[r["metadata"] for r in records],
    )
    stored = col.get(ids=["b00"], include=["metadatas"])["metadatas"][0]["bm25"]
    assert stored == ChromaBm25EmbeddingFunction()([records[0]["document"]])[0]  # filled by chromadb's client
    batches = _batches()
    expected = _embedded(records, batches, schema.serialize_to_json())
    for batch, want in zip(batches, expected):
        got = col.search(batch if len(batch) > 1 else batch[0])
        assert len(got["ids"]) == len(batch)
        assert all(ids for ids in got["ids"])
        assert got["ids"] == want["ids"], (batch, got["ids"], want["ids"])
        assert _close(_plain(got), _plain(want)), (batch, got, want)
