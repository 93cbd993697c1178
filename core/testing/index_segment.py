"""The IndexSegment conformance suite: what the core relies on from every index plugin.

Subclass ``IndexSegmentConformance`` in a test module under a name pytest collects
(``Test...``) and point ``segment_class`` at your class::

    from huedb.testing import IndexSegmentConformance
    from my_package.index import MySegment

    class TestMySegment(IndexSegmentConformance):
        segment_class = MySegment
        small_config = {"batch_size": 64}   # keeps the tests fast, still exercises the ANN structure

The base class is not named ``Test...``, so importing it collects nothing by itself.
Every test only uses the public protocol of ``huedb.index.IndexSegment`` and
behaviour documented in docs/index-plugins.md; nothing here imports a plugin.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from huedb.distance import SPACES, exact_search, pairwise_distances
from huedb.errors import InvalidArgumentError, InvalidDimensionException, NotFoundError
from huedb.testing.index_persistence import PersistenceChecks, _listing

__all__ = ["IndexSegmentConformance", "recall"]

ALL_SPACES: tuple[str, ...] = SPACES


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of the true (non-padding) labels found, per query row."""
    return float(
        np.mean([len(set(a[a >= 0]) & set(b[b >= 0])) / max(1, int((b >= 0).sum())) for a, b in zip(found, truth)])
    )


class IndexSegmentConformance(PersistenceChecks):
    """Generic IndexSegment tests. Configure a subclass with the class attributes below."""

    #: the IndexSegment class under test (required)
    segment_class: ClassVar[Any] = None
    #: config passed to the constructor: small enough that the tests' few hundred
    #: vectors reach the plugin's ANN structure, not only its exact write buffers
    small_config: ClassVar[dict[str, Any]] = {}
    #: config under which even 5 vectors reach the ANN structure (default: small_config)
    tiny_config: ClassVar[dict[str, Any] | None] = None
    #: distance spaces the plugin supports (must include "l2" or "cosine")
    spaces: ClassVar[tuple[str, ...]] = ALL_SPACES
    #: vector dimension used by the tests
    dimension: ClassVar[int] = 16
    #: True for brute-force plugins: results must then equal exact search everywhere
    is_exact: ClassVar[bool] = False
    #: minimum recall of unfiltered queries (l2/cosine) for approximate plugins
    min_recall: ClassVar[float] = 0.9
    #: minimum recall of queries with a large allowed set, for approximate plugins
    min_filtered_recall: ClassVar[float] = 0.8
    #: True if the plugin checks its config (unknown keys, wrong types, a changed space);
    #: False if it ignores config entirely (then any config must be accepted)
    validates_config: ClassVar[bool] = True
    #: a valid value for each key of ``segment_class.mutable_params``
    mutable_values: ClassVar[dict[str, Any]] = {}

    # -- hooks and helpers (public: use them in your own extra tests) ---------------

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        # A class-level hook, so each subclass parametrizes "space" by its own ``spaces``.
        if "space" in metafunc.fixturenames:
            metafunc.parametrize("space", list(self.spaces))

    @property
    def default_space(self) -> str:
        # l2 or cosine: several tests need "identical vectors are at distance 0", which ip lacks
        for space in ("l2", "cosine"):
            if space in self.spaces:
                return space
        raise AssertionError(f"{type(self).__name__}.spaces must include 'l2' or 'cosine', got {self.spaces!r}")

    def _class(self) -> Any:
        if self.segment_class is None:
            raise AssertionError(f"{type(self).__name__} must set segment_class to the IndexSegment class under test")
        return self.segment_class

    def make_segment(
        self,
        space: str | None = None,
        config: dict[str, Any] | None = None,
        directory: Path | None = None,
        dimension: int | None = None,
    ) -> Any:
        """A new segment (``small_config`` unless ``config`` is given)."""
        cfg = dict(self.small_config) if config is None else dict(config)
        return self._class()(dimension or self.dimension, space or self.default_space, cfg, directory)

    def load_segment(
        self,
        directory: Path,
        space: str | None = None,
        config: dict[str, Any] | None = None,
        dimension: int | None = None,
    ) -> Any:
        cfg = dict(self.small_config) if config is None else dict(config)
        return self._class().load(dimension or self.dimension, space or self.default_space, cfg, directory)

    def vectors(self, n: int, seed: int = 0) -> np.ndarray:
        return np.random.default_rng(seed).normal(size=(n, self.dimension)).astype(np.float32)

    @staticmethod
    def labels_for(n: int, start: int = 0) -> np.ndarray:
        # sparse, large labels catch code that confuses labels with row numbers
        return np.arange(start, start + n, dtype=np.int64) * 7 + 1000

    def filled(
        self, n: int = 300, space: str | None = None, seed: int = 0, directory: Path | None = None
    ) -> tuple[Any, np.ndarray, np.ndarray]:
        """A segment holding ``n`` vectors added in batches of 100 (seq 1, 2, ...)."""
        seg = self.make_segment(space, directory=directory)
        X = self.vectors(n, seed=seed)
        L = self.labels_for(n)
        for i in range(0, n, 100):
            seg.add(L[i : i + 100], X[i : i + 100], seq=i // 100 + 1)
        return seg, L, X

    def index_files(self, directory: Path) -> list[Path]:
        """The files that make up the committed index in ``directory``.

        Default: with a ``<name>.manifest.json`` (the layout of huedb's built-in plugins,
        docs/index-plugins.md), the manifest and the files it lists; otherwise every
        non-hidden file. Override for another layout.
        """
        directory = Path(directory)
        manifest = directory / f"{self._class().name}.manifest.json"
        if manifest.exists():
            entries = json.loads(manifest.read_text()).get("files", {})
            return [manifest] + [directory / e["file"] for e in entries.values()]
        return [directory / n for n in _listing(directory) if not n.startswith(".")]

    def commit_file(self, directory: Path) -> Path:
        """The file whose atomic replacement commits a persist (a crash before it keeps the old index)."""
        directory = Path(directory)
        manifest = directory / f"{self._class().name}.manifest.json"
        if manifest.exists():
            return manifest
        files = self.index_files(directory)
        if len(files) != 1:
            raise AssertionError(
                f"{type(self).__name__}: cannot tell which of {[p.name for p in files]} commits a persist; "
                f"override commit_file()"
            )
        return files[0]

    # -- the protocol's shape ------------------------------------------------------

    def test_class_declares_name_and_mutable_params(self) -> None:
        cls = self._class()
        assert isinstance(cls.name, str) and cls.name
        assert isinstance(cls.mutable_params, tuple) and all(isinstance(p, str) for p in cls.mutable_params)
        for method in ("load", "add", "delete", "query", "get_vectors", "count", "persist", "update_config", "close"):
            assert callable(getattr(cls, method, None)), f"{cls.__name__} has no {method}()"
        seg = self.make_segment()
        assert seg.count() == 0 and seg.applied_seq == 0

    # -- add / replace / delete ------------------------------------------------------

    def test_query_distances_are_exact_per_space(self, space: str) -> None:
        seg, L, X = self.filled(space=space)
        Q = self.vectors(8, seed=99)
        k = 5
        labels, dists = seg.query(Q, k)
        assert labels.shape == dists.shape == (8, k)
        assert labels.dtype == np.int64 and dists.dtype == np.float32
        true_l, true_d = exact_search(Q, X, L, k, space)
        rows = np.searchsorted(L, labels)
        expected = np.take_along_axis(pairwise_distances(Q, X, space), rows, axis=1)
        np.testing.assert_allclose(dists, expected, rtol=1e-4, atol=1e-4)  # reported distances are exact
        assert (np.diff(dists, axis=1) >= 0).all()
        if self.is_exact or space != "ip":  # inner product is not a metric: a graph/forest may miss
            assert recall(labels, true_l) >= (1.0 if self.is_exact else self.min_recall)
        if self.is_exact:
            np.testing.assert_array_equal(labels, true_l)
            np.testing.assert_allclose(dists, true_d, rtol=1e-6)

    def test_add_replaces_existing_label(self) -> None:
        seg, L, X = self.filled()
        d = self.dimension
        target = np.full((1, d), 3.0, dtype=np.float32)
        seg.add(L[[5, 250]], np.vstack([target, target * -1]), seq=10)
        assert seg.count() == 300
        labels, dists = seg.query(target, 1)
        assert labels[0, 0] == L[5] and dists[0, 0] == pytest.approx(0.0, abs=1e-3)
        np.testing.assert_allclose(seg.get_vectors(L[[5, 250, 6]]), np.vstack([target, -target, X[6:7]]), rtol=1e-5)
        labels, _ = seg.query(X[5:6], 3)  # the old vector of label 5 no longer answers
        assert L[5] not in labels or np.allclose(X[5], target)
        assert seg.applied_seq == 10

    def test_advance_records_the_seq_without_changing_vectors(self, tmp_path: Path) -> None:
        """The core catches an index up by applying chunks at the old seq, then advance()."""
        seg = self.make_segment(directory=tmp_path)
        X = self.vectors(50)
        seg.add(np.arange(50), X, seq=3)
        seg.advance(9)
        assert seg.applied_seq == 9 and seg.count() == 50
        seg.advance(4)  # never backwards
        assert seg.applied_seq == 9
        seg.persist()
        back = self.load_segment(tmp_path)
        assert back.applied_seq == 9 and back.count() == 50
        np.testing.assert_allclose(back.get_vectors(np.arange(50)), X, rtol=1e-5)

    def test_duplicate_labels_in_one_batch_keep_the_last(self) -> None:
        seg = self.make_segment()
        X = self.vectors(3)
        seg.add(np.array([7, 7, 8]), X, seq=1)
        assert seg.count() == 2
        np.testing.assert_allclose(seg.get_vectors(np.array([7])), X[1:2])

    def test_delete_removes_and_ignores_unknown(self) -> None:
        seg, L, X = self.filled()
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

    def test_readd_after_delete(self) -> None:
        seg, L, X = self.filled()
        seg.delete(L[[3, 200]], seq=5)
        fresh = self.vectors(2, seed=5) * 10
        seg.add(L[[3, 200]], fresh, seq=6)
        assert seg.count() == 300
        labels, dists = seg.query(fresh, 1)
        np.testing.assert_array_equal(labels[:, 0], L[[3, 200]])
        np.testing.assert_allclose(dists[:, 0], 0.0, atol=1e-3)
        np.testing.assert_allclose(seg.get_vectors(L[[3, 200]]), fresh, rtol=1e-5)

    # -- filters and padding ---------------------------------------------------------

    def test_small_allowed_set_is_exact(self, space: str) -> None:
        seg, L, X = self.filled(n=2000, space=space)
        allowed = np.sort(np.random.default_rng(3).choice(L, 20, replace=False))  # 1% selectivity
        Q = self.vectors(10, seed=4)
        labels, dists = seg.query(Q, 10, allowed=allowed)
        assert np.isin(labels, allowed).all()
        rows = np.searchsorted(L, allowed)
        true_l, true_d = exact_search(Q, X[rows], allowed, 10, space)
        np.testing.assert_array_equal(labels, true_l)
        np.testing.assert_allclose(dists, true_d, rtol=1e-4, atol=1e-5)

    def test_large_allowed_set_only_returns_allowed(self) -> None:
        space = self.default_space
        seg, L, X = self.filled(n=5000, space=space)
        allowed = np.sort(np.random.default_rng(6).choice(L, 3000, replace=False))  # above the exact-filter limit
        Q = self.vectors(10, seed=7)
        labels, dists = seg.query(Q, 10, allowed=allowed)
        assert np.isin(labels, allowed).all()
        rows = np.searchsorted(L, allowed)
        true_l, _ = exact_search(Q, X[rows], allowed, 10, space)
        assert recall(labels, true_l) >= (1.0 if self.is_exact else self.min_filtered_recall)
        assert np.isfinite(dists).all()

    def test_unsorted_allowed_is_accepted(self) -> None:
        seg, L, X = self.filled()
        allowed = L[[140, 4, 40]]  # documented: unsorted input is sorted by the plugin
        labels, _ = seg.query(X[:2], 3, allowed=allowed)
        assert all(set(row) == set(allowed) for row in labels)

    def test_allowed_labels_that_are_absent_are_ignored(self) -> None:
        seg, L, X = self.filled()
        seg.delete(L[:1], seq=9)
        labels, dists = seg.query(X[:2], 5, allowed=np.array([L[0], L[1], 5, 99999999]))
        np.testing.assert_array_equal(labels[:, 0], [L[1], L[1]])
        assert (labels[:, 1:] == -1).all() and np.isinf(dists[:, 1:]).all()

    def test_fewer_matches_than_k_are_padded(self) -> None:
        seg, L, X = self.filled()
        allowed = np.sort(L[[4, 40, 140]])
        labels, dists = seg.query(X[:2], 10, allowed=allowed)
        assert labels.shape == (2, 10)
        assert set(labels[0, :3]) == set(allowed) and (labels[:, 3:] == -1).all()
        assert np.isfinite(dists[:, :3]).all() and np.isinf(dists[:, 3:]).all()
        labels, _ = seg.query(X[:2], 10, allowed=np.array([], dtype=np.int64))
        assert (labels == -1).all()

    def test_k_larger_than_count(self) -> None:
        cfg = self.small_config if self.tiny_config is None else self.tiny_config
        seg = self.make_segment(config=cfg)
        X = self.vectors(5)
        seg.add(np.arange(5), X, seq=1)
        labels, dists = seg.query(X[:3], 10)
        assert labels.shape == (3, 10)
        assert all(set(row[:5]) == set(range(5)) for row in labels)
        assert (labels[:, 5:] == -1).all() and np.isinf(dists[:, 5:]).all()
        seg.delete(np.arange(3), seq=2)  # deleted items must not be returned nor counted as results
        labels, _ = seg.query(X[:3], 4)
        assert all(set(row[:2]) == {3, 4} for row in labels) and (labels[:, 2:] == -1).all()

    def test_empty_index_and_zero_k(self) -> None:
        seg = self.make_segment()
        labels, dists = seg.query(self.vectors(3), 4)
        assert labels.shape == (3, 4) and (labels == -1).all() and np.isinf(dists).all()
        seg.add(np.arange(3), self.vectors(3), seq=1)
        labels, dists = seg.query(self.vectors(2), 0)
        assert labels.shape == dists.shape == (2, 0)
        assert seg.count() == 3

    def test_topk_is_a_prefix_of_topk_plus_one(self) -> None:
        seg = self.make_segment()
        X = np.repeat(self.vectors(40), 3, axis=0)  # exact ties everywhere
        L = np.random.default_rng(1).permutation(120).astype(np.int64)
        seg.add(L, X, seq=1)
        Q = self.vectors(5, seed=3)
        allowed = None if self.is_exact else np.sort(L[:60])  # small allowed sets take the exact path
        for k in range(1, 12):
            a, da = seg.query(Q, k, allowed=allowed)
            b, db = seg.query(Q, k + 1, allowed=allowed)
            np.testing.assert_array_equal(a, b[:, :k])
            np.testing.assert_array_equal(da, db[:, :k])

    # -- argument validation -----------------------------------------------------------

    def test_invalid_inputs_raise_typed_errors(self) -> None:
        d = self.dimension
        seg = self.make_segment()
        with pytest.raises(InvalidDimensionException):
            seg.add(np.arange(2), np.zeros((2, 3)), seq=1)
        with pytest.raises(InvalidArgumentError):
            seg.add(np.arange(2), np.zeros((3, d)), seq=1)  # 2 labels, 3 vectors
        with pytest.raises(InvalidArgumentError):
            seg.add(np.array([-1]), np.zeros((1, d)), seq=1)  # -1 is the padding label
        with pytest.raises(InvalidArgumentError):
            seg.add(np.arange(1), np.full((1, d), np.nan), seq=1)
        with pytest.raises(InvalidArgumentError):
            seg.add(np.arange(1), np.full((1, d), np.inf), seq=1)
        with pytest.raises(InvalidDimensionException):
            seg.query(np.zeros((1, 4)), 1)
        with pytest.raises(InvalidArgumentError):
            seg.query(np.zeros((1, d)), -1)
        with pytest.raises(InvalidArgumentError):
            self.make_segment(space="hamming")
        assert seg.count() == 0 and seg.applied_seq == 0  # a refused write changes nothing

    def test_get_vectors_of_absent_label_raises_not_found(self) -> None:
        seg, L, _ = self.filled()
        with pytest.raises(NotFoundError):
            seg.get_vectors(np.array([L[0], 5]))
        assert seg.get_vectors(np.array([], dtype=np.int64)).shape == (0, self.dimension)

    # -- config --------------------------------------------------------------------------

    def test_update_config_mutable_params(self) -> None:
        cls = self._class()
        missing = set(cls.mutable_params) - set(self.mutable_values)
        assert not missing, f"set mutable_values to a valid value for each of {sorted(missing)}"
        seg = self.make_segment()
        seg.update_config({key: self.mutable_values[key] for key in cls.mutable_params})
        seg.add(self.labels_for(30), self.vectors(30), seq=1)
        labels, _ = seg.query(self.vectors(2, seed=1), 3)
        assert (labels >= 0).all()
        other_space = next(s for s in ALL_SPACES if s != self.default_space)
        if self.validates_config:
            with pytest.raises(InvalidArgumentError, match="unknown"):
                seg.update_config({"no_such_key": 1})
            with pytest.raises(InvalidArgumentError, match="space"):
                seg.update_config({"space": other_space})
            if cls.mutable_params:
                with pytest.raises(InvalidArgumentError):
                    self.make_segment(config={cls.mutable_params[0]: "fast"})
        else:
            # a plugin without settings ignores whatever the collection's config carries
            seg.update_config({"no_such_key": 1, "space": other_space})
            self.make_segment(config={"no_such_key": "fast"})
            np.testing.assert_array_equal(seg.query(self.vectors(2, seed=1), 3)[0], labels)

    def test_close_releases(self) -> None:
        seg, _, _ = self.filled()
        seg.close()
        assert seg.count() == 0
