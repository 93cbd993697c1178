"""HTTP Basic authentication against an htpasswd file of bcrypt hashes.

Server: ``chroma_server_authn_provider = "basic"`` (or Chroma's class path),
with ``chroma_server_authn_credentials_file`` (path to an htpasswd file) or
``chroma_server_authn_credentials`` (the same text inline). Client:
``chroma_client_auth_provider = "basic"`` with
``chroma_client_auth_credentials = "user:password"``.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
from collections.abc import Mapping
from typing import Any, ClassVar

import bcrypt

from huedb.auth import UserIdentity
from huedb.errors import AuthenticationError, InvalidArgumentError
from huedb.hookspecs import hookimpl
from huedb_plugins.auth.common import (
    AUTHORIZATION,
    Secret,
    content_lines,
    lower_headers,
    read_text_or_file,
    setting,
    split_authorization,
)

logger = logging.getLogger(__name__)

SERVER_ALIASES = ("chromadb.auth.basic_authn.BasicAuthenticationServerProvider",)
CLIENT_ALIASES = ("chromadb.auth.basic_authn.BasicAuthClientProvider",)

_BCRYPT_HASH = re.compile(r"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$")
# bcrypt only ever looks at the first 72 bytes; htpasswd and bcrypt<5 truncate
# silently, bcrypt>=5 raises instead, so truncate to keep existing hashes valid.
_BCRYPT_MAX_BYTES = 72

_MALFORMED = "Malformed Authorization header: expected 'Authorization: Basic <base64 of username:password>'."
_INVALID = "Invalid username or password."


def parse_htpasswd(text: str, source: str) -> dict[str, bytes]:
    """``user:bcrypthash`` lines -> {user: hash}. Blank lines and ``#`` comments are skipped."""
    users: dict[str, bytes] = {}
    for number, line in content_lines(text):
        username, sep, hashed = line.partition(":")
        if not sep or not username or not hashed:
            # Never echo the line: it holds a hash (or, by mistake, a password).
            raise InvalidArgumentError(
                f"{source}, line {number}: expected '<username>:<bcrypt hash>' "
                f"(create lines with `htpasswd -Bbn <user> <password>`)."
            )
        if not _BCRYPT_HASH.match(hashed):
            raise InvalidArgumentError(
                f"{source}, line {number} (user {username!r}): the password is not a bcrypt hash. "
                f"Only bcrypt is supported; create the line with `htpasswd -Bbn <user> <password>` or "
                f"python -c \"import bcrypt; print(bcrypt.hashpw(b'<password>', bcrypt.gensalt()).decode())\"."
            )
        if username in users:
            raise InvalidArgumentError(f"{source}: user {username!r} appears twice; usernames must be unique.")
        users[username] = hashed.encode("ascii")
    if not users:
        raise InvalidArgumentError(f"{source} has no users; add at least one '<username>:<bcrypt hash>' line.")
    return users


def _check_password(password: str, hashed: bytes) -> bool:
    return bcrypt.checkpw(password.encode("utf-8")[:_BCRYPT_MAX_BYTES], hashed)


class BasicAuthenticationServerProvider:
    """Server authn: ``Authorization: Basic base64(user:password)`` checked with bcrypt."""

    name: ClassVar[str] = "basic"
    #: every header authenticate() reads: the server caches a success keyed by them
    credential_headers: ClassVar[tuple[str, ...]] = ("authorization",)

    def __init__(self, settings: Any) -> None:
        text = read_text_or_file(
            settings,
            "chroma_server_authn_credentials",
            "chroma_server_authn_credentials_file",
            "htpasswd credentials",
        )
        source = (
            "chroma_server_authn_credentials_file"
            if setting(settings, "chroma_server_authn_credentials_file")
            else "chroma_server_authn_credentials"
        )
        self._hashes = parse_htpasswd(text, source)
        # Unknown users are checked against this hash, at the same cost as real
        # ones, so response time does not reveal which usernames exist.
        cost = int(_BCRYPT_HASH.match(next(iter(self._hashes.values())).decode()).group(1))
        self._dummy_hash = bcrypt.hashpw(os.urandom(18).hex().encode(), bcrypt.gensalt(rounds=cost))

    def authenticate(self, headers: Mapping[str, str]) -> UserIdentity:
        value = lower_headers(headers).get("authorization")
        if value is None:
            raise self._reject(
                "Missing Authorization header: send 'Authorization: Basic <base64 of username:password>'."
            )
        scheme, encoded = split_authorization(value)
        if scheme != "basic" or not encoded:
            raise self._reject(_MALFORMED)
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            # `from None`: the decode error would carry the raw credential bytes.
            raise self._reject(_MALFORMED) from None
        username, sep, password = decoded.partition(":")
        if not sep or not username:
            raise self._reject(_MALFORMED)
        stored = self._hashes.get(username)
        ok = _check_password(password, stored if stored is not None else self._dummy_hash)
        if stored is None or not ok:
            raise self._reject(_INVALID)
        logger.debug("basic authentication succeeded for user %r", username)
        return UserIdentity(user_id=username)

    @staticmethod
    def _reject(reason: str) -> AuthenticationError:
        logger.info("basic authentication failed: %s", reason)
        return AuthenticationError(reason)


class BasicAuthClientProvider:
    """Client: sends ``Authorization: Basic base64(chroma_client_auth_credentials)``."""

    name: ClassVar[str] = "basic"

    def __init__(self, settings: Any) -> None:
        creds = setting(settings, "chroma_client_auth_credentials")
        if not isinstance(creds, str) or not creds:
            raise InvalidArgumentError(
                "Basic client auth needs chroma_client_auth_credentials "
                "(env CHROMA_CLIENT_AUTH_CREDENTIALS) set to 'username:password'."
            )
        username, sep, _ = creds.partition(":")
        if not sep or not username:
            raise InvalidArgumentError(
                "chroma_client_auth_credentials must have the form 'username:password' "
                "(a username, a colon, then the password)."
            )
        encoded = base64.b64encode(creds.encode("utf-8")).decode("ascii")
        self._header = Secret(f"Basic {encoded}")

    def authenticate(self) -> dict[str, str]:
        return {AUTHORIZATION: self._header.get()}


@hookimpl
def register_authn_providers(register):
    register(BasicAuthenticationServerProvider)
    for alias in SERVER_ALIASES:
        register(BasicAuthenticationServerProvider, name=alias)


@hookimpl
def register_client_auth_providers(register):
    register(BasicAuthClientProvider)
    for alias in CLIENT_ALIASES:
        register(BasicAuthClientProvider, name=alias)
