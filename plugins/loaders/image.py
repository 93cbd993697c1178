"""ImageLoader: loads images from local paths and ``file://`` URIs into numpy arrays.

Used by multimodal collections: records are added by ``uris=``, the loader
reads the files (in a thread pool, since decoding releases the GIL) and the
embedding function embeds the arrays. ``include=["data"]`` returns them too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

import numpy as np

from huedb.errors import InvalidArgumentError
from huedb.hookspecs import hookimpl

#: pillow's own decompression-bomb threshold (~89.5 megapixels), as a default
DEFAULT_MAX_PIXELS = 89_478_485
_KEEP_MODES = ("RGB", "RGBA", "L")  # returned as stored; other modes become RGB(A)


class ImageLoadError(InvalidArgumentError):
    """A URI could not be loaded as an image (missing, unreadable, not an image, or too large)."""


class ImageLoader:
    """Loads ``uris`` (local paths, ``file://`` URIs, or None) into HxW[xC] uint8 arrays."""

    name = "image"

    def __init__(self, max_workers: int | None = None, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> None:
        try:
            from PIL import Image
        except ImportError as e:
            raise InvalidArgumentError("ImageLoader needs pillow: pip install pillow") from e
        if max_workers is not None and (
            isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1
        ):
            raise InvalidArgumentError(f"max_workers must be a positive integer or None, got {max_workers!r}")
        if max_pixels is not None and (
            isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels < 1
        ):
            raise InvalidArgumentError(f"max_pixels must be a positive integer or None (no limit), got {max_pixels!r}")
        self._Image = Image
        self.max_workers = max_workers or min(8, os.cpu_count() or 1)
        self.max_pixels = max_pixels

    def __call__(self, uris: Sequence[str | os.PathLike[str] | None]) -> list[np.ndarray | None]:
        if isinstance(uris, (str, os.PathLike)):
            raise InvalidArgumentError(
                f"ImageLoader expects a list of URIs, got a single {type(uris).__name__}: wrap it in a list"
            )
        uris = list(uris)
        workers = min(self.max_workers, len(uris))
        if workers <= 1:
            return [self._load(u) for u in uris]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="huedb-image-loader") as pool:
            return list(pool.map(self._load, uris))

    def _load(self, uri: str | os.PathLike[str] | None) -> np.ndarray | None:
        if uri is None:
            return None
        path = _to_path(uri)
        Image = self._Image
        try:
            with _open_regular_file(uri, path) as file, Image.open(file) as img:
                # open() reads only the header: check the size before decoding pixels.
                width, height = img.size
                if self.max_pixels is not None and width * height > self.max_pixels:
                    raise ImageLoadError(
                        f"Image {uri!r} is {width}x{height} = {width * height} pixels, over this loader's limit of "
                        f"{self.max_pixels} (a guard against decompression bombs). If the file is trusted, "
                        f"use ImageLoader(max_pixels=...) with a larger limit, or max_pixels=None."
                    )
                if img.mode not in _KEEP_MODES:
                    has_alpha = img.mode in ("RGBa", "LA", "La", "PA") or "transparency" in img.info
                    img = img.convert("RGBA" if has_alpha else "RGB")
                return np.array(img)  # a writable copy, independent of the file
        except ImageLoadError:
            raise
        except FileNotFoundError as e:
            raise ImageLoadError(f"Image {uri!r} does not exist (looked for {path!r}).") from e
        except IsADirectoryError as e:
            raise ImageLoadError(f"Image {uri!r} is a directory, not an image file.") from e
        except PermissionError as e:
            raise ImageLoadError(f"Image {uri!r} cannot be read: permission denied.") from e
        except Image.DecompressionBombError as e:
            raise ImageLoadError(
                f"Image {uri!r} is too large to decode safely ({e}); raise PIL.Image.MAX_IMAGE_PIXELS if it is trusted."
            ) from e
        except Image.UnidentifiedImageError as e:
            raise ImageLoadError(
                f"{uri!r} is not an image pillow can read (expected PNG, JPEG, GIF, WebP, ...)."
            ) from e
        except (OSError, ValueError, SyntaxError) as e:  # truncated or corrupt files
            raise ImageLoadError(f"Image {uri!r} could not be decoded: {e}") from e


def _open_regular_file(uri: Any, path: str) -> BinaryIO:
    """Opens ``path`` for reading if it is a regular file (checked on the open descriptor).

    O_NONBLOCK: opening a FIFO without a writer would otherwise block forever; on a
    regular file the flag changes nothing. fstat on the descriptor, not stat on the
    path, so the file cannot be swapped between the check and the read.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ImageLoadError(f"Image {uri!r} is a directory, not an image file.")
        if not stat.S_ISREG(mode):
            kind = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a device or special file"
            raise ImageLoadError(f"Image {uri!r} is {kind}, not a regular file; ImageLoader reads regular files only.")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _to_path(uri: Any) -> str:
    """A local path or ``file://`` URI -> a filesystem path; other schemes are rejected."""
    if isinstance(uri, os.PathLike):
        return os.fspath(uri)
    if not isinstance(uri, str) or not uri:
        raise ImageLoadError(f"Image URIs must be non-empty strings (paths or file:// URIs) or None, got {uri!r}")
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise ImageLoadError(
                f"Image {uri!r}: file:// URIs must point at this machine (file:///path), not host {parsed.netloc!r}"
            )
        return url2pathname(unquote(parsed.path)) if os.name == "nt" else unquote(parsed.path)
    if len(parsed.scheme) > 1:  # one letter is a Windows drive (C:\...)
        raise ImageLoadError(
            f"Image {uri!r}: ImageLoader loads local files only (a path or file:// URI), not {parsed.scheme}:// URIs. "
            f"Download the file first, or register a DataLoader plugin for that scheme."
        )
    return uri


@hookimpl
def register_data_loaders(register):
    register(ImageLoader)
