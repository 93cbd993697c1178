"""chromadb-compatible package path: ``huedb.api.models.Collection`` (the module, as in chromadb).

``CollectionModel`` lives in ``huedb.types`` (importable by every layer); it stays importable
from here for existing ``from huedb.api.models import CollectionModel`` imports.
"""

from __future__ import annotations

from huedb.types import CollectionModel

__all__ = ["CollectionModel"]
