"""Auth provider protocols. Implementations are plugins (``plugins/auth``).

Server side, an *authn* provider turns request headers into a UserIdentity (or
raises AuthenticationError), and an *authz* provider decides whether that
identity may perform an action on a resource (or raises ForbiddenError).
Client side, a *client auth* provider yields the headers to send.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Dict, List, Mapping, Optional, Protocol


@dataclass
class UserIdentity:
    user_id: str
    tenant: Optional[str] = None
    databases: List[str] = field(default_factory=list)
    attributes: Dict[str, Any] = field(default_factory=dict)


@dataclass
class AuthzResource:
    tenant: Optional[str] = None
    database: Optional[str] = None
    collection: Optional[str] = None


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

    def authenticate(self) -> Dict[str, str]:
        """Headers to add to every request."""
        ...
