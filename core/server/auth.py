"""Server-side auth: authn/authz providers from the plugin registry, per route.

Every route declares its action (Chroma's AuthzAction names, see docs/auth.md).
``OPEN`` routes (heartbeat, healthcheck, version, the API root) need nothing;
``IDENTITY`` (/auth/identity) needs authentication only. Tenant isolation is
enforced here too, from the identity the authn provider returned: a user bound
to a tenant (or databases) gets 403 outside them, with or without an authz provider.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import anyio.to_thread
from anyio import CapacityLimiter

from huedb.auth import AuthzResource, UserIdentity
from huedb.config import DEFAULT_DATABASE, DEFAULT_TENANT, Settings
from huedb.errors import AuthenticationError, ForbiddenError
from huedb.registry import get_registry

logger = logging.getLogger("huedb.server.auth")

OPEN = "open"
IDENTITY = "identity"
#: actions that do not concern one database (a database binding does not limit them)
TENANT_LEVEL = ("tenant:create_tenant", "tenant:get_tenant", "db:list_databases")


#: verifications (bcrypt...) running at once; the rest wait, so a flood of wrong
#: credentials costs at most this many threads and never the event loop
AUTH_CONCURRENCY = max(1, min(4, (os.cpu_count() or 2) // 2))
#: a verified credential is remembered this long (by a keyed hash, never in clear)
VERIFIED_TTL_SECONDS = 300.0
VERIFIED_MAX_ENTRIES = 4096

Outcome = UserIdentity | Exception
# The outcome verified off the event loop for the current request, with the key of its headers.
_prechecked: contextvars.ContextVar[tuple[bytes, Outcome] | None] = contextvars.ContextVar(
    "huedb_auth_prechecked", default=None
)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


class VerifiedCache:
    """Successful verifications by HMAC of the credential headers (key random per process).

    So a correct client pays for bcrypt once per ``ttl``, not on every request, and
    is not queued behind a flood of wrong credentials. Failures are never cached.
    """

    def __init__(self, ttl: float = VERIFIED_TTL_SECONDS, max_entries: int = VERIFIED_MAX_ENTRIES) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._entries: OrderedDict[bytes, tuple[float, UserIdentity]] = OrderedDict()
        self._lock = threading.Lock()  # put() runs in worker threads, get() on the loop

    def get(self, key: bytes) -> UserIdentity | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, user = entry
            if expires < time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return user

    def put(self, key: bytes, user: UserIdentity) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + self._ttl, user)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)


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
        # Only providers that name the headers holding their credential are cached: a key
        # over fewer headers than the provider reads could match someone else's request.
        self._credential_headers: tuple[str, ...] = tuple(
            h.lower() for h in getattr(self.authn, "credential_headers", ()) or ()
        )
        self._hmac_key = secrets.token_bytes(32)
        self._verified = VerifiedCache()
        self._limiter: CapacityLimiter | None = None  # created on the event loop, lazily

    @property
    def enabled(self) -> bool:
        return self.authn is not None

    def authenticate(self, headers: Any) -> UserIdentity | None:
        """The identity of a request; uses the outcome ``precheck`` found off the loop, if any."""
        if self.authn is None:
            return None
        key = self._key(headers)
        done = _prechecked.get()
        if done is not None and hmac.compare_digest(done[0], key):
            if isinstance(done[1], Exception):
                raise done[1]
            return done[1]
        return self._verify(headers, key)

    async def precheck(self, headers: Mapping[str, str]) -> None:
        """Verifies the request's credentials in a worker thread, at most ``AUTH_CONCURRENCY`` at once.

        bcrypt costs ~50 ms of CPU: on the event loop, 16 clients sending wrong passwords
        stalled every other request. The outcome is kept for ``authenticate`` (same task).
        """
        if self.authn is None:
            return
        key = self._key(headers)
        cached = self._verified.get(key) if self._credential_headers else None
        if cached is not None:
            _prechecked.set((key, cached))
            return
        if self._limiter is None:
            self._limiter = CapacityLimiter(AUTH_CONCURRENCY)
        outcome = await anyio.to_thread.run_sync(self._outcome, headers, key, limiter=self._limiter)
        _prechecked.set((key, outcome))

    def _outcome(self, headers: Mapping[str, str], key: bytes) -> Outcome:
        try:
            return self._verify(headers, key)
        except Exception as exc:  # kept and raised where the route asks for the identity
            return exc

    def _verify(self, headers: Any, key: bytes) -> UserIdentity:
        assert self.authn is not None, "called only when an authn provider is configured"
        user = self.authn.authenticate(headers)
        if user is None:  # a provider must raise; treat None as a failure, never as a pass
            raise AuthenticationError("Unauthorized: the credentials were not accepted.")
        if self._credential_headers:
            self._verified.put(key, user)
        return user

    def _key(self, headers: Any) -> bytes:
        """A keyed hash of the credential headers (all headers when the provider names none)."""
        lowered = [(str(k).lower(), str(v)) for k, v in headers.items()]
        if self._credential_headers:
            lowered = [(k, v) for k, v in lowered if k in self._credential_headers]
        material = "\n".join(f"{k}:{v}" for k, v in sorted(lowered)).encode("utf-8", "surrogatepass")
        return hmac.new(self._hmac_key, material, hashlib.sha256).digest()

    def scope(
        self, user: UserIdentity | None, tenant: str | None, database: str | None
    ) -> tuple[str | None, str | None]:
        """Chroma's singleton overwrite: a user bound to one tenant/database uses it for the defaults."""
        if user is None or not self.overwrite_singleton:
            return tenant, database
        if user.tenant and tenant == DEFAULT_TENANT:
            tenant = user.tenant
        if len(user.databases) == 1 and user.databases[0] != "*" and database == DEFAULT_DATABASE:
            database = user.databases[0]
        return tenant, database

    def authorize(self, user: UserIdentity | None, action: str, resource: AuthzResource) -> None:
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


def identity_json(user: UserIdentity | None) -> dict:
    """The spec's ``GetUserIdentityResponse`` (an open server answers like Chroma's)."""
    if user is None:
        return {"user_id": "", "tenant": DEFAULT_TENANT, "databases": [DEFAULT_DATABASE]}
    databases = [d for d in user.databases if d != "*"]
    return {
        "user_id": user.user_id,
        "tenant": user.tenant or "*",  # "*": any tenant, as Chroma writes it
        "databases": databases or ["*"],
    }
