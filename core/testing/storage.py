"""A conformance suite for storage backends (``huedb.storage.StorageBackend``).

Subclass it in a test module and provide ``make_backend``; pytest then runs every
check against that backend. huedb runs it on SQLite (a file, and memory); a new
backend (PostgreSQL) runs the same suite::

    from huedb.testing import StorageBackendConformance

    class TestMyBackend(StorageBackendConformance):
        def make_backend(self, tmp_path):
            return MyBackend(...)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from huedb.errors import InvalidArgumentError, NotFoundError, UniqueConstraintError
from huedb.storage import NewRecords, RecordChanges, StorageBackend
from huedb.testing.storage_sparse import SparseIndexChecks
from huedb.types import CollectionModel

TENANT, DATABASE = "default_tenant", "default_database"
DIM = 4


class StorageBackendConformance(SparseIndexChecks):
    """Checks every method of the storage protocol, and its transaction guarantees
    (the sparse inverted index's checks come from ``SparseIndexChecks``)."""

    def make_backend(self, tmp_path: Path) -> StorageBackend:
        raise NotImplementedError("subclasses return a fresh, empty backend")

    # -- fixtures and helpers -------------------------------------------------------
    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[StorageBackend]:
        backend = self.make_backend(tmp_path)
        with backend.write() as tx:
            tx.ensure_defaults(TENANT, DATABASE)
        yield backend
        backend.close()

    @pytest.fixture
    def collection(self, backend: StorageBackend) -> CollectionModel:
        with backend.write() as tx:
            return tx.insert_collection("things", {"owner": "me"}, {"hnsw": {"space": "l2"}}, TENANT, DATABASE)

    @staticmethod
    def add(
        backend: StorageBackend,
        model: CollectionModel,
        ids: list[str],
        seq: int,
        metadatas: list[dict[str, Any] | None] | None = None,
        documents: list[str | None] | None = None,
    ) -> np.ndarray:
        vectors = np.arange(len(ids) * DIM, dtype=np.float32).reshape(len(ids), DIM) + seq
        with backend.write() as tx:
            rids = tx.insert_records(model.storage_key, seq, NewRecords(ids, vectors, documents, None, metadatas))
            tx.set_collection_state(model.storage_key, seq, DIM)
        return rids

    # -- catalog ---------------------------------------------------------------------
    def test_defaults_exist_and_are_idempotent(self, backend: StorageBackend) -> None:
        with backend.write() as tx:
            tx.ensure_defaults(TENANT, DATABASE)
        with backend.read() as tx:
            assert tx.get_tenant(TENANT) == {"name": TENANT}
            assert tx.get_database(DATABASE, TENANT)["name"] == DATABASE
            assert [t["name"] for t in tx.list_tenants()] == [TENANT]

    def test_tenants_and_databases(self, backend: StorageBackend) -> None:
        with backend.write() as tx:
            tx.create_tenant("acme")
            tx.create_database("prod", "acme")
            tx.create_database("dev", "acme")
        with backend.read() as tx:
            assert [d["name"] for d in tx.list_databases("acme", None, None)] == ["prod", "dev"]
            assert [d["name"] for d in tx.list_databases("acme", 1, 1)] == ["dev"]
        with pytest.raises(UniqueConstraintError):
            with backend.write() as tx:
                tx.create_tenant("acme")
        with pytest.raises(NotFoundError):
            with backend.write() as tx:
                tx.create_database("x-db", "nobody")
        with backend.write() as tx:
            tx.delete_database("dev", "acme")
        with backend.read() as tx:
            with pytest.raises(NotFoundError):
                tx.get_database("dev", "acme")

    def test_collections_round_trip(self, backend: StorageBackend, collection: CollectionModel) -> None:
        with backend.read() as tx:
            by_name = tx.collection_by_name("things", TENANT, DATABASE)
            by_id = tx.collection_by_id(collection.id)
            assert by_name == by_id == collection
            assert by_name.metadata == {"owner": "me"} and by_name.configuration_json == {"hnsw": {"space": "l2"}}
            assert by_name.dimension is None and by_name.version == 0
            assert tx.count_collections(TENANT, DATABASE) == 1
            assert [c.name for c in tx.list_collections(TENANT, DATABASE, None, None)] == ["things"]
            assert [c.name for c in tx.all_collections()] == ["things"]
            assert [c.name for c in tx.all_collections(TENANT, DATABASE)] == ["things"]
        with pytest.raises(UniqueConstraintError):
            with backend.write() as tx:
                tx.insert_collection("things", None, {}, TENANT, DATABASE)
        with backend.write() as tx:
            tx.update_collection(collection.storage_key, "renamed", {"owner": "you"}, {"hnsw": {"space": "ip"}})
        with backend.read() as tx:
            model = tx.collection_by_id(collection.id)
            assert (model.name, model.metadata, model.configuration_json) == (
                "renamed",
                {"owner": "you"},
                {"hnsw": {"space": "ip"}},
            )
            with pytest.raises(NotFoundError):
                tx.collection_by_name("things", TENANT, DATABASE)

    def test_collection_state(self, backend: StorageBackend, collection: CollectionModel) -> None:
        with backend.write() as tx:
            assert tx.collection_state(collection.storage_key) == (0, None)
            tx.set_collection_state(collection.storage_key, 7, 384)
        with backend.read() as tx:
            assert tx.collection_seq(collection.storage_key) == 7
            assert tx.collection_by_id(collection.id).dimension == 384

    def test_delete_collection_removes_its_records(self, backend: StorageBackend, collection: CollectionModel) -> None:
        self.add(backend, collection, ["a", "b"], 1)
        with backend.write() as tx:
            tx.delete_collection(collection.storage_key)
        with backend.read() as tx:
            assert tx.collection_seq(collection.storage_key) is None
            assert tx.count_records(collection.storage_key) == 0
            with pytest.raises(NotFoundError):
                tx.collection_by_id(collection.id)

    def test_reset_leaves_only_the_defaults(self, backend: StorageBackend, collection: CollectionModel) -> None:
        self.add(backend, collection, ["a"], 1)
        with backend.write() as tx:
            tx.create_tenant("other")
            tx.reset(TENANT, DATABASE)
        with backend.read() as tx:
            assert [t["name"] for t in tx.list_tenants()] == [TENANT]
            assert tx.all_collections() == []

    # -- records ---------------------------------------------------------------------
    def test_insert_and_read_records(self, backend: StorageBackend, collection: CollectionModel) -> None:
        rids = self.add(
            backend,
            collection,
            ["a", "b", "c"],
            1,
            [{"n": 1}, None, {"tags": ["x", "y"]}],
            ["first doc", None, "third"],
        )
        assert len(rids) == 3 and len(set(rids.tolist())) == 3
        cid = collection.storage_key
        with backend.read() as tx:
            assert tx.count_records(cid) == 3
            assert tx.existing(cid, ["a", "c", "zz"]) == {"a": int(rids[0]), "c": int(rids[2])}
            everything = backend.selection(cid, None, None, None)
            got = tx.select_records(everything, ["documents", "metadatas", "embeddings"])
            assert got.ids == ["a", "b", "c"]
            assert got.documents == ["first doc", None, "third"]
            assert got.metadatas == [{"n": 1}, None, {"tags": ["x", "y"]}]
            assert got.embeddings is not None and got.embeddings.dtype == np.float32
            np.testing.assert_array_equal(got.embeddings[1], np.arange(4, 8, dtype=np.float32) + 1)
            page = tx.select_records(everything, [], limit=1, offset=1)
            assert page.ids == ["b"] and page.documents is None
            by_rid = tx.records_by_rids(np.array([rids[2], rids[0], 10**9]), ["documents"])
            assert by_rid.ids == ["a", "c"] and by_rid.documents == ["first doc", "third"]

    def test_filters(self, backend: StorageBackend, collection: CollectionModel) -> None:
        self.add(
            backend,
            collection,
            ["a", "b", "c"],
            1,
            [{"n": 1, "k": "x"}, {"n": 2}, None],
            ["apple pie", "banana split", None],
        )
        cid = collection.storage_key

        def ids(**kw: Any) -> list[str]:
            with backend.read() as tx:
                sel = backend.selection(cid, kw.get("ids"), kw.get("where"), kw.get("where_document"))
                return tx.select_records(sel, []).ids

        assert ids(where={"n": {"$gte": 2}}) == ["b"]
        assert ids(where={"k": {"$ne": "x"}}) == ["b", "c"]  # records without the key match $ne
        assert ids(where={"$or": [{"n": 1}, {"n": 2}]}) == ["a", "b"]
        assert ids(where={"n": {"$in": list(range(1000))}}) == ["a", "b"]
        assert ids(where_document={"$contains": "split"}) == ["b"]
        assert ids(where_document={"$not_contains": "apple"}) == ["b", "c"]
        assert ids(where_document={"$regex": "^a.*e$"}) == ["a"]
        assert ids(ids=["c", "a"], where={"n": 1}) == ["a"]
        with backend.read() as tx:
            sel = backend.selection(cid, None, {"n": {"$lt": 3}}, None)
            assert len(tx.matching_rids(sel)) == 2
        with pytest.raises(InvalidArgumentError):
            backend.selection(cid, None, {"n": {"$bogus": 1}}, None)

    def test_update_merges_metadata_and_keeps_unset_fields(
        self, backend: StorageBackend, collection: CollectionModel
    ) -> None:
        rids = self.add(backend, collection, ["a", "b"], 1, [{"n": 1, "k": "x"}, {"n": 2}], ["doc a", "doc b"])
        with backend.write() as tx:
            tx.update_records(
                collection.storage_key,
                2,
                RecordChanges(
                    rids,
                    np.ones((2, DIM), dtype=np.float32),
                    ["new a", None],
                    None,
                    [{"k": None, "m": True}, None],
                ),
            )
        with backend.read() as tx:
            got = tx.records_by_rids(rids, ["documents", "metadatas", "embeddings"])
            assert got.documents == ["new a", "doc b"]
            assert got.metadatas == [{"n": 1, "m": True}, {"n": 2}]
            assert got.embeddings is not None and (got.embeddings == 1).all()
            sel = backend.selection(collection.storage_key, None, {"k": "x"}, None)
            assert tx.select_records(sel, []).ids == []  # filters see the merged metadata
        with backend.write() as tx:
            tx.update_records(collection.storage_key, 3, RecordChanges(rids[:1], clear=("documents",)))
        with backend.read() as tx:
            assert tx.records_by_rids(rids[:1], ["documents"]).documents == [None]

    def test_seen_keys_grow_with_writes_and_outlive_their_records(
        self, backend: StorageBackend, collection: CollectionModel
    ) -> None:
        cid = collection.storage_key
        with backend.read() as tx:
            assert tx.seen_keys([cid]).get(cid, []) == []
        sparse = {"#type": "sparse_vector", "indices": [1], "values": [0.5]}
        rids = self.add(
            backend, collection, ["a", "b", "c"], 1, [{"n": 1, "s": "x"}, {"n": 1.5, "l": [True]}, {"sp": sparse}]
        )
        with backend.write() as tx:
            tx.update_records(cid, 2, RecordChanges(rids[:1], metadatas=[{"s": None, "u": ["y", "z"]}]))
            tx.delete_records(cid, 3, rids)
            tx.set_collection_state(cid, 3, DIM)
        with backend.read() as tx:  # a deleted key or record keeps its pairs; None deletes register nothing
            assert tx.seen_keys([cid, cid + 1000]) == {
                cid: [
                    ("l", "bool"),
                    ("n", "float"),
                    ("n", "int"),
                    ("s", "string"),
                    ("sp", "sparse_vector"),
                    ("u", "string"),
                ]
            }
        with backend.write() as tx:
            fork = tx.fork_collection(cid, "things-fork")
        with backend.read() as tx:
            assert tx.seen_keys([fork.storage_key])[fork.storage_key] == tx.seen_keys([cid])[cid]
        with backend.write() as tx:
            tx.delete_collection(cid)
            again = tx.insert_collection("things", None, {}, TENANT, DATABASE)
        with backend.read() as tx:
            assert tx.seen_keys([cid, again.storage_key]) == {}

    # -- the deletion log and catch-up -----------------------------------------------
    def test_changes_and_deletions_since_a_seq(self, backend: StorageBackend, collection: CollectionModel) -> None:
        cid = collection.storage_key
        first = self.add(backend, collection, ["a", "b"], 1)
        second = self.add(backend, collection, ["c"], 2)
        with backend.write() as tx:
            tx.delete_records(cid, 3, first[:1])
            tx.set_collection_state(cid, 3, DIM)
        with backend.read() as tx:
            changed = list(tx.changed_since(cid, 1))
            assert [r.tolist() for r, _ in changed] == [second.tolist()]
            assert changed[0][1].shape == (1, DIM) and changed[0][1].dtype == np.float32
            assert sum(len(r) for r, _ in tx.changed_since(cid, 0, batch=1)) == 2  # "a" is gone
            if backend.persistent:
                assert tx.deleted_since(cid, 2).tolist() == first[:1].tolist()
                assert tx.deleted_since(cid, 3).tolist() == []
            assert tx.deletions_pruned_upto(cid) == 0
        with backend.write() as tx:
            tx.prune_deletions(cid, 3)
        with backend.read() as tx:
            assert tx.deleted_since(cid, 0).tolist() == []
            assert tx.deletions_pruned_upto(cid) == 3

    # -- transactions ----------------------------------------------------------------
    def test_a_failed_write_changes_nothing(self, backend: StorageBackend, collection: CollectionModel) -> None:
        with pytest.raises(RuntimeError):
            with backend.write() as tx:
                tx.insert_records(collection.storage_key, 1, NewRecords(["a"], np.zeros((1, DIM), np.float32)))
                tx.create_tenant("half-written")
                raise RuntimeError("the batch fails after two writes")
        with backend.read() as tx:
            assert tx.count_records(collection.storage_key) == 0
            with pytest.raises(NotFoundError):
                tx.get_tenant("half-written")

    def test_a_read_snapshot_does_not_see_later_commits(
        self, backend: StorageBackend, collection: CollectionModel
    ) -> None:
        import threading

        self.add(backend, collection, ["a"], 1)
        with backend.read() as tx:
            assert tx.count_records(collection.storage_key) == 1
            writer = threading.Thread(target=self.add, args=(backend, collection, ["b"], 2))
            writer.start()
            writer.join()
            assert tx.count_records(collection.storage_key) == 1  # same snapshot
        with backend.read() as tx:
            assert tx.count_records(collection.storage_key) == 2

    # -- fork ------------------------------------------------------------------------------
    def test_fork_copies_everything_and_is_independent(
        self, backend: StorageBackend, collection: CollectionModel
    ) -> None:
        cid = collection.storage_key
        self.add(backend, collection, ["a", "b"], 1, [{"n": 1}, {"n": 2}], ["apple pie", "banana split"])
        with backend.write() as tx:
            fork = tx.fork_collection(cid, "things-fork")
            assert tx.fork_count(cid) == tx.fork_count(fork.storage_key) == 1
        assert (fork.name, fork.dimension, fork.metadata) == ("things-fork", DIM, {"owner": "me"})
        fid = fork.storage_key
        with backend.read() as tx:
            everything = backend.selection(fid, None, None, None)
            got = tx.select_records(everything, ["documents", "metadatas", "embeddings"])
            source = tx.select_records(backend.selection(cid, None, None, None), ["embeddings"])
            assert got.ids == ["a", "b"] and got.documents == ["apple pie", "banana split"]
            assert got.metadatas == [{"n": 1}, {"n": 2}]
            assert got.embeddings is not None and source.embeddings is not None
            np.testing.assert_array_equal(got.embeddings, source.embeddings)
            assert not set(got.rids.tolist()) & set(source.rids.tolist())  # fresh rids
            assert tx.select_records(backend.selection(fid, None, {"n": 2}, None), []).ids == ["b"]
            assert tx.select_records(backend.selection(fid, None, None, {"$contains": "pie"}), []).ids == ["a"]
        self.add(backend, fork, ["c"], 2)
        with backend.read() as tx:
            assert (tx.count_records(fid), tx.count_records(cid)) == (3, 2)
