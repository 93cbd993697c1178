"""Issue 10, item 11: special files in ImageLoader, slow sockets, clients leaving mid-body."""

from __future__ import annotations

import os
import socket
import threading

import pytest

from huedb_plugins.loaders.image import ImageLoader, ImageLoadError

HANG_GUARD_SECONDS = 60  # only so a regression fails instead of hanging the suite


# -- ImageLoader: regular files only ---------------------------------------------------------
def test_image_loader_rejects_a_fifo_instead_of_blocking(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

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


# -- slow and vanishing clients, against `huedb run` -------------------------------------------
COLLECTIONS = "/api/v2/tenants/default_tenant/databases/default_database/collections"


@pytest.fixture
def short_timeout_server(tmp_path):
    from server_fixtures import ServerProcess

    env = {"HUEDB_TIMEOUT_REQUEST_HEAD": "1", "HUEDB_TIMEOUT_REQUEST_BODY": "1", "HUEDB_TIMEOUT_KEEP_ALIVE": "1"}
    with ServerProcess(str(tmp_path / "data"), env=env) as server:
        yield server


def _raw(server, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.settimeout(HANG_GUARD_SECONDS)  # the old server never closed these: recv() would time out
    sock.sendall(data)
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    sock.close()
    return received


def _post_head(server, length: int) -> bytes:
    return (
        f"POST {COLLECTIONS} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def test_half_sent_request_head_is_closed_and_others_are_served(short_timeout_server):
    import httpx

    server = short_timeout_server
    stalled = [_raw(server, b"GET /api/v2/heartbeat HTTP/1.1\r\nHost: x\r\n") for _ in range(3)]
    assert httpx.get(f"{server.url}/api/v2/heartbeat").status_code == 200  # served meanwhile
    for sock in stalled:
        assert _read_until_closed(sock) == b""  # closed without a response


def test_trickled_request_head_is_closed(short_timeout_server):
    sock = _raw(short_timeout_server, b"GET /api/v2/heartbeat HTTP/1.1\r\n")
    closed = False
    for _ in range(HANG_GUARD_SECONDS * 4):  # a header byte every 0.25 s: more bytes never extend the deadline
        try:
            sock.sendall(b"X")
        except OSError:
            closed = True
            break
        sock.settimeout(0.25)
        try:
            if sock.recv(1) == b"":
                closed = True
                break
        except TimeoutError:
            pass
        except OSError:  # reset: the server closed with our unread bytes in its buffer
            closed = True
            break
    sock.close()
    assert closed


def test_half_sent_body_gets_408_and_the_connection_is_closed(short_timeout_server):
    import httpx

    server = short_timeout_server
    body = b'{"name": "never-created"}'
    sock = _raw(server, _post_head(server, len(body)) + body[:10])
    assert httpx.get(f"{server.url}/api/v2/heartbeat").status_code == 200
    response = _read_until_closed(sock)
    assert response.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in response.lower()
    names = [c["name"] for c in httpx.get(f"{server.url}{COLLECTIONS}").json()]
    assert "never-created" not in names


def test_client_leaving_mid_body_is_one_info_line(short_timeout_server):
    import json
    import time

    server = short_timeout_server
    sock = _raw(server, _post_head(server, 1000) + b'{"name": "gone')
    time.sleep(0.2)  # let the server start reading the body before the client leaves
    sock.close()
    records = []
    for _ in range(HANG_GUARD_SECONDS * 10):
        records = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
        if any("disconnected" in r["msg"] for r in records):
            break
        time.sleep(0.1)
    gone = [r for r in records if "disconnected" in r["msg"]]
    assert len(gone) == 1 and gone[0]["level"] == "info" and gone[0]["path"] == COLLECTIONS
    assert not [r for r in records if r["level"] in ("error", "critical") or "exc" in r]
