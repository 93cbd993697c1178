"""Testing kit for huedb plugin authors.

- ``huedb.testing.IndexSegmentConformance``: the IndexSegment conformance suite.
  Subclass it in a test module (as ``TestMySegment``) and set ``segment_class``.
- ``huedb.testing.StorageBackendConformance``: the storage-backend conformance suite.
  Subclass it and implement ``make_backend(tmp_path)``.
- ``huedb.testing.pytest_plugin``: fixtures (``huedb_registry``, ``huedb_register``),
  active in every pytest run once huedb is installed (``pytest11`` entry point).

``import huedb`` never imports this package, and importing it does not import the
suite (numpy, pytest assertions) until ``IndexSegmentConformance`` is asked for, so
the pytest plugin stays cheap to load.
"""

from __future__ import annotations

from typing import Any

import pytest

# The suite's plain asserts get pytest's detailed failure messages (langchain-tests does
# the same); this must run before huedb.testing.index_segment is first imported.
pytest.register_assert_rewrite("huedb.testing.index_segment", "huedb.testing.storage", "huedb.testing.storage_sparse")

__all__ = ["IndexSegmentConformance", "StorageBackendConformance"]


def __getattr__(name: str) -> Any:
    # PEP 562 lazy attribute: loading the pytest plugin imports this package, and
    # it must not pull in the suite for projects that never use it.
    if name == "IndexSegmentConformance":
        from huedb.testing.index_segment import IndexSegmentConformance

        return IndexSegmentConformance
    if name == "StorageBackendConformance":
        from huedb.testing.storage import StorageBackendConformance

        return StorageBackendConformance
    raise AttributeError(f"module 'huedb.testing' has no attribute {name!r}")
