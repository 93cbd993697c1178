"""Shared by provider embedding functions: their optional SDKs, and API keys (read from the
environment, never persisted)."""
from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Optional, Tuple

from huedb.errors import InvalidArgumentError


def resolve_api_key(
    ef_name: str, api_key: Optional[str], api_key_env_var: str, default_env_var: str, standard_env_var: str
) -> Tuple[str, str]:
    """Returns (key, env var to persist). The named variable wins; with the default
    name, the provider SDK's standard variable is the fallback."""
    candidates = [api_key_env_var]
    if api_key_env_var == default_env_var:
        candidates.append(standard_env_var)
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
        raise InvalidArgumentError(f"{ef_name} needs the {package} package: pip install 'huedb[{extra}]'") from e
