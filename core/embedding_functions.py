"""The EmbeddingFunction and DataLoader protocols.

Implementations live in plugins (``plugins/embedding``, ``plugins/loaders`` or
third-party packages) and reach the core only through the plugin registry.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

import numpy as np

from huedb.errors import InvalidArgumentError

Document = str
Image = np.ndarray
Embedding = np.ndarray
Embeddings = list[np.ndarray]
Documents = list[str]
Images = list[np.ndarray]
Embeddable = Documents | Images
D = TypeVar("D", contravariant=True)

from huedb.distance import SPACES  # noqa: E402 - re-exported for EF authors


def ef_class_name(cls: Any) -> Any:
    """``cls.name()``, whether name is a static method (Chroma's pattern) or an ordinary one
    (also accepted by chromadb): that one is called on an instance made without ``__init__``."""
    if not callable(getattr(cls, "name", None)):
        return None
    if isinstance(inspect.getattr_static(cls, "name", None), (staticmethod, classmethod)):
        return cls.name()
    return cls.__new__(cls).name()


class MissingProviderPackage(InvalidArgumentError):
    """An EF's optional SDK is not installed. ``extra`` names the huedb extra that installs it,
    so a rebuilt EF can say "Collection 'x' uses embedding function 'y': pip install 'huedb[extra]'"."""

    def __init__(self, message: str, extra: str) -> None:
        super().__init__(message)
        self.extra = extra


@dataclass(frozen=True)
class ProviderEgress:
    """What a provider EF documents about where its key comes from and where it sends data.

    A persisted config is written by whoever created the collection, not by the user whose
    client rebuilds it, so ``huedb.ef_persistence.check_persisted_ef`` lets a rebuilt EF read
    only these variables and reach only these hosts unless that user allows more in settings.
    """

    #: environment variables the provider documents for its API key
    api_key_env_vars: tuple[str, ...] = ()
    #: hosts the SDK reaches (over https) when no endpoint is configured
    default_hosts: tuple[str, ...] = ()
    #: config fields naming an endpoint, beyond the common ones (api_base, base_url, url, ...)
    endpoint_fields: tuple[str, ...] = ()


class EmbeddingFunction(Protocol[D]):
    """Turns a batch of inputs (texts or images) into float32 vectors.

    Subclasses implement ``__call__``; everything else has sensible defaults.
    ``name()`` is the registry key persisted with each collection, and
    ``get_config()``/``build_from_config()`` must round-trip without secrets
    (store ``api_key_env_var``, never the key). Providers that call a remote API set
    ``egress`` to declare their documented key variables and default hosts.
    """

    egress: ClassVar[ProviderEgress | None] = None

    def __call__(self, input: D) -> Embeddings: ...

    @classmethod
    def persisted_config_problem(cls, config: dict[str, Any]) -> str | None:
        """Why a persisted ``config``, written by whoever created the collection, must not be
        rebuilt in this user's client; None when it may. Providers that load weights or
        code named in their config (a hub repo, a file path) refuse names outside their
        own catalogue here, so a collection cannot make its readers load arbitrary files."""
        return None

    def embed_query(self, input: D) -> Embeddings:
        """Embeds query inputs; providers with a query mode override this."""
        return self(input)

    def embed_with_retries(self, input: D, **retry_kwargs: Any) -> Embeddings:
        """Calls the EF, retried with tenacity's ``retry(**retry_kwargs)`` (e.g.
        ``stop=stop_after_attempt(3)``; with no arguments tenacity retries until it succeeds),
        as chromadb's does. Returns one float32 vector per input."""
        try:
            from tenacity import retry
        except ImportError:
            raise ImportError("embed_with_retries needs tenacity: pip install tenacity") from None
        vectors = retry(**retry_kwargs)(self.__call__)(input)
        return [np.asarray(v, dtype=np.float32) for v in vectors]

    @staticmethod
    def name() -> str:
        return "legacy"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> EmbeddingFunction[D]:
        raise NotImplementedError("this embedding function cannot be rebuilt from a config")

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Checks a config before it is persisted; schema checks run too."""
        return None  # a default, not an abstract method (an empty protocol body would be one)

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        """Rejects config changes the EF cannot accept (e.g. a new model)."""
        return None

    def default_space(self) -> str:
        return "l2"

    def supported_spaces(self) -> list[str]:
        return list(SPACES)

    def is_legacy(self) -> bool:
        return False

    def supports_images(self) -> bool:
        """True when the EF embeds numpy images as well as text."""
        return False


#: what a DataLoader returns (chromadb's ``L``): ``DataLoader[List[Optional[Image]]]`` subclasses it
L = TypeVar("L", covariant=True)


@runtime_checkable
class DataLoader(Protocol[L]):
    """Loads the data behind URIs (e.g. images from files) for embedding and ``include=["data"]``."""

    def __call__(self, uris: Sequence[str | None]) -> L: ...


def normalize_embeddings(value: Any) -> np.ndarray | None:
    """Coerces embeddings (list of lists, list of arrays, 2-D array) to a 2-D float32 array."""
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        arr = value
    else:
        if len(value) > 0 and isinstance(value[0], (int, float, np.number)) and not isinstance(value[0], bool):
            # A single embedding given as a flat list.
            value = [value]
        try:
            arr = np.asarray(value)
        except ValueError as e:
            from huedb.errors import InvalidArgumentError

            raise InvalidArgumentError(f"Expected embeddings to be a list of equal-length numeric lists: {e}") from e
    if arr.ndim == 1:
        arr = arr.reshape(1, -1) if arr.size else arr.reshape(0, 0)
    return arr


def ef_is_legacy(ef: Any) -> bool:
    """An EF without ``name()``/``get_config()`` of its own is a legacy EF: usable, not persistable."""
    cls = type(ef)
    return (
        getattr(cls, "name", None) in (None, EmbeddingFunction.name)
        or getattr(cls, "get_config", None) in (None, EmbeddingFunction.get_config)
        or bool(getattr(ef, "is_legacy", lambda: False)())
    )
