"""The retry policy and the error mapping, as pure functions."""

from __future__ import annotations

import email.utils

import pytest

from nemovideo import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    ExportBlockedError,
    FileTooLargeError,
    InsufficientCreditsError,
    MissingClientIdError,
    RateLimitError,
    ServerError,
    SessionNotFoundError,
    UnsupportedFileError,
)
from nemovideo._errors import APIError, error_for, redact
from nemovideo._retry import parse_retry_after, retry_wait, should_retry

DOCUMENTED = [
    (1001, AuthenticationError),
    (1002, SessionNotFoundError),
    (2001, InsufficientCreditsError),
    (4001, UnsupportedFileError),
    (4002, FileTooLargeError),
    (400, MissingClientIdError),
    (402, ExportBlockedError),
    (429, RateLimitError),
]


@pytest.mark.parametrize(("code", "cls"), DOCUMENTED)
def test_each_documented_code_has_one_class_with_a_hint(code: int, cls: type[APIError]) -> None:
    as_json = error_for("boom", code=code, http_status=None)
    assert type(as_json) is cls
    assert as_json.code == code
    assert as_json.hint
    assert as_json.hint in str(as_json)


def test_http_statuses_map_too() -> None:
    assert type(error_for("x", code=None, http_status=402)) is ExportBlockedError
    assert type(error_for("x", code=None, http_status=429)) is RateLimitError
    assert type(error_for("missing X-Client-Id", code=None, http_status=400)) is MissingClientIdError
    assert type(error_for("bad body", code=None, http_status=422)) is BadRequestError
    assert type(error_for("bad body", code=None, http_status=400)) is BadRequestError
    assert type(error_for("x", code=None, http_status=503)) is ServerError
    assert type(error_for("x", code=1002, http_status=404)) is SessionNotFoundError


def test_hints_say_what_to_do() -> None:
    credits = error_for(
        "no credits", code=2001, http_status=None, registration_url="https://w/register?bind=u1"
    )
    assert isinstance(credits, InsufficientCreditsError)
    assert credits.registration_url == "https://w/register?bind=u1"
    assert "https://w/register?bind=u1" in str(credits)
    assert "plan issue, not credits" in str(error_for("x", code=402, http_status=402))
    assert "mp4" in str(error_for("x", code=4001, http_status=None))
    limited = error_for("slow down", code=429, http_status=429, retry_after=12)
    assert isinstance(limited, RateLimitError)
    assert limited.retry_after == 12
    assert "12" in str(limited)


def test_messages_are_scrubbed_of_tokens() -> None:
    err = error_for("token nmv_usr_abc123XYZ is expired", code=1001, http_status=None)
    assert "abc123XYZ" not in str(err)
    assert "abc123XYZ" not in repr(err)
    assert redact("Authorization: Bearer nmv_usr_s3cr3t") == "Authorization: Bearer <redacted>"


@pytest.mark.parametrize(
    ("error", "idempotent", "attempt", "expected"),
    [
        (error_for("x", code=None, http_status=503), True, 1, True),
        (error_for("x", code=None, http_status=503), False, 1, False),
        (error_for("x", code=None, http_status=408), True, 2, True),
        (error_for("x", code=None, http_status=503), True, 3, False),
        (error_for("x", code=429, http_status=429), False, 1, True),
        (error_for("x", code=429, http_status=429), True, 2, False),
        (APIConnectionError("refused", sent=False), False, 1, True),
        (APIConnectionError("reset", sent=True), False, 1, False),
        (APIConnectionError("reset", sent=True), True, 1, True),
        (error_for("x", code=1002, http_status=None), True, 1, False),
        (error_for("x", code=2001, http_status=None), True, 1, False),
        (error_for("x", code=402, http_status=402), True, 1, False),
        (error_for("x", code=4001, http_status=None), True, 1, False),
        (ValueError("not ours"), True, 1, False),
    ],
)
def test_retry_table(error: BaseException, idempotent: bool, attempt: int, expected: bool) -> None:
    assert should_retry(error, attempt=attempt, max_retries=2, idempotent=idempotent) is expected


def test_retry_wait_honours_server_then_backs_off_with_jitter() -> None:
    assert retry_wait(error_for("x", code=429, http_status=429, retry_after=3), attempt=1, max_wait=60) == 3
    assert retry_wait(error_for("x", code=429, http_status=429), attempt=1, max_wait=60) == 30
    assert (
        retry_wait(error_for("x", code=429, http_status=429, retry_after=600), attempt=1, max_wait=60) == 60
    )
    waits = [retry_wait(ServerError("x", http_status=503), attempt=3, max_wait=60) for _ in range(200)]
    assert all(0 <= w <= 2.0 for w in waits)
    assert len(set(waits)) > 100  # full jitter, not a fixed step


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "7"}) == 7
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=1_000_000) == pytest.approx(30)
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None
