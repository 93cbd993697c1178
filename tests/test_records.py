"""Records: add / update / upsert / delete semantics and validation."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest

from huedb.errors import DuplicateIDError, InvalidArgumentError

ALL = ["embeddings", "documents", "metadatas", "uris"]


def _new(client, name="recs", **kwargs):
    kwargs.setdefault("embedding_function", None)
    return client.create_collection(name, **kwargs)


def _snapshot(col):
    got = col.get(include=ALL)
    emb = got["embeddings"]
    return (
        got["ids"],
        None if emb is None else np.asarray(emb).tolist(),
        got["documents"],
        got["metadatas"],
        got["uris"],
    )


def _warned(caplog, recorded, needle: str) -> bool:
    """A warning reached the user: via the ``huedb`` logger or ``warnings.warn``."""
    logged = any(
        r.levelno >= logging.WARNING and r.name.split(".")[0] == "huedb" and needle in r.getMessage()
        for r in caplog.records
    )
    warned = any(needle in str(w.message) for w in recorded)
    return logged or warned


# --- add -------------------------------------------------------------------------


def test_add_all_fields_round_trip(client):
    col = _new(client)
    col.add(
        ids=["a", "b"],
        embeddings=[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]],
        documents=["doc a", "doc b"],
        metadatas=[{"s": "x", "i": 1, "f": 1.5, "b": True, "l": [1, 2]}, {"s": "y"}],
        uris=["file://a", "file://b"],
    )
    ids, emb, docs, metas, uris = _snapshot(col)
    assert ids == ["a", "b"]
    assert emb == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert docs == ["doc a", "doc b"]
    assert metas == [{"s": "x", "i": 1, "f": 1.5, "b": True, "l": [1, 2]}, {"s": "y"}]
    assert uris == ["file://a", "file://b"]


def test_add_numpy_embeddings(client):
    col = _new(client)
    arr = np.array([[0.25, -1.5], [3.0, 4.0]], dtype=np.float32)
    col.add(ids=["a", "b"], embeddings=arr)
    col.add(ids=["c"], embeddings=[np.array([7.0, 8.0], dtype=np.float64)])
    col.add(ids=["d"], embeddings=np.array([[1, 2]], dtype=np.int64))
    got = col.get(include=["embeddings"])["embeddings"]
    assert got.tolist() == [[0.25, -1.5], [3.0, 4.0], [7.0, 8.0], [1.0, 2.0]]


def test_add_single_id_string_and_flat_embedding(client):
    col = _new(client)
    col.add(ids="solo", embeddings=[1.0, 2.0, 3.0])
    got = col.get(ids="solo", include=["embeddings"])
    assert got["ids"] == ["solo"]
    assert got["embeddings"].tolist() == [[1.0, 2.0, 3.0]]


def test_add_with_missing_documents_and_metadatas_entries(client):
    col = _new(client)
    col.add(ids=["m1", "m2"], embeddings=[[1.0], [2.0]], metadatas=[{"x": 1}, None], documents=["x", None])
    got = col.get()
    assert got["metadatas"] == [{"x": 1}, None]
    assert got["documents"] == ["x", None]


def test_metadata_value_types_round_trip_exactly(client):
    col = _new(client)
    meta = {
        "s": "héllo 日本 🎉",
        "i": 2**40,
        "neg": -7,
        "f": 0.1,
        "t": True,
        "fa": False,
        "li": [1, 2, 3],
        "lf": [0.5, 1.5],
        "ls": ["a", "b"],
        "lb": [True, False],
    }
    col.add(ids=["a"], embeddings=[[1.0]], metadatas=[meta])
    back = col.get()["metadatas"][0]
    assert back == meta
    assert type(back["i"]) is int and type(back["f"]) is float
    assert type(back["t"]) is bool and type(back["fa"]) is bool
    assert [type(v) for v in back["lb"]] == [bool, bool]
    assert [type(v) for v in back["li"]] == [int, int, int]


def test_unicode_document_round_trip(client):
    col = _new(client)
    col.add(ids=["u"], embeddings=[[1.0]], documents=["héllo 日本 🎉\nline2\ttab"])
    assert col.get()["documents"] == ["héllo 日本 🎉\nline2\ttab"]


@pytest.mark.parametrize("op", ["add", "upsert", "update"])
def test_duplicate_ids_in_one_call(client, op):
    col = _new(client)
    col.add(ids=["z"], embeddings=[[0.0, 0.0]])
    before = _snapshot(col)
    with pytest.raises(DuplicateIDError, match="a"):
        getattr(col, op)(ids=["a", "b", "a"], embeddings=[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert _snapshot(col) == before


@pytest.mark.parametrize("op", ["delete", "get"])
def test_duplicate_ids_in_delete_and_get(client, op):
    col = _new(client)
    col.add(ids=["a"], embeddings=[[0.0, 0.0]])
    with pytest.raises(DuplicateIDError):
        getattr(col, op)(ids=["a", "a"])
    assert col.count() == 1


def test_add_existing_id_is_ignored_with_a_warning(client, caplog):
    col = _new(client)
    col.add(ids=["already-here"], embeddings=[[1.0, 2.0]], documents=["original"], metadatas=[{"v": 1}])
    caplog.set_level(logging.WARNING)
    with warnings.catch_warnings(record=True) as recorded:
        warnings.simplefilter("always")
        col.add(
            ids=["already-here", "b"],
            embeddings=[[9.0, 9.0], [3.0, 4.0]],
            documents=["changed", "new"],
            metadatas=[{"v": 2}, {"v": 3}],
        )
    got = col.get(include=["embeddings", "documents", "metadatas"])
    assert got["ids"] == ["already-here", "b"]
    assert got["embeddings"].tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert got["documents"] == ["original", "new"]
    assert got["metadatas"] == [{"v": 1}, {"v": 3}]
    assert _warned(caplog, recorded, "already-here")


def test_update_missing_id_is_ignored_with_a_warning(client, caplog):
    col = _new(client)
    col.add(ids=["a", "b"], embeddings=[[1.0, 2.0], [3.0, 4.0]], documents=["A", "B"])
    caplog.set_level(logging.WARNING)
    with warnings.catch_warnings(record=True) as recorded:
        warnings.simplefilter("always")
        col.update(ids=["a", "ghost"], embeddings=[[9.0, 9.0], [8.0, 8.0]], documents=["A2", "G"])
    got = col.get(include=["embeddings", "documents"])
    assert got["ids"] == ["a", "b"]
    assert got["embeddings"].tolist() == [[9.0, 9.0], [3.0, 4.0]]
    assert got["documents"] == ["A2", "B"]
    assert _warned(caplog, recorded, "ghost")


# --- update / upsert ------------------------------------------------------------------


def test_update_changes_only_given_fields(client):
    col = _new(client)
    col.add(ids=["a"], embeddings=[[1.0, 2.0]], documents=["doc"], metadatas=[{"k": 1}], uris=["u"])
    col.update(ids=["a"], metadatas=[{"k": 2}])
    assert _snapshot(col) == (["a"], [[1.0, 2.0]], ["doc"], [{"k": 2}], ["u"])
    col.update(ids=["a"], embeddings=[[5.0, 6.0]])
    assert _snapshot(col) == (["a"], [[5.0, 6.0]], ["doc"], [{"k": 2}], ["u"])
    col.update(ids=["a"], embeddings=[[5.0, 6.0]], documents=["new doc"], uris=["u2"])
    assert _snapshot(col) == (["a"], [[5.0, 6.0]], ["new doc"], [{"k": 2}], ["u2"])


def test_update_metadata_merges_and_none_removes_key(client):
    col = _new(client)
    col.add(ids=["a"], embeddings=[[1.0]], metadatas=[{"s": "x", "i": 1, "keep": True}])
    col.update(ids=["a"], metadatas=[{"s": None, "new": 2}])
    assert col.get()["metadatas"] == [{"i": 1, "keep": True, "new": 2}]


def test_update_metadata_on_record_without_metadata(client):
    col = _new(client)
    col.add(ids=["a"], embeddings=[[1.0]])
    col.update(ids=["a"], metadatas=[{"k": 1}])
    assert col.get()["metadatas"] == [{"k": 1}]


def test_removing_every_key_leaves_no_metadata(client):
    col = _new(client)
    col.add(ids=["a"], embeddings=[[1.0]], metadatas=[{"q": 1, "z": 2}])
    col.update(ids=["a"], metadatas=[{"q": None, "z": None}])
    # chromadb returns {} here; either way no key survives.
    assert col.get()["metadatas"][0] in ({}, None)


def test_upsert_inserts_new_and_updates_existing(client):
    col = _new(client)
    col.add(ids=["a", "b"], embeddings=[[1.0, 1.0], [2.0, 2.0]], documents=["A", "B"])
    col.upsert(ids=["new", "b"], embeddings=[[7.0, 7.0], [6.0, 6.0]])
    got = col.get(include=["embeddings", "documents"])
    # Existing records keep their position; new ones go last.
    assert got["ids"] == ["a", "b", "new"]
    assert got["embeddings"].tolist() == [[1.0, 1.0], [6.0, 6.0], [7.0, 7.0]]
    # upsert without documents keeps the old document.
    assert got["documents"] == ["A", "B", None]


def test_upsert_metadata_merges_and_none_removes_key(client):
    col = _new(client)
    col.add(ids=["b"], embeddings=[[4.0]], documents=["db"], metadatas=[{"s": "y", "keep": 1}])
    col.upsert(ids=["b"], embeddings=[[4.0]], metadatas=[{"s": None, "z": 1}])
    assert col.get()["metadatas"] == [{"keep": 1, "z": 1}]
    col.upsert(ids=["b"], embeddings=[[5.0]])
    got = col.get()
    assert got["metadatas"] == [{"keep": 1, "z": 1}]
    assert got["documents"] == ["db"]


def test_none_entries_in_update_keep_old_values(client):
    # chromadb: a None document or metadata entry in update/upsert means "leave as is".
    col = _new(client)
    col.add(ids=["a", "b"], embeddings=[[0.0], [1.0]], documents=["keep", "kb"], metadatas=[{"k": 1}, {"k": 2}])
    col.update(ids=["a", "b"], embeddings=[[0.0], [1.0]], documents=[None, "new"], metadatas=[None, {"z": 1}])
    got = col.get()
    assert got["documents"] == ["keep", "new"]
    assert got["metadatas"] == [{"k": 1}, {"k": 2, "z": 1}]


def test_none_entries_in_upsert_keep_old_values(client):
    col = _new(client)
    col.add(ids=["a", "b"], embeddings=[[0.0], [1.0]], documents=["keep", "kb"], metadatas=[{"k": 1}, {"k": 2}])
    col.upsert(ids=["a", "b"], embeddings=[[0.5], [1.5]], documents=[None, "new"], metadatas=[None, {"y": 1}])
    got = col.get(include=["documents", "metadatas", "embeddings"])
    assert got["documents"] == ["keep", "new"]
    assert got["metadatas"] == [{"k": 1}, {"k": 2, "y": 1}]
    assert got["embeddings"].tolist() == [[0.5], [1.5]]


def test_upsert_new_record_with_none_metadata_value(client):
    col = _new(client)
    col.upsert(ids=["n"], embeddings=[[1.0]], metadatas=[{"gone": None, "here": 1}])
    assert col.get()["metadatas"] == [{"here": 1}]


# --- dimension ------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["add", "upsert", "update"])
def test_dimension_fixed_by_first_embedding(client, op):
    col = _new(client)
    col.add(ids=["a"], embeddings=[[1.0, 2.0, 3.0]])
    before = _snapshot(col)
    with pytest.raises(InvalidArgumentError) as info:
        getattr(col, op)(ids=["a"], embeddings=[[1.0, 2.0]])
    assert "3" in str(info.value) and "2" in str(info.value)
    assert _snapshot(col) == before


def test_query_dimension_mismatch(client):
    col = _new(client)
    col.add(ids=["a"], embeddings=[[1.0, 2.0, 3.0]])
    with pytest.raises(InvalidArgumentError) as info:
        col.query(query_embeddings=[[1.0, 2.0, 3.0, 4.0]])
    assert "3" in str(info.value) and "4" in str(info.value)


def test_inconsistent_dimensions_within_a_batch(client):
    col = _new(client)
    with pytest.raises(InvalidArgumentError):
        col.add(ids=["a", "b"], embeddings=[[1.0, 2.0, 3.0], [1.0, 2.0]])
    assert col.count() == 0


def test_dimension_survives_delete_of_all_records(client):
    col = _new(client)
    col.add(ids=["a"], embeddings=[[1.0, 2.0]])
    col.delete(ids=["a"])
    with pytest.raises(InvalidArgumentError):
        col.add(ids=["b"], embeddings=[[1.0, 2.0, 3.0]])


# --- validation of inputs -----------------------------------------------------------


@pytest.mark.parametrize(
    "metadata, needle",
    [
        ({"a": {"b": 1}}, "dict"),
        ({"a": [1, "x"]}, "same type"),
        ({"a": [1, 2.5]}, "same type"),
        ({"a": []}, "(?i)empty"),
        ({"a": [[1]]}, "list"),
        ({1: "x"}, "key"),
    ],
)
def test_invalid_metadata_in_add(client, metadata, needle):
    col = _new(client)
    with pytest.raises((ValueError, TypeError), match=needle):
        col.add(ids=["a"], embeddings=[[1.0]], metadatas=[metadata])
    assert col.count() == 0


def test_none_metadata_value_in_add_means_key_absent(client):
    # chromadb's validator accepts None values in add but its storage layer then
    # fails with an internal TypeError; huedb treats None as "no such key", as upsert does.
    col = _new(client)
    col.add(ids=["a", "b"], embeddings=[[1.0], [2.0]], metadatas=[{"a": None, "b": 1}, {"a": None}])
    got = col.get()["metadatas"]
    assert got[0] == {"b": 1}
    assert got[1] in ({}, None)
    assert col.get(where={"a": {"$ne": 0}})["ids"] == ["a", "b"]


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"ids": ["a", "b"], "embeddings": [[1.0]]}, "(?i)(length|match)"),
        ({"ids": [""], "embeddings": [[1.0]]}, "(?i)empty"),
        ({"ids": [1], "embeddings": [[1.0]]}, "str"),
        ({"ids": ["x"], "embeddings": [[1.0]], "documents": [5]}, "str"),
        ({"ids": ["x"], "embeddings": [[float("nan")]]}, "(?i)nan"),
        ({"ids": [], "embeddings": []}, "(?i)empty"),
    ],
)
def test_invalid_record_arguments(client, kwargs, needle):
    col = _new(client)
    with pytest.raises(ValueError, match=needle):
        col.add(**kwargs)
    assert col.count() == 0


def test_add_without_embeddings_documents_or_uris_is_an_error(client):
    col = _new(client)
    with pytest.raises(ValueError):
        col.add(ids=["x"])


def test_documents_without_embedding_function_is_an_error(client):
    # (with no configuration at all, embedding_function=None means the default EF, as on Chroma)
    col = _new(client, embedding_function=None, configuration={"hnsw": {"space": "l2"}})
    with pytest.raises(ValueError, match="(?i)embedding function"):
        col.add(ids=["x"], documents=["needs embedding"])
    assert col.count() == 0


def test_documents_go_through_the_collection_embedding_function(client):
    class LengthEF:
        """Deterministic toy EF: [len(text), number of spaces]."""

        def __call__(self, input):
            return [np.array([len(t), t.count(" ")], dtype=np.float32) for t in input]

        def embed_query(self, input):
            return self(input)

    col = _new(client, embedding_function=LengthEF())
    col.add(ids=["a", "b"], documents=["one two", "abc"])
    assert col.get(include=["embeddings"])["embeddings"].tolist() == [[7.0, 1.0], [3.0, 0.0]]
    res = col.query(query_texts=["xyz"], n_results=1, include=["distances"])
    assert res["ids"] == [["b"]]
    assert res["distances"][0][0] == pytest.approx(0.0, abs=1e-6)


# --- delete ----------------------------------------------------------------------


def test_delete_by_ids(client):
    col = _new(client)
    col.add(ids=["a", "b", "c"], embeddings=[[1.0], [2.0], [3.0]])
    col.delete(ids=["b", "missing"])
    assert col.get()["ids"] == ["a", "c"]


def test_delete_by_where_and_where_document(client):
    col = _new(client)
    col.add(
        ids=["a", "b", "c", "d"],
        embeddings=[[1.0], [2.0], [3.0], [4.0]],
        metadatas=[{"g": 1}, {"g": 2}, {"g": 1}, {"g": 2}],
        documents=["keep", "drop me", "keep", "keep"],
    )
    col.delete(where={"g": 1})
    assert col.get()["ids"] == ["b", "d"]
    col.delete(where_document={"$contains": "drop"})
    assert col.get()["ids"] == ["d"]
    col.delete(where={"g": 99})
    assert col.get()["ids"] == ["d"]


def test_delete_ids_and_where_combined(client):
    col = _new(client)
    col.add(ids=["a", "b", "c"], embeddings=[[1.0], [2.0], [3.0]], metadatas=[{"g": 1}, {"g": 2}, {"g": 1}])
    col.delete(ids=["a", "b"], where={"g": 1})
    assert col.get()["ids"] == ["b", "c"]


def test_delete_with_nothing_is_an_error(client):
    col = _new(client)
    col.add(ids=["a"], embeddings=[[1.0]])
    with pytest.raises(ValueError, match="ids"):
        col.delete()
    with pytest.raises(ValueError):
        col.delete(ids=[])
    assert col.count() == 1


def test_deleted_id_can_be_added_again_and_goes_last(client):
    col = _new(client)
    col.add(ids=["z", "y", "x"], embeddings=[[1.0], [2.0], [3.0]], documents=["Z", "Y", "X"])
    col.delete(ids=["z"])
    col.add(ids=["z"], embeddings=[[7.0]])
    got = col.get(include=["embeddings", "documents"])
    assert got["ids"] == ["y", "x", "z"]
    assert got["embeddings"].tolist() == [[2.0], [3.0], [7.0]]
    assert got["documents"] == ["Y", "X", None]


# --- atomic batches ------------------------------------------------------------------


def test_failed_add_batch_changes_nothing(client):
    col = _new(client)
    col.add(ids=["keep"], embeddings=[[0.0]])
    before = _snapshot(col)
    with pytest.raises(ValueError):
        col.add(ids=["c", "d", "e"], embeddings=[[1.0], [2.0], [3.0]], metadatas=[{"a": 1}, {"a": 2}, {"a": {"x": 1}}])
    assert _snapshot(col) == before


def test_failed_upsert_batch_changes_nothing(client):
    col = _new(client)
    col.add(ids=["a", "b"], embeddings=[[1.0], [2.0]], metadatas=[{"v": 1}, {"v": 2}])
    before = _snapshot(col)
    with pytest.raises(ValueError):
        col.upsert(
            ids=["a", "new", "b"], embeddings=[[9.0], [9.0], [9.0]], metadatas=[{"v": 10}, {"v": 11}, {"v": [1, "x"]}]
        )
    assert _snapshot(col) == before


def test_failed_update_batch_changes_nothing(client):
    col = _new(client)
    col.add(ids=["a", "b"], embeddings=[[1.0], [2.0]], documents=["A", "B"])
    before = _snapshot(col)
    with pytest.raises(ValueError):
        col.update(ids=["a", "b"], embeddings=[[5.0], [float("inf")]], documents=["A2", "B2"])
    assert _snapshot(col) == before
