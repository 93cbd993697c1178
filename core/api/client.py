"""Client and AdminClient, as in chromadb, over any ServerAPI (embedded or HTTP)."""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from huedb.api.collection import Collection
from huedb.api.schema_json import schema_request
from huedb.api.server_api import ServerAPI
from huedb.auth import UserIdentity
from huedb.config import Settings, get_settings
from huedb.configuration import validate_request, vector_index_request
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


#: ``chroma_api_impl`` values that name an in-process engine: huedb's, and chromadb's local
#: implementations (the Rust bindings, and the Python ``SegmentAPI`` older code and docs name)
LOCAL_API_IMPLS = (
    "huedb.api.local.LocalAPI",
    "huedb.engine.LocalAPI",
    "chromadb.api.segment.SegmentAPI",
    "chromadb.api.rust.RustBindingsAPI",
)


def make_server_api(settings: Settings) -> ServerAPI:
    impl = str(settings.chroma_api_impl or "")
    if settings.chroma_server_host or "fastapi" in impl.lower() or "http" in impl.lower():
        from huedb.api.http_api import HttpAPI

        return HttpAPI(settings)
    if impl not in LOCAL_API_IMPLS:
        # As chromadb: a name it does not know is an error, not silently the embedded engine.
        raise ValueError(
            f"Unsupported Chroma API implementation {impl}: use one of {', '.join(LOCAL_API_IMPLS)} "
            "(embedded), or an HTTP implementation such as chromadb.api.fastapi.FastAPI with chroma_server_host"
        )
    _refuse_chroma_directory(settings)
    from huedb.engine import LocalAPI

    return LocalAPI(settings)


def _refuse_chroma_directory(settings: Settings) -> None:
    """A Chroma persist directory is not opened as an empty huedb one beside it."""
    path = os.path.expanduser(str(settings.persist_directory or ""))
    has = os.path.exists
    if settings.is_persistent and has(f"{path}/chroma.sqlite3") and not has(f"{path}/huedb.sqlite3"):
        raise ValueError(
            f"{path} is a Chroma persist directory (chroma.sqlite3), which huedb does not open in place. "
            f"Copy it into a huedb one: huedb copy --all --from-chroma-dir {path} --to-path {path}-huedb "
            "(docs/cli.md), then open that path."
        )


class _Base:
    def __init__(self, settings: Settings | None = None, _server: ServerAPI | None = None) -> None:
        self._settings = settings if settings is not None else get_settings()
        self._server: ServerAPI = _server if _server is not None else make_server_api(self._settings)

    def get_settings(self) -> Settings:
        return self._settings

    def heartbeat(self) -> int:
        return self._server.heartbeat()

    def get_version(self) -> str:
        return self._server.get_version()

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

    def get_user_identity(self) -> UserIdentity:
        """Who the server takes this client for. Embedded, as in chromadb: an anonymous user
        of the default tenant and database."""
        fetch = getattr(self._server, "get_user_identity", None)
        if fetch is None:
            return UserIdentity(user_id="", tenant=DEFAULT_TENANT, databases=[DEFAULT_DATABASE])
        body = fetch()
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

    def create_tenant(self, name: str) -> None:
        self._server.create_tenant(name)

    def get_tenant(self, name: str) -> dict[str, str]:
        return self._server.get_tenant(name)

    def list_tenants(self) -> list[dict[str, str]]:
        return self._server.list_tenants()

    def create_database(self, name: str, tenant: str = DEFAULT_TENANT) -> None:
        self._server.create_database(name, tenant)

    def get_database(self, name: str, tenant: str = DEFAULT_TENANT) -> dict[str, str]:
        return self._server.get_database(name, tenant)

    def list_databases(
        self, limit: int | None = None, offset: int | None = None, tenant: str = DEFAULT_TENANT
    ) -> list[dict[str, str]]:
        return self._server.list_databases(limit, offset, tenant)

    def delete_database(self, name: str, tenant: str = DEFAULT_TENANT) -> None:
        self._server.delete_database(name, tenant)


class Client(_Base):
    """The chromadb ClientAPI: collections within one tenant and database."""

    def __init__(
        self,
        settings: Settings | None = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
        _server: ServerAPI | None = None,
    ) -> None:
        super().__init__(settings, _server)
        self.tenant = tenant
        self.database = database
        self._validate_tenant_database(tenant, database)

    def _validate_tenant_database(self, tenant: str, database: str) -> None:
        try:
            self._server.get_tenant(tenant)
        except NotFoundError:
            self._server.close()
            raise NotFoundError(
                f"Could not connect to tenant {tenant}. Are you sure it exists? Create it with "
                "AdminClient().create_tenant"
            ) from None
        try:
            self._server.get_database(database, tenant)
        except NotFoundError:
            self._server.close()
            raise NotFoundError(
                f"Could not connect to database {database} for tenant {tenant}. Are you sure it exists? "
                "Create it with AdminClient().create_database"
            ) from None

    def set_tenant(self, tenant: str, database: str = DEFAULT_DATABASE) -> None:
        self._validate_tenant_database(tenant, database)
        self.tenant, self.database = tenant, database

    def set_database(self, database: str) -> None:
        self._validate_tenant_database(self.tenant, database)
        self.database = database

    def _scope(self) -> dict[str, str]:
        return {"tenant": self.tenant, "database": self.database}

    def reset(self) -> bool:
        return self._server.reset()

    def get_max_batch_size(self) -> int:
        return self._server.get_max_batch_size()

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

    def list_collections(self, limit: int | None = None, offset: int | None = None) -> list[Collection]:
        models = self._server.list_collections(limit, offset, **self._scope())
        return [self._wrap(m, DEFAULT_EF, None) for m in models]

    def count_collections(self) -> int:
        return self._server.count_collections(**self._scope())

    def create_collection(
        self,
        name: str,
        configuration: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        embedding_function: Any = DEFAULT_EF,
        data_loader: Any = None,
        get_or_create: bool = False,
        schema: Any = None,
    ) -> Collection:
        if configuration is not None and not isinstance(configuration, Mapping):
            raise InvalidArgumentError(
                f"configuration must be a dict such as {{'hnsw': {{'space': 'cosine'}}}}, got "
                f"{type(configuration).__name__}"
            )
        schema_json, schema_ef, schema_sets = schema_request(schema)
        if schema_ef is not None and embedding_function is DEFAULT_EF:
            embedding_function = schema_ef  # the schema's VectorIndexConfig(embedding_function=...)
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
            self._check_space(name, ef, configuration, metadata)
        configuration["embedding_function"] = spec
        model = self._server.create_collection(
            name, configuration, metadata, get_or_create, **self._scope(), schema=schema_json
        )
        if get_or_create:
            # An existing collection keeps its own embedding function.
            given = embedding_function if config_ef is None else config_ef
            if isinstance(given, dict):  # a persisted form: the stored one is rebuilt (and policy-checked)
                given = DEFAULT_EF
            return self._wrap(model, given, data_loader)
        return Collection(self, model, ef, data_loader)

    @staticmethod
    def _check_space(name: str, ef: Any, configuration: dict[str, Any], metadata: dict[str, Any] | None) -> None:
        requested = vector_index_request(configuration, metadata)  # checked by validate_request already
        space = requested.get("space")
        try:
            supported = list(ef.supported_spaces())
        except Exception:  # a lazily-built EF whose plugin is missing: nothing to check
            return
        if space is None:
            # As chromadb: with no space given, the embedding function's default space is used
            # (in the section the request uses, so the legacy-metadata rule sees the same request).
            vector_index = "spann" if configuration.get("spann") is not None else "hnsw"
            configuration[vector_index] = {**requested, "space": ef.default_space()}
            return
        if space not in supported:  # chromadb warns and keeps the space
            warnings.warn(
                f"space {space} is not supported by {ef.name()}. Supported spaces: {supported} "
                f"(collection {name!r} keeps {space}; distances may not mean what the model intends)",
                UserWarning,
                stacklevel=4,
            )

    def get_collection(self, name: str, embedding_function: Any = DEFAULT_EF, data_loader: Any = None) -> Collection:
        model = self._server.get_collection(name, **self._scope())
        return self._wrap(model, embedding_function, data_loader)

    def get_collection_by_id(
        self, id: Any, embedding_function: Any = DEFAULT_EF, data_loader: Any = None
    ) -> Collection:
        """A collection of this client's tenant and database by its id (a UUID or its string)."""
        try:
            collection_id = str(id if isinstance(id, uuid.UUID) else uuid.UUID(str(id)))
        except ValueError:
            raise InvalidUUIDError(f"Invalid collection ID format, expected UUID: {id!r:.100}") from None
        model = self._server.get_collection_by_id(collection_id, **self._scope())
        return self._wrap(model, embedding_function, data_loader)

    def get_or_create_collection(
        self,
        name: str,
        configuration: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        embedding_function: Any = DEFAULT_EF,
        data_loader: Any = None,
        schema: Any = None,
    ) -> Collection:
        # as chromadb, the request is checked even when the collection exists: metadata={} or a
        # bad hnsw:* value is an error, not ignored
        validate_metadata(metadata, allow_none=False, where="collection metadata")
        validate_request({k: v for k, v in (configuration or {}).items() if k != "embedding_function"}, metadata)
        try:
            model = self._server.get_collection(name, **self._scope())
        except NotFoundError:
            return self.create_collection(
                name, configuration, metadata, embedding_function, data_loader, get_or_create=True, schema=schema
            )
        return self._wrap(model, embedding_function, data_loader)

    def delete_collection(self, name: str) -> None:
        self._server.delete_collection(name, **self._scope())

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
