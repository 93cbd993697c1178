"""Static token authentication (``Authorization: Bearer <token>`` or ``X-Chroma-Token: <token>``).

Server: ``chroma_server_authn_provider = "token"`` (or Chroma's class path).
Tokens come from ``chroma_server_authn_credentials`` or the file at
``chroma_server_authn_credentials_file``, in one of these forms:

* plain tokens, one per line and/or comma-separated (each maps to user ``anonymous``);
* Chroma's users file: ``users: [{id, role, tenant, databases, tokens: [...]}]``;
* a mapping of user id to a token or a list of tokens: ``{alice: tok1, bob: [tok2, tok3]}``.

``chroma_auth_token_transport_header`` (``Authorization`` or ``X-Chroma-Token``)
restricts the server to that header; unset, both are accepted. Tokens are kept
only as SHA-256 digests and compared in constant time against every entry.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from huedb.auth import UserIdentity
from huedb.errors import AuthenticationError, InvalidArgumentError
from huedb.hookspecs import hookimpl
from huedb_plugins.auth.common import (
    AUTHORIZATION,
    X_CHROMA_TOKEN,
    Secret,
    content_lines,
    digest,
    find_in_constant_time,
    load_yaml,
    lower_headers,
    normalize_databases,
    normalize_tenant,
    normalize_token_header,
    read_text_or_file,
    setting,
    split_authorization,
)

logger = logging.getLogger(__name__)

SERVER_ALIASES = ("chromadb.auth.token_authn.TokenAuthenticationServerProvider",)
CLIENT_ALIASES = ("chromadb.auth.token_authn.TokenAuthClientProvider",)

ANONYMOUS = "anonymous"
_VALID_TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + string.punctuation)
# Text meant as YAML/JSON users (so a syntax error there is reported, not read as tokens).
_STRUCTURED = re.compile(r"\A\s*\{|^\s*users\s*:", re.MULTILINE)


def is_valid_token(token: str) -> bool:
    """Chroma's rule: ASCII letters, digits and punctuation only (no spaces)."""
    return bool(token) and all(c in _VALID_TOKEN_CHARS for c in token)


@dataclass(frozen=True)
class TokenUser:
    """A user a token maps to (never holds the token itself)."""

    user_id: str
    tenant: str | None = None
    databases: tuple[str, ...] = ()
    attributes: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def identity(self) -> UserIdentity:
        # A fresh object per request: callers may mutate it without touching the config.
        return UserIdentity(
            user_id=self.user_id,
            tenant=self.tenant,
            databases=list(self.databases),
            attributes=dict(self.attributes),
        )


def _load(text: str, source: str) -> Any:
    """Parsed YAML, or None for plain tokens (which need not be valid YAML)."""
    if not _STRUCTURED.search(text):
        import yaml  # here: every process discovers this plugin, few read a token file

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:
            return None
    return load_yaml(text, source)


def _tokens_of(value: Any, who: str, source: str) -> list[str]:
    tokens = [value] if isinstance(value, str) else value
    if not isinstance(tokens, list) or not tokens:
        raise InvalidArgumentError(f"{source}: {who} needs 'tokens', a non-empty list of token strings.")
    for i, token in enumerate(tokens, start=1):
        if not isinstance(token, str) or not is_valid_token(token):
            raise InvalidArgumentError(
                f"{source}: token #{i} of {who} is invalid; tokens must be non-empty strings of "
                f"ASCII letters, digits and punctuation (no spaces)."
            )
    return tokens


def parse_token_config(text: str, source: str) -> list[tuple[str, TokenUser]]:
    """Returns (token, user) pairs from any of the accepted formats."""
    data = _load(text, source)
    pairs: list[tuple[str, TokenUser]] = []
    if isinstance(data, Mapping) and "users" in data:
        users = data["users"]
        if not isinstance(users, list) or not users:
            raise InvalidArgumentError(f"{source}: 'users' must be a non-empty list of users.")
        seen_ids = set()
        for n, entry in enumerate(users, start=1):
            if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str) or not entry["id"]:
                raise InvalidArgumentError(f"{source}: user #{n} needs an 'id' (a non-empty string).")
            who = f"user {entry['id']!r}"
            if entry["id"] in seen_ids:
                raise InvalidArgumentError(f"{source}: {who} appears twice; list each user once.")
            seen_ids.add(entry["id"])
            try:
                tenant = normalize_tenant(entry.get("tenant"))
                databases = normalize_databases(entry.get("databases"))
            except InvalidArgumentError as e:
                raise InvalidArgumentError(f"{source}: {who}: {e}") from None
            attributes = {"role": entry["role"]} if entry.get("role") is not None else {}
            user = TokenUser(entry["id"], tenant, tuple(databases), attributes)
            pairs.extend((t, user) for t in _tokens_of(entry.get("tokens"), who, source))
    elif isinstance(data, Mapping) and all(isinstance(v, (str, list)) for v in data.values()):
        # Only a mapping whose values are all tokens; anything else (e.g. the
        # plain token "abc:", which YAML reads as {abc: None}) is plain tokens.
        for user_id, value in data.items():
            if not isinstance(user_id, str) or not user_id:
                raise InvalidArgumentError(f"{source}: user ids must be non-empty strings.")
            user = TokenUser(user_id)
            pairs.extend((t, user) for t in _tokens_of(value, f"user {user_id!r}", source))
    else:
        user = TokenUser(ANONYMOUS)
        for number, line in content_lines(text):
            for token in (t.strip() for t in line.split(",")):
                if not token:
                    continue
                if not is_valid_token(token):
                    raise InvalidArgumentError(
                        f"{source}, line {number}: a token is invalid; tokens must be ASCII letters, "
                        f"digits and punctuation with no spaces (one per line, or comma-separated)."
                    )
                pairs.append((token, user))
    if not pairs:
        raise InvalidArgumentError(f"{source} has no tokens; add at least one.")
    owners: dict[str, TokenUser] = {}
    for token, user in pairs:
        other = owners.setdefault(token, user)
        if other.user_id != user.user_id:
            raise InvalidArgumentError(
                f"{source}: a token of user {user.user_id!r} is also assigned to user {other.user_id!r}; "
                f"each token must belong to one user."
            )
    return pairs


class TokenAuthenticationServerProvider:
    """Server authn: a static token maps to a UserIdentity (user id, tenant, databases)."""

    name: ClassVar[str] = "token"
    #: every header authenticate() reads: the server caches a success keyed by them
    credential_headers: ClassVar[tuple[str, ...]] = ("authorization", "x-chroma-token")

    def __init__(self, settings: Any) -> None:
        self._header = normalize_token_header(setting(settings, "chroma_auth_token_transport_header"))
        text = read_text_or_file(
            settings,
            "chroma_server_authn_credentials",
            "chroma_server_authn_credentials_file",
            "token credentials",
        )
        source = (
            "chroma_server_authn_credentials_file"
            if setting(settings, "chroma_server_authn_credentials_file")
            else "chroma_server_authn_credentials"
        )
        unique = dict(parse_token_config(text, source))
        self._entries: list[tuple[bytes, TokenUser]] = [(digest(t), u) for t, u in unique.items()]

    def authenticate(self, headers: Mapping[str, str]) -> UserIdentity:
        token = self._extract(lower_headers(headers))
        user = find_in_constant_time(digest(token), self._entries)
        if user is None:
            raise self._reject("Invalid token.")
        logger.debug("token authentication succeeded for user %r", user.user_id)
        return user.identity()

    def _extract(self, headers: dict[str, str]) -> str:
        bearer = "'Authorization: Bearer <token>'"
        chroma = "'X-Chroma-Token: <token>'"
        if self._header == X_CHROMA_TOKEN:
            value = headers.get("x-chroma-token")
            if value is None:
                raise self._reject(f"Missing X-Chroma-Token header: this server takes the token only as {chroma}.")
            return self._non_empty(value.strip(), chroma)
        auth = headers.get("authorization")
        if auth is not None:
            scheme, token = split_authorization(auth)
            if scheme == "bearer":
                return self._non_empty(token, bearer)
        if self._header is None and "x-chroma-token" in headers:
            return self._non_empty(headers["x-chroma-token"].strip(), chroma)
        expected = bearer if self._header == AUTHORIZATION else f"{bearer} or {chroma}"
        if auth is not None:
            raise self._reject(f"Malformed Authorization header: expected {expected}.")
        raise self._reject(f"Missing token: send {expected}.")

    def _non_empty(self, token: str, expected: str) -> str:
        if not token:
            raise self._reject(f"Empty token: expected {expected}.")
        return token

    @staticmethod
    def _reject(reason: str) -> AuthenticationError:
        logger.info("token authentication failed: %s", reason)
        return AuthenticationError(reason)


class TokenAuthClientProvider:
    """Client: sends the token as ``Authorization: Bearer`` (default) or ``X-Chroma-Token``."""

    name: ClassVar[str] = "token"

    def __init__(self, settings: Any) -> None:
        header = normalize_token_header(setting(settings, "chroma_auth_token_transport_header"))
        self._header_name = header or AUTHORIZATION
        token = setting(settings, "chroma_client_auth_credentials")
        if not isinstance(token, str) or not token:
            raise InvalidArgumentError(
                "Token client auth needs chroma_client_auth_credentials "
                "(env CHROMA_CLIENT_AUTH_CREDENTIALS) set to the token."
            )
        if not is_valid_token(token):
            raise InvalidArgumentError(
                "chroma_client_auth_credentials is not a valid token: tokens are ASCII letters, "
                "digits and punctuation with no spaces."
            )
        value = f"Bearer {token}" if self._header_name == AUTHORIZATION else token
        self._value = Secret(value)

    def authenticate(self) -> dict[str, str]:
        return {self._header_name: self._value.get()}


@hookimpl
def register_authn_providers(register):
    register(TokenAuthenticationServerProvider)
    for alias in SERVER_ALIASES:
        register(TokenAuthenticationServerProvider, name=alias)


@hookimpl
def register_client_auth_providers(register):
    register(TokenAuthClientProvider)
    for alias in CLIENT_ALIASES:
        register(TokenAuthClientProvider, name=alias)
