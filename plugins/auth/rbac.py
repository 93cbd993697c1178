"""Simple role-based authorization, with tenant and database isolation.

Server: ``chroma_server_authz_provider = "simple_rbac"`` (or Chroma's class
path) with ``chroma_server_authz_config_file`` (path) or
``chroma_server_authz_config`` (inline YAML)::

    roles_mapping:
      admin:  {actions: [system:reset, tenant:create_tenant, ...]}
      reader: {actions: [collection:get, collection:query, ...]}
    users:
      - {id: alice, role: admin}
      - {id: bob, role: reader, tenant: acme, databases: [prod]}

A user not listed under ``users`` gets the role its authn provider put in
``UserIdentity.attributes["role"]`` (the ``role`` of Chroma's token users file).
On top of the role check, a user bound to a tenant (by authn or by this file)
may only touch that tenant, and a user bound to databases only those databases.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NoReturn

from huedb.auth import AuthzResource, UserIdentity
from huedb.errors import ForbiddenError, InvalidArgumentError
from huedb.hookspecs import hookimpl
from huedb_plugins.auth.common import (
    load_yaml,
    normalize_databases,
    normalize_tenant,
    read_text_or_file,
    setting,
)

logger = logging.getLogger(__name__)

ALIASES = ("chromadb.auth.simple_rbac_authz.SimpleRBACAuthorizationProvider",)

#: Every action a server asks authorization for, named as Chroma's AuthzAction values.
ACTIONS: tuple[str, ...] = (
    "system:reset",
    "tenant:create_tenant",
    "tenant:get_tenant",
    "db:create_database",
    "db:get_database",
    "db:delete_database",
    "db:list_databases",
    "db:list_collections",
    "db:count_collections",
    "db:create_collection",
    "db:get_or_create_collection",
    "collection:get_collection",
    "collection:delete_collection",
    "collection:update_collection",
    "collection:add",
    "collection:delete",
    "collection:get",
    "collection:query",
    "collection:count",
    "collection:update",
    "collection:upsert",
)
_ACTION_SET = frozenset(ACTIONS)

#: Actions over the whole server: never allowed to a tenant- or database-bound user.
SYSTEM_ACTIONS: frozenset[str] = frozenset({"system:reset"})
#: Actions on a tenant as a whole: a database-bound user is not limited by its databases here.
TENANT_LEVEL_ACTIONS: frozenset[str] = frozenset({"tenant:create_tenant", "tenant:get_tenant", "db:list_databases"})


@dataclass(frozen=True)
class _Policy:
    role: str
    actions: frozenset[str]
    tenant: str | None = None
    databases: tuple[str, ...] = ()


def _action_name(action: Any) -> str:
    # Accepts plain strings and str-valued enums (like Chroma's AuthzAction).
    value = getattr(action, "value", action)
    if not isinstance(value, str) or value not in _ACTION_SET:
        raise InvalidArgumentError(f"Unknown authorization action {value!r}; expected one of {list(ACTIONS)}.")
    return value


def parse_rbac_config(text: str, source: str) -> tuple[dict[str, frozenset[str]], dict[str, _Policy]]:
    """YAML -> (role -> actions, user id -> policy), validating every name."""
    data = load_yaml(text, source)
    if not isinstance(data, Mapping) or not isinstance(data.get("roles_mapping"), Mapping):
        raise InvalidArgumentError(
            f"{source} must be a YAML mapping with 'roles_mapping' (role -> {{actions: [...]}}) "
            f"and 'users' (a list of {{id, role}})."
        )
    roles: dict[str, frozenset[str]] = {}
    for role, spec in data["roles_mapping"].items():
        actions = spec.get("actions") if isinstance(spec, Mapping) else None
        if not isinstance(actions, list):
            raise InvalidArgumentError(f"{source}: role {role!r} needs 'actions', a list of action names.")
        unknown = [a for a in actions if a not in _ACTION_SET]
        if unknown:
            raise InvalidArgumentError(
                f"{source}: role {role!r} lists unknown actions {unknown}; valid actions are {list(ACTIONS)}."
            )
        roles[str(role)] = frozenset(actions)
    users_data = data.get("users") or []
    if not isinstance(users_data, list):
        raise InvalidArgumentError(f"{source}: 'users' must be a list of {{id, role}} entries.")
    users: dict[str, _Policy] = {}
    for n, entry in enumerate(users_data, start=1):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str) or not entry["id"]:
            raise InvalidArgumentError(f"{source}: user #{n} needs an 'id' (a non-empty string).")
        user_id, role = entry["id"], entry.get("role")
        if user_id in users:
            raise InvalidArgumentError(f"{source}: user {user_id!r} appears twice; list each user once.")
        if role not in roles:
            raise InvalidArgumentError(
                f"{source}: user {user_id!r} has role {role!r}, which is not in roles_mapping "
                f"(defined roles: {sorted(roles)})."
            )
        try:
            tenant = normalize_tenant(entry.get("tenant"))
            databases = tuple(normalize_databases(entry.get("databases")))
        except InvalidArgumentError as e:
            raise InvalidArgumentError(f"{source}: user {user_id!r}: {e}") from None
        users[user_id] = _Policy(role, roles[role], tenant, databases)
    return roles, users


class SimpleRBACAuthorizationProvider:
    """Server authz: role -> actions, plus tenant/database isolation."""

    name: ClassVar[str] = "simple_rbac"

    def __init__(self, settings: Any) -> None:
        text = read_text_or_file(
            settings, "chroma_server_authz_config", "chroma_server_authz_config_file", "authorization config"
        )
        source = (
            "chroma_server_authz_config_file"
            if setting(settings, "chroma_server_authz_config_file")
            else "chroma_server_authz_config"
        )
        self._roles, self._users = parse_rbac_config(text, source)

    def allowed_actions(self, user: UserIdentity) -> frozenset[str]:
        """The actions ``user``'s role grants (empty when it has none)."""
        policy = self._policy(user)
        return policy.actions if policy else frozenset()

    def authorize(self, user: UserIdentity, action: str, resource: AuthzResource) -> None:
        action = _action_name(action)
        policy = self._policy(user)
        if policy is None:
            self._deny(
                user,
                action,
                resource,
                f"User {user.user_id!r} has no role: add it under 'users' in the authorization config.",
            )
        if action not in policy.actions:
            self._deny(
                user, action, resource, f"User {user.user_id!r} (role {policy.role!r}) may not perform {action!r}."
            )
        # Bindings from authn (e.g. the token users file) and from this file both apply.
        self._check_scope(user, action, resource, normalize_tenant(user.tenant), normalize_databases(user.databases))
        self._check_scope(user, action, resource, policy.tenant, list(policy.databases))

    def _policy(self, user: UserIdentity) -> _Policy | None:
        policy = self._users.get(user.user_id)
        if policy is not None:
            return policy
        role = (user.attributes or {}).get("role")
        if isinstance(role, str) and role in self._roles:
            return _Policy(role, self._roles[role])
        return None

    def _check_scope(
        self, user: UserIdentity, action: str, resource: AuthzResource, tenant: str | None, databases: list[str]
    ) -> None:
        if tenant is None and not databases:
            return
        if action in SYSTEM_ACTIONS:
            self._deny(
                user,
                action,
                resource,
                f"User {user.user_id!r} is bound to a tenant or databases and may not perform "
                f"the server-wide action {action!r}.",
            )
        if tenant is not None and resource.tenant != tenant:
            target = "no tenant" if resource.tenant is None else f"tenant {resource.tenant!r}"
            self._deny(
                user,
                action,
                resource,
                f"User {user.user_id!r} is bound to tenant {tenant!r} and may not access {target}.",
            )
        if databases and action not in TENANT_LEVEL_ACTIONS and resource.database not in databases:
            target = "no database" if resource.database is None else f"database {resource.database!r}"
            self._deny(
                user,
                action,
                resource,
                f"User {user.user_id!r} is bound to databases {databases} and may not access {target}.",
            )

    @staticmethod
    def _deny(user: UserIdentity, action: str, resource: AuthzResource, reason: str) -> NoReturn:
        logger.info("authorization denied: user=%r action=%r resource=%r: %s", user.user_id, action, resource, reason)
        raise ForbiddenError(reason)


@hookimpl
def register_authz_providers(register):
    register(SimpleRBACAuthorizationProvider)
    for alias in ALIASES:
        register(SimpleRBACAuthorizationProvider, name=alias)
