"""Shared by provider embedding functions: their optional SDKs, and API keys (read from the
environment, never persisted)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from types import ModuleType

from huedb.embedding_functions import MissingProviderPackage
from huedb.errors import InvalidArgumentError


def resolve_api_key(
    ef_name: str,
    api_key: str | None,
    api_key_env_var: str,
    default_env_var: str,
    standard_env_var: str | Sequence[str] | None = (),
) -> tuple[str, str]:
    """Returns (key, env var to persist). The named variable wins; with the default
    name, the provider SDK's standard variable(s) are the fallback."""
    if not isinstance(api_key_env_var, str) or not api_key_env_var:
        raise InvalidArgumentError(
            f"{ef_name}: api_key_env_var must name an environment variable, got {api_key_env_var!r}"
        )
    candidates = [api_key_env_var]
    if api_key_env_var == default_env_var:
        fallbacks = [standard_env_var] if isinstance(standard_env_var, str) else list(standard_env_var or ())
        candidates.extend(v for v in fallbacks if v not in candidates)
    if api_key:
        return api_key, api_key_env_var
    for var in candidates:
        value = os.environ.get(var)
        if value:
            return value, var
    names = " or ".join(candidates)
    raise InvalidArgumentError(
        f"{ef_name} needs an API key: set the {names} environment variable, "
        f"pass api_key_env_var='<YOUR_VAR>' naming the variable that holds it, or pass api_key=... "
        f"(a key passed directly is used but never persisted)."
    )


def import_sdk(module: str, ef_name: str, package: str, extra: str) -> ModuleType:
    """Imports a provider SDK on first use, so the plugin is listed even without its extra."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingProviderPackage(
            f"{ef_name} needs the {package} package: pip install 'huedb[{extra}]'", extra
        ) from e
