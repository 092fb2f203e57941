"""Every exception the SDK raises, one class per documented error code.

Each error says what happened (``message``) and what a person can do about it (``hint``). Token text
never appears in any of them: messages are built from server messages and our own words, and the
server's message is scrubbed of anything shaped like a token before it is stored.

The hierarchy::

    NemoError
    ├── ConfigurationError            bad settings (e.g. plain-http API URL off loopback)
    ├── UnsupportedOnThisAPI          the feature exists on the other API generation only (api, other)
    ├── APIError                      the API answered with an error (code, http_status, message, hint)
    │   ├── AuthenticationError       1001  bad or expired token
    │   ├── SessionNotFoundError      1002  session not found
    │   ├── InsufficientCreditsError  2001  no credits (registration_url for anonymous users)
    │   ├── UnsupportedFileError      4001  file type not accepted (accepted_formats)
    │   ├── FileTooLargeError         4002  file over the size limit
    │   ├── MissingClientIdError      400   X-Client-Id missing
    │   ├── ExportBlockedError        402   free plan cannot export: a plan issue, not credits
    │   ├── RateLimitError            429   too many requests (retry_after)
    │   ├── BadRequestError           other 4xx (validation errors and the like)
    │   └── ServerError               5xx and 408
    ├── AgentError                    the agent's turn failed mid-stream (an error frame)
    ├── DraftNotReadyError            the draft has nothing to export yet (checked before sending)
    ├── RenderError                   a render job gave no video (job, render_id)
    │   ├── RenderFailedError         the job failed (its error says why)
    │   ├── RenderCancelledError      the job was cancelled
    │   └── RenderTimeoutError        our deadline passed first (cancelled: whether the job was stopped)
    ├── DownloadError                 the video could not be saved; nothing was left at the target path
    └── TransportError                no usable answer came back
        ├── APIConnectionError        could not connect, or the connection broke
        │   ├── APITimeoutError       a timeout expired
        │   └── StreamDisconnected    the event stream broke after the message was sent
        ├── StreamTimeout             no event, or only heartbeats, for too long
        └── ProtocolError             malformed JSON or an unexpected envelope
            └── LimitExceededError    an answer larger than a limit allows (setting: which)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

__all__ = [
    "ACCEPTED_FORMATS",
    "DOCUMENTED_CODES",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AgentError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "DownloadError",
    "DraftNotReadyError",
    "ExportBlockedError",
    "FileTooLargeError",
    "InsufficientCreditsError",
    "LimitExceededError",
    "MissingClientIdError",
    "NemoError",
    "ProtocolError",
    "RateLimitError",
    "RenderCancelledError",
    "RenderError",
    "RenderFailedError",
    "RenderTimeoutError",
    "ServerError",
    "SessionNotFoundError",
    "StreamDisconnected",
    "StreamTimeout",
    "TransportError",
    "UnsupportedFileError",
    "UnsupportedOnThisAPI",
    "error_for",
    "redact",
]

ACCEPTED_FORMATS: tuple[str, ...] = (
    "mp4", "mov", "avi", "webm", "mkv", "jpg", "png", "gif", "webp", "mp3", "wav", "m4a", "aac",
)  # fmt: skip

_TOKEN_RE = re.compile(r"(nmv_[A-Za-z0-9]+_|clm_|Bearer\s+)[A-Za-z0-9._~+/=-]+")


def redact(text: str) -> str:
    """Replace anything shaped like a token, so server echoes cannot leak one."""
    return _TOKEN_RE.sub(lambda m: m.group(1) + "<redacted>", text)


class NemoError(Exception):
    """Root of every error this SDK raises on purpose."""


class ConfigurationError(NemoError, ValueError):
    """The client's settings cannot work (a bad URL, an insecure transport not explicitly allowed)."""


class UnsupportedOnThisAPI(NemoError, NotImplementedError):
    """The feature exists on the other API generation only (``api`` is this client's, ``other`` the one
    that has it). Nothing was sent."""

    def __init__(self, feature: str, *, api: str, other: str, hint: str = "") -> None:
        how = {
            "gateway": "create the client with an API key (api_key=... or NEMO_API_KEY) to use the gateway",
            "skill": "create the client with a token or none (anonymous) to use the skill API",
        }[other]
        super().__init__(
            f"{feature} exists on the {other} API only, and this client speaks the {api} API: {hint or how}"
        )
        self.feature = feature
        self.api = api
        self.other = other


class TransportError(NemoError):
    """The request did not produce a usable answer."""


class APIConnectionError(TransportError):
    """Connecting failed or the connection broke; ``sent`` says whether the request may have arrived."""

    def __init__(self, message: str, *, sent: bool = False) -> None:
        super().__init__(message)
        self.sent = sent


class APITimeoutError(APIConnectionError):
    """A connect, read, write or pool timeout expired."""


class StreamDisconnected(APIConnectionError):
    """The stream broke after the message left. The agent may still be working: never re-send, read state."""


class StreamTimeout(TransportError):
    """The stream went quiet too long (no events, or only heartbeats). The work may still finish."""


class AgentError(NemoError):
    """The agent reported a failure mid-stream (HTTP stayed 200): an error frame or an errorCode event."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(redact(message))
        self.code = code


class DraftNotReadyError(NemoError, ValueError):
    """The draft has no track with segments, so there is nothing to export. Nothing was sent."""


class RenderError(NemoError):
    """A render job ended without a video. ``job`` is its last known state (None if never read)."""

    def __init__(self, message: str, *, render_id: str, job: Any = None) -> None:
        super().__init__(redact(message))
        self.render_id = render_id
        self.job = job


class RenderFailedError(RenderError):
    """The render job failed on the server; the message carries the job's own error."""


class RenderCancelledError(RenderError):
    """The render job was cancelled (by ``cancel()`` or elsewhere) before it finished."""


class RenderTimeoutError(RenderError):
    """Our deadline passed before the job finished. ``cancelled`` says whether the job was stopped;
    if not, it keeps running and ``nemo.render.wait(render_id)`` picks it up again."""

    def __init__(self, message: str, *, render_id: str, job: Any = None, cancelled: bool = False) -> None:
        super().__init__(message, render_id=render_id, job=job)
        self.cancelled = cancelled


class DownloadError(NemoError):
    """The rendered video could not be saved. No file was left at the target path. A transfer given up
    for being too slow keeps what it received in ``partial`` (a hidden file beside the target) and names
    the limit in ``setting``: the next download to the same path resumes from there."""

    def __init__(self, message: str, *, setting: str | None = None, partial: Path | None = None) -> None:
        super().__init__(redact(message))
        self.setting = setting
        self.partial = partial


class ProtocolError(TransportError):
    """The server's answer was not the JSON or envelope the API documents."""

    def __init__(self, message: str, *, endpoint: str | None = None) -> None:
        super().__init__(message if endpoint is None else f"{endpoint}: {message}")
        self.endpoint = endpoint


class LimitExceededError(ProtocolError):
    """The server sent more than a limit allows; ``setting`` names the limit (a ``with_options`` argument)."""

    def __init__(self, message: str, *, setting: str | None = None, endpoint: str | None = None) -> None:
        if setting is not None:
            message = (
                f"{message} (limit: {setting}; raise it with nemo.with_options({setting}=...) if this is "
                "expected)"
            )
        super().__init__(message, endpoint=endpoint)
        self.setting = setting


class APIError(NemoError):
    """The API answered with an error. ``code`` is the documented code (JSON or HTTP status)."""

    code: int | None
    default_hint: ClassVar[str] = "Check the request and try again."

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        http_status: int | None = None,
        request_id: str | None = None,
        hint: str | None = None,
        body: Any = None,
    ) -> None:
        self.message = redact(message)
        self.code = code
        self.http_status = http_status
        self.request_id = request_id
        self.hint = hint if hint is not None else self.default_hint
        self.body = body
        super().__init__(self.message)

    def __str__(self) -> str:
        parts = [self.message]
        tags = []
        if self.code is not None:
            tags.append(f"code {self.code}")
        if self.http_status is not None and self.http_status != self.code:
            tags.append(f"HTTP {self.http_status}")
        if self.request_id:
            tags.append(f"request {self.request_id}")
        if tags:
            parts.append(f"({', '.join(tags)})")
        if self.hint:
            parts.append(f"— {self.hint}")
        return " ".join(parts)

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(code={self.code!r}, http_status={self.http_status!r}, message={self.message!r})"


class AuthenticationError(APIError):
    """1001: the token is bad or expired."""

    default_hint = (
        "The token is invalid or expired (tokens last 7 days). Pass a fresh token, or unset NEMO_TOKEN "
        "to let the SDK use an anonymous one."
    )


class SessionNotFoundError(APIError):
    """1002: the session does not exist (any more)."""

    default_hint = "Create a new session with `await nemo.sessions.create()` and continue there."


class InsufficientCreditsError(APIError):
    """2001: not enough credits for the operation. Nothing was charged."""

    default_hint = "Top up credits in your NemoVideo account."

    def __init__(self, message: str, *, registration_url: str | None = None, **kwargs: Any) -> None:
        if registration_url and "hint" not in kwargs:
            kwargs["hint"] = (
                f"Anonymous accounts get 100 free credits. Register at {registration_url} "
                "to keep your work and get more."
            )
        super().__init__(message, **kwargs)
        self.registration_url = registration_url


class UnsupportedFileError(APIError):
    """4001: the file type is not accepted."""

    default_hint = "Accepted formats: " + ", ".join(ACCEPTED_FORMATS) + "."
    accepted_formats: tuple[str, ...] = ACCEPTED_FORMATS


class FileTooLargeError(APIError):
    """4002: the file is over the upload limit."""

    default_hint = "Files may be at most 500 MB: compress or trim it, or split it into parts."


class MissingClientIdError(APIError):
    """400: the anonymous-token request lacked ``X-Client-Id``."""

    default_hint = "Set NEMO_CLIENT_ID or let the SDK generate and persist a client id, then retry."


class ExportBlockedError(APIError):
    """402: the free plan cannot export. A plan issue, not a lack of credits."""

    default_hint = "This is a plan issue, not credits: register or upgrade your plan to unlock export."


class RateLimitError(APIError):
    """429: too many requests; ``retry_after`` says how long to wait, in seconds, when the server said."""

    default_hint = "Wait and retry. Anonymous tokens are limited to 1 per client and 10 per IP every 7 days."

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        if retry_after is not None and "hint" not in kwargs:
            kwargs["hint"] = f"Retry after {retry_after:g} s."
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class BadRequestError(APIError):
    """The API refused the request as malformed (a 4xx with no documented code)."""

    default_hint = "The request was refused as malformed; this is likely a bug in the caller or the SDK."


class ServerError(APIError):
    """The API failed (5xx) or timed the request out (408)."""

    default_hint = "A server-side failure. The SDK retries safe requests; try again later if it persists."


_BY_CODE: Mapping[int, type[APIError]] = {
    1001: AuthenticationError,
    1002: SessionNotFoundError,
    2001: InsufficientCreditsError,
    4001: UnsupportedFileError,
    4002: FileTooLargeError,
    400: MissingClientIdError,
    402: ExportBlockedError,
    429: RateLimitError,
    401: AuthenticationError,
    413: FileTooLargeError,
    415: UnsupportedFileError,
    1010: AuthenticationError,
    1011: AuthenticationError,
}


DOCUMENTED_CODES = frozenset(code for code in _BY_CODE if code >= 1000)
"""The API's own codes (not HTTP statuses): an error frame naming one raises its class."""


def error_class(code: int | None, http_status: int | None, message: str = "") -> type[APIError]:
    """Pick the class for a JSON code, else for the HTTP status.

    A bare HTTP 400 is only the documented "missing X-Client-Id" when it says so; other 400s (a body the
    server could not validate) are ``BadRequestError``. A 404 that names the session (ADK's
    ``{"detail": "Session not found"}`` on ``/run_sse``) is ``SessionNotFoundError``.
    """
    if code is not None and code in _BY_CODE:
        return _BY_CODE[code]
    if http_status is not None:
        if http_status == 400:
            return MissingClientIdError if "client" in message.lower() else BadRequestError
        if http_status == 404:
            return SessionNotFoundError if "session" in message.lower() else BadRequestError
        if http_status in _BY_CODE:
            return _BY_CODE[http_status]
        if http_status >= 500 or http_status == 408:
            return ServerError
        if http_status >= 400:
            return BadRequestError
    return APIError


def error_for(
    message: str,
    *,
    code: int | None,
    http_status: int | None,
    request_id: str | None = None,
    retry_after: float | None = None,
    registration_url: str | None = None,
    hint: str | None = None,
    body: Any = None,
) -> APIError:
    """Build the one exception that a code (JSON field or HTTP status) maps to."""
    cls = error_class(code, http_status, message)
    kwargs: dict[str, Any] = {
        "code": code if code is not None else http_status,
        "http_status": http_status,
        "request_id": request_id,
        "body": body,
    }
    if hint is not None:
        kwargs["hint"] = hint
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=retry_after, **kwargs)
    if cls is InsufficientCreditsError:
        return InsufficientCreditsError(message, registration_url=registration_url, **kwargs)
    return cls(message, **kwargs)
