"""Server-side auth: authn/authz providers from the plugin registry, per route.

Every route declares its action (Chroma's AuthzAction names, see docs/auth.md).
``OPEN`` routes (heartbeat, healthcheck, version, the API root) need nothing;
``IDENTITY`` (/auth/identity) needs authentication only. Tenant isolation is
enforced here too, from the identity the authn provider returned: a user bound
to a tenant (or databases) gets 403 outside them, with or without an authz provider.
"""
from __future__ import annotations

import logging
from typing import Any, Optional, Tuple

from huedb.auth import AuthzResource, UserIdentity
from huedb.config import DEFAULT_DATABASE, DEFAULT_TENANT, Settings
from huedb.errors import AuthenticationError, ForbiddenError
from huedb.registry import get_registry

logger = logging.getLogger("huedb.server.auth")

OPEN = "open"
IDENTITY = "identity"
#: actions that do not concern one database (a database binding does not limit them)
TENANT_LEVEL = ("tenant:create_tenant", "tenant:get_tenant", "db:list_databases")


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


class ServerAuth:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        registry = get_registry()
        authn_name = settings.chroma_server_authn_provider
        authz_name = settings.chroma_server_authz_provider
        # Providers validate their credentials now, so a bad config fails at startup.
        self.authn = registry.get("authn_provider", authn_name)(settings) if authn_name else None
        self.authz = registry.get("authz_provider", authz_name)(settings) if authz_name else None
        self.overwrite_singleton = _truthy(settings.chroma_overwrite_singleton_tenant_database_access_from_auth)

    @property
    def enabled(self) -> bool:
        return self.authn is not None

    def authenticate(self, headers: Any) -> Optional[UserIdentity]:
        if self.authn is None:
            return None
        user = self.authn.authenticate(headers)
        if user is None:  # a provider must raise; treat None as a failure, never as a pass
            raise AuthenticationError("Unauthorized: the credentials were not accepted.")
        return user

    def scope(self, user: Optional[UserIdentity], tenant: Optional[str], database: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
        """Chroma's singleton overwrite: a user bound to one tenant/database uses it for the defaults."""
        if user is None or not self.overwrite_singleton:
            return tenant, database
        if user.tenant and tenant == DEFAULT_TENANT:
            tenant = user.tenant
        if len(user.databases) == 1 and user.databases[0] != "*" and database == DEFAULT_DATABASE:
            database = user.databases[0]
        return tenant, database

    def authorize(self, user: Optional[UserIdentity], action: str, resource: AuthzResource) -> None:
        if user is None:
            return
        bound_tenant = user.tenant if user.tenant not in (None, "", "*") else None
        if bound_tenant is not None:
            if resource.tenant != bound_tenant:
                raise ForbiddenError(f"Forbidden: user {user.user_id!r} may not access this tenant.")
        bound_dbs = [d for d in user.databases if d != "*"]
        if bound_dbs and resource.database is not None and action not in TENANT_LEVEL:
            if resource.database not in bound_dbs:
                raise ForbiddenError(f"Forbidden: user {user.user_id!r} may not access this database.")
        if self.authz is not None:
            self.authz.authorize(user, action, resource)


def identity_json(user: Optional[UserIdentity]) -> dict:
    """The spec's ``GetUserIdentityResponse`` (an open server answers like Chroma's)."""
    if user is None:
        return {"user_id": "", "tenant": DEFAULT_TENANT, "databases": [DEFAULT_DATABASE]}
    databases = [d for d in user.databases if d != "*"]
    return {
        "user_id": user.user_id,
        "tenant": user.tenant or "*",  # "*": any tenant, as Chroma writes it
        "databases": databases or ["*"],
    }
