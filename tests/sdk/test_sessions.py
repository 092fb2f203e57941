"""Sessions, the chat stream and replies, against the emulator."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

import nemovideo
from nemovideo import (
    AgentError,
    Recovery,
    SessionNotFoundError,
    StreamDisconnected,
    StreamTimeout,
    StreamTimeouts,
)
from nemovideo.emulator import Emulator

from .conftest import cut_chat, messages_sent, requests_to

pytestmark = pytest.mark.anyio

SCRIPT = "Fresh coffee, roasted every morning. Made by people who care. Visit us today."
GENERATE = f"Generate a 9-second promotional video from this script with background music: {SCRIPT}"
FAST = Recovery(first_wait=0.05, wait=0.05, max_reads=3)


async def drain(events: nemovideo.EventStream) -> None:
    async for _ in events:
        pass


@pytest.fixture
def quiet_agent(nemo_emulator: Emulator) -> Emulator:
    nemo_emulator.configure(credits=1000, silent_share=0.0)
    return nemo_emulator


@pytest.mark.parametrize("transport", ["json", "http"])
async def test_unknown_session_everywhere(
    either: nemovideo.NemoClient, nemo_emulator: Emulator, transport: str, api: str
) -> None:
    if api == "gateway" and transport == "http":
        pytest.skip("error_transport is a setting of the skill API; the gateway's errors come one way")
    nemo_emulator.configure(error_transport=transport)
    ghost = either.sessions.get("1234567890123456789")
    with pytest.raises(SessionNotFoundError) as info:
        await ghost.state()
    assert "nemo.sessions.create()" in info.value.hint
    with pytest.raises(SessionNotFoundError):
        await ghost.send("hello", track_credits=False)


async def test_generation_and_three_edits(either: nemovideo.NemoClient, quiet_agent: Emulator) -> None:
    session = await either.sessions.create()

    reply = await session.send(GENERATE)
    assert reply.raw_text
    assert not reply.silent
    assert [c.name for c in reply.tool_calls]
    assert reply.credits_spent == 100
    assert session.draft.duration_ms == 9000
    kinds = sorted(c.kind for c in reply.changes.changes)
    assert kinds.count("track_added") == 3
    assert "BGM: Lo-fi (0-9s, 35%)" in session.draft.summary()
    assert "Click" not in reply.text  # GUI talk translated
    assert reply.raw_text != reply.text or not re.search(r"(?i)click|panel", reply.raw_text)

    reply = await session.send("Add a title 'Urban Dreams' for 3 seconds")
    assert reply.credits_spent == 50
    added = [c for c in reply.changes.changes if c.kind == "segment_added"]
    assert [c.track for c in added] == ["Title"]
    assert added[0].what == '"Urban Dreams" (0-3s)'

    reply = await session.send("Set the music volume to 60%")
    [change] = [c for c in reply.changes.changes if c.kind == "segment_changed"]
    assert change.track == "BGM"
    assert change.fields["volume"] == (35, 60)
    assert "music Lo-fi: volume 35% → 60%" in change.describe()

    reply = await session.send("Make it 12 seconds")
    assert session.draft.duration_ms == 12000
    assert any(
        c.kind == "draft_changed" and c.fields["duration"] == (9000, 12000) for c in reply.changes.changes
    )
    assert messages_sent(quiet_agent) == [
        GENERATE,
        "Add a title 'Urban Dreams' for 3 seconds",
        "Set the music volume to 60%",
        "Make it 12 seconds",
    ]


async def test_cut_stream_is_recovered_from_state_without_resending(
    either: nemovideo.NemoClient, quiet_agent: Emulator, api: str
) -> None:
    session = await either.sessions.create()
    cut_chat(quiet_agent, api, after=2)
    reply = await session.send(GENERATE, recovery=Recovery(first_wait=1.0, wait=0.5, max_reads=5))
    assert reply.recovered
    assert session.draft.is_ready
    assert "Added a Video track" in reply.text
    assert messages_sent(quiet_agent) == [GENERATE]


async def test_cut_stream_with_no_change_raises_after_the_documented_reads(
    either: nemovideo.NemoClient, quiet_agent: Emulator, api: str
) -> None:
    session = await either.sessions.create()
    cut_chat(quiet_agent, api, after=1)
    reads_before = requests_to(quiet_agent, "state")
    with pytest.raises(StreamDisconnected, match="did not change in 3 reads"):
        await session.send("hello there", recovery=FAST)
    assert requests_to(quiet_agent, "state") - reads_before == 1 + 3  # the draft before, then 3 reads
    assert messages_sent(quiet_agent) == ["hello there"]


async def test_dropped_before_headers_is_not_resent(
    nemo: nemovideo.NemoClient, quiet_agent: Emulator
) -> None:
    session = await nemo.sessions.create()
    quiet_agent.faults.add("run_sse", "drop_before_headers")
    with pytest.raises(StreamDisconnected, match="did not change"):
        await session.send("hello there", recovery=FAST)
    assert requests_to(quiet_agent, "run_sse") == 1


async def test_heartbeats_only_ends_in_a_clear_timeout(
    either: nemovideo.NemoClient, quiet_agent: Emulator, api: str
) -> None:
    session = await either.sessions.create()
    if api == "skill":
        quiet_agent.faults.add("run_sse", "heartbeats_only", seconds=5)
        text = "hello there"
    else:  # a long tool: the gateway sends only `status: working` while it works
        quiet_agent.configure(generation_seconds=5, heartbeat_interval=0.05)
        text = GENERATE
    timeouts = StreamTimeouts(heartbeats_only=0.5)
    async with session.stream(text, timeouts=timeouts) as events:
        with pytest.raises(StreamTimeout, match="only heartbeats"):
            await drain(events)
    assert messages_sent(quiet_agent) == [text]


async def test_still_working_notices(either: nemovideo.NemoClient, quiet_agent: Emulator) -> None:
    quiet_agent.configure(generation_seconds=1.2, heartbeat_interval=0.05)
    session = await either.sessions.create()
    notices: list[float] = []
    await session.send(GENERATE, timeouts=StreamTimeouts(notice_every=0.3), on_heartbeat=notices.append)
    assert len(notices) >= 2
    assert all(n >= 0.3 for n in notices)


async def test_total_timeout(either: nemovideo.NemoClient, quiet_agent: Emulator) -> None:
    quiet_agent.configure(generation_seconds=3)
    session = await either.sessions.create()
    async with session.stream(GENERATE, timeouts=StreamTimeouts(total=0.4)) as events:
        with pytest.raises(StreamTimeout, match=r"longer than 0\.4 s"):
            await drain(events)


async def test_malformed_frame_is_an_agent_error(nemo: nemovideo.NemoClient, quiet_agent: Emulator) -> None:
    session = await nemo.sessions.create()
    quiet_agent.faults.add("run_sse", "malformed_json")
    with pytest.raises(AgentError, match="not JSON"):
        await session.send("hello there")
    assert messages_sent(quiet_agent) == ["hello there"]


async def test_emulator_drafts_round_trip_exactly(
    either: nemovideo.NemoClient, quiet_agent: Emulator
) -> None:
    session = await either.sessions.create()
    await session.send(GENERATE)
    raw = quiet_agent.session_state(session.id)["draft"]
    state = await session.state()
    assert json.dumps(state.draft.model_dump(by_alias=True)) == json.dumps(raw)
    assert state.draft.to_api() == raw


RUN_SSE_FAULTS: list[tuple[str, dict[str, Any], type[Exception] | None]] = [
    ("status", {"status": 503}, nemovideo.ServerError),
    ("rate_limit", {"retry_after": 1}, nemovideo.RateLimitError),
    ("latency", {"seconds": 0.2}, None),
    ("drop_before_headers", {}, StreamDisconnected),
    ("drop_after_headers", {}, StreamDisconnected),
    ("cut_stream", {"after": 1}, StreamDisconnected),
    ("heartbeats_only", {"seconds": 1}, StreamDisconnected),
    ("malformed_json", {}, AgentError),
    ("expire_token", {}, nemovideo.AuthenticationError),
]


@pytest.mark.parametrize(("kind", "params", "outcome"), RUN_SSE_FAULTS, ids=[f[0] for f in RUN_SSE_FAULTS])
async def test_no_message_is_ever_sent_twice(
    nemo: nemovideo.NemoClient,
    quiet_agent: Emulator,
    waits: list[float],
    kind: str,
    params: dict[str, Any],
    outcome: type[Exception] | None,
) -> None:
    session = await nemo.sessions.create()
    quiet_agent.faults.add("run_sse", kind, **params)
    timeouts = StreamTimeouts(heartbeats_only=0.3)
    if outcome is None:
        reply = await session.send("hello there", recovery=FAST, timeouts=timeouts)
        assert reply.text
    else:
        with pytest.raises(outcome):
            await session.send("hello there", recovery=FAST, timeouts=timeouts)
    assert requests_to(quiet_agent, "run_sse") == 1
    assert waits == []  # nothing was retried


async def test_after_an_expired_token_the_next_message_goes_through(
    nemo: nemovideo.NemoClient, quiet_agent: Emulator
) -> None:
    session = await nemo.sessions.create()
    quiet_agent.faults.add("run_sse", "expire_token")
    with pytest.raises(nemovideo.AuthenticationError, match="send it again"):
        await session.send("hello there", track_credits=False)
    assert requests_to(quiet_agent, "anonymous_token") == 1
    reply = await session.send("hello there")
    assert reply.text
    assert requests_to(quiet_agent, "anonymous_token") == 2
    assert requests_to(quiet_agent, "run_sse") == 2  # the refused one (never processed), then this one
