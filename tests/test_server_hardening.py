"""Issue 10, item 11: special files in ImageLoader, slow sockets, clients leaving mid-body."""
from __future__ import annotations

import logging
import os
import socket
import sys
import threading
from typing import List

import pytest

from huedb_plugins.loaders.image import ImageLoader, ImageLoadError

HANG_GUARD_SECONDS = 60  # only so a regression fails instead of hanging the suite


# -- ImageLoader: regular files only ---------------------------------------------------------
def test_image_loader_rejects_a_fifo_instead_of_blocking(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    outcome: List[BaseException] = []

    def load() -> None:
        try:
            ImageLoader()([str(fifo)])
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(HANG_GUARD_SECONDS)
    if worker.is_alive():  # the old loader blocks in open(): give it a writer so the thread ends
        with open(fifo, "wb"):
            pass
        worker.join()
    assert outcome and isinstance(outcome[0], ImageLoadError), outcome
    assert "FIFO" in str(outcome[0]) and "pipe.png" in str(outcome[0])


def test_image_loader_rejects_a_device():
    with pytest.raises(ImageLoadError, match="device"):
        ImageLoader()(["/dev/zero", None])


def test_image_loader_rejects_a_directory_uri(tmp_path):
    with pytest.raises(ImageLoadError, match="directory"):
        ImageLoader()([f"file://{tmp_path}"])
