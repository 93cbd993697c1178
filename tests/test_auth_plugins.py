"""Auth plugins: basic and token authn, simple RBAC authz, client providers.

Real bcrypt (cost 4 for speed), real files in tmp_path, real plugin discovery
through entry points. No HTTP server here: providers are called directly with
header mappings, as the server will call them.
"""

from __future__ import annotations

import base64
import enum
import hmac
import json
import logging
import secrets
import traceback
from types import SimpleNamespace

import bcrypt
import pytest

from huedb.auth import AuthzResource, UserIdentity
from huedb.errors import AuthenticationError, ForbiddenError, InvalidArgumentError
from huedb.registry import Registry
from huedb_plugins.auth import common
from huedb_plugins.auth.basic import BasicAuthClientProvider, BasicAuthenticationServerProvider
from huedb_plugins.auth.common import singleton_tenant_database_if_applicable
from huedb_plugins.auth.rbac import ACTIONS, SimpleRBACAuthorizationProvider
from huedb_plugins.auth.token import TokenAuthClientProvider, TokenAuthenticationServerProvider

ALICE_PW = "alice-s3cret-pw"
BOB_PW = "bob-0ther-pw"
TOK_ALICE_1 = "tok-alice-AAAA1111"
TOK_ALICE_2 = "tok-alice-BBBB2222"
TOK_BOB = "tok-bob-CCCC3333"


def settings(**kw):
    return SimpleNamespace(**kw)


def hash_pw(pw: str, prefix: bytes = b"$2b$") -> str:
    h = bcrypt.hashpw(pw.encode(), bcrypt.gensalt(rounds=4))
    return (prefix + h[4:]).decode()


def basic_header(user: str, pw: str, scheme: str = "Basic") -> dict:
    return {"Authorization": f"{scheme} " + base64.b64encode(f"{user}:{pw}".encode()).decode()}


@pytest.fixture(scope="module")
def htpasswd_text() -> str:
    return (
        "# huedb users\n"
        f"alice:{hash_pw(ALICE_PW)}\n"
        "\n"
        f"bob:{hash_pw(BOB_PW, prefix=b'$2y$')}\n"  # htpasswd -B writes $2y$
    )


@pytest.fixture
def htpasswd_file(tmp_path, htpasswd_text):
    p = tmp_path / "htpasswd"
    p.write_text(htpasswd_text)
    return p


USERS_YAML = f"""
users:
  - id: alice
    role: admin
    tenant: acme
    databases: [prod, staging]
    tokens: [{TOK_ALICE_1}, {TOK_ALICE_2}]
  - id: bob
    role: reader
    tokens:
      - {TOK_BOB}
  - id: carol
    role: writer
    tenant: "*"
    databases: ["*"]
    tokens: [tok-carol-DDDD4444]
"""


@pytest.fixture
def users_file(tmp_path):
    p = tmp_path / "users.yaml"
    p.write_text(USERS_YAML)
    return p


# -- discovery ---------------------------------------------------------------
DISCOVERY = [
    ("authn_provider", "basic", BasicAuthenticationServerProvider),
    (
        "authn_provider",
        "chromadb.auth.basic_authn.BasicAuthenticationServerProvider",
        BasicAuthenticationServerProvider,
    ),
    ("authn_provider", "token", TokenAuthenticationServerProvider),
    (
        "authn_provider",
        "chromadb.auth.token_authn.TokenAuthenticationServerProvider",
        TokenAuthenticationServerProvider,
    ),
    ("authz_provider", "simple_rbac", SimpleRBACAuthorizationProvider),
    (
        "authz_provider",
        "chromadb.auth.simple_rbac_authz.SimpleRBACAuthorizationProvider",
        SimpleRBACAuthorizationProvider,
    ),
    ("client_auth_provider", "basic", BasicAuthClientProvider),
    ("client_auth_provider", "chromadb.auth.basic_authn.BasicAuthClientProvider", BasicAuthClientProvider),
    ("client_auth_provider", "token", TokenAuthClientProvider),
    ("client_auth_provider", "chromadb.auth.token_authn.TokenAuthClientProvider", TokenAuthClientProvider),
]


@pytest.mark.parametrize("kind,name,cls", DISCOVERY)
def test_discovered_through_entry_points(monkeypatch, kind, name, cls):
    # Restrict discovery to the auth entry points (still real entry points) to keep it fast.
    monkeypatch.setenv("HUEDB_LOAD_PLUGINS", "basic_auth,token_auth,simple_rbac")
    registry = Registry()
    assert registry.get(kind, name) is cls
    reg = registry.registrations()[kind][name]
    assert reg.plugin in {"basic_auth", "token_auth", "simple_rbac"}
    assert all(info.error is None for info in registry.plugin_info.values())


def test_discovery_lists_exactly_the_auth_names(monkeypatch):
    monkeypatch.setenv("HUEDB_LOAD_PLUGINS", "basic_auth,token_auth,simple_rbac")
    registry = Registry()
    for kind in ("authn_provider", "authz_provider", "client_auth_provider"):
        expected = sorted(n for k, n, _ in DISCOVERY if k == kind)
        assert registry.names(kind) == expected


# -- basic authn ---------------------------------------------------------------
def test_basic_ok_from_file(htpasswd_file):
    p = BasicAuthenticationServerProvider(settings(chroma_server_authn_credentials_file=str(htpasswd_file)))
    user = p.authenticate(basic_header("alice", ALICE_PW))
    assert user == UserIdentity(user_id="alice")
    # $2y$ hashes (htpasswd's spelling) work; header name and scheme are case-insensitive
    assert (
        p.authenticate({"authorization": basic_header("bob", BOB_PW, scheme="basic")["Authorization"]}).user_id == "bob"
    )


def test_basic_ok_from_inline_text_and_mapping_settings(htpasswd_text):
    p = BasicAuthenticationServerProvider({"chroma_server_authn_credentials": htpasswd_text})
    assert p.authenticate(basic_header("alice", ALICE_PW)).user_id == "alice"


def test_basic_wrong_password_and_unknown_user_look_the_same(htpasswd_text):
    p = BasicAuthenticationServerProvider(settings(chroma_server_authn_credentials=htpasswd_text))
    with pytest.raises(AuthenticationError) as wrong:
        p.authenticate(basic_header("alice", "not-the-password"))
    with pytest.raises(AuthenticationError) as unknown:
        p.authenticate(basic_header("mallory", ALICE_PW))
    assert wrong.value.code() == 401
    assert str(wrong.value) == str(unknown.value) == "Invalid username or password."


def test_basic_unknown_user_still_runs_bcrypt(htpasswd_text, monkeypatch):
    p = BasicAuthenticationServerProvider(settings(chroma_server_authn_credentials=htpasswd_text))
    calls = []
    real = bcrypt.checkpw

    def spy(pw, hashed):
        calls.append(hashed)
        return real(pw, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", spy)
    with pytest.raises(AuthenticationError):
        p.authenticate(basic_header("mallory", "whatever"))
    assert len(calls) == 1 and calls[0].startswith(b"$2b$04$")  # dummy hash at the configured cost


def test_basic_long_password_is_truncated_like_htpasswd():
    long_pw = "x" * 72 + "tail-ignored-by-bcrypt"
    hashed = bcrypt.hashpw(long_pw.encode()[:72], bcrypt.gensalt(rounds=4)).decode()
    p = BasicAuthenticationServerProvider(settings(chroma_server_authn_credentials=f"dave:{hashed}"))
    assert p.authenticate(basic_header("dave", long_pw)).user_id == "dave"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Other": "x"},
        {"Authorization": "Bearer abc"},
        {"Authorization": "Basic"},
        {"Authorization": "Basic !!!not-base64!!!"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon-here").decode()},
        {"Authorization": "Basic " + base64.b64encode(b":password-without-user").decode()},
        {"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode()},
        {"Authorization": "Basic \u00e9\u00e9\u00e9"},
    ],
)
def test_basic_malformed_headers_are_401(htpasswd_text, headers):
    p = BasicAuthenticationServerProvider(settings(chroma_server_authn_credentials=htpasswd_text))
    with pytest.raises(AuthenticationError) as e:
        p.authenticate(headers)
    assert "Basic <base64 of username:password>" in str(e.value)


def test_basic_configuration_errors(tmp_path, htpasswd_text, htpasswd_file):
    with pytest.raises(InvalidArgumentError, match="chroma_server_authn_credentials"):
        BasicAuthenticationServerProvider(settings())
    with pytest.raises(InvalidArgumentError, match="only one"):
        BasicAuthenticationServerProvider(
            settings(
                chroma_server_authn_credentials=htpasswd_text, chroma_server_authn_credentials_file=str(htpasswd_file)
            )
        )
    with pytest.raises(InvalidArgumentError, match="does not exist"):
        BasicAuthenticationServerProvider(settings(chroma_server_authn_credentials_file=str(tmp_path / "missing")))
    with pytest.raises(InvalidArgumentError, match="appears twice"):
        BasicAuthenticationServerProvider(settings(chroma_server_authn_credentials=htpasswd_text + htpasswd_text))
    with pytest.raises(InvalidArgumentError, match="no users"):
        BasicAuthenticationServerProvider(settings(chroma_server_authn_credentials="# only a comment\n"))
    with pytest.raises(InvalidArgumentError, match="line 1"):
        BasicAuthenticationServerProvider(settings(chroma_server_authn_credentials="just-a-word"))


def test_basic_plaintext_password_line_is_rejected_without_echo():
    with pytest.raises(InvalidArgumentError) as e:
        BasicAuthenticationServerProvider(settings(chroma_server_authn_credentials="carol:PlainTextSecret99"))
    assert "not a bcrypt hash" in str(e.value) and "htpasswd -Bbn" in str(e.value)
    assert "PlainTextSecret99" not in str(e.value)


# -- token authn ---------------------------------------------------------------
def test_token_bearer_and_x_chroma_token_both_accepted_by_default():
    p = TokenAuthenticationServerProvider(settings(chroma_server_authn_credentials=f"{TOK_ALICE_1},{TOK_BOB}"))
    assert p.authenticate({"Authorization": f"Bearer {TOK_ALICE_1}"}).user_id == "anonymous"
    assert p.authenticate({"x-chroma-token": TOK_BOB}).user_id == "anonymous"
    assert p.authenticate({"authorization": f"bearer   {TOK_BOB}  "}).user_id == "anonymous"
    # a Basic Authorization header does not hide an X-Chroma-Token
    assert p.authenticate({"Authorization": "Basic abc", "X-Chroma-Token": TOK_BOB}).user_id == "anonymous"


@pytest.mark.parametrize("configured", ["X-Chroma-Token", "x-chroma-token", "X_CHROMA_TOKEN"])
def test_token_configured_x_chroma_token_only(configured):
    p = TokenAuthenticationServerProvider(
        settings(chroma_server_authn_credentials=TOK_BOB, chroma_auth_token_transport_header=configured)
    )
    assert p.authenticate({"X-Chroma-Token": TOK_BOB}).user_id == "anonymous"
    with pytest.raises(AuthenticationError, match="only as 'X-Chroma-Token"):
        p.authenticate({"Authorization": f"Bearer {TOK_BOB}"})


@pytest.mark.parametrize("configured", ["Authorization", "AUTHORIZATION"])
def test_token_configured_authorization_only(configured):
    p = TokenAuthenticationServerProvider(
        settings(chroma_server_authn_credentials=TOK_BOB, chroma_auth_token_transport_header=configured)
    )
    assert p.authenticate({"Authorization": f"Bearer {TOK_BOB}"}).user_id == "anonymous"
    with pytest.raises(AuthenticationError, match="Missing token: send 'Authorization: Bearer <token>'.$"):
        p.authenticate({"X-Chroma-Token": TOK_BOB})


def test_token_invalid_transport_header_setting():
    with pytest.raises(InvalidArgumentError, match="X-Chroma-Token"):
        TokenAuthenticationServerProvider(
            settings(chroma_server_authn_credentials=TOK_BOB, chroma_auth_token_transport_header="X-Api-Key")
        )


@pytest.mark.parametrize(
    "headers,message",
    [
        ({"Authorization": "Bearer wrong-token"}, "Invalid token."),
        ({"X-Chroma-Token": TOK_BOB + "x"}, "Invalid token."),
        ({"Authorization": "Bearer "}, "Empty token"),
        ({"X-Chroma-Token": "  "}, "Empty token"),
        ({"Authorization": "Basic abc"}, "Malformed Authorization header"),
        ({}, "Missing token"),
    ],
)
def test_token_rejections(headers, message):
    p = TokenAuthenticationServerProvider(settings(chroma_server_authn_credentials=TOK_BOB))
    with pytest.raises(AuthenticationError) as e:
        p.authenticate(headers)
    assert message in str(e.value)
    assert e.value.code() == 401


def test_token_users_file_maps_to_tenant_and_databases(users_file):
    p = TokenAuthenticationServerProvider(settings(chroma_server_authn_credentials_file=str(users_file)))
    for tok in (TOK_ALICE_1, TOK_ALICE_2):
        alice = p.authenticate({"Authorization": f"Bearer {tok}"})
        assert alice == UserIdentity(
            user_id="alice", tenant="acme", databases=["prod", "staging"], attributes={"role": "admin"}
        )
    bob = p.authenticate({"X-Chroma-Token": TOK_BOB})
    assert (bob.user_id, bob.tenant, bob.databases) == ("bob", None, [])
    carol = p.authenticate({"X-Chroma-Token": "tok-carol-DDDD4444"})
    assert (carol.tenant, carol.databases) == (None, [])  # Chroma's "*" means any
    # identities are fresh objects: mutating one does not change the configuration
    alice.databases.append("evil")
    assert p.authenticate({"Authorization": f"Bearer {TOK_ALICE_1}"}).databases == ["prod", "staging"]


def test_token_inline_json_users_and_mapping_form():
    doc = {"users": [{"id": "u1", "tenant": "t1", "databases": ["db1"], "tokens": [TOK_BOB]}]}
    p = TokenAuthenticationServerProvider(settings(chroma_server_authn_credentials=json.dumps(doc)))
    assert p.authenticate({"X-Chroma-Token": TOK_BOB}) == UserIdentity("u1", "t1", ["db1"])
    p = TokenAuthenticationServerProvider(
        settings(chroma_server_authn_credentials=f"alice: {TOK_ALICE_1}\nbob: [{TOK_BOB}, {TOK_ALICE_2}]\n")
    )
    assert p.authenticate({"X-Chroma-Token": TOK_ALICE_1}).user_id == "alice"
    assert p.authenticate({"X-Chroma-Token": TOK_ALICE_2}).user_id == "bob"


def test_token_plain_file_one_per_line(tmp_path):
    f = tmp_path / "tokens.txt"
    f.write_text(f"# service tokens\n{TOK_ALICE_1}\n\n{TOK_BOB}\n%weird{{token}}\n")
    p = TokenAuthenticationServerProvider(settings(chroma_server_authn_credentials_file=str(f)))
    for tok in (TOK_ALICE_1, TOK_BOB, "%weird{token}"):
        assert p.authenticate({"X-Chroma-Token": tok}).user_id == "anonymous"
    with pytest.raises(AuthenticationError):
        p.authenticate({"X-Chroma-Token": "# service tokens"})
    # tokens that YAML would read as a mapping are still plain tokens
    p = TokenAuthenticationServerProvider(settings(chroma_server_authn_credentials="ends-with-colon:\n{braced}\n"))
    for tok in ("ends-with-colon:", "{braced}"):
        assert p.authenticate({"X-Chroma-Token": tok}).user_id == "anonymous"


def test_token_compares_against_every_entry(monkeypatch):
    p = TokenAuthenticationServerProvider(
        settings(chroma_server_authn_credentials=",".join([TOK_ALICE_1, TOK_ALICE_2, TOK_BOB]))
    )
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(common.hmac, "compare_digest", spy)
    p.authenticate({"X-Chroma-Token": TOK_ALICE_1})  # matches the first entry: no early exit
    assert len(calls) == 3
    calls.clear()
    with pytest.raises(AuthenticationError):
        p.authenticate({"X-Chroma-Token": "x"})  # digests: same length whatever the token length
    assert calls == [(32, 32)] * 3


@pytest.mark.parametrize(
    "text,match",
    [
        (
            f"users:\n  - id: a\n    tokens: [{TOK_BOB}]\n  - id: b\n    tokens: [{TOK_BOB}]\n",
            "also assigned to user 'a'",
        ),
        ("users:\n  - id: a\n    tokens: ['has space-SECRET']\n", "token #1 of user 'a' is invalid"),
        ("users:\n  - id: a\n", "needs 'tokens'"),
        ("users:\n  - role: admin\n    tokens: [x]\n", "user #1 needs an 'id'"),
        (f"users:\n  - id: a\n    tokens: [{TOK_BOB}]\n  - id: a\n    tokens: [y]\n", "appears twice"),
        (f"users:\n  - id: a\n    tokens: [{TOK_BOB}\n  - id: SECRET\n", "not valid YAML at line"),
        ("users:\n  - id: a\n    databases: 7\n    tokens: [x]\n", "databases must be a list"),
        ("a SECRET with spaces", "line 1: a token is invalid"),
        ("\n# nothing\n", "has no tokens"),
    ],
)
def test_token_configuration_errors_do_not_echo_tokens(text, match):
    with pytest.raises(InvalidArgumentError, match=match) as e:
        TokenAuthenticationServerProvider(settings(chroma_server_authn_credentials=text))
    assert TOK_BOB not in str(e.value) and "SECRET" not in str(e.value)


# -- simple RBAC ---------------------------------------------------------------
RBAC_YAML = """
resource_type_action: [ignored, like Chroma's example file]
roles_mapping:
  admin:
    actions: [%s]
  reader:
    actions: [collection:get_collection, collection:get, collection:query, collection:count, db:list_collections]
  writer:
    actions: [collection:get_collection, collection:add, collection:upsert, db:create_collection, db:list_databases]
users:
  - id: root
    role: admin
  - id: alice
    role: admin
    tokens: [tok-ignored-by-rbac]
  - id: bob
    role: reader
  - id: pinned
    role: writer
    tenant: acme
    databases: [prod]
""" % ", ".join(ACTIONS)  # noqa: UP031 - the YAML reads best as one template


@pytest.fixture
def authz(tmp_path):
    f = tmp_path / "authz.yaml"
    f.write_text(RBAC_YAML)
    return SimpleRBACAuthorizationProvider(settings(chroma_server_authz_config_file=str(f)))


def res(tenant="default_tenant", database="default_database", collection=None):
    return AuthzResource(tenant=tenant, database=database, collection=collection)


def test_actions_match_chromas_authz_actions():
    assert len(ACTIONS) == len(set(ACTIONS)) == 21
    assert {"system:reset", "db:get_or_create_collection", "collection:upsert"} <= set(ACTIONS)


def test_rbac_allows_role_actions(authz):
    for action in ACTIONS:
        authz.authorize(UserIdentity("root"), action, res(collection="c"))
    authz.authorize(UserIdentity("bob"), "collection:query", res(collection="c"))
    assert authz.allowed_actions(UserIdentity("bob")) == {
        "collection:get_collection",
        "collection:get",
        "collection:query",
        "collection:count",
        "db:list_collections",
    }


def test_rbac_denies_actions_outside_role(authz):
    with pytest.raises(ForbiddenError) as e:
        authz.authorize(UserIdentity("bob"), "collection:add", res(collection="c"))
    assert e.value.code() == 403
    assert "'bob'" in str(e.value) and "'reader'" in str(e.value) and "collection:add" in str(e.value)
    with pytest.raises(ForbiddenError, match="has no role"):
        authz.authorize(UserIdentity("stranger"), "collection:get", res())


def test_rbac_accepts_enum_actions_and_rejects_unknown_ones(authz):
    class Action(str, enum.Enum):
        QUERY = "collection:query"

    authz.authorize(UserIdentity("bob"), Action.QUERY, res())
    with pytest.raises(InvalidArgumentError, match="Unknown authorization action 'collection:fly'"):
        authz.authorize(UserIdentity("root"), "collection:fly", res())


def test_rbac_role_from_authn_identity(authz):
    # users not listed in the authz file get the role their token users file gave them
    authz.authorize(UserIdentity("eve", attributes={"role": "reader"}), "collection:get", res())
    with pytest.raises(ForbiddenError):
        authz.authorize(UserIdentity("eve", attributes={"role": "reader"}), "collection:add", res())
    with pytest.raises(ForbiddenError, match="has no role"):
        authz.authorize(UserIdentity("eve", attributes={"role": "no-such-role"}), "collection:get", res())


def test_rbac_tenant_isolation_from_identity(authz):
    acme_admin = UserIdentity("root", tenant="acme")
    authz.authorize(acme_admin, "collection:add", res(tenant="acme", collection="c"))
    authz.authorize(acme_admin, "db:create_database", res(tenant="acme", database="new"))
    with pytest.raises(ForbiddenError, match="bound to tenant 'acme' and may not access tenant 'other'"):
        authz.authorize(acme_admin, "collection:get", res(tenant="other", collection="c"))
    with pytest.raises(ForbiddenError, match="tenant 'other'"):
        authz.authorize(acme_admin, "tenant:create_tenant", res(tenant="other", database=None))
    with pytest.raises(ForbiddenError, match="no tenant"):
        authz.authorize(acme_admin, "collection:get", res(tenant=None))
    with pytest.raises(ForbiddenError, match="server-wide"):
        authz.authorize(acme_admin, "system:reset", AuthzResource())
    # "*" (Chroma's any-tenant marker) is no restriction
    authz.authorize(UserIdentity("root", tenant="*", databases=["*"]), "system:reset", AuthzResource())


def test_rbac_database_isolation_from_identity(authz):
    user = UserIdentity("root", tenant="acme", databases=["prod", "staging"])
    authz.authorize(user, "collection:query", res(tenant="acme", database="staging", collection="c"))
    authz.authorize(user, "db:list_databases", res(tenant="acme", database=None))  # tenant-level action
    with pytest.raises(ForbiddenError, match="may not access database 'dev'"):
        authz.authorize(user, "collection:query", res(tenant="acme", database="dev", collection="c"))
    with pytest.raises(ForbiddenError, match="no database"):
        authz.authorize(user, "db:list_collections", res(tenant="acme", database=None))


def test_rbac_binding_from_authz_config(authz):
    # basic auth yields no tenant: the authz file's binding still applies
    pinned = UserIdentity("pinned")
    authz.authorize(pinned, "collection:add", res(tenant="acme", database="prod", collection="c"))
    with pytest.raises(ForbiddenError, match="tenant 'acme'"):
        authz.authorize(pinned, "collection:add", res(tenant="default_tenant", database="prod"))
    with pytest.raises(ForbiddenError, match="database 'dev'"):
        authz.authorize(pinned, "collection:add", res(tenant="acme", database="dev"))


@pytest.mark.parametrize(
    "text,match",
    [
        ("users: []\n", "must be a YAML mapping with 'roles_mapping'"),
        ("roles_mapping:\n  r: {actions: [collection:fly]}\n", r"unknown actions \['collection:fly'\]"),
        ("roles_mapping:\n  r: {}\n", "needs 'actions'"),
        (
            "roles_mapping:\n  r: {actions: []}\nusers:\n  - {id: a, role: nope}\n",
            "role 'nope'.*defined roles: \\['r'\\]",
        ),
        ("roles_mapping:\n  r: {actions: []}\nusers:\n  - {id: a, role: r}\n  - {id: a, role: r}\n", "appears twice"),
        ("roles_mapping:\n  r: {actions: []}\nusers:\n  - {role: r}\n", "user #1 needs an 'id'"),
        ("roles_mapping: [\n", "not valid YAML"),
    ],
)
def test_rbac_configuration_errors(text, match):
    with pytest.raises(InvalidArgumentError, match=match):
        SimpleRBACAuthorizationProvider(settings(chroma_server_authz_config=text))


def test_rbac_config_setting_errors(tmp_path):
    with pytest.raises(InvalidArgumentError, match="chroma_server_authz_config_file"):
        SimpleRBACAuthorizationProvider(settings())
    with pytest.raises(InvalidArgumentError, match="does not exist"):
        SimpleRBACAuthorizationProvider(settings(chroma_server_authz_config_file=str(tmp_path / "nope.yaml")))


def test_token_then_rbac_with_one_shared_chroma_file(tmp_path):
    # Chroma's examples keep tokens and roles in one file used by both providers.
    f = tmp_path / "auth.yaml"
    f.write_text(
        "roles_mapping:\n  reader: {actions: [collection:query]}\n"
        f"users:\n  - {{id: bob, role: reader, tenant: acme, tokens: [{TOK_BOB}]}}\n"
    )
    s = settings(chroma_server_authn_credentials_file=str(f), chroma_server_authz_config_file=str(f))
    user = TokenAuthenticationServerProvider(s).authenticate({"Authorization": f"Bearer {TOK_BOB}"})
    authz = SimpleRBACAuthorizationProvider(s)
    authz.authorize(user, "collection:query", res(tenant="acme"))
    with pytest.raises(ForbiddenError):
        authz.authorize(user, "collection:query", res(tenant="other"))


# -- client providers ------------------------------------------------------------
def test_basic_client_header_round_trips_through_server(htpasswd_text):
    client = BasicAuthClientProvider(settings(chroma_client_auth_credentials=f"alice:{ALICE_PW}"))
    headers = client.authenticate()
    assert headers == {"Authorization": "Basic " + base64.b64encode(f"alice:{ALICE_PW}".encode()).decode()}
    server = BasicAuthenticationServerProvider(settings(chroma_server_authn_credentials=htpasswd_text))
    assert server.authenticate(headers).user_id == "alice"


@pytest.mark.parametrize("creds", [None, "", "no-colon-SECRET", ":SECRET"])
def test_basic_client_rejects_bad_credentials(creds):
    with pytest.raises(InvalidArgumentError, match="username:password") as e:
        BasicAuthClientProvider(settings(chroma_client_auth_credentials=creds))
    assert "SECRET" not in str(e.value)


@pytest.mark.parametrize(
    "configured,expected",
    [
        (None, {"Authorization": f"Bearer {TOK_BOB}"}),
        ("Authorization", {"Authorization": f"Bearer {TOK_BOB}"}),
        ("X-Chroma-Token", {"X-Chroma-Token": TOK_BOB}),
        ("X_CHROMA_TOKEN", {"X-Chroma-Token": TOK_BOB}),
    ],
)
def test_token_client_headers_round_trip_through_server(configured, expected):
    s = settings(
        chroma_client_auth_credentials=TOK_BOB,
        chroma_server_authn_credentials=TOK_BOB,
        chroma_auth_token_transport_header=configured,
    )
    headers = TokenAuthClientProvider(s).authenticate()
    assert headers == expected
    assert TokenAuthenticationServerProvider(s).authenticate(headers).user_id == "anonymous"


def test_token_client_rejects_bad_settings():
    with pytest.raises(InvalidArgumentError, match="CHROMA_CLIENT_AUTH_CREDENTIALS"):
        TokenAuthClientProvider(settings())
    with pytest.raises(InvalidArgumentError, match="not a valid token") as e:
        TokenAuthClientProvider(settings(chroma_client_auth_credentials="has a SECRET space"))
    assert "SECRET" not in str(e.value)
    with pytest.raises(InvalidArgumentError, match="chroma_auth_token_transport_header"):
        TokenAuthClientProvider(
            settings(chroma_client_auth_credentials=TOK_BOB, chroma_auth_token_transport_header="Cookie")
        )


def test_client_providers_do_not_show_secrets_in_repr():
    b = BasicAuthClientProvider(settings(chroma_client_auth_credentials=f"alice:{ALICE_PW}"))
    t = TokenAuthClientProvider(settings(chroma_client_auth_credentials=TOK_BOB))
    encoded = base64.b64encode(f"alice:{ALICE_PW}".encode()).decode()
    for text in (repr(vars(b)), str(vars(b)), repr(vars(t))):
        assert ALICE_PW not in text and encoded not in text and TOK_BOB not in text


# -- secrets never leak -------------------------------------------------------------
def _failures(htpasswd_text, users_file):
    """(secret sent, attempt) pairs; secrets are random so they cannot appear in any source line."""
    basic_p = BasicAuthenticationServerProvider(settings(chroma_server_authn_credentials=htpasswd_text))
    token_p = TokenAuthenticationServerProvider(settings(chroma_server_authn_credentials_file=str(users_file)))
    xtoken_p = TokenAuthenticationServerProvider(
        settings(
            chroma_server_authn_credentials_file=str(users_file), chroma_auth_token_transport_header="X-Chroma-Token"
        )
    )
    rnd = secrets.token_hex
    near = TOK_ALICE_1[:-4] + rnd(2)  # a near-miss token
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return [
        (ALICE_PW + rnd(8), lambda s: basic_p.authenticate(basic_header("alice", s))),
        (BOB_PW + rnd(8), lambda s: basic_p.authenticate(basic_header("nobody", s))),
        ("nocolon" + rnd(8), lambda s: basic_p.authenticate({"Authorization": "Basic " + b64(s.encode())})),
        ("\xe9" + rnd(8), lambda s: basic_p.authenticate({"Authorization": "Basic " + b64(s.encode("latin-1"))})),
        (rnd(8) + "*not*base64", lambda s: basic_p.authenticate({"Authorization": f"Basic {s}"})),
        (near, lambda s: token_p.authenticate({"Authorization": f"Bearer {s}"})),
        (near, lambda s: token_p.authenticate({"X-Chroma-Token": s})),
        (near, lambda s: token_p.authenticate({"Authorization": f"Token {s}"})),
        (TOK_ALICE_1, lambda s: xtoken_p.authenticate({"Authorization": f"Bearer {s}"})),
    ]


def test_secrets_absent_from_errors_tracebacks_and_logs(htpasswd_text, users_file, caplog):
    caplog.set_level(logging.DEBUG)
    for secret, attempt in _failures(htpasswd_text, users_file):
        with pytest.raises(AuthenticationError) as e:
            attempt(secret)
        # no chained decode error (which would carry the raw bytes) is shown
        assert e.value.__cause__ is None
        assert e.value.__context__ is None or e.value.__suppress_context__
        rendered = "".join(traceback.format_exception(e.value))
        for text in (str(e.value), repr(e.value), rendered, caplog.text):
            assert secret not in text
        # nor the base64 form of what was sent
        assert base64.b64encode(secret.encode("utf-8")).decode() not in caplog.text
    assert "authentication failed" in caplog.text  # failures are logged, just without credentials


def test_successful_auth_logs_no_secrets(htpasswd_text, users_file, caplog):
    caplog.set_level(logging.DEBUG)
    BasicAuthenticationServerProvider(settings(chroma_server_authn_credentials=htpasswd_text)).authenticate(
        basic_header("alice", ALICE_PW)
    )
    TokenAuthenticationServerProvider(settings(chroma_server_authn_credentials_file=str(users_file))).authenticate(
        {"Authorization": f"Bearer {TOK_ALICE_1}"}
    )
    assert "alice" in caplog.text
    assert ALICE_PW not in caplog.text and TOK_ALICE_1 not in caplog.text


# -- helpers ---------------------------------------------------------------------
def test_singleton_tenant_database_override():
    pinned = UserIdentity("u", tenant="acme", databases=["prod"])
    assert singleton_tenant_database_if_applicable(settings(), pinned) == (None, None)
    on = settings(chroma_overwrite_singleton_tenant_database_access_from_auth=True)
    assert singleton_tenant_database_if_applicable(on, pinned) == ("acme", "prod")
    assert singleton_tenant_database_if_applicable(on, UserIdentity("u", tenant="acme", databases=["a", "b"])) == (
        "acme",
        None,
    )
    assert singleton_tenant_database_if_applicable(on, UserIdentity("u", tenant="*", databases=["*"])) == (None, None)
    assert singleton_tenant_database_if_applicable(on, None) == (None, None)
    env_style = settings(chroma_overwrite_singleton_tenant_database_access_from_auth="true")
    assert singleton_tenant_database_if_applicable(env_style, pinned) == ("acme", "prod")


def test_constant_time_equals():
    assert common.constant_time_equals("abc", "abc")
    assert not common.constant_time_equals("abc", "abd")
    assert not common.constant_time_equals("abc", "abcd")
