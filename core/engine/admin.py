"""Tenants, databases and collections: the catalog half of the engine."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from huedb import index_schema
from huedb.configuration import apply_update, build_configuration, check_index_config
from huedb.ef_persistence import validate_spec
from huedb.engine.base import EngineBase
from huedb.errors import AuthorizationError, InvalidArgumentError, NotFoundError, UniqueConstraintError
from huedb.index import index_lock
from huedb.registry import get_registry
from huedb.storage import ReadTx
from huedb.types import DEFAULT_DATABASE, DEFAULT_TENANT, CollectionModel
from huedb.validation import (
    validate_collection_name,
    validate_limit_offset,
    validate_metadata,
    validate_tenant_or_database_name,
)


class AdminEngine(EngineBase):
    # -- system ------------------------------------------------------------------
    def reset(self) -> bool:
        if not self.settings.allow_reset:
            raise AuthorizationError(
                "Resetting is not allowed by this configuration (to enable it, set ALLOW_RESET=TRUE in your "
                "environment or pass settings=Settings(allow_reset=True))"
            )
        with self.storage.read() as tx:
            models = tx.all_collections()
        with self.storage.write() as wtx:
            wtx.reset(DEFAULT_TENANT, DEFAULT_DATABASE)
        for m in models:
            self.segments.drop(m)
        self.storage.checkpoint()
        return True

    def vacuum(self, progress: Callable[[int, int, str], None] | None = None) -> None:
        """Reclaims space: compacts storage and rebuilds indexes without deleted vectors.
        ``progress(done, total, what)`` is called after each step (storage, then each index)."""
        with self.storage.read() as tx:
            models = tx.all_collections()
        total = len(models) + 1
        for m in models:
            with self.segments.write_lock(m.storage_key):
                self.segments.drop(m)
        self.storage.vacuum()
        if progress:
            progress(1, total, "storage compacted")
        with self.storage.read() as tx:
            for i, m in enumerate(models, start=2):
                self.segments.current(m, tx)  # rebuild now, so the files hold no deleted vectors
                if progress:
                    progress(i, total, f"index of {m.name!r} rebuilt")

    def index_state(
        self, collection_id: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE
    ) -> dict[str, Any]:
        """The state of a collection's index files (huedb only; see SegmentManager.state)."""
        with self.storage.read() as tx:
            return self.segments.state(self._scoped(tx, collection_id, tenant, database), tx)

    # -- tenants and databases ---------------------------------------------------------
    def create_tenant(self, name: str) -> None:
        validate_tenant_or_database_name("tenant", name)
        with self.storage.write() as tx:
            tx.create_tenant(name)

    def get_tenant(self, name: str) -> dict[str, str]:
        with self.storage.read() as tx:
            return tx.get_tenant(name)

    def list_tenants(self) -> list[dict[str, str]]:
        with self.storage.read() as tx:
            return tx.list_tenants()

    def create_database(self, name: str, tenant: str = DEFAULT_TENANT) -> None:
        validate_tenant_or_database_name("database", name)
        with self.storage.write() as tx:
            tx.create_database(name, tenant)

    def get_database(self, name: str, tenant: str = DEFAULT_TENANT) -> dict[str, str]:
        with self.storage.read() as tx:
            return tx.get_database(name, tenant)

    def list_databases(
        self, limit: int | None = None, offset: int | None = None, tenant: str = DEFAULT_TENANT
    ) -> list[dict[str, str]]:
        validate_limit_offset(limit, offset)
        with self.storage.read() as tx:
            return tx.list_databases(tenant, limit, offset)

    def delete_database(self, name: str, tenant: str = DEFAULT_TENANT) -> None:
        with self.storage.write() as tx:
            models = tx.all_collections(tenant, name)
            tx.delete_database(name, tenant)
        for m in models:
            self.segments.drop(m)
        self.storage.checkpoint()

    # -- collections ----------------------------------------------------------------
    def create_collection(
        self,
        name: str,
        configuration: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        get_or_create: bool = False,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
        schema: dict[str, Any] | None = None,
    ) -> CollectionModel:
        validate_collection_name(name)
        metadata = validate_metadata(metadata, allow_none=False, where="collection metadata")
        index = index_schema.normalize(schema) if schema is not None else None
        if index is not None:
            configuration = index_schema.reconcile(index, configuration, metadata)
            sparse = index_schema.sparse_index(index)
            if sparse is not None:
                validate_spec(
                    index_schema.sparse_ef_spec(sparse[1]),
                    f"schema keys[{sparse[0]!r}] sparse_vector_index embedding_function",
                )
        stored = build_configuration(configuration, metadata)  # checked even when it exists, as on Chroma
        if get_or_create:
            try:
                return self.get_collection(name, tenant, database)  # as Chroma: its own schema stays
            except NotFoundError:
                pass
        # The index plugin checks its own section now, so a bad value fails here, not at the first write.
        check_index_config(get_registry().get("index_segment", stored["index"]["name"]), stored)
        stored["embedding_function"] = validate_spec((configuration or {}).get("embedding_function"), known_names=False)
        if index is not None and not index_schema.is_default(index):
            stored["schema"] = index_schema.stored(index)  # kept in the configuration's JSON
        with self.storage.write() as tx:
            try:
                return tx.insert_collection(name, metadata, stored, tenant, database)
            except UniqueConstraintError:
                if not get_or_create:
                    raise
                return _as_read(tx, tx.collection_by_name(name, tenant, database))  # created concurrently

    def get_collection(
        self, name: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE
    ) -> CollectionModel:
        if not isinstance(name, str):
            raise InvalidArgumentError(f"Expected collection name to be a string, got {name!r}")
        with self.storage.read() as tx:
            return _as_read(tx, tx.collection_by_name(name, tenant, database))

    def get_collection_by_id(
        self, collection_id: str, tenant: str | None = None, database: str | None = None
    ) -> CollectionModel:
        """A collection by id; with tenant/database, one outside them does not exist."""
        with self.storage.read() as tx:
            return _as_read(tx, self._by_id(tx, collection_id, tenant, database))

    def _by_id(self, tx: ReadTx, collection_id: str, tenant: str | None, database: str | None) -> CollectionModel:
        """The collection as stored: its schema without the keys its data has held."""
        if tenant is None and database is None:
            return tx.collection_by_id(collection_id)
        return self._scoped(tx, collection_id, tenant or DEFAULT_TENANT, database or DEFAULT_DATABASE)

    def list_collections(
        self,
        limit: int | None = None,
        offset: int | None = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> list[CollectionModel]:
        validate_limit_offset(limit, offset)
        with self.storage.read() as tx:
            return _with_seen_keys(tx, tx.list_collections(tenant, database, limit, offset))

    def count_collections(self, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE) -> int:
        with self.storage.read() as tx:
            return tx.count_collections(tenant, database)

    def delete_collection(self, name: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE) -> None:
        model = self.get_collection(name, tenant, database)
        with self.segments.write_lock(model.storage_key):
            with self.storage.write() as tx:
                tx.delete_collection(model.storage_key)
            self.segments.drop(model)
        self.storage.checkpoint()

    def _fork(
        self, collection_id: str, new_name: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE
    ) -> CollectionModel:
        """A copy of the collection under ``new_name``, made in one storage transaction; its index
        files are copies of the source's (persisted first), not a rebuild. Independent afterwards."""
        validate_collection_name(new_name)
        model = self.get_collection_by_id(collection_id, tenant, database)
        with self.segments.write_lock(model.storage_key):
            self.segments.persist(model)
            with self.storage.write() as tx:
                forked = _as_read(tx, tx.fork_collection(model.storage_key, new_name))
                source, target = self.segments.directory(model), self.segments.directory(forked)
                if source is not None and target is not None and source.is_dir():
                    # Copied under the source's file lock, before the commit: a failed copy forks nothing.
                    with index_lock(source), index_lock(target):
                        shutil.copytree(source, target, dirs_exist_ok=True)
        return forked

    def _fork_count(self, collection_id: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE) -> int:
        model = self.get_collection_by_id(collection_id, tenant, database)
        with self.storage.read() as tx:
            return tx.fork_count(model.storage_key)

    def modify_collection(
        self,
        collection_id: str,
        new_name: str | None = None,
        new_metadata: dict[str, Any] | None = None,
        new_configuration: dict[str, Any] | None = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> CollectionModel:
        if new_name is not None:
            validate_collection_name(new_name)
        if new_metadata is not None:
            new_metadata = validate_metadata(new_metadata, allow_none=False, where="collection metadata")
            if any(k.startswith("hnsw:") for k in new_metadata or ()):
                raise InvalidArgumentError(
                    "Changing hnsw:* metadata is not supported after creation; "
                    "use modify(configuration={'hnsw': {...}})"
                )
        with self.storage.read() as rtx:
            model = self._by_id(rtx, collection_id, tenant, database)  # its schema is stored again below
        stored = None
        if new_configuration is not None:
            cls = get_registry().get("index_segment", model.configuration_json["index"]["name"])
            stored = apply_update(
                model.configuration_json, new_configuration, tuple(getattr(cls, "mutable_params", ()))
            )
            check_index_config(cls, stored)
            ef_update = validate_spec(
                new_configuration.get("embedding_function"),
                "new_configuration['embedding_function']",
                known_names=False,
            )
            stored["embedding_function"] = (
                ef_update if ef_update is not None else model.configuration_json.get("embedding_function")
            )
            if model.schema is not None:
                stored["schema"] = model.schema
        with self.segments.write_lock(model.storage_key):
            with self.storage.write() as tx:
                tx.update_collection(model.storage_key, new_name, new_metadata, stored)
                updated = _as_read(tx, tx.collection_by_id(model.id))
            if stored is not None:
                self.segments.update_config(model, stored)
        return updated


def _with_seen_keys(tx: ReadTx, models: list[CollectionModel]) -> list[CollectionModel]:
    """The models as a user reads them: each schema lists the metadata keys its data has held
    (Chroma's discoverable keys). Only what a collection is read for gets them: the stored
    schema stays the one given at creation."""
    seen = tx.seen_keys([m.storage_key for m in models])
    return [
        replace(m, schema=index_schema.with_seen_keys(m.schema, seen[m.storage_key])) if seen.get(m.storage_key) else m
        for m in models
    ]


def _as_read(tx: ReadTx, model: CollectionModel) -> CollectionModel:
    """One model as a user reads it (``_with_seen_keys``)."""
    return _with_seen_keys(tx, [model])[0]
