"""The catalog half of a backend's transactions, written once for every backend.

Both backends keep the catalog (tenants, databases, collections, forks) in modules of
functions with the same names and arguments, each taking the transaction's connection
first. ``CatalogReads`` and ``CatalogWrites`` delegate the ``ReadTx`` and ``WriteTx``
catalog methods to those modules, so a backend's transaction classes name only their
modules and the methods where the backend does more than delegate.
"""

from __future__ import annotations

from typing import Any, Protocol

from huedb.types import CollectionModel


class CatalogModule(Protocol):
    """The functions a backend's catalog module offers (a module satisfies this protocol)."""

    def get_tenant(self, conn: Any, name: str) -> dict[str, str]: ...

    def list_tenants(self, conn: Any) -> list[dict[str, str]]: ...

    def get_database(self, conn: Any, name: str, tenant: str) -> dict[str, str]: ...

    def list_databases(self, conn: Any, tenant: str, limit: int | None, offset: int | None) -> list[dict[str, str]]: ...

    def collection_by_name(self, conn: Any, name: str, tenant: str, database: str) -> CollectionModel: ...

    def collection_by_id(self, conn: Any, collection_id: str) -> CollectionModel: ...

    def list_collections(
        self, conn: Any, tenant: str, database: str, limit: int | None, offset: int | None
    ) -> list[CollectionModel]: ...

    def count_collections(self, conn: Any, tenant: str, database: str) -> int: ...

    def collection_seq(self, conn: Any, cid: int) -> int | None: ...

    def create_tenant(self, conn: Any, name: str) -> None: ...

    def create_database(self, conn: Any, name: str, tenant: str) -> None: ...

    def delete_database(self, conn: Any, name: str, tenant: str) -> object: ...

    def insert_collection(
        self,
        conn: Any,
        name: str,
        metadata: dict[str, Any] | None,
        configuration: dict[str, Any],
        tenant: str,
        database: str,
    ) -> CollectionModel: ...

    def update_collection(
        self,
        conn: Any,
        cid: int,
        name: str | None,
        metadata: dict[str, Any] | None,
        configuration: dict[str, Any] | None,
    ) -> None: ...

    def delete_collection(self, conn: Any, cid: int) -> None: ...

    def ensure_defaults(self, conn: Any, tenant: str, database: str) -> None: ...

    def reset(self, conn: Any) -> None: ...

    def collection_state(self, conn: Any, cid: int) -> tuple[int, int | None]: ...


class ForkModule(Protocol):
    """The functions a backend's fork module offers."""

    def fork(self, conn: Any, cid: int, new_name: str) -> CollectionModel: ...

    def fork_count(self, conn: Any, cid: int) -> int: ...


class CatalogReads:
    """``ReadTx``'s catalog methods, delegated to the subclass's ``_catalog`` and ``_forks``
    modules over its ``conn`` (a subclass overrides a method where it does more)."""

    #: set by each backend's class to its modules (class attributes)
    _catalog: CatalogModule
    _forks: ForkModule

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    @property
    def conn(self) -> Any:
        return self._conn

    def get_tenant(self, name: str) -> dict[str, str]:
        return self._catalog.get_tenant(self.conn, name)

    def list_tenants(self) -> list[dict[str, str]]:
        return self._catalog.list_tenants(self.conn)

    def get_database(self, name: str, tenant: str) -> dict[str, str]:
        return self._catalog.get_database(self.conn, name, tenant)

    def list_databases(self, tenant: str, limit: int | None, offset: int | None) -> list[dict[str, str]]:
        return self._catalog.list_databases(self.conn, tenant, limit, offset)

    def collection_by_name(self, name: str, tenant: str, database: str) -> CollectionModel:
        return self._catalog.collection_by_name(self.conn, name, tenant, database)

    def collection_by_id(self, collection_id: str) -> CollectionModel:
        return self._catalog.collection_by_id(self.conn, collection_id)

    def list_collections(
        self, tenant: str, database: str, limit: int | None, offset: int | None
    ) -> list[CollectionModel]:
        return self._catalog.list_collections(self.conn, tenant, database, limit, offset)

    def count_collections(self, tenant: str, database: str) -> int:
        return self._catalog.count_collections(self.conn, tenant, database)

    def collection_seq(self, cid: int) -> int | None:
        return self._catalog.collection_seq(self.conn, cid)

    def fork_count(self, cid: int) -> int:
        return self._forks.fork_count(self.conn, cid)


class CatalogWrites(CatalogReads):
    """``WriteTx``'s catalog methods, delegated like ``CatalogReads``'."""

    def create_tenant(self, name: str) -> None:
        self._catalog.create_tenant(self.conn, name)

    def create_database(self, name: str, tenant: str) -> None:
        self._catalog.create_database(self.conn, name, tenant)

    def delete_database(self, name: str, tenant: str) -> None:
        self._catalog.delete_database(self.conn, name, tenant)

    def insert_collection(
        self, name: str, metadata: dict[str, Any] | None, configuration: dict[str, Any], tenant: str, database: str
    ) -> CollectionModel:
        return self._catalog.insert_collection(self.conn, name, metadata, configuration, tenant, database)

    def update_collection(
        self, cid: int, name: str | None, metadata: dict[str, Any] | None, configuration: dict[str, Any] | None
    ) -> None:
        self._catalog.update_collection(self.conn, cid, name, metadata, configuration)

    def delete_collection(self, cid: int) -> None:
        self._catalog.delete_collection(self.conn, cid)

    def fork_collection(self, cid: int, new_name: str) -> CollectionModel:
        return self._forks.fork(self.conn, cid, new_name)

    def ensure_defaults(self, default_tenant: str, default_database: str) -> None:
        self._catalog.ensure_defaults(self.conn, default_tenant, default_database)

    def reset(self, default_tenant: str, default_database: str) -> None:
        self._catalog.reset(self.conn)
        self._catalog.ensure_defaults(self.conn, default_tenant, default_database)

    def collection_state(self, cid: int) -> tuple[int, int | None]:
        return self._catalog.collection_state(self.conn, cid)
