"""The persistence half of the IndexSegment conformance suite (``IndexSegmentConformance``
inherits it): round trips, generations, crash leftovers, corruption, and never replacing
a newer persisted index. Helpers (``make_segment``, ``load_segment``, ``filled``,
``vectors``, ...) come from the class that inherits these checks.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pytest

from huedb.distance import SPACES as ALL_SPACES
from huedb.errors import InvalidArgumentError, NotFoundError
from huedb.index import CorruptIndexError


def _listing(directory: Path) -> list[str]:
    return sorted(p.name for p in Path(directory).iterdir() if p.is_file())


class PersistenceChecks:
    # Provided by the class that inherits these checks (IndexSegmentConformance).
    make_segment: Any
    load_segment: Any
    filled: Any
    vectors: Any
    labels_for: Any
    index_files: Any
    commit_file: Any
    spaces: ClassVar[tuple[str, ...]]
    dimension: ClassVar[int]
    if TYPE_CHECKING:

        @property
        def default_space(self) -> str: ...

    def test_persist_and_load_round_trip(self, space: str, tmp_path: Path) -> None:
        seg = self.make_segment(space, directory=tmp_path)
        X = self.vectors(230)
        L = self.labels_for(230)
        seg.add(L[:200], X[:200], seq=1)
        seg.query(X[:1], 1)  # lazily built structures (an annoy-like forest) exist from here
        seg.add(L[200:], X[200:], seq=2)  # some of these stay in write buffers
        seg.delete(L[:5], seq=3)
        seg.add(L[[10]], X[[11]], seq=4)
        seg.persist()
        back = self.load_segment(tmp_path, space)
        assert back is not None
        assert back.applied_seq == 4 and back.count() == 225
        Q = self.vectors(6, seed=8)
        for allowed in (None, np.sort(L[::9])):
            np.testing.assert_array_equal(back.query(Q, 7, allowed)[0], seg.query(Q, 7, allowed)[0])
        np.testing.assert_allclose(back.get_vectors(L[[10, 100, 229]]), X[[11, 100, 229]], rtol=1e-5, atol=1e-6)
        with pytest.raises(NotFoundError):
            back.get_vectors(L[:1])
        back.add(L[:1], X[:1], seq=5)  # the loaded segment keeps working and persisting
        back.persist()
        again = self.load_segment(tmp_path, space)
        assert again.applied_seq == 5 and again.count() == 226

    def test_load_missing_returns_none(self, tmp_path: Path) -> None:
        assert self.load_segment(tmp_path) is None
        assert self.load_segment(tmp_path / "never-created") is None

    def test_in_memory_persist_is_a_no_op(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tmp_path)  # a segment without a directory must not write into the cwd either
        seg = self.make_segment()
        seg.add(np.arange(3), self.vectors(3), seq=1)
        seg.persist()
        assert _listing(tmp_path) == []
        assert seg.count() == 3
        seg.close()

    def test_repeated_persists_keep_one_generation(self, tmp_path: Path) -> None:
        seg = self.make_segment(directory=tmp_path)
        for gen in range(3):
            seg.add(self.labels_for(120, 500 * gen), self.vectors(120, seed=gen), seq=gen + 1)
            seg.query(self.vectors(1), 1)
            seg.persist()
        fresh = tmp_path / "fresh"
        seg2 = self.make_segment(directory=fresh)
        seg2.add(self.labels_for(360), self.vectors(360), seq=1)
        seg2.query(self.vectors(1), 1)
        seg2.persist()
        present = _listing(tmp_path)
        assert present == sorted(p.name for p in self.index_files(tmp_path))
        assert len(present) == len(_listing(fresh)), "old generations were left behind"
        assert self.load_segment(tmp_path).applied_seq == 3

    def test_crash_leftovers_are_removed_by_the_next_persist(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        seg = self.make_segment(directory=tmp_path)
        seg.add(self.labels_for(120), self.vectors(120), seq=1)
        temp_files = self._spy_renames(monkeypatch, seg.persist)
        assert temp_files, "persist() must write a temp file and rename it into place (an atomic write)"
        for tmp in temp_files:  # what a kill -9 between write and rename leaves behind
            if tmp.parent == tmp_path:
                tmp.write_bytes(b"left by a crash")
        seg.add(self.labels_for(50, 900), self.vectors(50, seed=3), seq=2)
        seg.persist()
        assert _listing(tmp_path) == sorted(p.name for p in self.index_files(tmp_path))
        back = self.load_segment(tmp_path)
        assert back.applied_seq == 2 and back.count() == 170

    @pytest.mark.parametrize("crash_at", ["first_rename", "commit"])
    def test_crash_during_persist_keeps_previous_generation(
        self, crash_at: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        seg = self.make_segment(directory=tmp_path)
        seg.add(self.labels_for(100), self.vectors(100), seq=1)
        seg.persist()
        commit = self.commit_file(tmp_path)
        seg.add(self.labels_for(100, 500), self.vectors(100, seed=2), seq=2)
        seg.query(self.vectors(1), 1)
        real = {"replace": os.replace, "rename": os.rename}

        def crashing(kind: str) -> Callable[..., None]:
            def fn(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
                if crash_at == "first_rename" or Path(dst).name == commit.name:
                    raise OSError("simulated crash")
                real[kind](src, dst, *args, **kwargs)

            return fn

        monkeypatch.setattr(os, "replace", crashing("replace"))
        monkeypatch.setattr(os, "rename", crashing("rename"))
        with pytest.raises(OSError, match="simulated crash"):
            seg.persist()
        monkeypatch.setattr(os, "replace", real["replace"])
        monkeypatch.setattr(os, "rename", real["rename"])
        back = self.load_segment(tmp_path)
        assert back.applied_seq == 1 and back.count() == 100
        seg.persist()  # the segment recovers: the next persist commits everything
        again = self.load_segment(tmp_path)
        assert again.applied_seq == 2 and again.count() == 200

    def test_persist_never_replaces_a_newer_persisted_index(self, tmp_path: Path) -> None:
        # Several processes share one directory: one whose index is behind must not roll the files back.
        newer = self.make_segment(directory=tmp_path)
        newer.add(self.labels_for(80), self.vectors(80), seq=5)
        older = self.make_segment(directory=tmp_path)
        older.add(self.labels_for(30), self.vectors(30), seq=3)
        newer.persist()
        before = {name: (tmp_path / name).read_bytes() for name in _listing(tmp_path)}
        older.persist()
        back = self.load_segment(tmp_path)
        assert back.applied_seq == 5 and back.count() == 80
        assert {n: (tmp_path / n).read_bytes() for n in _listing(tmp_path)} == before

    # -- corruption --------------------------------------------------------------------------

    def _persisted(self, tmp_path: Path) -> Any:
        seg = self.make_segment(directory=tmp_path)
        seg.add(self.labels_for(230), self.vectors(230), seq=1)
        seg.query(self.vectors(1), 1)
        seg.persist()
        return seg

    @pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
    def test_every_damaged_file_raises_corrupt_index_error(self, damage: str, tmp_path: Path) -> None:
        self._persisted(tmp_path)
        files = self.index_files(tmp_path)
        assert files
        for path in files:
            data = path.read_bytes()
            middle = len(data) // 2
            if damage == "truncate":
                path.write_bytes(data[:middle])
            elif damage == "flip":
                path.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
            else:
                path.write_bytes(b"\x93not an index\xff" * 8)
            with pytest.raises(CorruptIndexError, match=path.name):  # the error names the bad file
                self.load_segment(tmp_path)
            path.write_bytes(data)
        assert self.load_segment(tmp_path).count() == 230

    def test_missing_files(self, tmp_path: Path) -> None:
        self._persisted(tmp_path)
        commit = self.commit_file(tmp_path)
        for path in self.index_files(tmp_path):
            data = path.read_bytes()
            path.unlink()
            if path == commit:
                assert self.load_segment(tmp_path) is None  # nothing committed: no index
            else:
                with pytest.raises(CorruptIndexError):  # committed, but a part is gone
                    self.load_segment(tmp_path)
            path.write_bytes(data)
        assert self.load_segment(tmp_path).count() == 230

    @pytest.mark.parametrize("mismatch", ["dimension", "space"])
    def test_load_with_another_dimension_or_space_raises(self, mismatch: str, tmp_path: Path) -> None:
        self._persisted(tmp_path)
        if mismatch == "dimension":
            with pytest.raises(CorruptIndexError):
                self.load_segment(tmp_path, dimension=self.dimension + 1)
        else:
            other = next(s for s in ALL_SPACES if s != self.default_space)
            # a space the plugin does not support at all may be refused as an argument instead
            expected = CorruptIndexError if other in self.spaces else (CorruptIndexError, InvalidArgumentError)
            with pytest.raises(expected):
                self.load_segment(tmp_path, space=other)

    # -- internals ---------------------------------------------------------------------------

    @staticmethod
    def _spy_renames(monkeypatch: pytest.MonkeyPatch, action: Callable[[], None]) -> list[Path]:
        """Runs ``action`` and returns the sources of every rename it made (its temp files)."""
        sources: list[Path] = []
        real = {"replace": os.replace, "rename": os.rename}

        def spy(kind: str) -> Callable[..., None]:
            def fn(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
                sources.append(Path(src))
                real[kind](src, dst, *args, **kwargs)

            return fn

        with monkeypatch.context() as m:
            m.setattr(os, "replace", spy("replace"))
            m.setattr(os, "rename", spy("rename"))
            action()
        return sources
