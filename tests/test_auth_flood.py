"""Wrong Basic credentials must not stall the server (issue 10, item 5).

bcrypt used to run on the event loop: 16 clients sending wrong passwords made every
request, heartbeat included, wait behind their checks. Now checks run in worker
threads, a bounded number at once, and a verified credential is cached by a keyed
hash. All comparisons are relative to what the same test measures: no absolute times.
"""

from __future__ import annotations

import base64
import statistics
import threading
import time

import bcrypt
import httpx
import pytest

from server_fixtures import ServerProcess

V2 = "/api/v2"
FLOOD_CLIENTS = 16
FLOOD_REQUESTS_EACH = 8
BCRYPT_COST = 10  # ~50 ms a check: enough to stall a loop, cheap enough for a test


def _basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def _timed_get(client: httpx.Client, path: str, headers: dict, statuses: list[int]) -> float:
    start = time.perf_counter()
    statuses.append(client.get(path, headers=headers).status_code)
    return time.perf_counter() - start


def _flood(url: str, latencies: list[float], statuses: list[int]) -> None:
    with httpx.Client(base_url=url, timeout=120) as client:
        for i in range(FLOOD_REQUESTS_EACH):
            latencies.append(_timed_get(client, f"{V2}/auth/identity", _basic("alice", f"wrong-{i}"), statuses))


@pytest.fixture
def basic_server(tmp_path):
    htpasswd = tmp_path / "users.htpasswd"
    htpasswd.write_text("alice:" + bcrypt.hashpw(b"right-pw", bcrypt.gensalt(rounds=BCRYPT_COST)).decode() + "\n")
    env = {"CHROMA_SERVER_AUTHN_PROVIDER": "basic", "CHROMA_SERVER_AUTHN_CREDENTIALS_FILE": str(htpasswd)}
    with ServerProcess(str(tmp_path / "data"), env=env) as server:
        yield server


@pytest.mark.slow
def test_wrong_basic_credentials_flood_does_not_stall_heartbeat_or_good_clients(basic_server):
    url = basic_server.url
    good = _basic("alice", "right-pw")
    with httpx.Client(base_url=url, timeout=120) as client:
        statuses: list[int] = []
        _timed_get(client, f"{V2}/auth/identity", good, statuses)  # the one bcrypt a good client pays
        baseline = [_timed_get(client, f"{V2}/heartbeat", {}, statuses) for _ in range(20)]
        assert set(statuses) == {200}

        flood_latencies: list[float] = []
        flood_statuses: list[int] = []
        threads = [
            threading.Thread(target=_flood, args=(url, flood_latencies, flood_statuses)) for _ in range(FLOOD_CLIENTS)
        ]
        for t in threads:
            t.start()
        heartbeats: list[float] = []
        good_client: list[float] = []
        during: list[int] = []
        while any(t.is_alive() for t in threads):
            heartbeats.append(_timed_get(client, f"{V2}/heartbeat", {}, during))
            good_client.append(_timed_get(client, f"{V2}/auth/identity", good, during))
        for t in threads:
            t.join()

    assert flood_statuses == [401] * (FLOOD_CLIENTS * FLOOD_REQUESTS_EACH)
    assert set(during) == {200}
    # Heartbeats kept being answered while the flood ran: more of them than flood requests
    # (on the event loop each heartbeat waited behind a queue of bcrypt checks).
    assert len(heartbeats) >= len(flood_latencies), (len(heartbeats), len(flood_latencies))
    flood_p50 = statistics.median(flood_latencies)
    # Heartbeats and an already-verified client are far faster than the queued bad checks...
    assert statistics.median(heartbeats) * 4 < flood_p50, (statistics.median(heartbeats), flood_p50)
    assert statistics.median(good_client) * 4 < flood_p50, (statistics.median(good_client), flood_p50)
    # ...and the flood requests themselves wait in line (bounded concurrency), longer than a heartbeat did before.
    assert flood_p50 > statistics.median(baseline)


# -- the verification cache: fast, no HTTP -------------------------------------------------
def _server_auth(tmp_path, monkeypatch):
    from huedb.config import Settings
    from huedb.server.auth import ServerAuth
    from huedb_plugins.auth import basic

    calls: list[str] = []
    real = basic._check_password

    def counting(password: str, hashed: bytes) -> bool:
        calls.append(password)
        return real(password, hashed)

    monkeypatch.setattr(basic, "_check_password", counting)
    line = "alice:" + bcrypt.hashpw(b"right-pw", bcrypt.gensalt(rounds=4)).decode()
    auth = ServerAuth(Settings(chroma_server_authn_provider="basic", chroma_server_authn_credentials=line))
    return auth, calls


def _check(auth, headers: dict):
    import anyio

    async def both():
        await auth.precheck(headers)  # off the loop, as the app's middleware calls it
        return auth.authenticate(headers)  # as the route calls it: reuses the outcome

    return anyio.run(both)


def test_success_is_cached_and_wrong_passwords_never_are(tmp_path, monkeypatch):
    from huedb.errors import AuthenticationError

    auth, calls = _server_auth(tmp_path, monkeypatch)
    assert _check(auth, _basic("alice", "right-pw")).user_id == "alice"
    assert _check(auth, _basic("alice", "right-pw")).user_id == "alice"
    assert calls == ["right-pw"]  # bcrypt ran once for the two requests
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            _check(auth, _basic("alice", "wrong-pw"))
    assert calls == ["right-pw", "wrong-pw", "wrong-pw"]  # each failure is checked again
    with pytest.raises(AuthenticationError):  # extra headers do not turn a bad credential good
        _check(auth, {**_basic("alice", "wrong-pw"), "X-Chroma-Token": "x"})


def test_route_without_precheck_still_verifies(tmp_path, monkeypatch):
    from huedb.errors import AuthenticationError

    auth, calls = _server_auth(tmp_path, monkeypatch)
    with pytest.raises(AuthenticationError):
        auth.authenticate(_basic("alice", "wrong-pw"))
    assert auth.authenticate(_basic("alice", "right-pw")).user_id == "alice"
    assert calls == ["wrong-pw", "right-pw"]
