"""ServerAPI: the one contract between a client and an engine.

``huedb.engine.LocalAPI`` implements it in process, ``huedb.api.http_api.HttpAPI``
over REST, and the server (``huedb.server``) exposes a ServerAPI over REST. A
``Client`` and a ``Collection`` only ever call these methods.

Record methods take the collection's id plus the tenant and database it must
belong to (a collection of another tenant does not exist for the caller). Inputs
arrive already validated by ``huedb.requests`` on the client side, and every
implementation validates again (a server cannot trust its clients), through the
same functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from huedb.config import Settings
from huedb.types import DEFAULT_DATABASE, DEFAULT_TENANT, CollectionModel, GetResult, QueryResult


@runtime_checkable
class ServerAPI(Protocol):
    # -- system ------------------------------------------------------------
    def heartbeat(self) -> int: ...

    def get_version(self) -> str: ...

    def get_settings(self) -> Settings: ...

    def get_max_batch_size(self) -> int: ...

    def reset(self) -> bool: ...

    def vacuum(self, progress: Callable[[int, int, str], None] | None = None) -> None:
        """Compacts storage and rebuilds indexes; ``progress(done, total, what)`` after each step."""
        ...

    def close(self) -> None: ...

    # -- tenants and databases ---------------------------------------------
    def create_tenant(self, name: str) -> None: ...

    def get_tenant(self, name: str) -> dict[str, str]: ...

    def list_tenants(self) -> list[dict[str, str]]: ...

    def create_database(self, name: str, tenant: str = DEFAULT_TENANT) -> None: ...

    def get_database(self, name: str, tenant: str = DEFAULT_TENANT) -> dict[str, str]: ...

    def list_databases(
        self, limit: int | None = None, offset: int | None = None, tenant: str = DEFAULT_TENANT
    ) -> list[dict[str, str]]: ...

    def delete_database(self, name: str, tenant: str = DEFAULT_TENANT) -> None: ...

    # -- collections -------------------------------------------------------
    def create_collection(
        self,
        name: str,
        configuration: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        get_or_create: bool = False,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
        schema: dict[str, Any] | None = None,
    ) -> CollectionModel: ...

    def get_collection(
        self, name: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE
    ) -> CollectionModel: ...

    def get_collection_by_id(
        self, collection_id: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE
    ) -> CollectionModel: ...

    def list_collections(
        self,
        limit: int | None = None,
        offset: int | None = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> list[CollectionModel]: ...

    def count_collections(self, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE) -> int: ...

    def delete_collection(self, name: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE) -> None: ...

    def modify_collection(
        self,
        collection_id: str,
        new_name: str | None = None,
        new_metadata: dict[str, Any] | None = None,
        new_configuration: dict[str, Any] | None = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> CollectionModel: ...

    def _fork(
        self, collection_id: str, new_name: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE
    ) -> CollectionModel: ...

    def _fork_count(
        self, collection_id: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE
    ) -> int: ...

    # -- records -----------------------------------------------------------
    def _count(self, collection_id: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE) -> int: ...

    def _add(
        self,
        collection_id: str,
        ids: Any,
        embeddings: Any,
        metadatas: Any = None,
        documents: Any = None,
        uris: Any = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> bool: ...

    def _update(
        self,
        collection_id: str,
        ids: Any,
        embeddings: Any = None,
        metadatas: Any = None,
        documents: Any = None,
        uris: Any = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
        clear: Sequence[str] = (),
    ) -> bool: ...

    def _upsert(
        self,
        collection_id: str,
        ids: Any,
        embeddings: Any,
        metadatas: Any = None,
        documents: Any = None,
        uris: Any = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
        clear: Sequence[str] = (),
    ) -> bool: ...

    def _delete(
        self,
        collection_id: str,
        ids: Any = None,
        where: Any = None,
        where_document: Any = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
        limit: int | None = None,
    ) -> int:
        """How many records were deleted (at most ``limit`` of those a filter matches)."""
        ...

    def _get(
        self,
        collection_id: str,
        ids: Any = None,
        where: Any = None,
        limit: int | None = None,
        offset: int | None = None,
        where_document: Any = None,
        include: Any = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> GetResult: ...

    def _query(
        self,
        collection_id: str,
        query_embeddings: Any,
        n_results: int = 10,
        where: Any = None,
        where_document: Any = None,
        include: Any = None,
        ids: Any = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> QueryResult: ...

    def _search(
        self,
        collection_id: str,
        searches: Any,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
        read_level: Any = None,
    ) -> dict[str, Any]:
        """Runs a batch of Search payloads (``Search.to_dict()``, text queries already embedded);
        column-major: ids, documents, embeddings, metadatas, scores and select, one entry per search."""
        ...
