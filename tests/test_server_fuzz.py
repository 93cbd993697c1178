"""Fuzz the server with schemathesis against its own OpenAPI (Chroma's v2 spec): no 500s, ever."""
from __future__ import annotations

import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from huedb.server.app import create_app
from huedb.server.config import ServerConfig

from huedb.api.local import LocalAPI

_CONFIG = ServerConfig(path=tempfile.mkdtemp(prefix="huedb-fuzz-"), settings={"allow_reset": False})
# The backend is passed in (not owned by the app): schemathesis runs the app's lifespan on every call.
APP = create_app(_CONFIG, api=LocalAPI(_CONFIG.make_settings()))
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP)


def _seed() -> None:
    """Something to hit: a collection with records in the default database."""
    api = APP.state.api
    model = api.create_collection("fuzzed", None, {"k": 1}, True)
    api._upsert(model.id, ["a", "b"], [[1.0, 2.0], [3.0, 4.0]], [{"k": 1}, {"k": "x"}], ["doc a", "doc b"])


_seed()


@pytest.mark.slow
@SCHEMA.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    response = case.call()
    assert response.status_code < 500 or response.status_code == 501, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
    )
    if response.status_code >= 400:
        body = response.json()
        assert set(body) >= {"error", "message"}
