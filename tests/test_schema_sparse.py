"""A schema's sparse vector index: filled from the document or a metadata field on add, update
and upsert (chromadb 1.5.9's client rules, observed with its Collection against a recording
client), BM25-weighted queries from live statistics, text Knn queries embedded with the key's
sparse EF, and the sparse EF persisted and rebuilt by name and config."""

from __future__ import annotations

import math

import numpy as np
import pytest

import huedb
from huedb import K, Knn, Rrf, Schema, Search, SparseVector, SparseVectorIndexConfig
from huedb.errors import InvalidArgumentError
from huedb.utils.embedding_functions import ChromaBm25EmbeddingFunction

BM25 = ChromaBm25EmbeddingFunction()


def _schema(source="#document", bm25=True) -> Schema:
    config = SparseVectorIndexConfig(source_key=source, embedding_function=ChromaBm25EmbeddingFunction(), bm25=bm25)
    return Schema().create_index(config, key="sparse")


def _sv(md):
    return md.get("sparse") if md else None


def test_document_source_fills_add_update_upsert(client):
    col = client.create_collection("fill_doc", schema=_schema(), embedding_function=None)
    mine = SparseVector(indices=[1], values=[2.0])
    col.add(
        ids=["a", "b", "c", "d"],
        embeddings=[[1.0, 0.0]] * 4,
        documents=["hello world", "", "cats and dogs", "kept"],
        metadatas=[None, {"n": 1}, {"n": 2}, {"sparse": mine}],
    )
    got = col.get(include=["metadatas"])["metadatas"]
    assert _sv(got[0]) == BM25(["hello world"])[0]
    assert _sv(got[1]) == SparseVector(indices=[], values=[]) and got[1]["n"] == 1  # an empty document
    assert _sv(got[2]) == BM25(["cats and dogs"])[0]
    assert _sv(got[3]) == mine  # a record that brings the key keeps it
    col.add(ids=["e"], embeddings=[[0.0, 1.0]], metadatas=[{"n": 5}])  # no document: nothing to fill
    assert col.get(ids=["e"])["metadatas"] == [{"n": 5}]
    col.update(ids=["a"], documents=["goodbye moon"], embeddings=[[1.0, 0.0]])
    assert _sv(col.get(ids=["a"])["metadatas"][0]) == BM25(["goodbye moon"])[0]
    col.update(ids=["c"], metadatas=[{"n": 3}])  # metadata only: the sparse vector stays
    assert _sv(col.get(ids=["c"])["metadatas"][0]) == BM25(["cats and dogs"])[0]
    col.upsert(ids=["c", "f"], embeddings=[[1.0, 1.0]] * 2, documents=["new text", "fresh doc"])
    stored = dict(zip(*[col.get(ids=["c", "f"])[k] for k in ("ids", "metadatas")]))
    assert _sv(stored["c"]) == BM25(["new text"])[0] and _sv(stored["f"]) == BM25(["fresh doc"])[0]


def test_metadata_source_fills_from_string_values_only(client):
    col = client.create_collection("fill_meta", schema=_schema("title"), embedding_function=None)
    col.add(
        ids=["a", "b", "c", "d"],
        embeddings=[[1.0, 0.0]] * 4,
        metadatas=[{"title": "hello there"}, {"other": 1}, {"title": 5}, {"title": ["hello", "x"]}],
        documents=["doc a", "doc b", "doc c", "doc d"],
    )
    got = dict(zip(*[col.get()[k] for k in ("ids", "metadatas")]))
    assert _sv(got["a"]) == BM25(["hello there"])[0]
    assert got["b"] == {"other": 1} and got["c"] == {"title": 5} and got["d"] == {"title": ["hello", "x"]}
    col.update(ids=["b"], metadatas=[{"title": "hey"}])
    assert _sv(col.get(ids=["b"])["metadatas"][0]) == BM25(["hey"])[0]
    col.update(ids=["a"], documents=["a document is not the source"], embeddings=[[1.0, 0.0]])
    assert _sv(col.get(ids=["a"])["metadatas"][0]) == BM25(["hello there"])[0]


def _bm25_collection(client, name, bm25=True):
    col = client.create_collection(name, schema=_schema(bm25=bm25), embedding_function=None)
    docs = [
        "the quick brown fox jumps",
        "a quick brown dog sleeps",
        "quick quick quick rabbit",
        "the zebra is rare",
        "brown bears and brown foxes",
    ]
    col.add(ids=[f"d{i}" for i in range(5)], embeddings=[[float(i), 1.0] for i in range(5)], documents=docs)
    return col, docs


def _reference_bm25(docs, query):
    """Plain BM25 over the EF's document weights: sum over query terms of q * idf * d."""
    vectors = BM25(docs)
    q = BM25.embed_query([query])[0]
    n = len(docs)
    out = {}
    for i, d in enumerate(vectors):
        dw = dict(zip(d.indices, d.values))
        score = 0.0
        for t, qw in zip(q.indices, q.values):
            df = sum(1 for v in vectors if t in v.indices)
            if t in dw:
                score += qw * math.log1p((n - df + 0.5) / (df + 0.5)) * dw[t]
        if score:
            out[f"d{i}"] = 1.0 - score
    return out


def test_bm25_text_query_is_idf_weighted_from_live_statistics(client):
    col, docs = _bm25_collection(client, "bm25_live")
    result = col.search(Search().rank(Knn(query="quick zebra", key="sparse", limit=10)).select(K.SCORE))
    want = _reference_bm25(docs, "quick zebra")
    got = dict(zip(result["ids"][0], result["scores"][0]))
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == pytest.approx(want[k], rel=1e-5, abs=1e-5)
    assert result["ids"][0][0] == "d3"  # the rare term wins
    # statistics follow writes: delete the only zebra, add another, the IDF changes
    col.delete(ids=["d3"])
    col.add(ids=["d5"], embeddings=[[5.0, 1.0]], documents=["zebra zebra"])
    docs2 = [d for i, d in enumerate(docs) if i != 3] + ["zebra zebra"]
    result = col.search(Search().rank(Knn(query="quick zebra", key="sparse", limit=10)).select(K.SCORE))
    renamed = {f"d{i}": f"d{[0, 1, 2, 4, 5][i]}" for i in range(5)}
    want = {renamed[k]: v for k, v in _reference_bm25(docs2, "quick zebra").items()}
    got = dict(zip(result["ids"][0], result["scores"][0]))
    assert got.keys() == want.keys()
    assert all(got[k] == pytest.approx(want[k], rel=1e-5, abs=1e-5) for k in want)


def test_without_bm25_the_query_is_a_plain_dot_product(client):
    col, docs = _bm25_collection(client, "bm25_off", bm25=False)
    q = BM25.embed_query(["quick"])[0]
    result = col.search(Search().rank(Knn(query=q, key="sparse", limit=10)).select(K.SCORE))
    vectors = dict(zip([f"d{i}" for i in range(5)], BM25(docs)))
    for rid, score in zip(result["ids"][0], result["scores"][0]):
        d = dict(zip(vectors[rid].indices, vectors[rid].values))
        dot = sum(qw * d.get(t, 0.0) for t, qw in zip(q.indices, q.values))
        assert score == pytest.approx(1.0 - dot, rel=1e-5)


def test_hybrid_rrf_of_dense_and_bm25_text_queries(client):
    col, _ = _bm25_collection(client, "bm25_hybrid")
    hybrid = Rrf([Knn(query=[0.0, 1.0], return_rank=True, limit=5), Knn(query="brown", key="sparse", return_rank=True)])
    result = col.search(Search().rank(hybrid).limit(3).select(K.SCORE, K.DOCUMENT))
    assert len(result["ids"][0]) == 3 and all(s < 0 for s in result["scores"][0])
    assert result["ids"][0][0] in ("d0", "d1")  # near [0, 1] and about brown things


def test_a_declared_sparse_key_with_no_records_is_searchable(client):
    col = client.create_collection("bm25_empty", schema=_schema(), embedding_function=None)
    col.add(ids=["x"], embeddings=[[1.0, 0.0]])  # no document: no sparse vector
    assert col.search(Search().rank(Knn(query="anything", key="sparse")))["ids"] == [[]]


def test_text_query_on_a_key_with_no_sparse_ef_is_refused(client):
    col = client.create_collection("bm25_nokey", schema=_schema(), embedding_function=None)
    with pytest.raises(InvalidArgumentError, match="Cannot embed string query for key 'other': key not found"):
        col.search(Search().rank(Knn(query="hello", key="other")))


def test_sparse_ef_persists_by_name_and_is_rebuilt(tmp_path):
    path = str(tmp_path / "db")
    ef = ChromaBm25EmbeddingFunction(k=1.5, b=0.5)
    schema = Schema().create_index(
        SparseVectorIndexConfig(source_key="#document", embedding_function=ef, bm25=True), key="sparse"
    )
    huedb.PersistentClient(path).create_collection("kept", schema=schema, embedding_function=None)
    col = huedb.PersistentClient(path).get_collection("kept")
    config = col.schema.serialize_to_json()["keys"]["sparse"]["sparse_vector"]["sparse_vector_index"]
    assert config["enabled"] is True and config["config"]["bm25"] is True
    assert config["config"]["source_key"] == "#document"
    spec = config["config"]["embedding_function"]
    assert spec["name"] == "chroma_bm25" and spec["type"] == "known"
    assert spec["config"]["k"] == 1.5 and spec["config"]["b"] == 0.5
    col.add(ids=["a"], embeddings=[[1.0, 0.0]], documents=["hello hello world"])
    assert col.get(ids=["a"])["metadatas"][0]["sparse"] == ef(["hello hello world"])[0]
    rebuilt = col.schema.keys["sparse"].sparse_vector.sparse_vector_index.config.embedding_function
    assert rebuilt.get_config()["k"] == 1.5
    assert np.allclose(rebuilt(["abc def"])[0].values, ef(["abc def"])[0].values)


def test_cached_postings_follow_writes_in_this_and_other_processes(tmp_path):
    """The SQLite backend keeps queried terms' postings in memory per collection version:
    every write (here or in another process) must show in the next search."""
    import subprocess
    import sys

    path = str(tmp_path / "db")
    col = huedb.PersistentClient(path).create_collection("cached", schema=_schema(), embedding_function=None)
    col.add(ids=["a", "b"], embeddings=[[1.0, 0.0]] * 2, documents=["zebra river", "zebra"])

    def found():
        result = col.search(Search().rank(Knn(query="zebra", key="sparse", limit=10)).select(K.SCORE))
        return dict(zip(result["ids"][0], result["scores"][0]))

    first = found()
    assert set(first) == {"a", "b"}
    col.update(ids=["a"], documents=["river only"], embeddings=[[1.0, 0.0]])
    assert set(found()) == {"b"}  # a's postings changed with its document
    col.delete(ids=["b"])
    assert found() == {}
    code = (
        f"import huedb; c = huedb.PersistentClient({path!r}).get_collection('cached');"
        "c.add(ids=['c'], embeddings=[[0.0, 1.0]], documents=['zebra zebra'])"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert set(found()) == {"c"}


def test_exact_with_a_term_in_every_record(client):
    """A term in every record with a small query weight (BM25's ~0 IDF) is left out of the
    accumulation when it cannot change the top (MaxScore): the answer stays the brute force's."""
    rng = np.random.default_rng(5)
    n, vocab = 400, 30
    vectors = []
    for _ in range(n):
        terms = sorted({0, *rng.choice(np.arange(1, vocab), size=int(rng.integers(1, 6)), replace=False).tolist()})
        vectors.append(SparseVector(indices=terms, values=[float(v) for v in rng.random(len(terms)) + 0.01]))
    col = client.create_collection("every_record", embedding_function=None)
    col.add(ids=[f"r{i}" for i in range(n)], embeddings=[[1.0, 0.0]] * n, metadatas=[{"sp": v} for v in vectors])
    dense = np.zeros((n, vocab))
    for i, v in enumerate(vectors):
        dense[i, v.indices] = v.values
    for trial in range(25):
        terms = sorted({0, *rng.choice(np.arange(1, vocab), size=int(rng.integers(1, 4)), replace=False).tolist()})
        weights = [1e-4 if t == 0 else float(rng.random() + 0.5) for t in terms]
        if trial % 5 == 0:
            weights[0] = 1.0  # a common term that matters: no pruning possible
        q = np.zeros(vocab)
        q[terms] = weights
        dots = dense @ q
        limit = int(rng.integers(1, 15))
        order = sorted(range(n), key=lambda i: (-dots[i], i))[:limit]
        got = col.search(Search().rank(Knn(query=SparseVector(terms, weights), key="sp", limit=limit)).select(K.SCORE))
        assert got["ids"][0] == [f"r{i}" for i in order]
        assert got["scores"][0] == pytest.approx([1.0 - dots[i] for i in order], rel=1e-5, abs=1e-6)


def test_source_key_may_be_a_key():
    # chromadb's documented form: source_key=K.DOCUMENT
    config = SparseVectorIndexConfig(source_key=K.DOCUMENT, embedding_function=BM25, bm25=True)
    assert config.source_key == "#document"
    json = Schema().create_index(config, key="bm25").serialize_to_json()
    assert json["keys"]["bm25"]["sparse_vector"]["sparse_vector_index"]["config"]["source_key"] == "#document"
