"""Auth on the server: 401 everywhere but the open routes, 403 without permission,
tenant isolation, and credentials never in logs or error messages."""

from __future__ import annotations

import logging
import re

import bcrypt
import httpx
import pytest
from starlette.routing import Route

from server_fixtures import ServerThread

V2 = "/api/v2"
OPEN = {V2 + "/heartbeat", V2 + "/healthcheck", V2 + "/version", V2}  # V2 itself: a heartbeat, as Chroma

TOKENS = {
    "admin": "tok-admin-7Qz9xLw2",
    "alice": "tok-alice-Hk3mP8vR",  # bound to tenant acme
    "bob": "tok-bob-Yt6nC1sD",  # bound to tenant beta
    "carol": "tok-carol-Zp4qB7wE",  # reader
}
USERS_YAML = f"""
users:
  - id: admin
    tokens: [{TOKENS["admin"]}]
  - id: alice
    tenant: acme
    tokens: [{TOKENS["alice"]}]
  - id: bob
    tenant: beta
    tokens: [{TOKENS["bob"]}]
  - id: carol
    tokens: [{TOKENS["carol"]}]
"""
ALL_ACTIONS = (
    "[system:reset, tenant:create_tenant, tenant:get_tenant, db:create_database, db:get_database, "
    "db:delete_database, db:list_databases, db:list_collections, db:count_collections, db:create_collection, "
    "collection:get_collection, collection:delete_collection, collection:update_collection, collection:add, "
    "collection:delete, collection:get, collection:query, collection:count, collection:update, collection:upsert]"
)
READER_ACTIONS = (
    "[tenant:get_tenant, db:get_database, db:list_collections, collection:get_collection, collection:get, "
    "collection:query, collection:count]"
)
RBAC_YAML = f"""
roles_mapping:
  admin:
    actions: {ALL_ACTIONS}
  reader:
    actions: {READER_ACTIONS}
users:
  - {{id: admin, role: admin}}
  - {{id: alice, role: admin}}
  - {{id: bob, role: admin}}
  - {{id: carol, role: reader}}
"""


def _h(user):
    return {"Authorization": f"Bearer {TOKENS[user]}"}


@pytest.fixture(scope="module")
def secure_server(tmp_path_factory):
    path = tmp_path_factory.mktemp("secure")
    (path / "users.yaml").write_text(USERS_YAML)
    (path / "authz.yaml").write_text(RBAC_YAML)
    server = ServerThread(
        str(path / "data"),
        chroma_server_authn_provider="token",
        chroma_server_authn_credentials_file=str(path / "users.yaml"),
        chroma_server_authz_provider="simple_rbac",
        chroma_server_authz_config_file=str(path / "authz.yaml"),
    ).start()
    with httpx.Client(base_url=server.url) as c:
        for tenant in ("acme", "beta"):
            assert c.post(V2 + "/tenants", json={"name": tenant}, headers=_h("admin")).status_code == 200
            assert (
                c.post(f"{V2}/tenants/{tenant}/databases", json={"name": "main"}, headers=_h("admin")).status_code
                == 200
            )
    yield server
    server.stop()


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: "x" * 3 if "path" not in m.group(0) else "a/b", path)


def test_every_route_needs_credentials_except_the_open_ones(secure_server):
    routes = [r for r in secure_server.app.routes if isinstance(r, Route)]
    assert len(routes) >= 30
    checked = 0
    with httpx.Client(base_url=secure_server.url) as c:
        for route in routes:
            for method in sorted(route.methods - {"HEAD"}):
                url = _concrete(route.path)
                r = c.request(method, url, json={})
                if route.path in OPEN:
                    assert r.status_code == 200, (method, url, r.text)
                else:
                    assert r.status_code == 401, (method, url, r.status_code, r.text)
                    assert r.json()["error"] == "AuthorizationError"
                    bad = c.request(method, url, json={}, headers={"Authorization": "Bearer wrong-token-123"})
                    assert bad.status_code == 401, (method, url, bad.text)
                checked += 1
    assert checked >= 35


def test_x_chroma_token_header_and_identity(secure_server):
    with httpx.Client(base_url=secure_server.url + V2) as c:
        r = c.get("/auth/identity", headers={"X-Chroma-Token": TOKENS["alice"]})
        assert r.json() == {"user_id": "alice", "tenant": "acme", "databases": ["*"]}
        assert c.get("/auth/identity").status_code == 401


def test_user_without_permission_gets_403(secure_server):
    with httpx.Client(base_url=secure_server.url + V2) as c:
        base = "/tenants/acme/databases/main/collections"
        r = c.post(base, json={"name": "readers-cannot"}, headers=_h("carol"))
        assert r.status_code == 403 and r.json()["error"] == "AuthError"
        assert c.post("/reset", headers=_h("carol")).status_code == 403
        assert c.get(base, headers=_h("carol")).status_code == 200
        assert c.post(base, json={"name": "made-by-admin"}, headers=_h("admin")).status_code == 200
        assert c.get(base + "/made-by-admin", headers=_h("carol")).status_code == 200


def test_tenant_isolation(secure_server):
    with httpx.Client(base_url=secure_server.url + V2) as c:
        acme, beta = "/tenants/acme/databases/main", "/tenants/beta/databases/main"
        a = c.post(acme + "/collections", json={"name": "alices"}, headers=_h("alice"))
        assert a.status_code == 200, a.text
        b = c.post(beta + "/collections", json={"name": "bobs"}, headers=_h("bob")).json()
        assert (
            c.post(
                f"{beta}/collections/{b['id']}/add", json={"ids": ["s"], "embeddings": [[1.0]]}, headers=_h("bob")
            ).status_code
            == 201
        )
        # alice cannot list, read or write tenant beta
        for method, url, body in [
            ("GET", "/tenants/beta", None),
            ("GET", "/tenants/beta/databases", None),
            ("POST", "/tenants/beta/databases", {"name": "x"}),
            ("GET", beta + "/collections", None),
            ("GET", beta + "/collections_count", None),
            ("POST", beta + "/collections", {"name": "intruder"}),
            ("GET", beta + "/collections/bobs", None),
            ("GET", f"{beta}/collections/by-id/{b['id']}", None),
            ("POST", f"{beta}/collections/{b['id']}/get", {}),
            ("POST", f"{beta}/collections/{b['id']}/query", {"query_embeddings": [[1.0]]}),
            ("POST", f"{beta}/collections/{b['id']}/add", {"ids": ["x"], "embeddings": [[1.0]]}),
            ("POST", f"{beta}/collections/{b['id']}/delete", {"ids": ["s"]}),
            ("GET", f"{beta}/collections/{b['id']}/count", None),
            ("DELETE", beta + "/collections/bobs", None),
            ("GET", "/collections/beta:main:bobs", None),
            ("POST", "/tenants", {"name": "new-tenant"}),
            ("POST", "/reset", None),
        ]:
            r = c.request(method, url, json=body, headers=_h("alice"))
            assert r.status_code == 403, (method, url, r.status_code, r.text)
        # beta's collection id through alice's own tenant path: invisible
        r = c.post(f"{acme}/collections/{b['id']}/get", json={}, headers=_h("alice"))
        assert r.status_code == 404
        assert c.get(f"{beta}/collections/{b['id']}/count", headers=_h("bob")).json() == 1


def test_credentials_never_in_logs_or_errors(secure_server, caplog):
    caplog.set_level(logging.DEBUG)
    secret_wrong = "wrong-secret-Q8w7e6r5"
    bodies = []
    with httpx.Client(base_url=secure_server.url + V2) as c:
        for headers in (
            {"Authorization": f"Bearer {secret_wrong}"},
            {"X-Chroma-Token": secret_wrong},
            {"Authorization": f"Basic {secret_wrong}"},
            {"Authorization": secret_wrong},
            _h("carol"),
        ):
            for method, url in (("GET", "/tenants/acme"), ("POST", "/tenants/acme/databases/main/collections")):
                r = c.request(method, url, json={"name": "nope-col"}, headers=headers)
                bodies.append(r.text)
        bodies.append(c.get("/tenants/acme", headers=_h("admin")).text)
    text = caplog.text + "\n".join(bodies)
    assert "AuthorizationError" in text  # the failures were answered
    for secret in (secret_wrong, *TOKENS.values()):
        assert secret not in text


def test_http_client_with_token_and_basic_auth(secure_server, tmp_path):
    import huedb
    from huedb.config import Settings
    from huedb.errors import AuthorizationError, ForbiddenError

    settings = Settings(chroma_client_auth_provider="token", chroma_client_auth_credentials=TOKENS["alice"])
    client = huedb.HttpClient(
        host="127.0.0.1", port=secure_server.port, settings=settings, tenant="acme", database="main"
    )
    col = client.get_or_create_collection("via-client", embedding_function=None)
    col.add(ids=["1"], embeddings=[[0.5, 0.5]])
    assert col.count() == 1
    with pytest.raises(ForbiddenError):
        client.set_tenant("beta", "main")
    client.close()
    with pytest.raises(AuthorizationError):
        huedb.HttpClient(host="127.0.0.1", port=secure_server.port)
    bad = Settings(chroma_client_auth_provider="token", chroma_client_auth_credentials="not-a-real-token")
    with pytest.raises(AuthorizationError):
        huedb.HttpClient(host="127.0.0.1", port=secure_server.port, settings=bad)

    # basic auth: an htpasswd file of bcrypt hashes
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text("admin:" + bcrypt.hashpw(b"s3cret-pw", bcrypt.gensalt(4)).decode() + "\n")
    with ServerThread(
        str(tmp_path / "d"), chroma_server_authn_provider="basic", chroma_server_authn_credentials_file=str(htpasswd)
    ) as server:
        ok = Settings(chroma_client_auth_provider="basic", chroma_client_auth_credentials="admin:s3cret-pw")
        c = huedb.HttpClient(host="127.0.0.1", port=server.port, settings=ok)
        assert c.count_collections() == 0
        c.close()
        wrong = Settings(chroma_client_auth_provider="basic", chroma_client_auth_credentials="admin:nope")
        with pytest.raises(AuthorizationError):
            huedb.HttpClient(host="127.0.0.1", port=server.port, settings=wrong)
