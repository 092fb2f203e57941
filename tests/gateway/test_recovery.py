"""A chat cut twice on the emulator's gateway: the turn is read from the state, and its end, which no socket
heard, does not end the next turn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import nemovideo
from nemovideo import Recovery, StreamDisconnected
from nemovideo.emulator import Emulator

from ..sdk.conftest import GATEWAY_KEY, messages_sent

pytestmark = pytest.mark.anyio

GENERATE = "Generate a 6-second promotional video from this script with background music: Tea, brewed slowly."
TITLE = "Add a title 'Urban Dreams' for 3 seconds"


@pytest.fixture
async def gw(nemo_emulator: Emulator, tmp_path: Path) -> AsyncIterator[nemovideo.NemoClient]:
    nemo_emulator.configure(credits=1000, silent_share=0.0)
    async with nemovideo.NemoClient(
        api_key=GATEWAY_KEY, api_url=nemo_emulator.url, config_dir=tmp_path / "nemo"
    ) as client:
        yield client


async def turn_over(nemo: nemovideo.NemoClient, session: nemovideo.Session) -> None:
    """Poll (a bounded while) until the gateway lists the session as idle again."""
    project = await nemo.projects.get(session.project_id or "")
    for _ in range(200):
        if all(s.status != "running" for s in await nemo.projects.sessions(project.project_id)):
            return
        await anyio.sleep(0.05)
    raise AssertionError("the turn still runs after 10 s")


async def test_the_end_of_an_unheard_turn_does_not_end_the_next(
    gw: nemovideo.NemoClient, nemo_emulator: Emulator, ws_waits: list[float]
) -> None:
    session = await gw.sessions.create()
    # the instant reconnect finds the turn running and is cut too: the turn ends with no socket to hear it
    nemo_emulator.faults.add("ws_chat", "ws_close", count=2, after=1, code=1011)
    reply = await session.send(GENERATE, recovery=Recovery(first_wait=0.1, wait=0.1, max_reads=50))
    assert reply.recovered
    assert ws_waits == [1.0]
    await turn_over(gw, session)

    with anyio.fail_after(20):
        reply = await session.send(TITLE)  # its socket hears the earlier turn's `done` first
    assert not reply.recovered
    assert [c.name for c in reply.tool_calls]
    assert any('"Urban Dreams" (0-3s)' in c.what for c in reply.changes.changes)
    assert "Urban Dreams" in reply.text
    assert messages_sent(nemo_emulator) == [GENERATE, TITLE]
    reply = await session.send("Set the music volume to 60%")  # no turn of ours is left running
    assert reply.tool_calls


async def test_a_reconnect_that_follows_the_turn_reads_the_outcome_from_the_state(
    gw: nemovideo.NemoClient, nemo_emulator: Emulator, ws_waits: list[float]
) -> None:
    session = await gw.sessions.create()
    nemo_emulator.faults.add("ws_chat", "ws_close", count=1, after=1, code=1011)
    seen: list[nemovideo.Event] = []
    reply = await session.send(
        GENERATE, on_event=seen.append, recovery=Recovery(first_wait=0.1, wait=0.1, max_reads=50)
    )
    assert [e.type for e in seen][-1] == "done"  # the turn was followed to its end on the new socket
    assert reply.recovered  # yet part of it was missed, so the draft comes from the state
    assert session.draft.duration_ms == 6000
    assert messages_sent(nemo_emulator) == [GENERATE]
    sent = [e for e in nemo_emulator.log if e.endpoint == "ws_message"]
    assert str((sent[0].extra or {}).get("client_message_id", "")).startswith("cm_")


CHAT_FAULTS: list[tuple[str, dict[str, Any], type[Exception] | None, list[float]]] = [
    ("status", {"status": 503, "count": 2}, None, [2.0, 3.0]),  # the handshake retried: nothing was sent
    ("forbidden", {}, None, [2.0]),  # a transient 403, retried as well
    ("rate_limit", {}, nemovideo.RateLimitError, []),
    ("latency", {"seconds": 0.2}, None, []),
    ("ws_close", {"after": 0, "count": 2}, StreamDisconnected, [1.0]),  # one reconnect, no re-send
    ("ws_close", {"after": 2, "code": 4001}, nemovideo.AuthenticationError, []),
]


@pytest.mark.parametrize(
    ("kind", "params", "outcome", "waited"),
    CHAT_FAULTS,
    ids=[f"{f[0]}-{f[1].get('after', '')}" for f in CHAT_FAULTS],
)
async def test_no_chat_message_is_ever_sent_twice(
    gw: nemovideo.NemoClient,
    nemo_emulator: Emulator,
    ws_waits: list[float],
    kind: str,
    params: dict[str, Any],
    outcome: type[Exception] | None,
    waited: list[float],
) -> None:
    session = await gw.sessions.create()
    nemo_emulator.faults.add("ws_chat", kind, **params)
    fast = Recovery(first_wait=0.05, wait=0.05, max_reads=3)
    if outcome is None:
        reply = await session.send("hello there", recovery=fast)
        assert reply.text
    else:
        with pytest.raises(outcome):
            await session.send("hello there", recovery=fast)
    refused_at_handshake = kind == "rate_limit"
    assert messages_sent(nemo_emulator) == ([] if refused_at_handshake else ["hello there"])
    assert ws_waits == waited
