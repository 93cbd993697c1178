"""huedb.testing: the pytest11 plugin's fixtures, the conformance suite on a third-party
package, and the suite's power to catch a broken plugin."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

pytest_plugins = ["pytester"]

EXAMPLE_PACKAGE = Path(__file__).parent / "plugin_packages" / "huedb-example-plugins"


def run_py(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], check=False, capture_output=True, text=True, timeout=120
    )


def test_pytest11_entry_point_loads_the_plugin(pytestconfig):
    (ep,) = [ep for ep in importlib.metadata.entry_points(group="pytest11") if ep.name == "huedb"]
    assert ep.value == "huedb.testing.pytest_plugin"
    assert ep.dist.metadata["Name"] == "huedb"
    import huedb.testing.pytest_plugin as plugin

    # active in this very run, without any conftest asking for it
    assert pytestconfig.pluginmanager.get_plugin("huedb") is plugin


def test_import_huedb_does_not_import_the_testing_kit():
    proc = run_py(
        """
        import sys, huedb
        print(sorted(m for m in sys.modules if m.startswith("huedb.testing")))
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_pytest_plugin_imports_nothing_beyond_huedb():
    # pytest loads the plugin in every run where huedb is installed: it must stay cheap
    proc = run_py(
        """
        import sys, huedb, pytest
        before = set(sys.modules)
        import huedb.testing.pytest_plugin
        print(sorted(set(sys.modules) - before))
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['huedb.testing', 'huedb.testing.pytest_plugin']"


def test_example_package_passes_the_conformance_suite():
    """The third-party example package runs huedb's suite from its own tests directory."""
    assert (EXAMPLE_PACKAGE / "tests" / "test_example_conformance.py").is_file()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA"],
        check=False,
        cwd=EXAMPLE_PACKAGE,  # its own pyproject makes it the rootdir: huedb's conftest is not involved
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k not in ("HUEDB_LOAD_PLUGINS", "PYTEST_ADDOPTS")},
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    out = proc.stdout
    summary = re.fullmatch(r"=* ?(\d+) passed in [\d.]+s.*", out.strip().splitlines()[-1])
    assert summary, out.strip().splitlines()[-1]  # nothing failed, errored or was skipped
    assert int(summary.group(1)) >= 40
    # every kind of check ran against example_flat, and the fixture tests too
    for name in (
        "TestExampleFlatSegment::test_query_distances_are_exact_per_space[ip]",
        "TestExampleFlatSegment::test_persist_never_replaces_a_newer_persisted_index",
        "TestExampleFlatSegment::test_every_damaged_file_raises_corrupt_index_error[flip]",
        "TestExampleFlatSegment::test_crash_during_persist_keeps_previous_generation[commit]",
        "test_index_registers_through_its_hook",
        "test_index_and_embedding_function_serve_a_collection",
    ):
        assert f"PASSED tests/test_example_conformance.py::{name}" in out, name


def test_huedb_registry_has_autoload_off_and_is_restored(pytester):
    pytester.makepyfile(
        """
        from huedb.registry import Registry, get_registry

        ORIGINAL = get_registry()

        def test_fresh_registry_is_installed(huedb_registry):
            assert isinstance(huedb_registry, Registry)
            assert get_registry() is huedb_registry and huedb_registry is not ORIGINAL
            # hnswlib, exact, annoy and the example plugins are installed, yet none is loaded
            assert huedb_registry.names("index_segment") == []
            assert huedb_registry.names("embedding_function") == []
            assert huedb_registry.plugin_info == {}

        def test_restored_after_a_passing_test():
            assert get_registry() is ORIGINAL
            assert {"exact", "hnswlib", "annoy"} <= set(ORIGINAL.names("index_segment"))  # autoload on

        def test_a_failing_test(huedb_registry):
            raise RuntimeError("boom")

        def test_restored_after_a_failing_test():
            assert get_registry() is ORIGINAL
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*test_a_failing_test FAILED*", "*test_restored_after_a_failing_test PASSED*"])


def test_huedb_register_registers_modules_and_classes(pytester):
    pytester.makepyfile(
        myplugin="""
        from huedb.hookspecs import hookimpl

        class Seg:
            name = "my_seg"

        class EF:
            @staticmethod
            def name():
                return "my_ef"

        @hookimpl
        def register_index_segments(register):
            register(Seg)
        """,
        typo_plugin="""
        from huedb.hookspecs import hookimpl

        @hookimpl
        def register_index_segment(register):  # misspelled hook
            pass
        """,
    )
    pytester.makepyfile(
        """
        import pytest
        import myplugin, typo_plugin
        from huedb.errors import PluginConflictError, PluginValidationError
        from huedb.registry import get_registry

        def test_module(huedb_register, huedb_registry):
            assert huedb_register(myplugin) == "myplugin"
            assert get_registry().get("index_segment", "my_seg") is myplugin.Seg

        def test_module_under_a_name(huedb_register, huedb_registry):
            assert huedb_register(myplugin, name="mine") == "mine"
            assert huedb_registry.registrations()["index_segment"]["my_seg"].plugin == "mine"

        def test_single_class_by_kind(huedb_register, huedb_registry):
            huedb_register(myplugin.EF, kind="embedding_function")
            huedb_register(myplugin.Seg, kind="index_segment", name="alias_seg")
            assert huedb_registry.get("embedding_function", "my_ef") is myplugin.EF
            assert huedb_registry.get("index_segment", "alias_seg") is myplugin.Seg

        def test_errors_surface_at_once(huedb_register):
            with pytest.raises(ValueError, match="unknown plugin kind"):
                huedb_register(myplugin.Seg, kind="index")
            with pytest.raises(PluginValidationError, match="did you mean 'register_index_segments'"):
                huedb_register(typo_plugin)
            huedb_register(myplugin)
            with pytest.raises(PluginConflictError, match="my_seg"):
                huedb_register(type("Other", (), {"name": "my_seg"}), kind="index_segment")

        def test_nothing_leaks_into_the_next_test(huedb_registry):
            assert huedb_registry.names("index_segment") == []
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


def test_suite_catches_a_broken_plugin(pytester):
    """The suite is not vacuous: plugins with classic bugs fail the matching tests, and only those."""
    pytester.makepyfile(
        """
        import numpy as np
        from huedb.distance import exact_search
        from huedb.testing import IndexSegmentConformance
        from huedb_example_plugins.index import ExampleFlatSegment

        class RollsBackNewerFiles(ExampleFlatSegment):
            def _persisted_seq(self):
                return -1  # forgets to compare with the index on disk

        class ForgetsPadding(ExampleFlatSegment):
            def query(self, queries, k, allowed=None):
                labels, dists = super().query(queries, k, allowed)
                return labels, np.where(labels < 0, 0.0, dists).astype(np.float32)

        class TestRollsBack(IndexSegmentConformance):
            segment_class = RollsBackNewerFiles
            is_exact = True
            validates_config = False

        class TestForgetsPadding(IndexSegmentConformance):
            segment_class = ForgetsPadding
            is_exact = True
            validates_config = False
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-rf")
    failed = sorted(line.split("::", 1)[1].split(" ")[0] for line in result.outlines if line.startswith("FAILED "))
    assert failed == [
        "TestForgetsPadding::test_allowed_labels_that_are_absent_are_ignored",
        "TestForgetsPadding::test_empty_index_and_zero_k",
        "TestForgetsPadding::test_fewer_matches_than_k_are_padded",
        "TestForgetsPadding::test_k_larger_than_count",
        "TestRollsBack::test_persist_never_replaces_a_newer_persisted_index",
    ]
