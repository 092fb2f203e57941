"""JSON answers from a hostile server: each misbehaviour raises its documented error, in words that say what
came and which setting applies, within the deadline and without buffering what the cap refuses."""

from __future__ import annotations

import pytest

from nemovideo import (
    APIConnectionError,
    APITimeoutError,
    LimitExceededError,
    NemoError,
    ProtocolError,
    RateLimitError,
    ServerError,
)

from ._server import HostileServer
from .conftest import BODY_CAP, DEADLINE, SLACK, ClientFactory, bounded, nothing_left_behind

pytestmark = pytest.mark.anyio

QUICK = 2.0
"""Seconds a case that needs no deadline may take."""
ON_TIME = DEADLINE + SLACK
MB = 1024 * 1024


async def balance_error(client_of: ClientFactory, case: str) -> NemoError:
    async with client_of(case) as nemo:
        with pytest.raises(NemoError) as caught:
            await nemo.credits.balance()
    return caught.value


# --- too big ------------------------------------------------------------------------------------------


async def test_huge_body_stops_at_the_cap(client_of: ClientFactory, hostile: HostileServer) -> None:
    with bounded(QUICK):
        error = await balance_error(client_of, "huge-json")
    assert isinstance(error, LimitExceededError)
    assert error.setting == "max_body_size"
    assert f"grew past {BODY_CAP} bytes" in str(error)
    assert "with_options(max_body_size=...)" in str(error)
    # the client hung up: the server could push its socket buffers' worth, far from 200 MB
    assert hostile.sent["huge-json"] < 32 * MB


async def test_declared_huge_body_is_refused_unread(client_of: ClientFactory, hostile: HostileServer) -> None:
    with bounded(QUICK):
        error = await balance_error(client_of, "huge-json-declared")
    assert isinstance(error, LimitExceededError)
    assert error.setting == "max_body_size"
    assert f"declares {200 * MB} bytes" in str(error)
    assert hostile.sent["huge-json-declared"] < 32 * MB


async def test_gzip_bomb_is_stopped_at_the_cap_of_decoded_bytes(
    client_of: ClientFactory, hostile: HostileServer
) -> None:
    with bounded(QUICK, memory=16 * MB):  # inflated no further than the cap, not a network read's worth
        error = await balance_error(client_of, "gzip-bomb")
    assert isinstance(error, LimitExceededError)
    assert error.setting == "max_body_size"
    # The whole bomb is about 1 MB on the wire (it may sit in the socket buffers); what is bounded is
    # what the client inflated, which the memory bound checks: 1 GB of zeros never existed here.
    assert hostile.sent["gzip-bomb"] > 0


async def test_corrupt_gzip_is_a_protocol_error(client_of: ClientFactory) -> None:
    with bounded(QUICK):
        error = await balance_error(client_of, "bad-gzip")
    assert type(error) is ProtocolError
    assert "the answer's gzip encoding is corrupt" in str(error)


async def test_gzip_answer_is_read(client_of: ClientFactory) -> None:
    with bounded(QUICK):
        async with client_of("good-gzip") as nemo:
            credits = await nemo.credits.balance()
    assert credits.total == 5


# brotli and zstd are decoded by the SDK itself (when their packages are installed, httpx offers them):
# under the cap like gzip, and a corrupt body is refused having closed every generator under httpx's
# reader (left to the garbage collector, trio reports them).

ENCODINGS = ["br", "zstd"]


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_brotli_and_zstd_answers_are_read(client_of: ClientFactory, encoding: str) -> None:
    pytest.importorskip("brotli" if encoding == "br" else "zstandard")
    with bounded(QUICK):
        async with client_of(f"good-{encoding}") as nemo:
            credits = await nemo.credits.balance()
    assert credits.total == 5


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_corrupt_brotli_and_zstd_are_protocol_errors_leaving_nothing_open(
    client_of: ClientFactory, encoding: str
) -> None:
    pytest.importorskip("brotli" if encoding == "br" else "zstandard")
    with nothing_left_behind(), bounded(QUICK):
        error = await balance_error(client_of, f"bad-{encoding}")
    assert type(error) is ProtocolError
    assert f"the answer's {encoding} encoding is corrupt" in str(error)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_brotli_and_zstd_bombs_stop_at_the_cap_of_decoded_bytes(
    client_of: ClientFactory, encoding: str
) -> None:
    pytest.importorskip("brotli" if encoding == "br" else "zstandard")
    with nothing_left_behind(), bounded(QUICK, memory=16 * MB):  # 1 GB of zeros never existed here
        error = await balance_error(client_of, f"{encoding}-bomb")
    assert isinstance(error, LimitExceededError)
    assert error.setting == "max_body_size"


# --- too slow, or never ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["trickle", "trickle-head", "silent"])
async def test_slow_or_silent_server_meets_the_deadline(client_of: ClientFactory, case: str) -> None:
    with bounded(ON_TIME) as usage:
        error = await balance_error(client_of, case)
    assert isinstance(error, APITimeoutError)
    assert f"longer than {DEADLINE:g} s in all" in str(error)
    assert "with_options(deadline=...)" in str(error)
    assert usage.seconds >= DEADLINE - 0.1  # the deadline, not some other timeout, ended it


async def test_promised_bytes_that_never_come_meet_the_deadline(client_of: ClientFactory) -> None:
    with bounded(ON_TIME):
        error = await balance_error(client_of, "length-long-idle")
    assert isinstance(error, APITimeoutError)
    assert "deadline" in str(error)


# --- not the envelope -----------------------------------------------------------------------------


async def test_redirect_is_named_and_not_followed(client_of: ClientFactory, hostile: HostileServer) -> None:
    with bounded(QUICK):
        error = await balance_error(client_of, "redirect")
    assert type(error) is ProtocolError
    message = str(error)
    assert "redirect (HTTP 302) to https://elsewhere.example/api/credits" in message
    assert "does not follow redirects" in message
    assert "sig=secret" not in message  # a signed query is a credential
    assert hostile.requests["redirect"] == 1


async def test_conflicting_locations_are_still_a_redirect(client_of: ClientFactory) -> None:
    with bounded(QUICK):
        error = await balance_error(client_of, "conflicting-location")
    assert type(error) is ProtocolError
    assert "redirect (HTTP 301)" in str(error)
    assert "does not follow redirects" in str(error)


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("truncated-json", "malformed JSON"),
        ("bad-utf8-json", "malformed JSON"),
        ("html", "an HTML page (HTTP 200, text/html) instead of JSON"),
        ("empty", "an empty body (HTTP 200) instead of JSON"),
        ("wrong-type", "a body of type text/plain instead of JSON"),
        ("not-envelope", "JSON that is not the API's envelope"),
        ("length-short", "malformed JSON"),  # 10 bytes of it were the whole answer
    ],
)
async def test_what_came_instead_is_said(client_of: ClientFactory, case: str, words: str) -> None:
    with bounded(QUICK):
        error = await balance_error(client_of, case)
    assert type(error) is ProtocolError
    assert words in str(error)
    assert "(expected Credits)" in str(error)


async def test_html_500_is_a_server_error(client_of: ClientFactory) -> None:
    with bounded(QUICK):
        error = await balance_error(client_of, "html-500")
    assert isinstance(error, ServerError)
    assert error.http_status == 500


# --- broken sockets and framing -------------------------------------------------------------------


@pytest.mark.parametrize(
    "case", ["reset-mid-body", "half-close", "half-close-before-answer", "length-long-close"]
)
async def test_broken_connection(client_of: ClientFactory, case: str) -> None:
    with bounded(QUICK):
        error = await balance_error(client_of, case)
    assert type(error) is APIConnectionError
    assert "/api/credits/balance/simple: connection failed (" in str(error)
    assert not str(error).endswith(": )")  # a reason in words, even where the exception has none
    assert error.sent  # it may have arrived: only an idempotent request may be repeated


async def test_conflicting_content_lengths_are_refused(client_of: ClientFactory) -> None:
    with bounded(QUICK):
        error = await balance_error(client_of, "conflicting-length")
    assert isinstance(error, APIConnectionError)
    assert "RemoteProtocolError" in str(error)


@pytest.mark.parametrize("case", ["duplicate-length", "conflicting-type"])
async def test_harmless_duplicates_are_tolerated(client_of: ClientFactory, case: str) -> None:
    with bounded(QUICK):
        async with client_of(case) as nemo:
            credits = await nemo.credits.balance()
    assert credits.total == 5


async def test_conflicting_retry_after_takes_the_longest(client_of: ClientFactory) -> None:
    with bounded(QUICK):
        error = await balance_error(client_of, "conflicting-retry-after")
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 999999
