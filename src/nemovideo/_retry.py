"""The retry policy: the documented error table plus transport faults, as data and small pure functions.

Only what is safe to repeat is repeated: a request that never left (connect failures), a rejected one
(429), and requests marked idempotent (GETs, a render start with its fixed id). A chat message is sent
once: only a failure to connect is retried. An upload whose body started to go out is not repeated: it may
have landed, and repeating it could charge twice.
"""

from __future__ import annotations

import email.utils
import enum
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

from ._errors import APIConnectionError, APIError, NemoError, RateLimitError, ServerError


class Action(enum.Enum):
    RAISE = "raise"
    REFRESH_TOKEN = "refresh token once (anonymous tokens only), repeat the request once"
    NEW_CLIENT_ID = "make a new client id, repeat the token request once"
    RETRY_ONCE_AFTER = "wait Retry-After (else 30 s), repeat once"
    RETRY_BACKOFF = "exponential backoff with full jitter, if safe to repeat"


@dataclass(frozen=True)
class Rule:
    action: Action
    why: str


POLICY: Mapping[int, Rule] = {
    1001: Rule(Action.REFRESH_TOKEN, "bad or expired token"),
    1002: Rule(Action.RAISE, "session not found: the caller creates a new one"),
    2001: Rule(Action.RAISE, "no credits: nothing to retry until the user tops up"),
    4001: Rule(Action.RAISE, "unsupported file"),
    4002: Rule(Action.RAISE, "file too large"),
    400: Rule(Action.NEW_CLIENT_ID, "missing X-Client-Id"),
    402: Rule(Action.RAISE, "free plan export blocked: a plan issue"),
    429: Rule(Action.RETRY_ONCE_AFTER, "rate limited"),
    408: Rule(Action.RETRY_BACKOFF, "request timeout"),
    500: Rule(Action.RETRY_BACKOFF, "server error"),
    502: Rule(Action.RETRY_BACKOFF, "bad gateway"),
    503: Rule(Action.RETRY_BACKOFF, "unavailable"),
    504: Rule(Action.RETRY_BACKOFF, "gateway timeout"),
}

RATE_LIMIT_DEFAULT_WAIT = 30.0
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0


def rule_for(error: NemoError) -> Rule | None:
    if isinstance(error, APIConnectionError):
        return Rule(Action.RETRY_BACKOFF, "connection failed")
    if isinstance(error, APIError):
        if isinstance(error, ServerError) and error.http_status is not None and error.http_status >= 500:
            return POLICY.get(error.http_status, POLICY[500])
        if error.code is not None and error.code in POLICY:
            return POLICY[error.code]
        if error.http_status is not None:
            return POLICY.get(error.http_status)
    return None


def should_retry(
    error: BaseException, *, attempt: int, max_retries: int, idempotent: bool, send_once: bool = False
) -> bool:
    """``attempt`` counts from 1: the attempt that just failed.

    ``send_once`` (a chat message) allows only a repeat of a request that never left the client: not even
    a refusal (429, 1001) is answered by sending the message again.
    """
    if not isinstance(error, NemoError) or attempt > max_retries:
        return False
    if send_once:
        return isinstance(error, APIConnectionError) and not error.sent
    rule = rule_for(error)
    if rule is None:
        return False
    if rule.action is Action.RETRY_ONCE_AFTER:
        return attempt == 1
    if rule.action is Action.RETRY_BACKOFF:
        if isinstance(error, APIConnectionError):
            return idempotent or not error.sent
        return idempotent
    return False


def retry_wait(error: BaseException, *, attempt: int, max_wait: float) -> float:
    """Seconds to wait before the next attempt: the server's word if it gave one, else backoff."""
    after = getattr(error, "retry_after", None)
    if isinstance(after, (int, float)) and after >= 0:
        return min(float(after), max_wait)
    if isinstance(error, RateLimitError):
        return min(RATE_LIMIT_DEFAULT_WAIT, max_wait)
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)))


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Read ``retry-after-ms``, then ``Retry-After`` as seconds or as an HTTP date."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(float(ms) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:  # the header sent twice, joined with commas: wait the longest any of them asks
        return max(max(float(part) for part in value.split(",")), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)
