"""Helpers shared by the auth plugins: settings access, credential sources,
header parsing, constant-time comparison, and a secret wrapper.

Nothing here ever puts a credential into an error message or a log line:
messages name the setting, the header or the line number, never the value.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from typing import Any

from huedb.auth import UserIdentity
from huedb.errors import InvalidArgumentError

AUTHORIZATION = "Authorization"
X_CHROMA_TOKEN = "X-Chroma-Token"
#: the token transport headers Chroma accepts (lower-cased -> canonical spelling)
TOKEN_HEADERS: dict[str, str] = {"authorization": AUTHORIZATION, "x-chroma-token": X_CHROMA_TOKEN}

#: Chroma's "any tenant / any database" marker in user files
WILDCARD = "*"


class Secret:
    """Holds a credential; its repr and str never show the value (safe in logs and tracebacks)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__


# -- settings ---------------------------------------------------------------
def setting(settings: Any, name: str) -> Any:
    """Reads ``name`` from a Settings object (attribute access) or a plain mapping."""
    if settings is None:
        return None
    if isinstance(settings, Mapping):
        return settings.get(name)
    return getattr(settings, name, None)


def _env_name(name: str) -> str:
    return name.upper()


def read_text_or_file(settings: Any, text_name: str, file_name: str, what: str) -> str:
    """Returns the configured text from ``text_name`` or the contents of the file at ``file_name``.

    Exactly one of the two must be set, as in Chroma.
    """
    text = setting(settings, text_name)
    path = setting(settings, file_name)
    if text in ("", None) and path in ("", None):
        raise InvalidArgumentError(
            f"No {what} configured: set {text_name} (env {_env_name(text_name)}) or "
            f"{file_name} (env {_env_name(file_name)}) to the path of a {what} file."
        )
    if text not in ("", None) and path not in ("", None):
        raise InvalidArgumentError(f"Both {text_name} and {file_name} are set; set only one of them.")
    if text not in ("", None):
        if not isinstance(text, str):
            raise InvalidArgumentError(f"{text_name} must be a string, got {type(text).__name__}.")
        return text
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        raise InvalidArgumentError(
            f"{file_name} points to {path!r}, which does not exist. Create the {what} file or fix the path."
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        # The OS message names the path and the problem; it never contains file contents.
        raise InvalidArgumentError(
            f"Cannot read {what} file {path!r} ({type(e).__name__}); check its permissions and that it is UTF-8 text."
        ) from None


def load_yaml(text: str, source: str) -> Any:
    """yaml.safe_load whose errors give line and problem but never quote the text.

    PyYAML's own messages quote the offending line, which may hold a token. (Imported here:
    every process discovers this plugin, few read YAML.)
    """
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or "syntax error"
        raise InvalidArgumentError(f"{source} is not valid YAML{where}: {problem}.") from None


def content_lines(text: str) -> list[tuple[int, str]]:
    """(1-based line number, stripped line) for non-blank, non-comment lines."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith("#"):
            out.append((number, line))
    return out


def normalize_token_header(value: str | None, setting_name: str = "chroma_auth_token_transport_header") -> str | None:
    """Canonical token header name, or None when not configured.

    Accepts any case and Chroma's legacy enum spelling (``AUTHORIZATION``, ``X_CHROMA_TOKEN``).
    """
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{setting_name} must be a string, got {type(value).__name__}.")
    key = value.strip().lower().replace("_", "-")
    if key not in TOKEN_HEADERS:
        raise InvalidArgumentError(
            f"Invalid {setting_name} {value!r}: expected one of {sorted(TOKEN_HEADERS.values())}."
        )
    return TOKEN_HEADERS[key]


# -- headers ----------------------------------------------------------------
def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Case-insensitive view of request headers (works for dicts and Starlette Headers)."""
    if headers is None:
        return {}
    return {str(k).lower(): v for k, v in headers.items()}


def split_authorization(value: str) -> tuple[str, str]:
    """``"Scheme credentials"`` -> (lower-cased scheme, credentials). Never echoes the value."""
    scheme, _, rest = value.strip().partition(" ")
    return scheme.lower(), rest.strip()


# -- comparison -------------------------------------------------------------
def digest(value: str) -> bytes:
    """Fixed-length digest so comparisons do not leak the length of the secret."""
    return hashlib.sha256(value.encode("utf-8")).digest()


def constant_time_equals(a: str, b: str) -> bool:
    """Compares two secrets in time independent of where (and whether) they differ."""
    return hmac.compare_digest(digest(a), digest(b))


def find_in_constant_time(candidate: bytes, entries: list[tuple[bytes, Any]]) -> Any | None:
    """Returns the value whose digest equals ``candidate``, comparing against every entry.

    No early exit: the time taken does not reveal which entry (if any) matched.
    """
    found = None
    for key, value in entries:
        hit = hmac.compare_digest(key, candidate)
        found = value if hit else found
    return found


# -- tenant / database scope -------------------------------------------------
def normalize_tenant(tenant: Any) -> str | None:
    """None means "any tenant" (Chroma writes it as ``*``)."""
    if tenant in (None, "", WILDCARD):
        return None
    if not isinstance(tenant, str):
        raise InvalidArgumentError(f"tenant must be a string, got {type(tenant).__name__}.")
    return tenant


def normalize_databases(databases: Any) -> list[str]:
    """An empty list means "any database" (Chroma writes it as ``["*"]``)."""
    if databases in (None, "", WILDCARD):
        return []
    if isinstance(databases, str):
        databases = [databases]
    if not isinstance(databases, (list, tuple)) or not all(isinstance(d, str) and d for d in databases):
        raise InvalidArgumentError(f"databases must be a list of database names, got {databases!r}.")
    if WILDCARD in databases:
        return []
    return list(dict.fromkeys(databases))


def singleton_tenant_database_if_applicable(settings: Any, user: UserIdentity | None) -> tuple[str | None, str | None]:
    """Chroma's ``chroma_overwrite_singleton_tenant_database_access_from_auth``.

    When that setting is true, a user bound to one tenant (and one database)
    gets them as the request's tenant (and database), so clients need not
    pass them. Returns (None, None) when the setting is off or nothing is bound.
    """
    enabled = setting(settings, "chroma_overwrite_singleton_tenant_database_access_from_auth")
    if isinstance(enabled, str):
        enabled = enabled.strip().lower() in ("1", "true", "yes", "on")
    if not enabled or user is None:
        return None, None
    tenant = normalize_tenant(user.tenant)
    databases = normalize_databases(user.databases)
    return tenant, databases[0] if len(databases) == 1 else None
