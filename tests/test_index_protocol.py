"""One IndexSegment protocol suite, run against every built-in index plugin."""
from __future__ import annotations

import importlib
import json
import os

import numpy as np
import pytest

from huedb.distance import exact_search, pairwise_distances
from huedb.errors import InvalidArgumentError, InvalidDimensionException, NotFoundError, PluginNotFoundError
from huedb.index import CorruptIndexError
from huedb.registry import Registry

PLUGINS = ["exact", "hnswlib", "annoy"]
SPACES = ["l2", "cosine", "ip"]
MODULES = {
    "exact": "huedb_plugins.index.exact",
    "hnswlib": "huedb_plugins.index.hnswlib_segment",
    "annoy": "huedb_plugins.index.annoy_segment",
}
# Small settings so tiny data sets still exercise the graph/forest and not only the exact buffers.
SMALL = {
    "exact": {},
    "hnswlib": {"batch_size": 64, "num_threads": 1},
    "annoy": {"rebuild_threshold": 50, "n_trees": 10},
}
DIM = 16


def plugin_class(name: str):
    """Through entry-point discovery; direct import only when the package is not installed yet."""
    try:
        return Registry().get("index_segment", name)
    except PluginNotFoundError:
        return getattr(importlib.import_module(MODULES[name]), {
            "exact": "ExactSegment", "hnswlib": "HnswlibSegment", "annoy": "AnnoySegment"}[name])


def make(name, space="l2", config=None, directory=None, dim=DIM):
    cfg = dict(SMALL[name]) if config is None else config
    return plugin_class(name)(dim, space, cfg, directory)


def load(name, directory, space="l2", config=None, dim=DIM):
    cfg = dict(SMALL[name]) if config is None else config
    return plugin_class(name).load(dim, space, cfg, directory)


def vectors(n, dim=DIM, seed=0):
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)


def labels_for(n, start=0):
    # sparse, large labels catch code that confuses labels with row numbers
    return (np.arange(start, start + n, dtype=np.int64) * 7 + 1000)


def filled(name, n=300, space="l2", seed=0, **kw):
    seg = make(name, space, **kw)
    X = vectors(n, seed=seed)
    L = labels_for(n)
    for i in range(0, n, 100):
        seg.add(L[i : i + 100], X[i : i + 100], seq=i // 100 + 1)
    return seg, L, X


def recall(found, truth):
    return np.mean([len(set(a[a >= 0]) & set(b[b >= 0])) / max(1, (b >= 0).sum()) for a, b in zip(found, truth)])


def data_files(directory):
    manifest = json.loads(next(directory.glob("*.manifest.json")).read_text())
    return [directory / e["file"] for e in manifest["files"].values()]


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


@pytest.mark.parametrize("space", SPACES)
def test_query_distances_are_exact_per_space(plugin, space):
    seg, L, X = filled(plugin, space=space)
    Q = vectors(8, seed=99)
    k = 5
    labels, dists = seg.query(Q, k)
    assert labels.shape == dists.shape == (8, k)
    assert labels.dtype == np.int64 and dists.dtype == np.float32
    true_l, true_d = exact_search(Q, X, L, k, space)
    rows = np.searchsorted(L, labels)
    expected = np.take_along_axis(pairwise_distances(Q, X, space), rows, axis=1)
    np.testing.assert_allclose(dists, expected, rtol=1e-4, atol=1e-4)
    assert (np.diff(dists, axis=1) >= 0).all()
    if plugin == "exact" or space != "ip":  # inner product is not a metric: graph/forest may miss
        assert recall(labels, true_l) >= (1.0 if plugin == "exact" else 0.9)
    if plugin == "exact":
        np.testing.assert_array_equal(labels, true_l)
        np.testing.assert_allclose(dists, true_d, rtol=1e-6)


def test_add_replaces_existing_label(plugin):
    seg, L, X = filled(plugin)
    target = np.full((1, DIM), 3.0, dtype=np.float32)
    seg.add(L[[5, 250]], np.vstack([target, target * -1]), seq=10)
    assert seg.count() == 300
    labels, dists = seg.query(target, 1)
    assert labels[0, 0] == L[5] and dists[0, 0] == pytest.approx(0.0, abs=1e-3)
    np.testing.assert_allclose(seg.get_vectors(L[[5, 250, 6]]), np.vstack([target, -target, X[6:7]]), rtol=1e-5)
    # the old vector of label 5 no longer answers
    labels, _ = seg.query(X[5:6], 3)
    assert L[5] not in labels or np.allclose(X[5], target)
    assert seg.applied_seq == 10


def test_duplicate_labels_in_one_batch_keep_the_last(plugin):
    seg = make(plugin)
    X = vectors(3)
    seg.add(np.array([7, 7, 8]), X, seq=1)
    assert seg.count() == 2
    np.testing.assert_allclose(seg.get_vectors(np.array([7])), X[1:2])


def test_delete_removes_and_ignores_unknown(plugin):
    seg, L, X = filled(plugin)
    gone = L[[0, 10, 150, 299]]
    seg.delete(np.concatenate([gone, [5, 123456789]]), seq=20)
    assert seg.count() == 296
    assert seg.applied_seq == 20
    labels, _ = seg.query(X[[0, 10, 150, 299]], 10)
    assert not np.isin(labels, gone).any()
    with pytest.raises(NotFoundError):
        seg.get_vectors(gone[:1])
    seg.delete(gone, seq=21)  # deleting again is harmless
    assert seg.count() == 296


def test_readd_after_delete(plugin):
    seg, L, X = filled(plugin)
    seg.delete(L[[3, 200]], seq=5)
    fresh = vectors(2, seed=5) * 10
    seg.add(L[[3, 200]], fresh, seq=6)
    assert seg.count() == 300
    labels, dists = seg.query(fresh, 1)
    np.testing.assert_array_equal(labels[:, 0], L[[3, 200]])
    np.testing.assert_allclose(dists[:, 0], 0.0, atol=1e-3)
    np.testing.assert_allclose(seg.get_vectors(L[[3, 200]]), fresh, rtol=1e-5)


@pytest.mark.parametrize("space", ["l2", "cosine"])
def test_small_allowed_set_is_exact(plugin, space):
    seg, L, X = filled(plugin, n=2000, space=space)
    rng = np.random.default_rng(3)
    allowed = np.sort(rng.choice(L, 20, replace=False))  # 1% selectivity
    Q = vectors(10, seed=4)
    labels, dists = seg.query(Q, 10, allowed=allowed)
    assert np.isin(labels, allowed).all()
    rows = np.searchsorted(L, allowed)
    true_l, true_d = exact_search(Q, X[rows], allowed, 10, space)
    np.testing.assert_array_equal(labels, true_l)
    np.testing.assert_allclose(dists, true_d, rtol=1e-4, atol=1e-5)


def test_large_allowed_set_uses_the_index_and_only_returns_allowed(plugin):
    seg, L, X = filled(plugin, n=5000)
    rng = np.random.default_rng(6)
    allowed = np.sort(rng.choice(L, 3000, replace=False))  # above the exact-filter limit
    Q = vectors(10, seed=7)
    labels, dists = seg.query(Q, 10, allowed=allowed)
    assert np.isin(labels, allowed).all()
    rows = np.searchsorted(L, allowed)
    true_l, _ = exact_search(Q, X[rows], allowed, 10, "l2")
    assert recall(labels, true_l) >= 0.8
    assert np.isfinite(dists).all()


def test_allowed_labels_that_are_absent_are_ignored(plugin):
    seg, L, X = filled(plugin)
    seg.delete(L[:1], seq=9)
    labels, dists = seg.query(X[:2], 5, allowed=np.array([L[0], L[1], 5, 99999999]))
    np.testing.assert_array_equal(labels[:, 0], [L[1], L[1]])
    assert (labels[:, 1:] == -1).all() and np.isinf(dists[:, 1:]).all()


def test_fewer_matches_than_k_are_padded(plugin):
    seg, L, X = filled(plugin)
    allowed = np.sort(L[[4, 40, 140]])
    labels, dists = seg.query(X[:2], 10, allowed=allowed)
    assert labels.shape == (2, 10)
    assert set(labels[0, :3]) == set(allowed) and (labels[:, 3:] == -1).all()
    assert np.isfinite(dists[:, :3]).all() and np.isinf(dists[:, 3:]).all()
    labels, _ = seg.query(X[:2], 10, allowed=np.array([], dtype=np.int64))
    assert (labels == -1).all()


def test_k_larger_than_count(plugin):
    cfg = {"exact": {}, "hnswlib": {"batch_size": 3}, "annoy": {"rebuild_threshold": 2}}[plugin]
    seg = make(plugin, config=cfg)
    X = vectors(5)
    seg.add(np.arange(5), X, seq=1)  # hnswlib: graph holds 3 or 5; annoy: a forest exists
    labels, dists = seg.query(X[:3], 10)
    assert labels.shape == (3, 10)
    assert all(set(row[:5]) == set(range(5)) for row in labels)
    assert (labels[:, 5:] == -1).all() and np.isinf(dists[:, 5:]).all()
    seg.delete(np.arange(3), seq=2)  # deleted graph items must not trip hnswlib's 2D-array error
    labels, _ = seg.query(X[:3], 4)
    assert all(set(row[:2]) == {3, 4} for row in labels) and (labels[:, 2:] == -1).all()


def test_empty_index_and_zero_k(plugin):
    seg = make(plugin)
    labels, dists = seg.query(vectors(3), 4)
    assert labels.shape == (3, 4) and (labels == -1).all() and np.isinf(dists).all()
    seg.add(np.arange(3), vectors(3), seq=1)
    labels, dists = seg.query(vectors(2), 0)
    assert labels.shape == dists.shape == (2, 0)
    assert seg.count() == 3


def test_topk_is_a_prefix_of_topk_plus_one(plugin):
    seg = make(plugin)
    X = np.repeat(vectors(40), 3, axis=0)  # exact ties everywhere
    L = np.random.default_rng(1).permutation(120).astype(np.int64)
    seg.add(L, X, seq=1)
    Q = vectors(5, seed=3)
    allowed = None if plugin == "exact" else np.sort(L[:60])  # small allowed sets take the exact path
    for k in range(1, 12):
        a, da = seg.query(Q, k, allowed=allowed)
        b, db = seg.query(Q, k + 1, allowed=allowed)
        np.testing.assert_array_equal(a, b[:, :k])
        np.testing.assert_array_equal(da, db[:, :k])


def test_invalid_inputs_raise_typed_errors(plugin):
    seg = make(plugin)
    with pytest.raises(InvalidDimensionException, match="dimension of 16, got 3"):
        seg.add(np.arange(2), np.zeros((2, 3)), seq=1)
    with pytest.raises(InvalidArgumentError, match="2 labels but 3 vectors"):
        seg.add(np.arange(2), np.zeros((3, DIM)), seq=1)
    with pytest.raises(InvalidArgumentError, match="non-negative"):
        seg.add(np.array([-1]), np.zeros((1, DIM)), seq=1)
    with pytest.raises(InvalidArgumentError, match="NaN"):
        seg.add(np.arange(1), np.full((1, DIM), np.nan), seq=1)
    with pytest.raises(InvalidDimensionException):
        seg.query(np.zeros((1, 4)), 1)
    with pytest.raises(InvalidArgumentError, match="k must be"):
        seg.query(np.zeros((1, DIM)), -1)
    with pytest.raises(InvalidArgumentError, match="space"):
        make(plugin, space="hamming")
    assert seg.count() == 0


def test_persist_and_load_round_trip(plugin, tmp_path):
    seg = make(plugin, directory=tmp_path)
    X = vectors(230)
    L = labels_for(230)
    seg.add(L[:200], X[:200], seq=1)
    seg.query(X[:1], 1)  # annoy: builds the forest
    seg.add(L[200:], X[200:], seq=2)  # hnswlib: some of these stay in the buffer; annoy: delta
    seg.delete(L[:5], seq=3)
    seg.add(L[[10]], X[[11]], seq=4)
    seg.persist()
    back = load(plugin, tmp_path)
    assert back is not None
    assert back.applied_seq == 4 and back.count() == 225
    Q = vectors(6, seed=8)
    for allowed in (None, np.sort(L[::9])):
        np.testing.assert_array_equal(back.query(Q, 7, allowed)[0], seg.query(Q, 7, allowed)[0])
    np.testing.assert_allclose(back.get_vectors(L[[10, 100, 229]]), X[[11, 100, 229]], rtol=1e-5)
    with pytest.raises(NotFoundError):
        back.get_vectors(L[:1])
    # the loaded segment keeps working and persisting
    back.add(L[:1], X[:1], seq=5)
    back.persist()
    again = load(plugin, tmp_path)
    assert again.applied_seq == 5 and again.count() == 226
    assert len(list(tmp_path.glob("*.manifest.json"))) == 1


def test_persist_replaces_old_generations(plugin, tmp_path):
    seg = make(plugin, directory=tmp_path)
    seg.add(labels_for(120), vectors(120), seq=1)
    seg.persist()
    seg.add(labels_for(120, 500), vectors(120, seed=2), seq=2)
    seg.persist()
    (tmp_path / f".{plugin}.9.x.tmp").write_bytes(b"left by a crash")
    seg.persist()
    present = sorted(p.name for p in tmp_path.iterdir())
    assert present == sorted([f"{plugin}.manifest.json"] + [p.name for p in data_files(tmp_path)])


def test_crash_before_commit_keeps_previous_generation(plugin, tmp_path, monkeypatch):
    seg = make(plugin, directory=tmp_path)
    seg.add(labels_for(100), vectors(100), seq=1)
    seg.persist()
    seg.add(labels_for(100, 500), vectors(100, seed=2), seq=2)
    real_replace = os.replace

    def crash_on_manifest(src, dst):
        if str(dst).endswith(".manifest.json"):
            raise OSError("simulated crash")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_manifest)
    with pytest.raises(OSError, match="simulated crash"):
        seg.persist()
    monkeypatch.setattr(os, "replace", real_replace)
    back = load(plugin, tmp_path)
    assert back.applied_seq == 1 and back.count() == 100


def test_load_missing_returns_none(plugin, tmp_path):
    assert load(plugin, tmp_path) is None
    assert load(plugin, tmp_path / "never-created") is None


def test_in_memory_persist_is_a_no_op(plugin, tmp_path):
    seg = make(plugin)
    seg.add(np.arange(3), vectors(3), seq=1)
    seg.persist()
    seg.close()


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_every_damaged_data_file_raises_corrupt_index_error(plugin, tmp_path, damage):
    seg = make(plugin, directory=tmp_path)
    seg.add(labels_for(230), vectors(230), seq=1)
    seg.query(vectors(1), 1)  # annoy: builds the forest
    seg.persist()
    files = data_files(tmp_path)
    assert len(files) >= 2
    for path in files:
        data = path.read_bytes()
        middle = len(data) // 2
        if damage == "truncate":
            path.write_bytes(data[:middle])
        else:
            path.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
        with pytest.raises(CorruptIndexError, match=path.name):
            load(plugin, tmp_path)
        path.write_bytes(data)
    assert load(plugin, tmp_path).count() == 230


@pytest.mark.parametrize("damage", ["manifest", "truncated-manifest", "missing", "dimension"])
def test_damaged_index_raises_corrupt_index_error(plugin, tmp_path, damage):
    seg = make(plugin, directory=tmp_path)
    seg.add(labels_for(200), vectors(200), seq=1)
    seg.persist()
    biggest = max(data_files(tmp_path), key=lambda p: p.stat().st_size)
    dim = DIM
    if damage == "truncated-manifest":
        manifest = tmp_path / f"{plugin}.manifest.json"
        manifest.write_bytes(manifest.read_bytes()[:40])
    elif damage == "manifest":
        manifest = tmp_path / f"{plugin}.manifest.json"
        manifest.write_text(manifest.read_text().replace('"applied_seq": 1', '"applied_seq": 7'))
    elif damage == "missing":
        biggest.unlink()
    else:
        dim = DIM + 1
    with pytest.raises(CorruptIndexError):
        load(plugin, tmp_path, dim=dim)


def test_update_config_mutable_params(plugin):
    cls = plugin_class(plugin)
    seg = make(plugin)
    values = {
        "ef_search": 50, "num_threads": 1, "batch_size": 10, "sync_threshold": 10, "resize_factor": 2.0,
        "n_trees": 5, "search_k": 1000, "overfetch": 3, "rebuild_threshold": 10, "rebuild_fraction": 0.5,
        "n_jobs": 1,
    }
    assert set(cls.mutable_params) <= set(values)
    seg.update_config({key: values[key] for key in cls.mutable_params})
    seg.add(labels_for(30), vectors(30), seq=1)
    labels, _ = seg.query(vectors(2, seed=1), 3)
    assert (labels >= 0).all()
    if plugin != "exact":
        with pytest.raises(InvalidArgumentError, match="unknown"):
            seg.update_config({"no_such_key": 1})
        with pytest.raises(InvalidArgumentError, match="space"):
            seg.update_config({"space": "ip"})
        with pytest.raises(InvalidArgumentError):
            make(plugin, config={cls.mutable_params[0]: "fast"})


def test_hnswlib_config_rules():
    seg = make("hnswlib", config={"ef_search": 10, "batch_size": 5})
    seg.add(np.arange(5), vectors(5), seq=1)
    seg.update_config({"ef_search": 33, "max_neighbors": 16, "space": "l2", "ef_construction": 100})  # unchanged
    assert seg._index.ef == 33
    with pytest.raises(InvalidArgumentError, match="cannot change"):
        seg.update_config({"max_neighbors": 32})
    with pytest.raises(InvalidArgumentError, match="resize_factor"):
        make("hnswlib", config={"resize_factor": 1.0})


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


def test_close_releases(plugin):
    seg, L, X = filled(plugin)
    seg.close()
    assert seg.count() == 0


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
