"""Amazon Bedrock embeddings through ``boto3`` (``bedrock-runtime`` ``InvokeModel``:
``POST /model/<model id>/invoke`` with ``{"inputText": ...}``, one text per request, as the
Titan text embedding models take it).

Credentials are the AWS SDK's own (environment, shared config and profile, instance role):
none is persisted. The boto3 session's region and profile are persisted as ``session_args``
and extra client arguments (primitives only) as ``kwargs``, as in chromadb. The endpoint
comes from boto3's usual places (``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``, ``AWS_ENDPOINT_URL``)
or ``HUEDB_AMAZON_BEDROCK_BASE_URL``; a stored config naming another endpoint in ``kwargs``
is refused when a collection is reopened (see ``persisted_config_problem``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from huedb.embedding_functions import ProviderEgress
from huedb.errors import InvalidArgumentError
from huedb.hookspecs import hookimpl
from huedb_plugins.embedding.http_provider import ProviderEmbeddingFunction

PRIMITIVES = (str, int, float, bool, list, dict, tuple)
#: client arguments a stored config may not carry: they choose where requests (and credentials) go
ENDPOINT_KWARGS = ("endpoint_url",)
SECRET_KWARGS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")


def _is_aws_endpoint(url: Any) -> bool:
    parts = urlsplit(str(url))
    host = (parts.hostname or "").lower()
    return (
        parts.scheme == "https"
        and parts.port in (None, 443)
        and host.startswith("bedrock-runtime")
        and (host.endswith(".amazonaws.com") or host.endswith(".amazonaws.com.cn"))
    )


class AmazonBedrockEmbeddingFunction(ProviderEmbeddingFunction):
    """Embeds text with an Amazon Bedrock model (``amazon.titan-embed-text-v1`` by default).

    ``session`` is a ``boto3.Session`` (a default one when omitted); ``kwargs`` go to
    ``session.client("bedrock-runtime", ...)`` and are persisted, so they must be primitives
    (``region_name``, ``endpoint_url``...); keys passed there are refused, never stored.
    ``base_url``, ``timeout`` and ``max_retries`` are this process's settings, not persisted."""

    ef_name = "amazon_bedrock"
    provider = "Amazon Bedrock"
    extra = "bedrock"
    max_batch = 1  # InvokeModel embeds one inputText per request
    config_fields = ("model_name", "session_args", "kwargs")
    egress = ProviderEgress()  # no key variable: AWS credentials come from the reader's own AWS setup

    def __init__(
        self,
        session: Any = None,
        model_name: str = "amazon.titan-embed-text-v1",
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        **kwargs: Any,
    ) -> None:
        boto3 = self._import("boto3")
        botocore_config = self._import("botocore.config", "boto3")
        self.model_name = self._require("model_name", model_name)
        for key, value in kwargs.items():
            if not isinstance(value, PRIMITIVES):
                raise InvalidArgumentError(
                    f"AmazonBedrockEmbeddingFunction: keyword argument {key}={value!r} is not a primitive "
                    f"(str, int, float, bool, list, dict, tuple), so it could not be persisted"
                )
            if key in SECRET_KWARGS:
                raise InvalidArgumentError(
                    f"AmazonBedrockEmbeddingFunction: {key} would be persisted with the collection; pass "
                    f"credentials through a boto3.Session (session=...) or the AWS environment instead"
                )
        self.kwargs = dict(kwargs)
        self._setup(timeout, max_retries)
        session = session if session is not None else boto3.Session()
        self.session_args: dict[str, str] = {}
        if getattr(session, "region_name", None):
            self.session_args["region_name"] = session.region_name
        profile = getattr(session, "profile_name", None)
        # boto3 names the implicit profile "default" even when no such profile exists
        if profile and (profile != "default" or profile in session.available_profiles):
            self.session_args["profile_name"] = profile
        if session.get_credentials() is None:
            raise InvalidArgumentError(
                "AmazonBedrockEmbeddingFunction needs AWS credentials: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, name a profile (AWS_PROFILE or a session with profile_name), or run where "
                "an instance or task role is available. Credentials are never persisted."
            )
        self.api_key_env_var = None
        self._key_source = "the AWS credentials of the boto3 session"
        client_kwargs = dict(self.kwargs)
        endpoint = self._base_url(base_url)
        if endpoint and "endpoint_url" not in client_kwargs:
            client_kwargs["endpoint_url"] = endpoint
        # One retry policy (the base's): botocore's own retries are off.
        config = botocore_config.Config(
            connect_timeout=self.timeout,
            read_timeout=self.timeout,
            retries={"total_max_attempts": 1, "mode": "standard"},
        )
        self._client = session.client(service_name="bedrock-runtime", config=config, **client_kwargs)

    def _endpoint(self) -> str:
        return str(getattr(self._client.meta, "endpoint_url", None) or "the Bedrock runtime endpoint")

    def _embed_batch(self, texts: list[str], query: bool) -> Sequence[Sequence[float]]:
        out = []
        for text in texts:
            response = self._client.invoke_model(
                body=json.dumps({"inputText": text}),
                modelId=self.model_name,
                accept="application/json",
                contentType="application/json",
            )
            out.append(json.loads(response["body"].read())["embedding"])
        return out

    def default_space(self) -> str:
        return "l2"  # chromadb's Bedrock EF keeps the protocol's default

    @classmethod
    def build_from_config(cls, config: dict[str, Any]) -> AmazonBedrockEmbeddingFunction:  # type: ignore[override]
        boto3 = cls._import("boto3")
        session_args = dict(config.get("session_args") or {})
        if session_args.get("profile_name") == "default" and "default" not in boto3.Session().available_profiles:
            del session_args["profile_name"]  # chromadb stores boto3's implicit "default" profile
        session = boto3.Session(**session_args)
        return cls(session=session, model_name=config["model_name"], **(config.get("kwargs") or {}))

    @classmethod
    def persisted_config_problem(cls, config: dict[str, Any]) -> str | None:
        kwargs = config.get("kwargs") or {}
        if not isinstance(kwargs, dict):
            return f"kwargs {kwargs!r} that is not a dict"
        for field in ENDPOINT_KWARGS:
            value = kwargs.get(field)
            if value not in (None, "") and not _is_aws_endpoint(value):
                return (
                    f"kwargs.{field} {value!r}, where this client would send requests signed with its AWS credentials "
                    f"(set AWS_ENDPOINT_URL_BEDROCK_RUNTIME to choose an endpoint yourself)"
                )
        return None


@hookimpl
def register_embedding_functions(register):
    register(AmazonBedrockEmbeddingFunction)
