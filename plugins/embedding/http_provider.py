"""What every remote (API) embedding function shares, written once.

A provider EF subclasses ``ProviderEmbeddingFunction``, declares its persisted name, extra,
batch limit, config fields and ``egress``, writes a Chroma-compatible ``__init__`` and one
method, ``_embed_batch(texts, query) -> vectors``, which sends one request (through the
provider's SDK, or ``self._post_json`` where there is none). The base adds:

- input checks (text only), batching to ``max_batch`` inputs per request, float32 output in
  input order;
- retries with exponential backoff (``tenacity``) on 429, 5xx, timeouts and dropped
  connections, honouring ``retry-after``; ``max_retries`` (default 2) and ``timeout``
  (seconds, default 60) are constructor arguments that are not persisted. SDK-level retries
  are turned off so one policy applies;
- provider errors translated to huedb's: a rejected key is ``AuthenticationError`` naming the
  variable it came from, a persistent 429 ``QuotaError``, a bad request
  ``InvalidArgumentError``, a timeout or unreachable host ``ChromaError`` naming the URL;
- ``embed_query`` (``query=True``) for providers with a query mode;
- ``get_config`` (the ``config_fields``), ``build_from_config``, ``validate_config_update``
  (``immutable_fields`` may not change), and Chroma's spaces (``cosine`` by default, all three
  supported);
- the SDK imported on construction, so plugin discovery never loads it; a missing SDK is
  ``MissingProviderPackage`` naming the extra.
"""

from __future__ import annotations

import email.utils
import inspect
import os
import time
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from huedb.embedding_functions import Documents, EmbeddingFunction, Embeddings
from huedb.errors import AuthenticationError, ChromaError, InvalidArgumentError, QuotaError
from huedb_plugins.embedding.providers import import_sdk, resolve_api_key

#: first wait between retries, in seconds (doubles each retry, with jitter, up to RETRY_MAX_WAIT)
RETRY_INITIAL_WAIT = 0.5
RETRY_MAX_WAIT = 20.0
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 2
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


class ProviderHTTPError(ChromaError):
    """A non-2xx answer to ``_post_json`` (providers called over plain httpx)."""

    def __init__(self, status: int, detail: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status_code = status
        self.detail = detail
        self.headers = dict(headers or {})


def _chain(err: BaseException) -> list[BaseException]:
    """``err`` and the exceptions it was raised from (SDKs often wrap httpx/requests errors)."""
    seen: list[BaseException] = []
    while err is not None and err not in seen and len(seen) < 8:
        seen.append(err)
        err = err.__cause__ or err.__context__
    return seen


def status_of(err: BaseException) -> int | None:
    """The HTTP status an SDK exception carries, whatever the SDK calls it."""
    for e in _chain(err):
        for attr in ("status_code", "http_status", "status"):
            value = getattr(e, attr, None)
            if isinstance(value, int) and 100 <= value <= 599:
                return value
        response = getattr(e, "response", None)
        if isinstance(response, dict):  # botocore ClientError
            value = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if isinstance(value, int):
                return value
        value = getattr(response, "status_code", None)
        if isinstance(value, int):
            return value
        code = getattr(e, "code", None)
        if isinstance(code, int) and 100 <= code <= 599:
            return code
    return None


def _is_kind(err: BaseException, words: tuple[str, ...], types: tuple[type, ...]) -> bool:
    for e in _chain(err):
        if isinstance(e, types) or any(w in type(e).__name__ for w in words):
            return True
    return False


def is_timeout(err: BaseException) -> bool:
    return _is_kind(err, ("Timeout", "TimedOut", "ReadTimeout"), (TimeoutError,))


def is_connection_error(err: BaseException) -> bool:
    return _is_kind(
        err,
        (
            "ConnectError",
            "ConnectionError",
            "ConnectTimeout",
            "RemoteProtocolError",
            "EndpointConnectionError",
            "APIConnectionError",
        ),
        (ConnectionError,),
    )


def retry_after_of(err: BaseException) -> float | None:
    """Seconds a 429/503 answer asked us to wait (``retry-after-ms`` / ``retry-after``)."""
    for e in _chain(err):
        headers = getattr(e, "headers", None)
        if headers is None:
            response = getattr(e, "response", None)
            headers = getattr(response, "headers", None)
        if not headers:
            continue
        try:
            lowered = {str(k).lower(): v for k, v in dict(headers).items()}
        except (TypeError, ValueError):
            continue
        if "retry-after-ms" in lowered:
            try:
                return float(lowered["retry-after-ms"]) / 1000.0
            except (TypeError, ValueError):
                pass
        if "retry-after" in lowered:
            value = str(lowered["retry-after"])
            try:
                return float(value)
            except ValueError:
                parsed = email.utils.parsedate_to_datetime(value) if value else None
                if parsed is not None:
                    return max(0.0, parsed.timestamp() - time.time())
    return None


def detail_of(err: BaseException, limit: int = 500) -> str:
    for attr in ("detail", "body", "message"):
        value = getattr(err, attr, None)
        if value not in (None, "") and not callable(value):
            text = str(value)
            break
    else:
        text = str(err) or type(err).__name__
    return text if len(text) <= limit else text[:limit] + "..."


def as_texts(ef_class: str, input: Sequence[str] | str) -> list[str]:
    """A batch of documents (or one string) as a list, refusing anything that is not a str."""
    if isinstance(input, str):
        return [input]
    if isinstance(input, np.ndarray) and input.dtype.kind in "fiub":
        raise InvalidArgumentError(f"{ef_class} embeds text only, got a numpy array of shape {input.shape}.")
    texts = list(input)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise InvalidArgumentError(f"{ef_class} embeds text only: input[{i}] is {type(t).__name__}, expected str.")
    return texts


class ProviderEmbeddingFunction(EmbeddingFunction[Documents]):
    """Base class of huedb's remote embedding functions (see the module docstring)."""

    #: the persisted name (the registry key)
    ef_name: ClassVar[str] = ""
    #: the provider, as messages name it
    provider: ClassVar[str] = ""
    #: the huedb extra that installs the SDK (``pip install 'huedb[extra]'``)
    extra: ClassVar[str] = ""
    #: most inputs one request may carry (the provider's documented limit)
    max_batch: ClassVar[int] = 128
    #: persisted fields: attributes of the instance, in Chroma's order
    config_fields: ClassVar[tuple[str, ...]] = ()
    #: fields a configuration update may not change (stored vectors depend on them)
    immutable_fields: ClassVar[tuple[str, ...]] = ("model_name",)
    #: the SDK's own variables for its endpoint, read (after ``HUEDB_<NAME>_BASE_URL``) when
    #: ``base_url=`` is not given: a setting of the reader's environment, never persisted
    base_url_env_vars: ClassVar[tuple[str, ...]] = ()

    # Set by _setup; defaults keep repr/errors working on half-built instances.
    api_key_env_var: str | None = None
    _key_source: str = "no key"
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES

    # -- construction helpers ---------------------------------------------------------
    @classmethod
    def _import(cls, module: str, package: str | None = None) -> Any:
        return import_sdk(module, cls.__name__, package or module, cls.extra)

    def _setup(self, timeout: float | None, max_retries: int | None) -> None:
        timeout = DEFAULT_TIMEOUT if timeout is None else timeout
        max_retries = DEFAULT_MAX_RETRIES if max_retries is None else max_retries
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise InvalidArgumentError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise InvalidArgumentError(f"max_retries must be an integer >= 0, got {max_retries!r}")
        self.timeout = float(timeout)
        self.max_retries = max_retries
        self._tenacity = self._import("tenacity")  # every extra installs it

    def _resolve_key(
        self,
        api_key: str | None,
        api_key_env_var: str,
        default_env_var: str,
        fallback_env_vars: Sequence[str] = (),
    ) -> str:
        """Reads the key (``api_key`` if given, else the variable) and remembers where it came from."""
        key, self.api_key_env_var = resolve_api_key(
            type(self).__name__, api_key, api_key_env_var, default_env_var, tuple(fallback_env_vars)
        )
        self._key_source = "the api_key argument" if api_key else f"the {self.api_key_env_var} environment variable"
        return key

    @classmethod
    def base_url_env_var(cls) -> str:
        return "HUEDB_" + "".join(c if c.isalnum() else "_" for c in cls.ef_name.upper()) + "_BASE_URL"

    @classmethod
    def _base_url(cls, given: str | None) -> str | None:
        """``base_url=`` if given, else the environment's endpoint override, else None (the SDK's default)."""
        if given:
            return given
        for var in (cls.base_url_env_var(), *cls.base_url_env_vars):
            value = os.environ.get(var)
            if value:
                return value
        return None

    @staticmethod
    def _require(name: str, value: Any, kind: type = str) -> Any:
        if isinstance(value, bool) and kind is not bool or not isinstance(value, kind) or (kind is str and not value):
            expected = "a non-empty string" if kind is str else kind.__name__
            raise InvalidArgumentError(f"{name} must be {expected}, got {value!r}")
        return value

    @staticmethod
    def _optional_positive_int(name: str, value: Any) -> int | None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise InvalidArgumentError(f"{name} must be a positive integer or None, got {value!r}")
        return value

    # -- what subclasses implement ----------------------------------------------------
    def _embed_batch(self, texts: list[str], query: bool) -> Sequence[Sequence[float]]:
        """Sends one request of at most ``max_batch`` texts; returns one vector per text, in order."""
        raise NotImplementedError

    def _endpoint(self) -> str:
        """Where requests go, for error messages."""
        return "the provider's API"

    # -- embedding --------------------------------------------------------------------
    def __call__(self, input: Documents | str) -> Embeddings:
        return self._embed(input, query=False)

    def embed_query(self, input: Documents | str) -> Embeddings:
        return self._embed(input, query=True)

    def _embed(self, input: Documents | str, query: bool) -> Embeddings:
        texts = as_texts(type(self).__name__, input)
        out: Embeddings = []
        for start in range(0, len(texts), self.max_batch):
            chunk = texts[start : start + self.max_batch]
            vectors = self._with_retries(chunk, query)
            if len(vectors) != len(chunk):
                raise ChromaError(f"{self.provider} returned {len(vectors)} embeddings for {len(chunk)} inputs")
            out.extend(np.asarray(v, dtype=np.float32) for v in vectors)
        if out and len({v.shape for v in out}) != 1:
            raise ChromaError(f"{self.provider} returned embeddings of different lengths")
        return out

    def _retryable(self, err: BaseException) -> bool:
        if isinstance(err, (InvalidArgumentError, AuthenticationError)):
            return False
        status = status_of(err)
        if status is not None:
            return status in RETRY_STATUSES
        return is_timeout(err) or is_connection_error(err)

    def _wait(self, retry_state: Any) -> float:
        backoff = min(RETRY_MAX_WAIT, RETRY_INITIAL_WAIT * 2 ** (retry_state.attempt_number - 1))
        backoff *= 0.5 + 0.5 * np.random.random()  # jitter: clients retrying together spread out
        err = retry_state.outcome.exception() if retry_state.outcome else None
        asked = retry_after_of(err) if err is not None else None
        return min(RETRY_MAX_WAIT, asked) if asked is not None else backoff

    def _with_retries(self, texts: list[str], query: bool) -> Sequence[Sequence[float]]:
        tenacity = self._tenacity
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_retries + 1),
            wait=self._wait,
            retry=tenacity.retry_if_exception(self._retryable),
            reraise=True,
        )
        try:
            return retrying(self._embed_batch, texts, query)
        except ChromaError as e:
            if isinstance(e, ProviderHTTPError):
                raise self._translate(e) from e
            raise
        except Exception as e:  # noqa: BLE001 - SDK errors become huedb's; unknown ones pass through
            translated = self._translate(e)
            if translated is None:
                raise
            raise translated from e

    def _translate(self, err: BaseException) -> ChromaError | None:
        status = status_of(err)
        detail = detail_of(err)
        retries = f"{self.max_retries} {'retry' if self.max_retries == 1 else 'retries'}"
        if status in (401, 403):
            env_hint = f"set {self.api_key_env_var} to a valid key" if self.api_key_env_var else "check the credentials"
            verb = "rejected" if status == 401 else "refused"
            return AuthenticationError(
                f"{self.provider} {verb} the API key (HTTP {status}) from {self._key_source}; {env_hint}. "
                f"Server said: {detail}"
            )
        if status == 429:
            return QuotaError(
                f"{self.provider} kept answering 429 Too Many Requests after {retries}; wait and try again, "
                f"send smaller batches, or pass max_retries=... to retry longer. Server said: {detail}"
            )
        if status in (400, 404, 413, 422):
            return InvalidArgumentError(f"{self.provider} refused the embeddings request (HTTP {status}): {detail}")
        if status is not None:
            return ChromaError(f"{self.provider} embeddings request failed (HTTP {status}) after {retries}: {detail}")
        if is_timeout(err):
            return ChromaError(
                f"{self.provider} did not answer within {self.timeout:g}s at {self._endpoint()} (after {retries}); "
                f"pass timeout=... to wait longer"
            )
        if is_connection_error(err):
            return ChromaError(f"Could not reach {self.provider} at {self._endpoint()} (after {retries}): {detail}")
        return None

    # -- plain HTTP (providers without a usable SDK) ------------------------------------
    def _http(self) -> Any:
        client = getattr(self, "_http_client", None)
        if client is None:
            import httpx

            client = self._http_client = httpx.Client(timeout=self.timeout, follow_redirects=False)
        return client

    def _post_json(
        self, url: str, body: Any, headers: dict[str, str] | None = None, params: dict[str, str] | None = None
    ) -> Any:
        response = self._http().post(url, json=body, headers=headers or {}, params=params)
        if response.status_code >= 400:
            try:
                detail: Any = response.json()
            except ValueError:
                detail = response.text[:500]
            raise ProviderHTTPError(response.status_code, detail, dict(response.headers))
        try:
            return response.json()
        except ValueError as e:
            raise ChromaError(
                f"{self.provider} answered with something that is not JSON: {response.text[:200]!r}"
            ) from e

    # -- config -----------------------------------------------------------------------
    @classmethod
    def name(cls) -> str:  # type: ignore[override]
        return cls.ef_name

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine", "l2", "ip"]

    def get_config(self) -> dict[str, Any]:
        return {field: getattr(self, field) for field in self.config_fields}

    @classmethod
    def build_from_config(cls, config: dict[str, Any]) -> ProviderEmbeddingFunction:  # type: ignore[override]
        params = inspect.signature(cls.__init__).parameters
        return cls(**{k: v for k, v in config.items() if k in params and k != "self" and v is not None})

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        for field in self.immutable_fields:
            if field in new_config and new_config[field] != old_config.get(field):
                raise InvalidArgumentError(
                    f"The {field} of a {self.provider} embedding function cannot change "
                    f"({old_config.get(field)!r} -> {new_config[field]!r}): stored vectors would no longer match. "
                    f"Create a new collection instead."
                )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"
