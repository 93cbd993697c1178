"""Every path of a real Chroma 1.5.9 server's REST API is routed, and every route
huedb serves is in the OpenAPI document it serves at /openapi.json."""

from __future__ import annotations

import json
import re
from pathlib import Path

from huedb.server.app import create_app

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "chroma-v2-openapi.json"
SERVED = Path(__file__).resolve().parents[1] / "core" / "server" / "openapi.json"
METHODS = ("get", "post", "put", "patch", "delete")
#: routes that describe or retire the API rather than belong to it
META = {"/openapi.json", "/api/v1", "/api/v1/{}"}


def _template(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)  # parameter names may differ; positions may not


def _spec_ops(spec_path: Path) -> set[tuple[str, str]]:
    spec = json.loads(spec_path.read_text())
    return {(m.upper(), _template(p)) for p, ops in spec["paths"].items() for m in ops if m in METHODS}


def _routed() -> set[tuple[str, str]]:
    app = create_app()
    return {
        (m, _template(r.path))
        for r in app.routes
        for m in (getattr(r, "methods", None) or ())
        if m != "HEAD" and _template(r.path) not in META
    }


def test_every_chroma_path_is_routed():
    missing = sorted(_spec_ops(REFERENCE) - _routed())
    assert missing == [], f"Chroma 1.5.9 operations with no huedb route: {missing}"


def test_every_route_is_in_the_served_spec():
    undocumented = sorted(_routed() - _spec_ops(SERVED))
    assert undocumented == [], f"routes missing from core/server/openapi.json: {undocumented}"
    unrouted = sorted(_spec_ops(SERVED) - _routed())
    assert unrouted == [], f"operations in core/server/openapi.json with no route: {unrouted}"
