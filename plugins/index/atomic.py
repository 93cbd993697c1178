"""Crash-safe persistence for index segments: generation files plus a manifest.

A persist writes each data file under a fresh generation name (temp file,
rename), then atomically replaces a small JSON manifest naming those files
with their size and SHA-256. Replacing the manifest is the commit point: a
crash before it leaves the previous generation intact, a crash after it
leaves the new one complete. Older generations are deleted after the commit.

Several processes may share a directory. The core holds the directory's
cross-process file lock (``huedb.index.index_lock``) around every call that may
persist, so a persist and its cleanup of stale files never race another
process's, and a persist never replaces a newer generation (by ``applied_seq``).

Nothing is fsynced: an index is derived data. A process crash (kill -9)
loses nothing that was written, and after a power loss any file that did not
reach the disk fails its size or SHA-256 check, so the core rebuilds the
index from SQLite. Skipping fsync keeps a persist of a large graph cheap.

``read_manifest`` / ``verified_path`` check everything before a plugin hands a
file to a native loader (hnswlib may crash on a truncated file).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from huedb.index import CorruptIndexError

FORMAT_VERSION = 1

Writer = Callable[[Path], None]
#: a writer for a new file, or an entry of the current manifest to keep as is
FileSource = Writer | dict[str, Any]


def manifest_path(directory: Path, name: str) -> Path:
    return Path(directory) / f"{name}.manifest.json"


def atomic_write(path: Path, write: Writer) -> None:
    """``write(tmp)`` then rename over ``path``; the temp file never survives a failure."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_bytes(data: bytes) -> Writer:
    def write(p: Path) -> None:
        with open(p, "wb") as f:
            f.write(data)

    return write


def npy_writer(array: np.ndarray) -> Writer:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    return _write_bytes(buf.getvalue())


def file_digest(path: Path) -> dict[str, Any]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return {"size": size, "sha256": h.hexdigest()}


def _body_checksum(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def write_generation(
    directory: Path, name: str, files: dict[str, FileSource], meta: dict[str, Any]
) -> dict[str, Any] | None:
    """Writes a new generation of ``files`` and commits it with a manifest; returns the manifest.

    Returns None, writing nothing, when the committed manifest already has an
    ``applied_seq`` at least ``meta["applied_seq"]``: another process sharing the
    directory persisted a newer (or the same) state, which an older one must not
    replace. The caller holds the directory's cross-process lock (the core takes it).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    try:
        previous = read_manifest(directory, name)
    except CorruptIndexError:
        previous = None
    if previous is not None and previous.get("applied_seq", -1) >= meta.get("applied_seq", 0):
        _remove_stale(directory, name, {e["file"] for e in previous.get("files", {}).values()})
        return None
    generation = (previous or {}).get("generation", 0) + 1
    entries: dict[str, dict[str, Any]] = {}
    for key, source in files.items():
        if isinstance(source, dict):  # unchanged file of the current generation
            entries[key] = dict(source)
            continue
        file_name = f"{name}.{generation}.{key}"
        atomic_write(directory / file_name, source)
        entries[key] = {"file": file_name, **file_digest(directory / file_name)}
    body = {"format": FORMAT_VERSION, "plugin": name, "generation": generation, **meta, "files": entries}
    manifest = {**body, "checksum": _body_checksum(body)}
    atomic_write(manifest_path(directory, name), _write_bytes(json.dumps(manifest, indent=1, sort_keys=True).encode()))
    _remove_stale(directory, name, {e["file"] for e in entries.values()})
    return manifest


def _remove_stale(directory: Path, name: str, keep: set) -> None:
    for p in directory.iterdir():
        stale_file = p.name.startswith(f"{name}.") and p.name != manifest_path(directory, name).name
        stale_tmp = p.name.startswith(f".{name}.") and p.name.endswith(".tmp")
        if (stale_file and p.name not in keep) or stale_tmp:
            try:
                p.unlink()
            except OSError:
                pass  # removed concurrently or still in use; the next persist retries


def read_manifest(directory: Path, name: str) -> dict[str, Any] | None:
    """The committed manifest, None when nothing was persisted; CorruptIndexError if unreadable."""
    path = manifest_path(directory, name)
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise CorruptIndexError(f"{path}: unreadable index manifest ({e})") from e
    if not isinstance(manifest, dict) or "checksum" not in manifest:
        raise CorruptIndexError(f"{path}: index manifest has no checksum")
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    if _body_checksum(body) != manifest["checksum"]:
        raise CorruptIndexError(f"{path}: index manifest checksum mismatch")
    if manifest.get("format") != FORMAT_VERSION or manifest.get("plugin") != name:
        raise CorruptIndexError(
            f"{path}: manifest is format {manifest.get('format')!r} of plugin {manifest.get('plugin')!r}, "
            f"expected format {FORMAT_VERSION} of {name!r}"
        )
    return manifest


def check_meta(manifest: dict[str, Any], **expected: Any) -> None:
    for key, value in expected.items():
        if manifest.get(key) != value:
            raise CorruptIndexError(f"persisted index has {key}={manifest.get(key)!r}, expected {value!r}")


def sized_path(directory: Path, manifest: dict[str, Any], key: str) -> tuple[Path, str]:
    """(path of a manifest file after checking it exists with the recorded size, its recorded
    SHA-256): for a caller that checks the digest of the bytes it reads."""
    entry = manifest.get("files", {}).get(key)
    if entry is None:
        raise CorruptIndexError(f"index manifest in {directory} lists no {key!r} file")
    path = Path(directory) / entry["file"]
    if not path.is_file():
        raise CorruptIndexError(f"index file {path} is missing")
    if path.stat().st_size != entry["size"]:
        raise CorruptIndexError(
            f"index file {path} is truncated: {path.stat().st_size} bytes, expected {entry['size']}"
        )
    return path, entry["sha256"]


def verified_path(directory: Path, manifest: dict[str, Any], key: str) -> Path:
    """Path of a manifest file after checking it exists with the recorded size and SHA-256."""
    path, sha256 = sized_path(directory, manifest, key)
    if file_digest(path)["sha256"] != sha256:
        raise CorruptIndexError(f"index file {path} is corrupt: SHA-256 mismatch")
    return path


def load_npy(directory: Path, manifest: dict[str, Any], key: str) -> np.ndarray:
    path = verified_path(directory, manifest, key)
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise CorruptIndexError(f"index file {path} is unreadable: {e}") from e


def persisted_seq(directory: Path, name: str) -> int | None:
    """The committed manifest's ``applied_seq`` (None when nothing was persisted)."""
    manifest = read_manifest(directory, name)
    return None if manifest is None else int(manifest["applied_seq"])
