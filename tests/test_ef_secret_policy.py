"""A persisted embedding-function config cannot make a reader's client send its secrets, or its
text, anywhere the reader did not allow (issue 10, item 4).

The attacker stores ``{"name": "openai", "config": {"api_base": <their host>, "api_key_env_var":
"ANY_SECRET"}}``; the victim opens the collection without passing an EF and queries with text. The
fake provider servers (tests/fakes) play the attacker's host on 127.0.0.1: without the victim's
settings they must record zero requests, and the secret's value must appear nowhere.
"""

from __future__ import annotations

import httpx
import pytest

import huedb
from fakes.cohere_server import FakeCohere
from fakes.openai_server import FakeOpenAI
from huedb.config import Settings
from huedb.ef_persistence import check_persisted_ef
from huedb.embedding_functions import ProviderEgress
from huedb.errors import ForbiddenError, InvalidArgumentError
from huedb_plugins.embedding.cohere_ef import CohereEmbeddingFunction
from huedb_plugins.embedding.openai_ef import OpenAIEmbeddingFunction

SECRET = "sk-victim-SECRET-9d3e1b"  # the value of the victim's ANY_SECRET
PROVIDER_VARS = (
    "OPENAI_API_KEY",
    "CHROMA_OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "COHERE_API_KEY",
    "CHROMA_COHERE_API_KEY",
    "CO_API_URL",
    "CO_API_KEY",
    "HUEDB_EMBEDDING_FUNCTION_ALLOWED_HOSTS",
    "HUEDB_EMBEDDING_FUNCTION_ALLOWED_ENV_VARS",
)


@pytest.fixture(autouse=True)
def victim_env(monkeypatch):
    for var in PROVIDER_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ANY_SECRET", SECRET)


@pytest.fixture
def evil():
    """The attacker's host: a fake OpenAI server that accepts the victim's secret as a key."""
    with FakeOpenAI(valid_keys=[SECRET]) as fake:
        yield fake


def host_port(fake) -> str:
    return fake.url.removeprefix("http://")


def openai_spec(api_base=None, env_var="ANY_SECRET"):
    return {
        "name": "openai",
        "type": "known",
        "config": {"model_name": "text-embedding-3-small", "api_base": api_base, "api_key_env_var": env_var},
    }


def plant(client, name, spec):
    """The attacker's step: store the config with records, never embedding anything itself."""
    col = client.create_collection(name, configuration={"embedding_function": spec, "hnsw": {"space": "cosine"}})
    col.add(ids=["a", "b"], embeddings=[[1.0] + [0.0] * 7, [0.0, 1.0] + [0.0] * 6], documents=["alpha", "beta"])
    return col


def assert_refused_and_silent(col, fake, fragments):
    """Reading works; every text path is refused before anything is sent."""
    assert sorted(col.get()["ids"]) == ["a", "b"]
    for call in (
        lambda: col.query(query_texts=["what the victim searches"], n_results=1),
        lambda: col.add(ids=["c"], documents=["victim's private document"]),
    ):
        with pytest.raises(ForbiddenError) as e:
            call()
        msg = str(e.value)
        for fragment in fragments:
            assert fragment in msg
        assert SECRET not in msg
    assert fake.requests == []  # not one request, so neither the key nor the text left
    assert col.count() == 2


# -- embedded client -----------------------------------------------------------------------


def test_foreign_endpoint_is_refused_and_nothing_is_sent(tmp_path, evil):
    path = str(tmp_path / "db")
    plant(huedb.PersistentClient(path=path), "docs", openai_spec(evil.url + "/v1"))

    victim = huedb.PersistentClient(path=path)
    col = victim.get_collection("docs")
    hp = host_port(evil)
    assert_refused_and_silent(
        col,
        evil,
        [
            "Collection 'docs' persists embedding function 'openai' with api_base",
            f"'{evil.url}/v1' which this client has not allowed; pass embedding_function= yourself",
            f"Settings(embedding_function_allowed_hosts=['{hp}'])",
            "HUEDB_EMBEDDING_FUNCTION_ALLOWED_HOSTS",
        ],
    )
    # listing the collections builds nothing either
    (listed,) = victim.list_collections()
    with pytest.raises(ForbiddenError):
        listed.query(query_texts=["x"], n_results=1)
    assert evil.requests == []


def test_allowed_host_with_an_undocumented_env_var_is_still_refused(tmp_path, evil):
    path = str(tmp_path / "db")
    plant(huedb.PersistentClient(path=path), "docs", openai_spec(evil.url + "/v1"))
    victim = huedb.PersistentClient(path=path, settings=Settings(embedding_function_allowed_hosts=[host_port(evil)]))
    assert_refused_and_silent(
        victim.get_collection("docs"),
        evil,
        [
            "api_key_env_var 'ANY_SECRET' which this client has not allowed",
            "CHROMA_OPENAI_API_KEY, OPENAI_API_KEY",  # what openai documents
            "Settings(embedding_function_allowed_env_vars=['ANY_SECRET'])",
            "HUEDB_EMBEDDING_FUNCTION_ALLOWED_ENV_VARS",
        ],
    )


def test_undocumented_env_var_is_refused_even_for_the_default_endpoint(tmp_path, evil, monkeypatch):
    # The victim's own OPENAI_BASE_URL points the SDK at the fake, so a leak would be recorded.
    monkeypatch.setenv("OPENAI_BASE_URL", evil.url + "/v1")
    path = str(tmp_path / "db")
    plant(huedb.PersistentClient(path=path), "docs", openai_spec(None, "ANY_SECRET"))
    assert_refused_and_silent(
        huedb.PersistentClient(path=path).get_collection("docs"),
        evil,
        [
            "api_key_env_var 'ANY_SECRET'",
            "embedding_function_allowed_env_vars",
        ],
    )


def test_documented_env_var_and_default_endpoint_need_no_setting(tmp_path, evil, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", evil.url + "/v1")  # the reader's own environment decides
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    path = str(tmp_path / "db")
    plant(huedb.PersistentClient(path=path), "docs", openai_spec(None, "OPENAI_API_KEY"))
    col = huedb.PersistentClient(path=path).get_collection("docs")
    col.query(query_texts=["hello"], n_results=1)
    assert [r.body["input"] for r in evil.embedding_requests] == [["hello"]]


def test_with_both_settings_the_request_goes_through(tmp_path, evil):
    path = str(tmp_path / "db")
    plant(huedb.PersistentClient(path=path), "docs", openai_spec(evil.url + "/v1"))
    settings = Settings(
        embedding_function_allowed_hosts=[host_port(evil)], embedding_function_allowed_env_vars=["ANY_SECRET"]
    )
    col = huedb.PersistentClient(path=path, settings=settings).get_collection("docs")
    assert len(col.query(query_texts=["hello"], n_results=1)["ids"][0]) == 1
    (request,) = evil.embedding_requests
    assert request.body["input"] == ["hello"]
    assert request.headers["authorization"] == f"Bearer {SECRET}"


def test_get_or_create_with_a_persisted_form_rebuilds_under_the_policy(tmp_path, evil):
    path = str(tmp_path / "db")
    plant(huedb.PersistentClient(path=path), "docs", openai_spec(evil.url + "/v1"))
    col = huedb.PersistentClient(path=path).get_or_create_collection(
        "docs", configuration={"embedding_function": openai_spec(evil.url + "/v1")}
    )
    assert_refused_and_silent(col, evil, ["embedding_function_allowed_hosts"])


def test_passing_the_ef_yourself_needs_no_setting(tmp_path, evil):
    path = str(tmp_path / "db")
    plant(huedb.PersistentClient(path=path), "docs", openai_spec(evil.url + "/v1"))
    mine = OpenAIEmbeddingFunction(api_key=SECRET, api_base=evil.url + "/v1", model_name="text-embedding-3-small")
    col = huedb.PersistentClient(path=path).get_collection("docs", embedding_function=mine)
    col.query(query_texts=["chosen by me"], n_results=1)
    assert [r.body["input"] for r in evil.embedding_requests] == [["chosen by me"]]


def test_cohere_env_var_is_checked_too(tmp_path, monkeypatch):
    with FakeCohere(valid_keys=[SECRET]) as fake:
        monkeypatch.setenv("CO_API_URL", fake.url)  # the reader's own endpoint choice
        path = str(tmp_path / "db")
        spec = {
            "name": "cohere",
            "type": "known",
            "config": {"model_name": "embed-english-v3.0", "api_key_env_var": "ANY_SECRET"},
        }
        plant(huedb.PersistentClient(path=path), "cohere-docs", spec)
        assert_refused_and_silent(
            huedb.PersistentClient(path=path).get_collection("cohere-docs"),
            fake,
            [
                "embedding function 'cohere' with api_key_env_var 'ANY_SECRET'",
                "CHROMA_COHERE_API_KEY, COHERE_API_KEY",
            ],
        )
        allowed = Settings(embedding_function_allowed_env_vars=["ANY_SECRET"])
        huedb.PersistentClient(path=path, settings=allowed).get_collection("cohere-docs").query(
            query_texts=["q"], n_results=1
        )
        assert len(fake.embed_requests) == 1


# -- HTTP client: the configuration comes from the server --------------------------------------


def test_http_client_applies_the_same_policy(http_client_factory, huedb_server, evil):
    attacker = http_client_factory()
    # The raw REST form of the attack, as any HTTP caller could send it.
    url = (
        f"http://127.0.0.1:{huedb_server.port}/api/v2/tenants/{attacker.tenant}"
        f"/databases/{attacker.database}/collections"
    )
    created = httpx.post(
        url, json={"name": "docs", "configuration": {"embedding_function": openai_spec(evil.url + "/v1")}}
    )
    assert created.status_code == 200, created.text
    attacker.get_collection("docs", embedding_function=None).add(
        ids=["a", "b"], embeddings=[[1.0] + [0.0] * 7, [0.0, 1.0] + [0.0] * 6], documents=["alpha", "beta"]
    )

    victim = huedb.HttpClient(
        host="127.0.0.1", port=huedb_server.port, tenant=attacker.tenant, database=attacker.database
    )
    assert_refused_and_silent(victim.get_collection("docs"), evil, ["embedding_function_allowed_hosts"])
    victim.close()

    trusting = huedb.HttpClient(
        host="127.0.0.1",
        port=huedb_server.port,
        tenant=attacker.tenant,
        database=attacker.database,
        settings=Settings(
            embedding_function_allowed_hosts=[host_port(evil)], embedding_function_allowed_env_vars=["ANY_SECRET"]
        ),
    )
    trusting.get_collection("docs").query(query_texts=["over http"], n_results=1)
    assert [r.body["input"] for r in evil.embedding_requests] == [["over http"]]
    trusting.close()


# -- the policy function -------------------------------------------------------------------

EGRESS = ProviderEgress(api_key_env_vars=("DOC_KEY",), default_hosts=("api.example.com",))


class _Provider:
    egress = EGRESS


def check(config, **settings):
    check_persisted_ef({"name": "p", "type": "known", "config": config}, _Provider, "c", Settings(**settings))


@pytest.mark.parametrize("url", [None, "", "https://api.example.com/v1", "https://API.example.com:443"])
def test_default_endpoints_pass(url):
    check({"api_base": url, "api_key_env_var": "DOC_KEY"})


@pytest.mark.parametrize(
    "url, allowed",
    [
        ("http://api.example.com/v1", []),  # the default host, but not over TLS
        ("https://api.example.com:8443", []),  # the default host on another port
        ("http://127.0.0.1:9/v1", []),  # localhost is not implicitly allowed
        ("http://localhost/v1", []),
        ("http://evil:9", ["evil:10"]),  # a host:port entry allows that port only
        ("http://evil:9", ["other"]),
        ("https://api.example.com.evil/v1", ["evil"]),  # suffixes do not match
        ("http://[::1", []),  # malformed
        ("http://evil:99999", ["evil"]),  # port out of range
    ],
)
def test_foreign_or_malformed_endpoints_are_refused(url, allowed):
    with pytest.raises(ForbiddenError, match="embedding_function_allowed_hosts"):
        check({"api_base": url}, embedding_function_allowed_hosts=allowed)


@pytest.mark.parametrize("field", ["api_base", "base_url", "url", "api_url", "endpoint", "azure_endpoint"])
def test_every_endpoint_field_is_checked(field):
    with pytest.raises(ForbiddenError, match=f"with {field} 'http://evil'"):
        check({field: "http://evil"})
    check({field: "http://evil"}, embedding_function_allowed_hosts=["evil"])


@pytest.mark.parametrize("value", [["http://evil"], 7, {"host": "evil"}])
def test_non_string_endpoints_are_refused(value):
    with pytest.raises(ForbiddenError):
        check({"api_base": value}, embedding_function_allowed_hosts=["evil"])


def test_host_entries_match_any_port_and_host_port_entries_one():
    check({"api_base": "http://evil:9/v1"}, embedding_function_allowed_hosts=["evil"])
    check({"api_base": "http://evil:9/v1"}, embedding_function_allowed_hosts=["EVIL:9"])
    check({"api_base": "http://evil/v1"}, embedding_function_allowed_hosts=["evil:80"])
    check({"api_base": "http://evil:9"}, embedding_function_allowed_hosts="other, evil:9")  # env-style text


def test_the_documented_environment_variables_allow_too(tmp_path, evil, monkeypatch):
    path = str(tmp_path / "db")
    plant(huedb.PersistentClient(path=path), "docs", openai_spec(evil.url + "/v1"))
    monkeypatch.setenv("HUEDB_EMBEDDING_FUNCTION_ALLOWED_HOSTS", f"other.example, {host_port(evil)}")
    monkeypatch.setenv("HUEDB_EMBEDDING_FUNCTION_ALLOWED_ENV_VARS", "ANY_SECRET")
    huedb.PersistentClient(path=path, settings=Settings()).get_collection("docs").query(
        query_texts=["env"], n_results=1
    )
    assert [r.body["input"] for r in evil.embedding_requests] == [["env"]]


def test_env_vars_documented_or_allowed():
    check({"api_key_env_var": "DOC_KEY"})
    check({"api_key_env_var": "MINE"}, embedding_function_allowed_env_vars=["MINE"])
    for value in ("ANY_SECRET", ["DOC_KEY"], 3):
        with pytest.raises(ForbiddenError, match="embedding_function_allowed_env_vars"):
            check({"api_key_env_var": value})
    # any *_env_var field, not only api_key_env_var
    with pytest.raises(ForbiddenError, match="account_id_env_var 'AWS_SECRET'"):
        check({"account_id_env_var": "AWS_SECRET"})


def test_ef_without_declarations_may_use_no_env_var_or_endpoint():
    class Custom:
        pass

    with pytest.raises(ForbiddenError, match=r"documented for 'p': none"):
        check_persisted_ef({"name": "p", "config": {"token_env_var": "HOME"}}, Custom, "c", Settings())
    with pytest.raises(ForbiddenError, match="url"):
        check_persisted_ef({"name": "p", "config": {"url": "http://x"}}, Custom, "c", Settings())
    check_persisted_ef({"name": "p", "config": {"scale": 2}}, Custom, "c", Settings())


def test_a_config_that_is_not_a_dict_is_refused():
    with pytest.raises(InvalidArgumentError, match="not a dict"):
        check_persisted_ef({"name": "p", "config": ["x"]}, _Provider, "c", Settings())


def test_providers_declare_their_documented_variables():
    assert OpenAIEmbeddingFunction.egress.api_key_env_vars == ("CHROMA_OPENAI_API_KEY", "OPENAI_API_KEY")
    assert CohereEmbeddingFunction.egress.api_key_env_vars == ("CHROMA_COHERE_API_KEY", "COHERE_API_KEY")
    assert "api.openai.com" in OpenAIEmbeddingFunction.egress.default_hosts


@pytest.mark.parametrize(
    "config",
    [
        {"model_name": "hf-hub:attacker/weights", "checkpoint": ""},
        {"model_name": "local-dir:/tmp/weights", "checkpoint": ""},
        {"model_name": "ViT-B-32", "checkpoint": "/tmp/evil.pt"},
        {"model_name": "ViT-B-32", "checkpoint": "https://example.invalid/evil.pt"},
        {"model_name": "ViT-B-32", "checkpoint": "../evil.pt"},
        {"model_name": ["ViT-B-32"], "checkpoint": ""},
    ],
)
def test_open_clip_refuses_persisted_weights_outside_its_catalogue(config):
    """open_clip loads hub repos and checkpoint files as named; a pickled checkpoint runs code."""
    from huedb_plugins.embedding.open_clip_ef import OpenCLIPEmbeddingFunction

    with pytest.raises(ForbiddenError, match="not an OpenCLIP catalogue name"):
        check_persisted_ef({"name": "open_clip", "config": config}, OpenCLIPEmbeddingFunction, "c", Settings())


def test_open_clip_refuses_a_checkpoint_that_is_an_existing_file(tmp_path, monkeypatch):
    from huedb_plugins.embedding.open_clip_ef import OpenCLIPEmbeddingFunction

    monkeypatch.chdir(tmp_path)
    (tmp_path / "weights.pt").write_bytes(b"pickle")
    with pytest.raises(ForbiddenError, match="'weights.pt'"):
        check_persisted_ef(
            {"name": "open_clip", "config": {"model_name": "ViT-B-32", "checkpoint": "weights.pt"}},
            OpenCLIPEmbeddingFunction,
            "c",
            Settings(),
        )


def test_open_clip_catalogue_names_pass():
    from huedb_plugins.embedding.open_clip_ef import OpenCLIPEmbeddingFunction

    for config in (
        {"model_name": "ViT-B-32", "checkpoint": "laion2b_s34b_b79k"},
        {"model_name": "RN50", "checkpoint": ""},
        {},
    ):
        check_persisted_ef({"name": "open_clip", "config": config}, OpenCLIPEmbeddingFunction, "c", Settings())
