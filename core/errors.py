"""Error classes, named exactly as chromadb names them.

Every error carries a ``name()`` used as the ``error`` field of HTTP error
bodies, and a ``code()`` used as the HTTP status.
"""

from __future__ import annotations


class ChromaError(Exception):
    """Base class of every huedb error (named like chromadb's for drop-in use)."""

    #: set by chromadb's HTTP client from a response header; kept for code that reads it
    trace_id: str | None = None

    def code(self) -> int:
        return 500

    def message(self) -> str:
        return ", ".join(str(a) for a in self.args)

    @classmethod
    def name(cls) -> str:
        return cls.__name__


class InvalidArgumentError(ChromaError, ValueError):
    def code(self) -> int:
        return 400


class InvalidDimensionException(InvalidArgumentError):
    pass


class InvalidCollectionException(InvalidArgumentError):
    pass


class DuplicateIDError(InvalidArgumentError):
    pass


class NotFoundError(ChromaError, ValueError):
    def code(self) -> int:
        return 404


class InternalError(ChromaError):
    """chromadb 1.x raises this class for duplicate collections; kept for ``except InternalError``."""


class UniqueConstraintError(InternalError, ValueError):
    """Raised when creating something whose name already exists.

    Catchable as UniqueConstraintError (older chromadb), InternalError (chromadb 1.x) or ValueError.
    """

    def code(self) -> int:
        return 409


class AuthorizationError(ChromaError):
    def code(self) -> int:
        return 401


class AuthenticationError(AuthorizationError):
    pass


class ChromaAuthError(ChromaError):
    """chromadb's 403 class (wire name "AuthError"). Its bare message is "Forbidden", as in chromadb."""

    def code(self) -> int:
        return 403

    @classmethod
    def name(cls) -> str:
        return "AuthError"

    def message(self) -> str:
        return "Forbidden"


class ForbiddenError(ChromaAuthError):
    """What huedb raises for a 403: a ChromaAuthError that keeps its explanation."""

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    def message(self) -> str:
        return ChromaError.message(self)


class QuotaError(ChromaError):
    def code(self) -> int:
        return 400


class NotImplementedFeatureError(ChromaError):
    def code(self) -> int:
        return 501


class PluginNotFoundError(ChromaError, ValueError):
    """A persisted or requested plugin (embedding function, index...) is not installed."""

    def code(self) -> int:
        return 400


class PluginConflictError(ChromaError, ValueError):
    """Two plugins claim the same name."""


class PluginValidationError(ChromaError, ValueError):
    """A plugin implements a hook that no hookspec defines (usually a misspelling)."""


class RequestTooLargeError(ChromaError):
    def code(self) -> int:
        return 413


# chromadb's other error classes, with its status codes and names (observed in chromadb 1.5.9).
class IDAlreadyExistsError(ChromaError):
    def code(self) -> int:
        return 409

    @classmethod
    def name(cls) -> str:
        return "IDAlreadyExists"


class InvalidUUIDError(InvalidArgumentError):
    @classmethod
    def name(cls) -> str:
        return "InvalidUUID"


class InvalidHTTPVersion(ChromaError):
    def code(self) -> int:
        return 400


class BatchSizeExceededError(ChromaError):
    def code(self) -> int:
        return 413


class VersionMismatchError(ChromaError):
    def code(self) -> int:
        return 500


class RateLimitError(ChromaError):
    def code(self) -> int:
        return 429


_BY_NAME = {
    cls.__name__: cls
    for cls in (
        ChromaError,
        InvalidArgumentError,
        InvalidDimensionException,
        InvalidCollectionException,
        DuplicateIDError,
        NotFoundError,
        UniqueConstraintError,
        InternalError,
        AuthorizationError,
        AuthenticationError,
        ForbiddenError,
        QuotaError,
        NotImplementedFeatureError,
        PluginNotFoundError,
        PluginConflictError,
        RequestTooLargeError,
        ChromaAuthError,
        IDAlreadyExistsError,
        InvalidUUIDError,
        InvalidHTTPVersion,
        BatchSizeExceededError,
        VersionMismatchError,
        RateLimitError,
    )
}
# the wire names chromadb's classes use where they differ from the class name
_BY_NAME.update(
    {"AuthError": ChromaAuthError, "IDAlreadyExists": IDAlreadyExistsError, "InvalidUUID": InvalidUUIDError}
)

#: chromadb's ``error_types``: wire name -> class
error_types = dict(_BY_NAME)


def error_from_name(name: str, message: str) -> ChromaError:
    """Rebuild a typed error from its wire name (HTTP clients use this)."""
    return _BY_NAME.get(name, ChromaError)(message)
