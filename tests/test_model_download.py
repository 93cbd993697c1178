"""Model download (HUEDB_MODEL_URL): archives served by a real http.server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading
import zipfile
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from huedb.errors import InvalidArgumentError
from huedb_plugins.embedding import model_source
from huedb_plugins.embedding.model_source import (
    ModelChecksumError,
    ModelDownloadError,
    ModelNotAvailableError,
    download_model,
    resolve_model,
)

FAKE_FILES = {
    "model.safetensors": b"not really weights " * 100,
    "tokenizer.json": b'{"fake": "tokenizer"}',
    "config.json": b'{"hidden_size": 384}',
}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests: list = []

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        type(self).requests.append(self.path)
        super().do_GET()


@pytest.fixture
def server(tmp_path):
    """Serves tmp_path/'www' over HTTP; yields (base_url, www_dir, request_log)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = type("Handler", (_QuietHandler,), {"requests": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", www, handler.requests
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("HUEDB_CACHE_DIR", str(root))
    for var in (model_source.ENV_MODEL_PATH, model_source.ENV_MODEL_URL, model_source.ENV_MODEL_SHA256):
        monkeypatch.delenv(var, raising=False)
    return root


def make_tar_gz(path: Path, files: dict, prefix: str = "") -> str:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(prefix + name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_zip(path: Path, files: dict, prefix: str = "") -> str:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(prefix + name, data)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def models_dir_entries(cache_root: Path) -> list:
    d = cache_root / "models"
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def test_tar_gz_download_verifies_and_extracts(server, cache):
    base, www, requests = server
    sha = make_tar_gz(www / "model.tar.gz", FAKE_FILES)
    files = download_model(f"{base}/model.tar.gz", sha)
    assert files.directory == cache / "models" / sha
    for name, data in FAKE_FILES.items():
        assert (files.directory / name).read_bytes() == data
    assert files.weights.name == "model.safetensors" and files.config is not None
    assert models_dir_entries(cache) == [sha]  # no temp files or staging dirs left
    # Second call: served from the cache, no new request.
    again = download_model(f"{base}/model.tar.gz", sha.upper())
    assert again == files and requests == ["/model.tar.gz"]


def test_zip_with_files_in_a_subdirectory(server, cache):
    base, www, _ = server
    sha = make_zip(www / "onnx.zip", {k: v for k, v in FAKE_FILES.items() if k != "config.json"}, prefix="model/")
    files = download_model(f"{base}/onnx.zip", sha)
    assert files.directory == cache / "models" / sha / "model"
    assert files.tokenizer.read_bytes() == FAKE_FILES["tokenizer.json"]
    assert files.config is None


def test_checksum_mismatch_raises_and_leaves_nothing(server, cache):
    base, www, _ = server
    make_tar_gz(www / "model.tar.gz", FAKE_FILES)
    wrong = "0" * 64
    with pytest.raises(ModelChecksumError, match=f"expected SHA-256 {wrong}"):
        download_model(f"{base}/model.tar.gz", wrong)
    assert models_dir_entries(cache) == []


def test_archive_without_model_files_is_rejected_and_cleaned_up(server, cache):
    base, www, _ = server
    sha = make_tar_gz(www / "empty.tar.gz", {"README.md": b"nothing here"})
    with pytest.raises(ModelDownloadError, match="does not contain model.safetensors and tokenizer.json"):
        download_model(f"{base}/empty.tar.gz", sha)
    assert models_dir_entries(cache) == []


def test_archive_with_path_traversal_is_refused(server, cache, tmp_path):
    base, www, _ = server
    sha = make_tar_gz(www / "evil.tar.gz", {**FAKE_FILES, "../../escaped.txt": b"x"})
    with pytest.raises(ModelDownloadError, match="unsafe"):
        download_model(f"{base}/evil.tar.gz", sha)
    assert models_dir_entries(cache) == []
    assert not list(tmp_path.rglob("escaped.txt"))


def test_corrupt_archive_and_http_errors(server, cache):
    base, www, _ = server
    (www / "broken.tar.gz").write_bytes(b"this is not gzip")
    with pytest.raises(ModelDownloadError, match="not a valid tar file"):
        download_model(f"{base}/broken.tar.gz")
    with pytest.raises(ModelDownloadError, match="Could not download"):
        download_model(f"{base}/missing.tar.gz")
    assert models_dir_entries(cache) == []


def test_invalid_url_or_hash_arguments(cache):
    with pytest.raises(InvalidArgumentError, match="must point at an archive"):
        download_model("http://127.0.0.1:9/model.bin")
    with pytest.raises(InvalidArgumentError, match="64 hex characters"):
        download_model("http://127.0.0.1:9/model.tar.gz", "abc")


def test_resolve_model_from_environment(server, cache, monkeypatch):
    base, www, _ = server
    sha = make_tar_gz(www / "model.tgz", FAKE_FILES)
    monkeypatch.setenv("HUEDB_MODEL_URL", f"{base}/model.tgz")
    monkeypatch.setenv("HUEDB_MODEL_SHA256", sha)
    files = resolve_model()
    assert files.directory == cache / "models" / sha
    # An explicit local path wins over the URL.
    monkeypatch.setenv("HUEDB_MODEL_PATH", str(files.directory))
    monkeypatch.setenv("HUEDB_MODEL_URL", f"{base}/does-not-exist.tgz")
    assert resolve_model() == files


def test_local_path_errors(tmp_path, cache):
    with pytest.raises(ModelNotAvailableError, match="does not exist"):
        resolve_model(model_path=str(tmp_path / "nope"))
    partial_dir = tmp_path / "partial"
    partial_dir.mkdir()
    (partial_dir / "model.safetensors").write_bytes(b"x")
    with pytest.raises(ModelNotAvailableError, match="missing tokenizer.json"):
        resolve_model(model_path=str(partial_dir))


def test_cache_root_honours_env(monkeypatch, tmp_path):
    monkeypatch.delenv("HUEDB_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert model_source.cache_root() == tmp_path / "xdg" / "huedb"
    monkeypatch.setenv("HUEDB_CACHE_DIR", str(tmp_path / "mine"))
    assert model_source.cache_root() == tmp_path / "mine"


@pytest.mark.slow  # ~6 s: archives 90 MB of weights and builds the ONNX graph in a fresh cache
def test_real_model_downloaded_from_url_embeds_like_the_package(server, cache):
    """The real weights, archived and served over HTTP, give the packaged model's vectors."""
    from huedb_plugins.embedding.onnx_minilm import ONNXMiniLM_L6_V2

    base, www, _ = server
    packaged = model_source.packaged_model_dir()
    with tarfile.open(www / "minilm.tar", "w") as tf:  # uncompressed: quick to build for 90 MB
        for name in ("model.safetensors", "tokenizer.json", "config.json"):
            tf.add(packaged / name, arcname=f"all-MiniLM-L6-v2/{name}")
    sha = hashlib.sha256((www / "minilm.tar").read_bytes()).hexdigest()

    texts = ["This is a document about pineapple", "Crème brûlée 🍮"]
    downloaded = ONNXMiniLM_L6_V2(model_url=f"{base}/minilm.tar", model_sha256=sha)
    vectors = np.stack(downloaded(texts))
    assert downloaded._runtime is not None
    assert (cache / "models" / sha / "all-MiniLM-L6-v2" / "model.safetensors").is_file()
    local = ONNXMiniLM_L6_V2(model_path=str(packaged))
    np.testing.assert_allclose(vectors, np.stack(local(texts)), atol=1e-6)
