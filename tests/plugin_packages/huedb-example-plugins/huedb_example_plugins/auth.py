"""``example_header``: server authentication by a shared key in the ``X-Example-Key`` header.

The expected key is read from ``settings.chroma_server_authn_credentials``
(falling back to ``"letmein"``); every caller with it is user ``example-user``.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any, ClassVar

from huedb.auth import UserIdentity
from huedb.errors import AuthenticationError
from huedb.hookspecs import hookimpl

HEADER = "x-example-key"
DEFAULT_KEY = "letmein"


class ExampleHeaderAuthn:
    name: ClassVar[str] = "example_header"

    def __init__(self, settings: Any) -> None:
        self._key = (getattr(settings, "chroma_server_authn_credentials", None) or DEFAULT_KEY).encode("utf-8")

    def authenticate(self, headers: Mapping[str, str]) -> UserIdentity:
        given = {k.lower(): v for k, v in headers.items()}.get(HEADER)
        if given is None or not hmac.compare_digest(given.encode("utf-8"), self._key):
            raise AuthenticationError(f"example_header: missing or wrong {HEADER!r} header")
        return UserIdentity(user_id="example-user")


@hookimpl
def register_authn_providers(register):
    register(ExampleHeaderAuthn)
