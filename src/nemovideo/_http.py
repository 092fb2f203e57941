"""The requestor: builds requests, sends them with auth, decodes envelopes, maps errors, retries.

Resources hold a ``Requestor`` (never the client). Attribution headers are stamped here and nowhere
else; ``Authorization`` is stamped by the auth flow; retries are decided by ``_retry``.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import anyio
import httpx
from pydantic import ValidationError

from . import _retry
from ._auth import SEND_ONCE, NemoAuth, TokenRequestFailed
from ._body import MAX_BODY, read_limited
from ._config import Config
from ._download import display_url, failure
from ._download import reason as _reason
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    NemoError,
    ProtocolError,
    error_for,
)

if TYPE_CHECKING:
    from pydantic import BaseModel
    from tenacity import RetryCallState

    from ._api import Api
    from ._envelopes import ErrorBody as _ErrorBody

log = logging.getLogger("nemovideo")

M = TypeVar("M", bound="BaseModel")
EnvelopeKind = Literal["code", "render", "gateway"]
"""``code``: ``{"code": 0, "data"}``; ``render``: ``{"success": true, "data"}``; ``gateway``: either of
those, or a bare body."""

_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-trace-id", "x-amzn-requestid")


_attempt: ContextVar[int] = ContextVar("nemovideo_attempt", default=1)
"""The attempt under way in this task, for the log line of each request."""


async def _sleep(seconds: float) -> None:
    """Indirection so tests can make retry waits instant and record them."""
    await anyio.sleep(seconds)


@functools.cache
def _envelope(kind: EnvelopeKind, cast: type[BaseModel]) -> Any:
    """The envelope model for ``cast``, held here: pydantic keeps a parametrized generic only weakly, so
    without this reference each garbage collection dropped it and a later call rebuilt its schema (about
    a millisecond, in one call of twenty: the slow tail of every call)."""
    from ._envelopes import CodeEnvelope, RenderEnvelope  # pydantic's model machinery, on first use

    return (CodeEnvelope if kind == "code" else RenderEnvelope)[cast]


def _message(body: _ErrorBody | None, response: httpx.Response) -> str:
    if body is not None:
        for text in (body.msg, body.message, body.error):
            if text:
                return text
        if body.detail is not None:
            return body.detail if isinstance(body.detail, str) else str(body.detail)
    return response.reason_phrase or f"HTTP {response.status_code}"


class Requestor:
    """One per client configuration; copies made by ``with_config`` share the pool and the auth."""

    def __init__(
        self, config: Config, http: httpx.AsyncClient, auth: NemoAuth, api: Api | None = None
    ) -> None:
        from ._api import api_for

        self.config = config
        self.http = http
        self.auth = auth
        self.api = api if api is not None else api_for(config.api)
        """What differs between the API generations (paths, envelopes, the chat transport)."""
        self._headers = config.attribution_headers()

    def with_config(self, config: Config) -> Requestor:
        return Requestor(config, self.http, self.auth, self.api)

    def url(self, path: str) -> str:
        return self.config.api_url + path

    def build(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        content: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Request:
        return self.http.build_request(
            method,
            self.url(path),
            json=json,
            params=params,
            content=content,
            headers={**self._headers, **(headers or {})},
            timeout=timeout or self.config.timeout,
        )

    # --- sending -------------------------------------------------------------------------------

    async def send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        """Send once with auth, under ``config.deadline``; without ``stream`` the body is read too, up to
        ``config.max_body_size``. Transport failures become ``APIConnectionError``/``APITimeoutError``."""
        started = time.perf_counter()
        deadline = self.config.deadline if _in_memory(request) else None  # an upload streams for long
        request.extensions[MAX_BODY] = self.config.max_body_size  # the auth flow reads bodies too
        try:
            with _deadline(deadline, request):
                response = await self.http.send(request, auth=self.auth, stream=True)
                if not stream:
                    await read_capped(response, self.config.max_body_size, request)
        except TokenRequestFailed as failed:
            raise self.error_from(failed.response, endpoint="anonymous token") from None
        except httpx.TimeoutException as exc:
            sent = not isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout))
            raise APITimeoutError(
                f"{request.method} {request.url.path} timed out ({type(exc).__name__})", sent=sent
            ) from exc
        except httpx.ConnectError as exc:
            raise APIConnectionError(
                f"could not connect to {request.url.scheme}://{request.url.netloc.decode()}: {_reason(exc)}",
                sent=False,
            ) from exc
        except httpx.TransportError as exc:
            raise APIConnectionError(
                f"{request.method} {request.url.path}: connection failed ({failure(exc)})",
                sent=True,
            ) from exc
        log.debug(
            "%s %s -> %s in %.1f ms (attempt %d)",
            request.method,
            request.url.path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
            _attempt.get(),
        )
        return response

    async def retrying(
        self,
        call: Callable[[], Any],
        *,
        idempotent: bool,
        what: str,
        send_once: bool = False,
    ) -> Any:
        """Run ``call`` under the retry policy. ``idempotent`` says whether a sent request may repeat;
        ``send_once`` that nothing but a connect failure may (see ``_retry.should_retry``).

        The first attempt runs outside tenacity: most calls succeed, and tenacity's per-attempt
        bookkeeping would double the SDK's own cost per call. Later attempts are tenacity's.
        """
        config = self.config

        def decide(exc: BaseException, attempt: int) -> bool:
            after = getattr(exc, "retry_after", None)
            if isinstance(after, (int, float)) and after > config.max_retry_wait:
                return False
            return _retry.should_retry(
                exc,
                attempt=attempt,
                max_retries=config.max_retries,
                idempotent=idempotent,
                send_once=send_once,
            )

        def announce(exc: BaseException | None, attempt: int, delay: float) -> None:
            log.info(
                "retrying %s in %.2f s after %s (attempt %d of %d)",
                what,
                delay,
                type(exc).__name__,
                attempt + 1,
                config.max_retries + 1,
            )

        def begin(state: RetryCallState) -> None:
            _attempt.set(state.attempt_number + 1)

        def failure(state: RetryCallState) -> BaseException:
            exc = state.outcome.exception() if state.outcome else None
            assert exc is not None
            return exc

        _attempt.set(1)
        try:
            return await call()
        except NemoError as exc:
            if not decide(exc, 1):
                raise
            delay = _retry.retry_wait(exc, attempt=1, max_wait=config.max_retry_wait)
            announce(exc, 1, delay)
            await _sleep(delay)

        from tenacity import AsyncRetrying, stop_after_attempt  # loaded on the first retry only

        # tenacity counts from its own first attempt, which is our second
        retryer = AsyncRetrying(
            stop=stop_after_attempt(config.max_retries),
            retry=lambda s: (
                s.outcome is not None and s.outcome.failed and decide(failure(s), s.attempt_number + 1)
            ),
            wait=lambda s: _retry.retry_wait(
                failure(s), attempt=s.attempt_number + 1, max_wait=config.max_retry_wait
            ),
            sleep=_sleep,
            before=begin,
            before_sleep=lambda s: announce(failure(s), s.attempt_number + 1, s.upcoming_sleep),
            reraise=True,
        )
        return await retryer(call)

    async def request(
        self,
        method: str,
        path: str,
        cast: type[M],
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        envelope: EnvelopeKind = "code",
        idempotent: bool | None = None,
    ) -> M:
        """A JSON request whose answer is decoded into ``cast``."""
        endpoint = f"{method} {path}"

        async def once() -> M:
            response = await self.send(self.build(method, path, json=json, params=params))
            return self.decode(response, cast, envelope=envelope, endpoint=endpoint)

        result: M = await self.retrying(
            once, idempotent=method == "GET" if idempotent is None else idempotent, what=endpoint
        )
        return result

    @asynccontextmanager
    async def stream(self, request: httpx.Request) -> AsyncIterator[httpx.Response]:
        """Open a streamed response for a request that must be sent once (a chat message).

        An error status raises before the body is read further. Only a failure to connect is retried;
        the auth layer does not repeat it either (``SEND_ONCE``).
        """
        endpoint = f"{request.method} {request.url.path}"
        request.extensions[SEND_ONCE] = True

        async def once() -> httpx.Response:
            response = await self.send(request, stream=True)
            kind = response.headers.get("content-type", "")
            if response.status_code >= 400 or "json" in kind:
                await read_capped(response, self.config.max_body_size, request)
                raise self.error_from(response, endpoint=endpoint)
            if "html" in kind:  # a gateway's or portal's page, which would read as a stream of no events
                await read_capped(response, self.config.max_body_size, request)
                what = _body_description(response, None, instead="an event stream")
                raise ProtocolError(
                    f"the server sent {what}. The message may have arrived: do not send the message "
                    "again; read the session state instead.",
                    endpoint=endpoint,
                )
            return response

        response: httpx.Response = await self.retrying(once, idempotent=False, send_once=True, what=endpoint)
        try:
            yield response
        finally:
            await response.aclose()
            _unbind(response)

    # --- decoding ------------------------------------------------------------------------------

    def decode(self, response: httpx.Response, cast: type[M], *, envelope: EnvelopeKind, endpoint: str) -> M:
        body = response.content
        if response.status_code < 400 and envelope == "gateway":
            envelope = _gateway_kind(body)
            if envelope == "gateway":
                try:
                    return cast.model_validate_json(body)
                except ValidationError:
                    raise self.error_from(response, endpoint=endpoint, expected=cast) from None
        if response.status_code < 400:
            wrapper = _envelope(envelope, cast)
            try:
                env = wrapper.model_validate_json(body)
            except ValidationError:
                env = None
            ok = env is not None and (env.code == 0 if envelope == "code" else env.success)
            if ok and isinstance(env.data, cast):
                return env.data
        raise self.error_from(response, endpoint=endpoint, expected=cast)

    def error_from(
        self, response: httpx.Response, *, endpoint: str, expected: type[BaseModel] | None = None
    ) -> NemoError:
        """Map an answer that is not a success to the one exception its code or status names."""
        from ._envelopes import ErrorBody

        status = response.status_code
        try:
            body: _ErrorBody | None = ErrorBody.model_validate_json(response.content)
        except ValidationError:
            body = None
        code = _int_code(body.code) if body is not None else None
        failed = body is not None and (code not in (None, 0) or body.success is False)
        if 300 <= status < 400 and not failed:
            return ProtocolError(_redirect_message(response), endpoint=endpoint)
        if status < 400 and not failed:
            hint = f" (expected {expected.__name__})" if expected is not None else ""
            return ProtocolError(
                f"the server sent {_body_description(response, body)}{hint}", endpoint=endpoint
            )
        message = _message(body, response)
        error = error_for(
            message,
            code=code if code not in (None, 0) else None,
            http_status=status if status >= 400 else None,
            request_id=next(
                (response.headers[h] for h in _REQUEST_ID_HEADERS if h in response.headers), None
            ),
            retry_after=_retry.parse_retry_after(response.headers),
            registration_url=self.config.registration_url(self.auth.user_id)
            if self.auth.is_anonymous
            else None,
            body=body.model_dump(exclude_none=True) if body is not None else None,
        )
        if isinstance(error, AuthenticationError):
            error.hint = self._auth_hint(response)
        return error

    def _auth_hint(self, response: httpx.Response) -> str:
        if self.config.token_source.startswith("key_"):
            where = {
                "key_argument": "passed to NemoClient(api_key=...)",
                "key_environment": "in NEMO_API_KEY",
                "key_stored": "saved by `nemovideo login`",
            }[self.config.token_source]
            return (
                f"The API key {where} was refused: make a new one in the dashboard at nemovideo.com and "
                "use it (or run `nemovideo login` again)."
            )
        if self.config.token_source == "argument":
            return "The token passed to NemoClient(token=...) is invalid or expired: pass a valid one."
        if self.config.token_source == "environment":
            return (
                "The token in NEMO_TOKEN is invalid or expired: set a valid one, or unset NEMO_TOKEN to use "
                "an anonymous token."
            )
        if response.request.extensions.get(SEND_ONCE):
            return (
                "The anonymous token had expired (they last 7 days); the SDK dropped it and fetches a new "
                "one on the next request. The message was refused, not processed: send it again."
            )
        return (
            "The anonymous token was refused even after the SDK fetched a new one. Anonymous tokens last "
            "7 days; if this persists, the API may be rejecting this client id."
        )


def _gateway_kind(body: bytes) -> EnvelopeKind:
    """Which of the gateway's three answer shapes ``body`` has (by its keys; a bare body otherwise)."""
    head = body.lstrip()[:1]
    if head != b"{":
        return "gateway"
    try:
        keys = json.loads(body).keys()
    except (ValueError, AttributeError):
        return "gateway"
    if "code" in keys:
        return "code"
    return "render" if "success" in keys else "gateway"


def _in_memory(request: httpx.Request) -> bool:
    return isinstance(request.stream, httpx.ByteStream)


@contextmanager
def _deadline(seconds: float | None, request: httpx.Request) -> Iterator[None]:
    """Bound a whole attempt (connect, send, headers, body): a server trickling bytes cannot hold it."""
    if seconds is None:
        yield
        return
    try:
        with anyio.fail_after(seconds):
            yield
    except TimeoutError:
        raise APITimeoutError(
            f"{request.method} {request.url.path} took longer than {seconds:g} s in all and was abandoned "
            "(limit: deadline; raise it with nemo.with_options(deadline=...) if this is expected)",
            sent=True,
        ) from None


async def read_capped(response: httpx.Response, limit: int, request: httpx.Request) -> None:
    """Read a streamed body into ``response.content``, refusing more than ``limit`` bytes (decoded, so a
    compressed bomb is stopped at the limit, not inflated whole). The response is closed either way."""
    try:
        await read_limited(response, limit)
    finally:
        with anyio.CancelScope(shield=True):
            await response.aclose()
    _unbind(response)


def _unbind(response: httpx.Response) -> None:
    """Drop the closed response's network stream. httpx's stream wrapper and the response refer to each
    other, so without this every call left a reference cycle (about 50 objects: the request, the headers,
    the pool's bookkeeping) for the garbage collector, whose runs then landed in the SDK's calls."""
    if response.is_closed:
        response.stream = httpx.ByteStream(getattr(response, "_content", b""))


def _redirect_message(response: httpx.Response) -> str:
    location = response.headers.get("location")
    where = f"to {display_url(str(response.url.join(location)))}" if location else "without a Location"
    return (
        f"the server answered with a redirect (HTTP {response.status_code}) {where}. The SDK does not "
        "follow redirects, so your token never goes to another host; check the API URL (api_url or "
        "NEMO_API_URL), or use the URL the redirect names if you trust it."
    )


def _body_description(response: httpx.Response, body: _ErrorBody | None, instead: str = "JSON") -> str:
    """What came instead of the envelope, in words."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if not response.content.strip():
        return f"an empty body (HTTP {response.status_code}) instead of {instead}"
    if "html" in kind or response.content.lstrip()[:1] == b"<":
        return f"an HTML page (HTTP {response.status_code}, {kind or 'no content type'}) instead of {instead}"
    if kind and "json" not in kind:
        return f"a body of type {kind} instead of {instead}"
    if body is None:
        return "malformed JSON"
    return 'JSON that is not the API\'s envelope ({"code": 0, "data": ...})'


def _int_code(code: int | str | None) -> int | None:
    if code is None or isinstance(code, int):
        return code
    try:
        return int(code)
    except ValueError:
        return None


__all__ = ["APIError", "Requestor"]
