"""`huedb run` (huedb.server.run.main): config file + env + flags, JSON logs, graceful SIGTERM."""

from __future__ import annotations

import json
import threading
import time

import httpx
import numpy as np
import pytest

from huedb.errors import InvalidArgumentError
from huedb.server.config import load_config
from huedb.server.run import main
from server_fixtures import ServerProcess

V2 = "/api/v2"


def test_config_precedence_yaml_env_flags(tmp_path):
    cfg_file = tmp_path / "config.yaml"
    cfg_file.write_text(
        "host: 0.0.0.0\nport: 9001\npath: /srv/data\nmax_request_bytes: 1000\n"
        "cors_allow_origins: [https://a.example]\nchroma_server_authn_provider: token\nallow_reset: true\n"
    )
    cfg = load_config(str(cfg_file), environ={})
    assert (cfg.host, cfg.port, cfg.path, cfg.max_request_bytes) == ("0.0.0.0", 9001, "/srv/data", 1000)
    assert cfg.cors_allow_origins == ["https://a.example"]
    assert cfg.settings == {"chroma_server_authn_provider": "token", "allow_reset": True}
    env = {
        "HUEDB_PORT": "9002",
        "CHROMA_SERVER_CORS_ALLOW_ORIGINS": "https://b.example, https://c.example",
        "CHROMA_SERVER_MAX_REQUEST_BYTES": "2000",
    }
    cfg = load_config(str(cfg_file), environ=env)
    assert cfg.port == 9002 and cfg.max_request_bytes == 2000
    assert cfg.cors_allow_origins == ["https://b.example", "https://c.example"]
    cfg = load_config(str(cfg_file), {"port": 9003, "path": None}, environ=env)
    assert cfg.port == 9003 and cfg.path == "/srv/data"  # None flags do not override
    settings = cfg.make_settings()
    assert settings.persist_directory == "/srv/data" and settings.is_persistent
    assert settings.chroma_server_authn_provider == "token"


@pytest.mark.parametrize(
    "text, needle",
    [
        ("port: abc\n", "port"),
        ("max_request_bytes: 0\n", "max_request_bytes"),
        ("- a\n- b\n", "mapping"),
        ("host: [unclosed\n", "line"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path, text, needle):
    f = tmp_path / "c.yaml"
    f.write_text(text)
    with pytest.raises(InvalidArgumentError, match=needle):
        load_config(str(f), environ={})


def test_main_reports_bad_config_without_traceback(tmp_path, capsys):
    assert main(["--config", str(tmp_path / "missing.yaml")]) == 2
    assert "Cannot read config file" in capsys.readouterr().err
    bad_auth = tmp_path / "auth.yaml"
    bad_auth.write_text(f"path: {tmp_path / 'd'}\nchroma_server_authn_provider: token\n")
    assert main(["--config", str(bad_auth)]) == 2  # token provider without credentials


@pytest.mark.slow
def test_sigterm_is_graceful_and_in_flight_write_is_committed(tmp_path):
    import base64
    import socket
    import urllib.parse

    path = str(tmp_path / "data")
    vecs = np.random.default_rng(5).random((40000, 256), dtype=np.float32)
    ids = [f"v{i}" for i in range(len(vecs))]
    server = ServerProcess(path).start()
    base = f"{server.url}{V2}/tenants/default_tenant/databases/default_database/collections"
    cid = httpx.post(base, json={"name": "sig"}).json()["id"]
    body = json.dumps({"ids": ids, "embeddings": [base64.b64encode(v.tobytes()).decode() for v in vecs]}).encode()
    url = urllib.parse.urlsplit(f"{base}/{cid}/add")
    # A raw socket makes "in flight" certain: the server has the headers and half the body
    # when SIGTERM arrives, and gets the rest only after it has begun shutting down.
    sock = socket.create_connection((url.hostname, url.port))
    head = (
        f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    half = len(body) // 2
    sock.sendall(head + body[:half])
    time.sleep(0.5)  # the server has parsed the headers: the request is running
    codes = []
    stopper = threading.Thread(target=lambda: codes.append(server.stop(timeout=120)))
    stopper.start()
    deadline = time.monotonic() + 30
    while "Shutting down" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "Shutting down" in server.log()
    sock.sendall(body[half:])
    response = b""
    while chunk := sock.recv(65536):
        response += chunk
    sock.close()
    stopper.join(120)
    assert response.split(b" ", 2)[1] == b"201", response[:300]
    assert codes and codes[0] in (0, -15)  # uvicorn re-raises SIGTERM after its graceful shutdown
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    msgs = [line["msg"] for line in lines]
    assert "huedb server stopped" in msgs
    add_at = next(i for i, line in enumerate(lines) if line.get("path", "").endswith("/add"))
    assert msgs.index("Shutting down") < add_at  # the add was still running when SIGTERM arrived
    with ServerProcess(path) as again:
        assert (
            httpx.get(
                f"{again.url}{V2}/tenants/default_tenant/databases/default_database/collections/{cid}/count"
            ).json()
            == 40000
        )


def test_chromas_own_config_yaml_is_accepted(tmp_path):
    """The shape of Chroma's single-node sample config: its keys are honoured, and the
    sections huedb has no use for (telemetry, sqlitedb, sysdb) are accepted with a warning."""
    import warnings

    from huedb.server.config import load_config

    data = tmp_path / "chroma-data"
    config = tmp_path / "config.yaml"
    config.write_text(
        "open_telemetry:\n  service_name: chroma\n  endpoint: http://otel-collector:4317\n"
        "port: 8123\nlisten_address: 0.0.0.0\nmax_payload_size_bytes: 41943040\ncors_allow_origins: ['*']\n"
        f"persist_path: {data}\nallow_reset: false\n"
        "sqlitedb:\n  hash_type: md5\n  migration_mode: apply\n"
        "sysdb:\n  sqlite:\n    log_topic_namespace: default\n    log_tenant: default\n"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_config(str(config), environ={})
    assert (loaded.path, loaded.host, loaded.port) == (str(data), "0.0.0.0", 8123)
    assert loaded.max_request_bytes == 41943040 and loaded.cors_allow_origins == ["*"]
    settings = loaded.make_settings()
    assert settings.allow_reset is False and settings.persist_directory == str(data)
    warned = " ".join(str(w.message) for w in caught)
    assert "open_telemetry" in warned and "sqlitedb" in warned
