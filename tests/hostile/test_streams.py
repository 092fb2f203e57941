"""Agent event streams from a hostile server: endless, enormous, undecodable or broken streams end in the
documented error, with bounded memory and time; none of them re-sends the message."""

from __future__ import annotations

import pytest

from nemovideo import (
    Event,
    LimitExceededError,
    NemoError,
    ProtocolError,
    StreamDisconnected,
    StreamTimeout,
    StreamTimeouts,
    Text,
)

from ._server import HostileServer
from .conftest import BODY_CAP, SLACK, ClientFactory, bounded, nothing_left_behind

pytestmark = pytest.mark.anyio

MB = 1024 * 1024
QUICK = 3.0


async def run_stream(
    client_of: ClientFactory, case: str, timeouts: StreamTimeouts | None = None
) -> tuple[list[Event], NemoError | None]:
    """Every event of one turn, and the error that ended it (None if it ended well)."""
    events: list[Event] = []
    async with client_of(case) as nemo:
        try:
            async with nemo.sessions.stream("sess_hostile", "make a video", timeouts=timeouts) as stream:
                async for event in stream:
                    events.append(event)
        except NemoError as exc:
            return events, exc
    return events, None


async def test_invalid_utf8_is_replaced_not_fatal(client_of: ClientFactory) -> None:
    """As in a browser's EventSource: bytes that are not UTF-8 decode to U+FFFD and the stream goes on."""
    with bounded(QUICK):
        events, error = await run_stream(client_of, "sse-bad-utf8")
    assert error is None
    texts = [e.text for e in events if isinstance(e, Text)]
    assert texts == ["caf\ufffd \ufffd", "hello"]


async def test_an_html_page_is_not_an_empty_stream(client_of: ClientFactory) -> None:
    with bounded(QUICK):
        events, error = await run_stream(client_of, "sse-html")
    assert type(error) is ProtocolError
    assert "an HTML page (HTTP 200, text/html) instead of an event stream" in str(error)
    assert "do not send the message again" in str(error)
    assert events == []


async def test_endless_heartbeats_end_in_a_stream_timeout(client_of: ClientFactory) -> None:
    timeouts = StreamTimeouts(heartbeats_only=1.0)
    with bounded(1.0 + SLACK) as usage:
        events, error = await run_stream(client_of, "sse-heartbeats", timeouts)
    assert isinstance(error, StreamTimeout)
    assert "only heartbeats for 1 s" in str(error)
    assert "read the session state before sending the message again" in str(error)
    assert len(events) > 5  # heartbeats were seen, and they did not keep the turn alive
    assert usage.seconds >= 0.9


async def test_endless_stream_meets_its_total_budget(client_of: ClientFactory) -> None:
    timeouts = StreamTimeouts(total=1.0)
    with bounded(1.0 + SLACK):
        _, error = await run_stream(client_of, "sse-heartbeats", timeouts)
    assert isinstance(error, StreamTimeout)
    assert "the turn took longer than 1 s" in str(error)


async def test_a_trickle_of_bytes_is_no_event(client_of: ClientFactory) -> None:
    """The gap timeout runs from the last event, not the last byte: a trickle cannot hold the turn open."""
    timeouts = StreamTimeouts(gap=1.0, heartbeats_only=60.0, total=60.0)
    with bounded(1.0 + SLACK) as usage:
        events, error = await run_stream(client_of, "sse-trickle", timeouts)
    assert isinstance(error, StreamTimeout)
    assert "no event for 1 s" in str(error)
    assert [e.text for e in events if isinstance(e, Text)] == ["hello"]
    assert usage.seconds >= 0.9


async def test_a_million_tiny_events_stop_at_the_event_cap(
    client_of: ClientFactory, hostile: HostileServer
) -> None:
    with bounded(QUICK):
        _, error = await run_stream(client_of, "sse-tiny-events")
    assert isinstance(error, LimitExceededError)
    assert error.setting == "max_stream_events"
    assert "more than 20000 events" in str(error)
    assert "with_options(max_stream_events=...)" in str(error)
    assert "do not send the message again" in str(error)
    assert hostile.sent["sse-tiny-events"] < 10 * MB  # 10^6 events are 10 MB: the client left early


@pytest.mark.parametrize("case", ["sse-huge-event", "sse-huge-line-breaks"])
async def test_a_50_mb_event_stops_at_the_event_size_cap(
    client_of: ClientFactory, hostile: HostileServer, case: str
) -> None:
    with bounded(QUICK):
        _, error = await run_stream(client_of, case)
    assert isinstance(error, LimitExceededError)
    assert error.setting == "max_event_size"
    assert f"one event grew past {BODY_CAP} characters" in str(error)
    assert hostile.sent[case] < 40 * MB


async def test_a_compressed_bomb_stops_at_the_event_size_cap(client_of: ClientFactory) -> None:
    with bounded(QUICK, memory=16 * MB):  # inflated no further than the caps allow
        _, error = await run_stream(client_of, "sse-gzip-bomb")
    assert isinstance(error, LimitExceededError)
    assert error.setting == "max_event_size"


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("encoding", ["br", "zstd"])
async def test_a_corrupt_brotli_or_zstd_stream_is_a_protocol_error_leaving_nothing_open(
    client_of: ClientFactory, encoding: str
) -> None:
    pytest.importorskip("brotli" if encoding == "br" else "zstandard")
    with nothing_left_behind(), bounded(QUICK):
        _, error = await run_stream(client_of, f"sse-bad-{encoding}")
    assert type(error) is ProtocolError
    assert f"the event stream's {encoding} encoding is corrupt" in str(error)
    assert "do not send the message again" in str(error)


@pytest.mark.parametrize("case", ["sse-reset", "sse-half-close"])
async def test_a_broken_stream_is_a_disconnect_never_a_resend(
    client_of: ClientFactory, hostile: HostileServer, case: str
) -> None:
    with bounded(QUICK):
        events, error = await run_stream(client_of, case)
    assert isinstance(error, StreamDisconnected)
    assert error.sent
    assert "do not send the message again" in str(error)
    assert [e.text for e in events if isinstance(e, Text)] == ["hello"] * (2 if case == "sse-reset" else 1)
    assert hostile.requests[case] == 1  # the message went out once
