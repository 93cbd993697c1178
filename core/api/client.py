"""Client and AdminClient, as in chromadb, over any ServerAPI (embedded or HTTP)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from huedb.api.collection import Collection
from huedb.api.ef_space import check_space
from huedb.api.schema_json import schema_request
from huedb.api.server_api import ServerAPI
from huedb.api.server_factory import LOCAL_API_IMPLS, make_server_api  # noqa: F401 - chromadb-style path
from huedb.api.sparse_fill import keep_given_sparse_ef
from huedb.api.steps import ApiCall, Steps, api_call, steps, steps_of
from huedb.auth import UserIdentity
from huedb.config import Settings, get_settings
from huedb.configuration import validate_request
from huedb.ef_persistence import check_conflict, rebuild, same_embedding_function, serialize, validate_spec
from huedb.embedding_functions import ef_is_legacy
from huedb.errors import InvalidArgumentError, InvalidUUIDError, NotFoundError
from huedb.registry import get_registry
from huedb.types import DEFAULT_DATABASE, DEFAULT_TENANT, CollectionModel
from huedb.validation import validate_metadata


def _check_ef_argument(ef: Any) -> None:
    """An EF is callable (or its persisted dict form); anything else would be stored as 'legacy'."""
    if ef is None or ef is DEFAULT_EF or isinstance(ef, dict) or callable(ef):
        return
    raise InvalidArgumentError(
        f"embedding_function must be an embedding function (callable), its persisted form "
        f'{{"name", "type", "config"}}, or None; got {type(ef).__name__}: {ef!r:.100}'
    )


class _Default:
    """Sentinel: "embedding_function not given" (None means "no embedding function")."""

    def __repr__(self) -> str:
        return "DefaultEmbeddingFunction"


DEFAULT_EF = _Default()


def default_embedding_function() -> Any:
    """The default EF (all-MiniLM-L6-v2), provided by the ``default`` plugin."""
    return get_registry().get("embedding_function", "default")()


class _Base:
    def __init__(self, settings: Settings | None = None, _server: ServerAPI | None = None) -> None:
        self._settings = settings if settings is not None else get_settings()
        self._server: ServerAPI = _server if _server is not None else make_server_api(self._settings)

    def get_settings(self) -> Settings:
        return self._settings

    def _perform(self, call: ApiCall) -> Any:
        """Performs a step's ServerAPI call (huedb.api.steps; the async clients await it instead)."""
        return getattr(self._server, call.name)(*call.args, **call.kwargs)

    @steps
    def heartbeat(self) -> Steps[int]:
        return (yield api_call("heartbeat"))

    @steps
    def get_version(self) -> Steps[str]:
        return (yield api_call("get_version"))

    def close(self) -> None:
        self._server.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @staticmethod
    def clear_system_cache() -> None:
        """Forget the shared in-process engines, as chromadb's ``clear_system_cache``: clients
        created afterwards open their location afresh (an ephemeral one starts empty), while
        existing clients keep working on the engine they have."""
        from huedb.engine.systems import forget_systems

        forget_systems()

    @steps
    def get_user_identity(self) -> Steps[UserIdentity]:
        """Who the server takes this client for. Embedded, as in chromadb: an anonymous user
        of the default tenant and database."""
        if getattr(self._server, "get_user_identity", None) is None:
            return UserIdentity(user_id="", tenant=DEFAULT_TENANT, databases=[DEFAULT_DATABASE])
        body = yield api_call("get_user_identity")
        return UserIdentity(
            user_id=body.get("user_id") or "",
            tenant=body.get("tenant"),
            databases=list(body.get("databases") or []),
            attributes=dict(body.get("attributes") or {}),
        )


#: chromadb's name for the base of its clients (``SharedSystemClient.clear_system_cache()``)
SharedSystemClient = _Base


class AdminClient(_Base):
    """Tenants and databases."""

    @steps
    def create_tenant(self, name: str) -> Steps[None]:
        yield api_call("create_tenant", name)

    @steps
    def get_tenant(self, name: str) -> Steps[dict[str, str]]:
        return (yield api_call("get_tenant", name))

    def list_tenants(self) -> list[dict[str, str]]:
        return self._server.list_tenants()

    @steps
    def create_database(self, name: str, tenant: str = DEFAULT_TENANT) -> Steps[None]:
        yield api_call("create_database", name, tenant)

    @steps
    def get_database(self, name: str, tenant: str = DEFAULT_TENANT) -> Steps[dict[str, str]]:
        return (yield api_call("get_database", name, tenant))

    @steps
    def list_databases(
        self, limit: int | None = None, offset: int | None = None, tenant: str = DEFAULT_TENANT
    ) -> Steps[list[dict[str, str]]]:
        return (yield api_call("list_databases", limit, offset, tenant))

    @steps
    def delete_database(self, name: str, tenant: str = DEFAULT_TENANT) -> Steps[None]:
        yield api_call("delete_database", name, tenant)


class Client(_Base):
    """The chromadb ClientAPI: collections within one tenant and database."""

    def __init__(
        self,
        settings: Settings | None = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
        _server: ServerAPI | None = None,
        *,
        _validate: bool = True,  # False: the async client checks the tenant and database, awaited
    ) -> None:
        super().__init__(settings, _server)
        self.tenant = tenant
        self.database = database
        if _validate:
            self._validate_tenant_database(tenant, database)

    @steps
    def _validate_tenant_database(self, tenant: str, database: str) -> Steps[None]:
        try:
            yield api_call("get_tenant", tenant)
        except NotFoundError:
            self._server.close()
            raise NotFoundError(
                f"Could not connect to tenant {tenant}. Are you sure it exists? Create it with "
                "AdminClient().create_tenant"
            ) from None
        try:
            yield api_call("get_database", database, tenant)
        except NotFoundError:
            self._server.close()
            raise NotFoundError(
                f"Could not connect to database {database} for tenant {tenant}. Are you sure it exists? "
                "Create it with AdminClient().create_database"
            ) from None

    @steps
    def set_tenant(self, tenant: str, database: str = DEFAULT_DATABASE) -> Steps[None]:
        yield from steps_of(self._validate_tenant_database, tenant, database)
        self.tenant, self.database = tenant, database

    @steps
    def set_database(self, database: str) -> Steps[None]:
        yield from steps_of(self._validate_tenant_database, self.tenant, database)
        self.database = database

    def _scope(self) -> dict[str, str]:
        return {"tenant": self.tenant, "database": self.database}

    @steps
    def reset(self) -> Steps[bool]:
        return (yield api_call("reset"))

    @steps
    def get_max_batch_size(self) -> Steps[int]:
        return (yield api_call("get_max_batch_size"))

    @property
    def max_batch_size(self) -> int:
        return self.get_max_batch_size()

    # -- collections -------------------------------------------------------
    def _wrap(self, model: CollectionModel, embedding_function: Any, data_loader: Any) -> Collection:
        persisted = model.configuration_json.get("embedding_function")
        if embedding_function is DEFAULT_EF or embedding_function is None:
            # As chromadb: None (or nothing) means the persisted EF, and a collection that
            # persisted none at all embeds with the default one. A legacy EF cannot be rebuilt:
            # the collection opens without one. The persisted config was written by whoever
            # made the collection: it is rebuilt under this client's settings, never trusted as is.
            if persisted is None:
                ef = default_embedding_function()
            else:
                ef = rebuild(persisted, model.name, self._settings)
        else:
            check_conflict(embedding_function, persisted, model.name)
            ef = embedding_function
        return Collection(self, model, ef, data_loader)

    @steps
    def list_collections(self, limit: int | None = None, offset: int | None = None) -> Steps[list[Collection]]:
        models = yield api_call("list_collections", limit, offset, **self._scope())
        return [self._wrap(m, DEFAULT_EF, None) for m in models]

    @steps
    def count_collections(self) -> Steps[int]:
        return (yield api_call("count_collections", **self._scope()))

    @steps
    def create_collection(
        self,
        name: str,
        configuration: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        embedding_function: Any = DEFAULT_EF,
        data_loader: Any = None,
        get_or_create: bool = False,
        schema: Any = None,
    ) -> Steps[Collection]:
        if configuration is not None and not isinstance(configuration, Mapping):
            raise InvalidArgumentError(
                f"configuration must be a dict such as {{'hnsw': {{'space': 'cosine'}}}}, got "
                f"{type(configuration).__name__}"
            )
        schema_json, schema_ef, schema_sets = schema_request(schema)
        if schema_ef is not None and embedding_function is DEFAULT_EF:
            embedding_function = schema_ef  # the schema's VectorIndexConfig(embedding_function=...)
        elif schema_ef is not None and embedding_function is not None:
            if schema_ef is not embedding_function and not same_embedding_function(schema_ef, embedding_function):
                raise InvalidArgumentError(  # as chromadb: which one to persist would be a guess
                    "Failed to reconcile schema: its VectorIndexConfig embedding function differs from "
                    "embedding_function=; pass the embedding function once"
                )
        configuration_given = bool(configuration)
        configuration = dict(configuration or {})
        validate_request({k: v for k, v in configuration.items() if k != "embedding_function"}, metadata)
        config_ef = configuration.get("embedding_function")
        for given in (config_ef, embedding_function):
            _check_ef_argument(given)
        if config_ef is not None and embedding_function is not DEFAULT_EF and embedding_function is not None:
            if config_ef is not embedding_function and not same_embedding_function(config_ef, embedding_function):
                raise InvalidArgumentError(
                    "Pass the embedding function once: either embedding_function= or "
                    "configuration['embedding_function']"
                )
        ef = config_ef if config_ef is not None else embedding_function
        # chromadb's rule (langchain-chroma relies on it): embedding_function=None with no
        # configuration at all still embeds with the default EF; with a configuration, it
        # means no EF (persisted as "legacy", so reopening does not bring the default back).
        if ef is DEFAULT_EF or (ef is None and not configuration_given):
            ef = default_embedding_function()
        if isinstance(ef, dict):  # already persisted form {"name", "type", "config"}
            spec = validate_spec(ef)
            ef = rebuild(spec, name, self._settings)
        else:
            spec = serialize(ef) if ef is not None else {"type": "legacy"}
        if ef is not None and not ef_is_legacy(ef) and spec and spec.get("type") != "legacy" and not schema_sets:
            check_space(name, ef, configuration, metadata)
        configuration["embedding_function"] = spec
        model = yield api_call(
            "create_collection", name, configuration, metadata, get_or_create, **self._scope(), schema=schema_json
        )
        if get_or_create:
            # An existing collection keeps its own embedding function.
            given = embedding_function if config_ef is None else config_ef
            if isinstance(given, dict):  # a persisted form: the stored one is rebuilt (and policy-checked)
                given = DEFAULT_EF
            wrapped = self._wrap(model, given, data_loader)
            keep_given_sparse_ef(wrapped, schema)
            return wrapped
        collection = Collection(self, model, ef, data_loader)
        keep_given_sparse_ef(collection, schema)
        return collection

    @steps
    def get_collection(
        self, name: str, embedding_function: Any = DEFAULT_EF, data_loader: Any = None
    ) -> Steps[Collection]:
        model = yield api_call("get_collection", name, **self._scope())
        return self._wrap(model, embedding_function, data_loader)

    @steps
    def get_collection_by_id(
        self, id: Any, embedding_function: Any = DEFAULT_EF, data_loader: Any = None
    ) -> Steps[Collection]:
        """A collection of this client's tenant and database by its id (a UUID or its string)."""
        try:
            collection_id = str(id if isinstance(id, uuid.UUID) else uuid.UUID(str(id)))
        except ValueError:
            raise InvalidUUIDError(f"Invalid collection ID format, expected UUID: {id!r:.100}") from None
        model = yield api_call("get_collection_by_id", collection_id, **self._scope())
        return self._wrap(model, embedding_function, data_loader)

    @steps
    def get_or_create_collection(
        self,
        name: str,
        configuration: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        embedding_function: Any = DEFAULT_EF,
        data_loader: Any = None,
        schema: Any = None,
    ) -> Steps[Collection]:
        # as chromadb, the request is checked even when the collection exists: metadata={} or a
        # bad hnsw:* value is an error, not ignored
        validate_metadata(metadata, allow_none=False, where="collection metadata")
        validate_request({k: v for k, v in (configuration or {}).items() if k != "embedding_function"}, metadata)
        try:
            model = yield api_call("get_collection", name, **self._scope())
        except NotFoundError:
            model = None
        if model is None:  # created outside the except block: its errors do not chain the NotFoundError
            return (
                yield from steps_of(
                    self.create_collection,
                    name,
                    configuration,
                    metadata,
                    embedding_function,
                    data_loader,
                    get_or_create=True,
                    schema=schema,
                )
            )
        return self._wrap(model, embedding_function, data_loader)

    @steps
    def delete_collection(self, name: str) -> Steps[None]:
        yield api_call("delete_collection", name, **self._scope())

    def _vacuum(self, progress: Callable[[int, int, str], None] | None = None) -> None:
        """Compacts storage and rebuilds indexes (``huedb vacuum``); ``progress(done, total,
        what)`` follows each step where the engine reports them (embedded)."""
        self._server.vacuum(progress=progress)


def EphemeralClient(
    settings: Settings | None = None, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE
) -> Client:
    """An in-memory client; clients in one process share the same in-memory data."""
    settings = (settings or get_settings()).copy(
        is_persistent=False, chroma_server_host=None, chroma_api_impl="huedb.api.local.LocalAPI"
    )
    return Client(settings, tenant, database)


def PersistentClient(
    path: Any = "./chroma",
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> Client:
    """A client storing data under ``path`` (SQLite in WAL mode plus index files)."""
    settings = (settings or get_settings()).copy(
        is_persistent=True,
        persist_directory=str(path),
        chroma_server_host=None,
        chroma_api_impl="huedb.api.local.LocalAPI",
    )
    return Client(settings, tenant, database)


def RustClient(
    path: Any | None = None,
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> Client:
    """chromadb's local client: persistent under ``path``, in memory when ``path`` is None."""
    if path is None:
        return EphemeralClient(settings, tenant, database)
    return PersistentClient(path, settings, tenant, database)
