"""Auth provider protocols. Implementations are plugins (``plugins/auth``).

Server side, an *authn* provider turns request headers into a UserIdentity (or
raises AuthenticationError), and an *authz* provider decides whether that
identity may perform an action on a resource (or raises ForbiddenError).
Client side, a *client auth* provider yields the headers to send.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol


@dataclass
class UserIdentity:
    user_id: str
    tenant: str | None = None
    databases: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class AuthzResource:
    tenant: str | None = None
    database: str | None = None
    collection: str | None = None


class AuthnProvider(Protocol):
    name: ClassVar[str]

    def __init__(self, settings: Any) -> None: ...

    def authenticate(self, headers: Mapping[str, str]) -> UserIdentity:
        """Returns the caller's identity; raises AuthenticationError (401) otherwise."""
        ...


class AuthzProvider(Protocol):
    name: ClassVar[str]

    def __init__(self, settings: Any) -> None: ...

    def authorize(self, user: UserIdentity, action: str, resource: AuthzResource) -> None:
        """Raises ForbiddenError (403) unless ``user`` may do ``action`` on ``resource``."""
        ...


class ClientAuthProvider(Protocol):
    name: ClassVar[str]

    def __init__(self, settings: Any) -> None: ...

    def authenticate(self) -> dict[str, str]:
        """Headers to add to every request."""
        ...
