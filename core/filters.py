"""``where`` and ``where_document`` checks that need no storage: clients call them
before embedding, and the engine's backend compiles the same filters (for SQLite,
``huedb.storage.sqlite.filters``, which holds the rules and their limits).
"""

from __future__ import annotations

from typing import Any

from huedb.storage.sqlite.filters import (  # noqa: F401 - the documented limits, re-exported
    MAX_DEPTH,
    MAX_DOCUMENT_DEPTH,
    MAX_DOCUMENT_TERMS,
    compile_where,
    compile_where_document,
)


def validate_where(where: Any) -> None:
    """Checks a ``where`` filter without reading anything; raises InvalidArgumentError."""
    compile_where(where, 0)


def validate_where_document(where_document: Any) -> None:
    """Checks a ``where_document`` filter without reading anything; raises InvalidArgumentError."""
    compile_where_document(where_document, 0)
