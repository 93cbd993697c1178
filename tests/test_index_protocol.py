"""The IndexSegment conformance suite (huedb.testing) run against every built-in index plugin,
plus the tests of what only one built-in does (hnswlib's buffer, annoy's forest, the manifest format)."""

from __future__ import annotations

import functools
import importlib

import numpy as np
import pytest

from huedb.distance import exact_search
from huedb.errors import InvalidArgumentError, InvalidDimensionException, PluginNotFoundError
from huedb.index import CorruptIndexError
from huedb.registry import Registry
from huedb.testing import IndexSegmentConformance

PLUGINS = ["exact", "hnswlib", "annoy"]
MODULES = {
    "exact": "huedb_plugins.index.exact",
    "hnswlib": "huedb_plugins.index.hnswlib_segment",
    "annoy": "huedb_plugins.index.annoy_segment",
}
CLASSES = {"exact": "ExactSegment", "hnswlib": "HnswlibSegment", "annoy": "AnnoySegment"}
# Small settings so tiny data sets still exercise the graph/forest and not only the exact buffers.
SMALL = {
    "exact": {},
    "hnswlib": {"batch_size": 64, "num_threads": 1},
    "annoy": {"rebuild_threshold": 50, "n_trees": 10},
}
# A valid value for every mutable parameter of every built-in.
MUTABLE_VALUES = {
    "ef_search": 50,
    "num_threads": 1,
    "batch_size": 10,
    "sync_threshold": 10,
    "resize_factor": 2.0,
    "n_trees": 5,
    "search_k": 1000,
    "overfetch": 3,
    "rebuild_threshold": 10,
    "rebuild_fraction": 0.5,
    "n_jobs": 1,
}
DIM = 16


@functools.cache
def plugin_class(name: str):
    """Through entry-point discovery; direct import only when the package is not installed yet."""
    try:
        return Registry().get("index_segment", name)
    except PluginNotFoundError:
        return getattr(importlib.import_module(MODULES[name]), CLASSES[name])


class TestExactSegment(IndexSegmentConformance):
    segment_class = plugin_class("exact")
    small_config = SMALL["exact"]
    is_exact = True
    validates_config = False  # exact has no settings: whatever config the collection carries is ignored


class TestHnswlibSegment(IndexSegmentConformance):
    segment_class = plugin_class("hnswlib")
    small_config = SMALL["hnswlib"]
    tiny_config = {"batch_size": 3}  # the graph holds 3 or 5 of 5 vectors
    mutable_values = MUTABLE_VALUES


class TestAnnoySegment(IndexSegmentConformance):
    segment_class = plugin_class("annoy")
    small_config = SMALL["annoy"]
    tiny_config = {"rebuild_threshold": 2}  # a forest exists even for 5 vectors
    mutable_values = MUTABLE_VALUES


def make(name, space="l2", config=None, directory=None, dim=DIM):
    cfg = dict(SMALL[name]) if config is None else config
    return plugin_class(name)(dim, space, cfg, directory)


def load(name, directory, space="l2", config=None, dim=DIM):
    cfg = dict(SMALL[name]) if config is None else config
    return plugin_class(name).load(dim, space, cfg, directory)


def vectors(n, dim=DIM, seed=0):
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)


def labels_for(n, start=0):
    return IndexSegmentConformance.labels_for(n, start)


@pytest.fixture(params=PLUGINS)
def plugin(request):
    return request.param


def test_plugins_are_discovered_through_entry_points():
    registry = Registry()
    assert set(PLUGINS) <= set(registry.names("index_segment"))
    for name in PLUGINS:
        cls = registry.get("index_segment", name)
        assert cls.name == name
        assert cls.__module__ == MODULES[name]
        assert isinstance(cls.mutable_params, tuple)


def test_builtin_error_messages_say_what_is_wrong(plugin):
    """The conformance suite checks error types; the built-ins also share these messages."""
    seg = make(plugin)
    with pytest.raises(InvalidDimensionException, match="dimension of 16, got 3"):
        seg.add(np.arange(2), np.zeros((2, 3)), seq=1)
    with pytest.raises(InvalidArgumentError, match="2 labels but 3 vectors"):
        seg.add(np.arange(2), np.zeros((3, DIM)), seq=1)
    with pytest.raises(InvalidArgumentError, match="non-negative"):
        seg.add(np.array([-1]), np.zeros((1, DIM)), seq=1)
    with pytest.raises(InvalidArgumentError, match="NaN"):
        seg.add(np.arange(1), np.full((1, DIM), np.nan), seq=1)
    with pytest.raises(InvalidArgumentError, match="k must be"):
        seg.query(np.zeros((1, DIM)), -1)
    with pytest.raises(InvalidArgumentError, match="space"):
        make(plugin, space="hamming")


@pytest.mark.parametrize("damage", ["manifest", "truncated-manifest", "stale-tmp"])
def test_builtin_manifest_is_checksummed_and_stray_temp_files_go(plugin, tmp_path, damage):
    """The built-ins share one on-disk format (atomic.py): a checksummed manifest per generation."""
    seg = make(plugin, directory=tmp_path)
    seg.add(labels_for(200), vectors(200), seq=1)
    seg.persist()
    manifest = tmp_path / f"{plugin}.manifest.json"
    if damage == "manifest":  # valid JSON, edited: the manifest's own checksum catches it
        manifest.write_text(manifest.read_text().replace('"applied_seq": 1', '"applied_seq": 7'))
        with pytest.raises(CorruptIndexError, match="checksum"):
            load(plugin, tmp_path)
    elif damage == "truncated-manifest":
        manifest.write_bytes(manifest.read_bytes()[:40])
        with pytest.raises(CorruptIndexError):
            load(plugin, tmp_path)
    else:  # a temp file of a generation that never committed, named as atomic.py names them
        stray = tmp_path / f".{plugin}.9.x.tmp"
        stray.write_bytes(b"left by a crash")
        seg.add(labels_for(10, 900), vectors(10, seed=1), seq=2)
        seg.persist()
        assert not stray.exists()
        assert load(plugin, tmp_path).applied_seq == 2


def test_hnswlib_config_rules():
    seg = make("hnswlib", config={"ef_search": 10, "batch_size": 5})
    seg.add(np.arange(5), vectors(5), seq=1)
    seg.update_config({"ef_search": 33, "max_neighbors": 16, "space": "l2", "ef_construction": 100})  # unchanged
    assert seg._index.ef == 33
    with pytest.raises(InvalidArgumentError, match="cannot change"):
        seg.update_config({"max_neighbors": 32})
    with pytest.raises(InvalidArgumentError, match="resize_factor"):
        make("hnswlib", config={"resize_factor": 0.99})  # 1.0 is accepted, as on Chroma


def test_hnswlib_buffer_is_searched_and_flushed():
    seg = make("hnswlib", config={"batch_size": 10})
    X = vectors(25)
    seg.add(np.arange(6), X[:6], seq=1)
    assert seg.buffered == 6 and seg.capacity == 0
    labels, dists = seg.query(X[:6], 1)
    np.testing.assert_array_equal(labels[:, 0], np.arange(6))
    seg.add(np.arange(6, 12), X[6:12], seq=2)  # reaches batch_size: all 12 go into the graph
    assert seg.buffered == 0 and seg.capacity >= 12
    seg.add(np.arange(12, 15), X[12:15], seq=3)
    seg.add(np.array([0]), X[20:21], seq=4)  # update of a graph label goes through the buffer
    assert seg.buffered == 4 and seg.count() == 15
    labels, _ = seg.query(X[[20, 13, 5]], 1)
    np.testing.assert_array_equal(labels[:, 0], [0, 13, 5])
    seg.update_config({"batch_size": 2})  # a smaller batch flushes the waiting items now
    assert seg.buffered == 0
    labels, _ = seg.query(X[[20, 13]], 1)
    np.testing.assert_array_equal(labels[:, 0], [0, 13])


def test_hnswlib_sync_threshold_persists(tmp_path):
    seg = make("hnswlib", config={"batch_size": 50, "sync_threshold": 20}, directory=tmp_path)
    seg.add(labels_for(10), vectors(10), seq=1)
    assert load("hnswlib", tmp_path) is None
    seg.add(labels_for(15, 100), vectors(15, seed=1), seq=2)  # 25 writes >= 20
    back = load("hnswlib", tmp_path)
    assert back.count() == 25 and back.applied_seq == 2 and back.buffered == 25  # the buffer is persisted too


def test_hnswlib_large_index_persists_after_a_quarter_of_its_size(tmp_path):
    seg = make("hnswlib", config={"batch_size": 10, "sync_threshold": 20}, directory=tmp_path)
    seg.add(labels_for(200), vectors(200), seq=1)  # 200 >= max(20, 200 // 4)
    assert load("hnswlib", tmp_path).count() == 200
    seg.add(labels_for(60, 1000), vectors(60, seed=1), seq=2)  # 60 < 260 // 4: not yet
    assert load("hnswlib", tmp_path).applied_seq == 1
    seg.add(labels_for(10, 2000), vectors(10, seed=2), seq=3)  # 70 >= 270 // 4
    back = load("hnswlib", tmp_path)
    assert back.count() == 270 and back.applied_seq == 3


def test_hnswlib_resizes_beyond_initial_capacity():
    from huedb_plugins.index.hnswlib_segment import INITIAL_CAPACITY

    seg = make("hnswlib", config={"batch_size": 100, "resize_factor": 1.5})
    n = INITIAL_CAPACITY * 2 + 50
    X = vectors(n)
    for i in range(0, n, 300):
        seg.add(np.arange(i, min(n, i + 300)), X[i : i + 300], seq=i + 1)
    assert seg.capacity >= n - seg.buffered and seg.capacity > INITIAL_CAPACITY
    assert seg.count() == n
    labels, _ = seg.query(X[::200], 1)
    np.testing.assert_array_equal(labels[:, 0], np.arange(0, n, 200))


def test_hnswlib_cosine_get_vectors_keeps_length():
    seg = make("hnswlib", space="cosine", config={"batch_size": 4})
    X = vectors(8) * 5
    X[3] = 0.0  # zero vectors survive normalisation too
    seg.add(np.arange(8), X, seq=1)
    assert seg.buffered == 0
    np.testing.assert_allclose(seg.get_vectors(np.arange(8)), X, rtol=1e-5, atol=1e-6)


def test_annoy_rebuilds_and_tombstones():
    seg = make("annoy", config={"rebuild_threshold": 20, "rebuild_fraction": 0.5, "n_trees": 5})
    X = vectors(60)
    seg.add(np.arange(15), X[:15], seq=1)
    assert seg.forest_size == 0 and seg.pending == 15  # below threshold: all exact
    seg.add(np.arange(15, 60), X[15:], seq=2)
    assert seg.forest_size == 0 and seg.pending == 60  # writes never build...
    seg.query(X[:1], 1)  # ...the first query past the threshold does
    assert seg.forest_size == 60 and seg.pending == 0
    seg.add(np.array([1, 2]), X[[40, 41]] + 0.001, seq=3)  # replaced: tombstone + delta
    seg.delete(np.array([3]), seq=4)
    assert seg.pending == 2 * 2 + 1 and seg.count() == 59
    labels, _ = seg.query(X[[40, 3]], 3)
    assert 1 in labels[0] and 40 in labels[0]
    assert 3 not in labels[1]
    seg.rebuild()
    assert seg.pending == 0 and seg.forest_size == 59
    np.testing.assert_allclose(seg.get_vectors(np.array([1])), X[[40]] + 0.001)


def test_hnswlib_widens_ef_then_falls_back_to_exact():
    seg = make("hnswlib", config={"batch_size": 10, "ef_search": 10})
    X = vectors(200)
    seg.add(np.arange(200), X, seq=1)

    class AlwaysShort:
        """Delegates to the real graph but answers every knn_query like an under-sized ef would."""

        def __init__(self, real):
            self.real, self.efs = real, []

        def __getattr__(self, name):
            return getattr(self.real, name)

        def set_ef(self, ef):
            self.efs.append(ef)
            self.real.set_ef(ef)

        def knn_query(self, *args, **kwargs):
            raise RuntimeError("Cannot return the results in a contiguous 2D array. Probably ef or M is too small")

    seg._index = AlwaysShort(seg._index)
    labels, dists = seg.query(X[:3], 5)
    true_l, true_d = exact_search(X[:3], X, np.arange(200), 5, "l2")
    np.testing.assert_array_equal(labels, true_l)
    np.testing.assert_allclose(dists, true_d, rtol=1e-4, atol=1e-4)
    assert seg._index.efs == [10, 40, 160, 200, 10]  # widened to the graph size, then restored
