"""This package's tests run in their own pytest session, rooted here (huedb's
tests/test_testing_kit.py starts one). huedb's own test run walks into this
directory too; it leaves them out, so they are not run twice under huedb's conftest."""

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_ignore_collect(collection_path: Path, config: pytest.Config):
    if config.rootpath != HERE and collection_path == HERE / "tests":
        return True
    return None
