"""The gateway's chat WebSocket against a raw server replaying the vendor CLI's message sequences."""

from __future__ import annotations

import logging
import re

import anyio
import pytest

import nemovideo
from nemovideo import (
    AuthenticationError,
    Done,
    Heartbeat,
    Question,
    ServerError,
    SessionNotFoundError,
    Status,
    StreamDisconnected,
    StreamError,
    StreamTimeout,
    StreamTimeouts,
    Text,
    TextDelta,
    Thinking,
    ToolCall,
    ToolResult,
)
from nemovideo._api import _ws

from ._raw_ws import Conn, RawGateway, play
from .conftest import KEY

pytestmark = pytest.mark.anyio

SESSION = "5529798706024415232"


async def collect(nemo: nemovideo.NemoClient, text: str = "Make a video") -> list[nemovideo.Event]:
    async with nemo.sessions.stream(SESSION, text) as events:
        return [event async for event in events]


async def drain(events: nemovideo.EventStream) -> None:
    async for _ in events:
        pass


def kinds(events: list[nemovideo.Event]) -> list[str]:
    return [e.type for e in events]


async def test_vendor_sequence_decodes_to_typed_events(gw: nemovideo.NemoClient, raw: RawGateway) -> None:
    raw.scripts.append(
        play(
            {"type": "warming_up"},
            {"type": "status", "status": "sandbox_startup"},
            {"type": "message_accepted", "client_message_id": "m1"},
            {"type": "thinking_start"},
            {"type": "thinking_chunk", "text": "a plan"},
            {"type": "thinking_end"},
            {"type": "chunk", "text": "Working "},
            {"type": "chunk", "content": "on it"},
            {"type": "tool_start", "tool": "generate_video", "args": {"seconds": 9}},
            {"type": "toolcall_end", "tool_name": "generate_video", "result": {"ok": True}},
            {"type": "text", "text": "Your video is ready."},
            {"type": "done"},
            then_close=None,
        )
    )
    events = await collect(gw)
    assert kinds(events) == [
        "status",  # session_ready
        "status",
        "status",
        "status",
        "thinking",
        "thinking",
        "thinking",
        "text_delta",
        "text_delta",
        "tool_call",
        "tool_result",
        "text",
        "done",
    ]
    statuses = [e.status for e in events if isinstance(e, Status)]
    assert statuses == ["session_ready", "warming_up", "sandbox_startup", "message_accepted"]
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Working ", "on it"]
    [call] = [e for e in events if isinstance(e, ToolCall)]
    assert (call.name, call.args) == ("generate_video", {"seconds": 9})
    [result] = [e for e in events if isinstance(e, ToolResult)]
    assert (result.name, result.result) == ("generate_video", {"ok": True})
    assert [e.text for e in events if isinstance(e, Thinking)] == ["", "a plan", ""]
    assert isinstance(events[-1], Done)
    assert isinstance(events[-2], Text)
    # the message went once, after session_ready, in the vendor's shape (its id in the metadata); the key and
    # session in the URL
    [sent] = [m for m in raw.received if m["type"] == "message"]
    assert sent == {"type": "message", "content": "Make a video", "metadata": sent["metadata"]}
    assert re.fullmatch(r"cm_[0-9a-f]{16}", sent["metadata"]["client_message_id"])
    assert raw.query() == {"token": [KEY], "session_id": [SESSION]}


async def test_error_message_ends_the_turn(gw: nemovideo.NemoClient, raw: RawGateway) -> None:
    raw.scripts.append(play({"type": "chunk", "text": "Hm"}, {"type": "error", "error": "model overloaded"}))
    events = await collect(gw)
    assert kinds(events)[-1] == "stream_error"
    assert isinstance(events[-1], StreamError)
    assert events[-1].message == "model overloaded"


async def test_ask_question_carries_its_options(gw: nemovideo.NemoClient, raw: RawGateway) -> None:
    question = {
        "id": "q1",
        "prompt": "Which aspect ratio?",
        "options": [{"id": "a", "label": "16:9"}, {"id": "b", "label": "9:16"}],
        "allow_multiple": False,
    }
    raw.scripts.append(play({"type": "ask_question", "questions": [question, {"bad": 1}]}, {"type": "done"}))
    events = await collect(gw)
    [asked] = [e for e in events if isinstance(e, Question)]
    [q] = asked.questions
    assert (q.id, q.prompt, [o.label for o in q.options]) == ("q1", "Which aspect ratio?", ["16:9", "9:16"])


async def test_cancel_sends_abort_and_waits_for_the_end(gw: nemovideo.NemoClient, raw: RawGateway) -> None:
    def script(conn: Conn) -> None:
        conn.send({"type": "session_ready"})
        conn.recv_type("message")
        conn.send({"type": "chunk", "text": "Generating"})
        conn.recv_type("abort")
        conn.send({"type": "done"})

    raw.scripts.append(script)
    seen: list[nemovideo.Event] = []
    working, ended = anyio.Event(), anyio.Event()
    async with gw.sessions.stream(SESSION, "Make a long video") as events, anyio.create_task_group() as tasks:

        async def read() -> None:
            async for event in events:
                seen.append(event)
                if isinstance(event, TextDelta):
                    working.set()
            ended.set()

        tasks.start_soon(read)
        with anyio.fail_after(5):
            await working.wait()
        assert await gw.sessions.cancel(SESSION) is True  # returns once the server ended the turn
        with anyio.fail_after(5):
            await ended.wait()
    assert isinstance(seen[-1], Done)
    assert [m["type"] for m in raw.received] == ["message", "abort"]


async def test_handshake_retries_follow_the_vendor_table(
    gw: nemovideo.NemoClient, raw: RawGateway, ws_waits: list[float]
) -> None:
    raw.refusals += [
        (503, "{}"),
        (502, ""),
        (504, '{"message": "gateway timeout"}'),
        (403, '{"reason": "sandbox is starting"}'),  # not an auth failure: transient
    ]
    raw.scripts.append(play({"type": "done"}))
    events = await collect(gw)
    assert isinstance(events[-1], Done)
    assert ws_waits == [2.0, 3.0, 3.0, 3.0]
    assert len(raw.urls) == 5


async def test_handshake_gives_up_after_ten_retries(
    gw: nemovideo.NemoClient, raw: RawGateway, ws_waits: list[float]
) -> None:
    raw.refusals += [(503, '{"message": "no capacity"}')] * 11
    with pytest.raises(ServerError) as caught:
        await collect(gw)
    assert ws_waits == list(_ws.HANDSHAKE_DELAYS) == [2, 3, 3, 3, 3, 5, 5, 5, 5, 5]
    assert "tried 11 times" in str(caught.value)
    assert raw.received == []  # nothing was sent


@pytest.mark.parametrize("reason", ["Invalid token", "Token has expired", "token has been revoked"])
async def test_auth_403_is_not_retried(
    gw: nemovideo.NemoClient, raw: RawGateway, ws_waits: list[float], reason: str
) -> None:
    raw.refusals.append((403, f'{{"reason": "{reason}"}}'))
    with pytest.raises(AuthenticationError) as caught:
        await collect(gw)
    assert ws_waits == []
    assert reason in str(caught.value)
    assert "dashboard" in caught.value.hint


@pytest.mark.parametrize(("code", "error"), [(4001, AuthenticationError), (4002, SessionNotFoundError)])
async def test_close_codes_map_to_errors(
    gw: nemovideo.NemoClient, raw: RawGateway, ws_waits: list[float], code: int, error: type[Exception]
) -> None:
    raw.scripts.append(play(then_close=code))
    with pytest.raises(error, match=str(code)):
        await collect(gw)
    assert ws_waits == []  # no reconnect after these


async def test_one_reconnect_never_resends_the_message(
    gw: nemovideo.NemoClient, raw: RawGateway, ws_waits: list[float]
) -> None:
    raw.scripts.append(play({"type": "chunk", "text": "Half"}, then_close=1011))

    def resumed(conn: Conn) -> None:
        conn.send({"type": "session_ready"})
        conn.send({"type": "text", "text": "Half done and the rest."})
        conn.send({"type": "done"})

    raw.scripts.append(resumed)
    events = await collect(gw)
    assert kinds(events)[-2:] == ["text", "done"]
    assert ws_waits == [_ws.RECONNECT_DELAY]
    assert len(raw.urls) == 2
    assert [m["type"] for m in raw.received] == ["message"]


async def test_a_second_drop_raises_disconnected(
    gw: nemovideo.NemoClient, raw: RawGateway, ws_waits: list[float]
) -> None:
    raw.scripts.append(play({"type": "chunk", "text": "Half"}, then_close=None))  # drops: no close frame
    raw.scripts.append(lambda conn: conn.close(1006 if False else 1001))
    with pytest.raises(StreamDisconnected) as caught:
        await collect(gw)
    assert caught.value.sent is True
    assert "do not send the message again" in str(caught.value)
    assert [m["type"] for m in raw.received] == ["message"]


async def test_ping_every_interval(
    gw: nemovideo.NemoClient, raw: RawGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_ws, "PING_INTERVAL", 0.05)

    def script(conn: Conn) -> None:
        conn.send({"type": "session_ready"})
        conn.recv_type("message")
        conn.recv_type("ping")
        conn.send({"type": "pong"})
        conn.send({"type": "done"})

    raw.scripts.append(script)
    events = await collect(gw)
    assert any(isinstance(e, Heartbeat) for e in events)
    assert isinstance(events[-1], Done)


async def test_turn_limit(gw: nemovideo.NemoClient, raw: RawGateway) -> None:
    def silent(conn: Conn) -> None:
        conn.send({"type": "session_ready"})
        conn.recv_type("message")
        conn.recv(timeout=5)  # nothing more comes from the server

    raw.scripts.append(silent)
    async with gw.sessions.stream(SESSION, "hi", timeouts=StreamTimeouts(total=0.3)) as events:
        with pytest.raises(StreamTimeout, match=r"longer than 0\.3 s"):
            await drain(events)


async def test_the_key_never_shows(
    raw: RawGateway, ws_waits: list[float], caplog: pytest.LogCaptureFixture, tmp_path: object
) -> None:
    caplog.set_level(logging.DEBUG)
    raw.refusals += [(503, f'{{"message": "bad {KEY}"}}'), (401, f'{{"reason": "invalid token {KEY}"}}')]
    async with nemovideo.NemoClient(api_key=KEY, api_url=raw.url) as nemo:
        assert KEY not in repr(nemo)
        with pytest.raises(AuthenticationError) as caught:
            await collect(nemo)
        raw.scripts.append(play({"type": "chunk", "text": KEY[:4]}, {"type": "done"}))
        async with nemo.sessions.stream(SESSION, "hi") as events:
            assert KEY not in repr(events)
            async for _ in events:
                pass
    shown = [caplog.text, str(caught.value), repr(caught.value), caught.value.hint]
    assert all(KEY not in text for text in shown)
    assert "HTTP Request" in caplog.text  # httpx did log the chat URL, redacted
