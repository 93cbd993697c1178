"""huedb's IndexSegment conformance suite, run against this package's ``example_flat``.

This is how a third-party index plugin is tested: subclass the suite under a name
pytest collects and point it at the class. The ``huedb_registry`` /
``huedb_register`` fixtures come from huedb's pytest plugin (active because
huedb is installed), with entry-point autoload off.
"""

from __future__ import annotations

import huedb_example_plugins.embedding
import huedb_example_plugins.index
import numpy as np
from huedb_example_plugins.index import ExampleFlatSegment

from huedb.registry import get_registry
from huedb.testing import IndexSegmentConformance


class TestExampleFlatSegment(IndexSegmentConformance):
    segment_class = ExampleFlatSegment
    is_exact = True  # brute force: results must equal exact search
    validates_config = False  # no settings: any config is accepted and ignored


def test_index_registers_through_its_hook(huedb_registry, huedb_register):
    assert huedb_registry.names("index_segment") == []  # autoload is off: nothing installed leaks in
    huedb_register(huedb_example_plugins.index)
    assert get_registry() is huedb_registry
    assert huedb_registry.get("index_segment", "example_flat") is ExampleFlatSegment


def test_index_and_embedding_function_serve_a_collection(huedb_register, tmp_path):
    import huedb

    huedb_register(huedb_example_plugins.index)
    huedb_register(huedb_example_plugins.embedding)
    ExampleHash = get_registry().get("embedding_function", "example_hash")
    client = huedb.PersistentClient(path=str(tmp_path / "db"))
    try:
        notes = client.create_collection(
            "notes", embedding_function=ExampleHash(dimension=32), configuration={"index": {"name": "example_flat"}}
        )
        notes.add(ids=["a", "b", "c"], documents=["red apples", "blue boats", "green apples and pears"])
        result = notes.query(query_texts=["blue boats"], n_results=2, include=["distances"])
        assert result["ids"][0][0] == "b"
        assert result["distances"][0][0] == np.float32(0.0) or abs(result["distances"][0][0]) < 1e-5
    finally:
        client.close()
