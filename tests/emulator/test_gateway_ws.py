"""The gateway's WebSocket chat over loopback: message sequences, abort, close codes, turn limit, faults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, WebSocketUpgradeError

from nemovideo.emulator import Emulator

from ._gw import bearer, chat, connect, data, new_key, new_project, say, send, squeeze, types, until, ws_url
from ._helpers import GENERATE, api

pytestmark = pytest.mark.anyio

NONSENSE = "florp the wibble"


def chat_messages(emu: Emulator) -> list[str | None]:
    return [e.message for e in emu.log if e.endpoint == "ws_message" and e.extra["type"] == "message"]


async def balance(c: httpx.AsyncClient, key: str) -> dict[str, int]:
    return dict(data(await c.get("/billing/balance", headers=bearer(key))))


async def test_a_generation_then_an_edit_replay_the_vendor_sequence(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(silent_share=0, credits=200)
    key = new_key()
    async with api(nemo_emulator) as c:
        pid, sid = await new_project(c, key)
        async with connect(ws_url(nemo_emulator, key, sid), c) as ws:
            ready = await ws.receive_json(timeout=10)
            first = await say(ws, GENERATE, client_message_id="cm-1")
            second = await say(ws, "make the music quieter")
        state = data(await c.get(f"/api/v1/state/frontend/{pid}", headers=bearer(key)))
        money = await balance(c, key)
    assert ready == {"type": "session_ready", "session_id": sid, "project_id": pid}
    assert squeeze(first) == [
        "warming_up",
        "status",
        "message_accepted",
        "thinking_start",
        "thinking_chunk",
        "thinking_end",
        "chunk",
        "text",
        "tool_start",
        "tool_end",
        "tool_start",
        "tool_end",
        "chunk",
        "text",
        "done",
    ]
    assert first[1] == {"type": "status", "status": "sandbox_startup", "sandbox_id": f"sbx_{sid[-8:]}"}
    assert first[2]["client_message_id"] == "cm-1"
    assert [m["tool"] for m in first if m["type"] == "tool_start"] == ["generate_video", "compose_video"]
    assert "".join(
        m["text"]
        for m in first[: first.index(next(m for m in first if m["type"] == "text"))]
        if m["type"] == "chunk"
    ) == next(m["text"] for m in first if m["type"] == "text")
    assert first[-1] == {
        "type": "done",
        "session_id": sid,
        "client_message_id": "cm-1",
        "aborted": False,
        "credits_charged": 100,
    }
    assert squeeze(second)[:2] == ["message_accepted", "thinking_start"]  # the sandbox is warm now
    assert second[-1]["credits_charged"] == 50
    assert state["project"]["timeline_draft"]["t"]
    assert money == {"available": 50, "frozen": 0, "total_granted": 200, "total_consumed": 150}
    assert chat_messages(nemo_emulator) == [GENERATE, "make the music quieter"]
    handshake = next(e for e in nemo_emulator.log if e.endpoint == "ws_chat")
    assert key not in handshake.query
    assert "token=<redacted>" in handshake.query


async def test_ping_pong_and_bad_messages(nemo_emulator: Emulator) -> None:
    key = new_key()
    async with api(nemo_emulator) as c:
        _, sid = await new_project(c, key)
        async with chat(nemo_emulator, c, key, sid) as ws:
            await ws.send_json({"type": "ping"})
            pong = await ws.receive_json(timeout=10)
            await ws.send_text("not json")
            bad = await ws.receive_json(timeout=10)
            await ws.send_json({"type": "dance"})
            unknown = await ws.receive_json(timeout=10)
            await ws.send_json({"type": "message", "content": "  "})
            empty = await ws.receive_json(timeout=10)
    assert pong == {"type": "pong"}
    assert [bad["code"], unknown["code"], empty["code"]] == ["bad_message"] * 3
    assert [e.extra["type"] for e in nemo_emulator.log if e.endpoint == "ws_message"] == [
        "ping",
        "invalid",
        "dance",
        "message",
    ]


async def one_turn(emu: Emulator, text: str) -> list[dict[str, Any]]:
    """A new key's new project, and the messages of one turn in it."""
    key = new_key()
    async with api(emu) as c:
        _, sid = await new_project(c, key)
        async with chat(emu, c, key, sid) as ws:
            return await say(ws, text)


async def test_the_agent_asks_when_it_does_not_understand(nemo_emulator: Emulator) -> None:
    turn = await one_turn(nemo_emulator, NONSENSE)
    assert types(turn)[-2:] == ["ask_question", "done"]
    question = turn[-2]["questions"][0]
    assert question["prompt"] == next(m["text"] for m in turn if m["type"] == "text")
    assert [o["id"] for o in question["options"]] == ["generate", "music", "length"]
    assert all(o["label"] for o in question["options"])
    assert question["allow_multiple"] is False
    assert turn[-1]["credits_charged"] == 0


async def test_abort_releases_credits_and_leaves_the_project_as_it_was(
    nemo_emulator: Emulator, media_dir: Path
) -> None:
    nemo_emulator.configure(generation_seconds=20)
    key = new_key()
    async with api(nemo_emulator) as c:
        pid, sid = await new_project(c, key)
        async with chat(nemo_emulator, c, key, sid) as ws:
            await send(ws, GENERATE)
            before = await until(ws, ["tool_start"])
            during = await balance(c, key)
            uploaded = await c.post(
                "/files/upload",
                files={"file": ("still.png", (media_dir / "still.png").read_bytes(), "image/png")},
                data={"session_id": sid},
                headers=bearer(key),
            )
            await ws.send_json({"type": "abort"})
            rest = await until(ws)
            await ws.send_json({"type": "abort"})  # nothing runs: ignored
            await ws.send_json({"type": "ping"})
            after_idle_abort = await ws.receive_json(timeout=10)
        state = data(await c.get(f"/api/v1/state/frontend/{pid}", headers=bearer(key)))
        usage = data(await c.get("/billing/usage/conversations", headers=bearer(key)))
        money = await balance(c, key)
    assert "message_accepted" in types(before)
    assert during == {"available": 0, "frozen": 100, "total_granted": 100, "total_consumed": 0}
    assert rest[-1]["type"] == "done"
    assert rest[-1]["aborted"] is True
    assert rest[-1]["credits_charged"] == 0
    assert "tool_end" not in types(rest)
    assert after_idle_abort == {"type": "pong"}
    assert money == {"available": 100, "frozen": 0, "total_granted": 100, "total_consumed": 0}
    assert state["project"]["timeline_draft"] is None
    assert [v["cdn_url"] for v in state["project"]["video_infos"]] == [data(uploaded)["url"]]  # the user's
    assert [i["kind"] for i in usage["items"]] == ["grant"]
    assert [e.extra.get("aborted") for e in nemo_emulator.log if e.extra.get("type") == "abort"] == [
        True,
        False,
    ]


async def test_close_codes(nemo_emulator: Emulator) -> None:
    key = new_key()
    async with api(nemo_emulator) as c:
        _, sid = await new_project(c, key)
        codes = []
        for url in (
            ws_url(nemo_emulator, "nmv_usr_", sid),
            ws_url(nemo_emulator, None, sid),
            ws_url(nemo_emulator, key, None),
            ws_url(nemo_emulator, new_key(), sid),  # a valid key, but not this session's owner
        ):
            async with connect(url, c) as ws:
                with pytest.raises(WebSocketDisconnect) as caught:
                    await ws.receive_json(timeout=10)
                codes.append((caught.value.code, caught.value.reason))
        nemo_emulator.configure(gateway_strict_keys=True)
        async with connect(ws_url(nemo_emulator, key, sid), c) as ws:
            with pytest.raises(WebSocketDisconnect) as strict:
                await ws.receive_json(timeout=10)
    assert [code for code, _ in codes] == [4001, 4001, 4002, 4002]
    assert codes[2][1] == "missing session_id"
    assert codes[3][1] == f"session not found: {sid}"
    assert strict.value.code == 4001
    assert [e.extra.get("close_code") for e in nemo_emulator.log if e.endpoint == "ws_chat"] == [
        4001,
        4001,
        4002,
        4002,
        4001,
    ]


async def test_a_second_message_during_a_turn_is_refused(nemo_emulator: Emulator) -> None:
    key = new_key()
    async with api(nemo_emulator) as c:
        _, sid = await new_project(c, key)
        async with chat(nemo_emulator, c, key, sid) as ws:
            await send(ws, GENERATE)
            await until(ws, ["message_accepted"])
            await ws.send_json({"type": "message", "content": "make it vertical"})
            turn = await until(ws, ["done"])
    refused = [m for m in turn if m["type"] == "error"]
    assert [m["code"] for m in refused] == ["turn_busy"]
    assert turn[-1]["credits_charged"] == 100


async def test_insufficient_credits(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(credits=30)
    key = new_key()
    async with api(nemo_emulator) as c:
        _, sid = await new_project(c, key)
        async with chat(nemo_emulator, c, key, sid) as ws:
            turn = await say(ws, GENERATE)
        money = await balance(c, key)
    assert types(turn) == ["error"]
    assert turn[0]["code"] == 2001
    assert "nemovideo.com/dashboard/billing" in turn[0]["error"]
    assert money["available"] == 30
    assert money["frozen"] == 0


async def test_the_turn_limit_ends_a_turn_on_the_emulator_clock(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(generation_seconds=20)
    key = new_key()
    async with api(nemo_emulator) as c:
        pid, sid = await new_project(c, key)
        async with chat(nemo_emulator, c, key, sid) as ws:
            await send(ws, GENERATE)
            await until(ws, ["tool_start"])
            nemo_emulator.clock.advance(601)
            rest = await until(ws, timeout=10)
        money = await balance(c, key)
        state = data(await c.get(f"/api/v1/state/frontend/{pid}", headers=bearer(key)))
    assert rest[-1]["type"] == "error"
    assert rest[-1]["code"] == "turn_timeout"
    assert money["available"] == 100
    assert money["frozen"] == 0
    assert state["project"]["timeline_draft"] is None


async def _drain(ws: AsyncWebSocketSession, into: list[dict[str, Any]]) -> None:
    while True:
        into.append(await ws.receive_json(timeout=10))


async def _cut_turn(
    emu: Emulator, c: httpx.AsyncClient, key: str, sid: str
) -> tuple[list[dict[str, Any]], int]:
    """Start a generation on a socket a `ws_close` rule cuts: what arrived, and the close code."""
    seen: list[dict[str, Any]] = []
    async with chat(emu, c, key, sid) as ws:
        await send(ws, GENERATE)
        with pytest.raises(WebSocketDisconnect) as cut:
            await _drain(ws, seen)
    return seen, cut.value.code


async def test_a_close_mid_turn_leaves_the_turn_running_and_a_new_socket_follows_it(
    nemo_emulator: Emulator,
) -> None:
    nemo_emulator.configure(generation_seconds=1.0)
    nemo_emulator.faults.add("ws_chat", "ws_close", after=4, code=1011)
    key = new_key()
    async with api(nemo_emulator) as c:
        pid, sid = await new_project(c, key)
        seen, code = await _cut_turn(nemo_emulator, c, key, sid)
        running = data(await c.get(f"/projects/{pid}/sessions", headers=bearer(key)))["sessions"][0]
        async with connect(ws_url(nemo_emulator, key, sid), c) as ws:
            ready = await ws.receive_json(timeout=10)
            rest = await until(ws)
        usage = data(await c.get("/billing/usage/conversations", headers=bearer(key)))
    assert code == 1011
    assert len(seen) == 4
    assert running["status"] == "running"
    assert ready["type"] == "session_ready"
    assert rest[0] == {"type": "status", "status": "turn_in_progress"}
    assert rest[-1]["type"] == "done"
    assert rest[-1]["credits_charged"] == 100
    assert chat_messages(nemo_emulator) == [GENERATE]
    charges = [i for i in usage["items"] if i["kind"] == "conversation"]
    assert [i["amount_delta"] for i in charges] == [-100]


async def _read(response: httpx.Response) -> None:
    if response.status_code != 101:  # reading a 101 would eat the socket
        await response.aread()


async def test_handshake_faults(nemo_emulator: Emulator) -> None:
    """A refused handshake's body is readable (here with a response hook, as httpx-ws closes the stream)."""
    key = new_key()
    nemo_emulator.faults.add("ws_chat", "status", count=2, status=503)
    nemo_emulator.faults.add("ws_chat", "forbidden")
    nemo_emulator.faults.add("ws_chat", "forbidden", reason="invalid token")
    nemo_emulator.faults.add("ws_chat", "ws_close", after=0, code=4001)
    async with api(nemo_emulator, event_hooks={"response": [_read]}) as c:
        _, sid = await new_project(c, key)
        refused = []
        for _ in range(4):
            with pytest.raises(WebSocketUpgradeError) as caught:
                async with connect(ws_url(nemo_emulator, key, sid), c):
                    pass
            response = caught.value.response
            refused.append((response.status_code, response.json()["reason"]))
            assert response.headers["x-reason"] == refused[-1][1]
        async with connect(ws_url(nemo_emulator, key, sid), c) as ws:
            assert (await ws.receive_json(timeout=10))["type"] == "session_ready"
            with pytest.raises(WebSocketDisconnect) as closed:
                await ws.receive_json(timeout=10)
        async with connect(ws_url(nemo_emulator, key, sid), c) as ws:
            assert (await ws.receive_json(timeout=10))["type"] == "session_ready"
    assert [status for status, _ in refused] == [503, 503, 403, 403]
    assert refused[2][1] == "sandbox capacity exceeded, retry shortly"
    assert refused[3][1] == "invalid token"
    assert closed.value.code == 4001
    assert [e.fault for e in nemo_emulator.log if e.endpoint == "ws_chat"] == [
        "status",
        "status",
        "forbidden",
        "forbidden",
        "ws_close",
        None,
    ]


async def test_message_variants(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(gateway_chunk_key="content", gateway_tool_style="toolcall")
    turn = await one_turn(nemo_emulator, GENERATE)
    starts = [m for m in turn if m["type"] == "toolcall_start"]
    assert [m["tool_name"] for m in starts] == ["generate_video", "compose_video"]
    assert "toolcall_end" in types(turn)
    assert "tool_start" not in types(turn)
    chunks = [m for m in turn if m["type"] == "chunk"]
    assert chunks
    assert all("content" in m and "text" not in m for m in chunks)


async def _session_status(c: httpx.AsyncClient, key: str, pid: str) -> str:
    return str(data(await c.get(f"/projects/{pid}/sessions", headers=bearer(key)))["sessions"][0]["status"])


async def test_the_end_of_a_turn_nobody_heard_is_told_to_the_next_socket_once(
    nemo_emulator: Emulator,
) -> None:
    nemo_emulator.faults.add("ws_chat", "ws_close", after=3, code=1011)
    key = new_key()
    async with api(nemo_emulator) as c:
        pid, sid = await new_project(c, key)
        seen, _ = await _cut_turn(nemo_emulator, c, key, sid)
        with anyio.fail_after(20):
            while await _session_status(c, key, pid) == "running":  # noqa: ASYNC110 (polling the wire)
                await anyio.sleep(0.05)
        async with connect(ws_url(nemo_emulator, key, sid), c) as ws:
            first = [await ws.receive_json(timeout=10), await ws.receive_json(timeout=10)]
        async with chat(nemo_emulator, c, key, sid) as ws:
            await ws.send_json({"type": "ping"})
            second = await ws.receive_json(timeout=10)
    assert len(seen) == 3
    assert types(first) == ["session_ready", "done"]
    assert first[1]["credits_charged"] == 100
    assert second == {"type": "pong"}


async def test_tool_end_carries_the_tool_result(nemo_emulator: Emulator) -> None:
    turn = await one_turn(nemo_emulator, GENERATE)
    ends = [m for m in turn if m["type"] == "tool_end"]
    starts = [m for m in turn if m["type"] == "tool_start"]
    assert [m["tool_call_id"] for m in ends] == [m["tool_call_id"] for m in starts]
    assert [m["result"]["stage"] for m in ends] == ["raw_video", "composed"]
    assert starts[0]["args"]["duration"] == 4.0


async def test_an_abort_after_the_charge_keeps_the_work_and_the_charge(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(text_delay=0.1, silent_share=0)
    key = new_key()
    async with api(nemo_emulator) as c:
        pid, sid = await new_project(c, key)
        async with chat(nemo_emulator, c, key, sid) as ws:
            await send(ws, GENERATE)
            work = await until(ws, ["tool_end"])
            work += await until(ws, ["tool_end"])  # the second stage: the charge follows it
            work += await until(ws, ["chunk"])  # the closing reply has begun
            await ws.send_json({"type": "abort"})
            rest = await until(ws)
        state = data(await c.get(f"/api/v1/state/frontend/{pid}", headers=bearer(key)))
        usage = data(await c.get("/billing/usage/conversations", headers=bearer(key)))
    assert rest[-1]["type"] == "done"
    assert rest[-1]["aborted"] is True
    assert rest[-1]["credits_charged"] == 100
    assert "text" not in types(rest)  # the reply was cut short
    assert state["project"]["timeline_draft"]["t"]
    assert [i["amount_delta"] for i in usage["items"] if i["kind"] == "conversation"] == [-100]


async def test_http_only_faults_leave_the_chat_alone(nemo_emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="ws_chat takes"):
        nemo_emulator.faults.add("ws_chat", "cut_body")
    with pytest.raises(ValueError, match="reserved"):
        nemo_emulator.faults.add("ws_chat", "ws_close", code=1006)
    rule = nemo_emulator.faults.add("*", "drop_before_headers")
    key = new_key()
    async with api(nemo_emulator) as c, connect(ws_url(nemo_emulator, key, "1"), c) as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            await ws.receive_json(timeout=10)
    assert closed.value.code == 4002
    assert rule.fired == 0


async def test_projects_in_the_older_shape_list_their_first_prompt(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(gateway_project_shape="older")
    key = new_key()
    async with api(nemo_emulator) as c:
        pid, sid = await new_project(c, key, "old")
        async with chat(nemo_emulator, c, key, sid) as ws:
            await say(ws, NONSENSE)
            await say(ws, "what can you do?")
        listed = data(await c.get("/projects", headers=bearer(key)))
        one = data(await c.get(f"/projects/{pid}", headers=bearer(key)))
    assert listed == [one]
    assert {k: one[k] for k in ("id", "status", "prompt", "name")} == {
        "id": pid,
        "status": "active",
        "prompt": NONSENSE,
        "name": "old",
    }
    assert "project_id" not in one


async def test_a_reset_mid_turn_leaves_the_fresh_emulator_nothing_of_that_turn(
    nemo_emulator: Emulator,
) -> None:
    """Ids start over after a reset, so the first session is the same id again: the cancelled turn's end must
    not be told to it, nor its lines put in the fresh usage history."""
    nemo_emulator.configure(generation_seconds=3)
    key = new_key()
    async with api(nemo_emulator) as c:
        _, sid = await new_project(c, key)
        async with chat(nemo_emulator, c, key, sid) as ws:
            await send(ws, GENERATE)
            await until(ws, ["tool_start"])
            nemo_emulator.reset()
            end = (await until(ws))[-1]  # the cancelled turn is over
        _, again = await new_project(c, key)
        async with chat(nemo_emulator, c, key, again) as ws:
            await ws.send_json({"type": "ping"})
            first = await ws.receive_json(timeout=10)
        usage = data(await c.get("/billing/usage/conversations", headers=bearer(key)))
    assert again == sid
    assert end["type"] == "done"
    assert first == {"type": "pong"}
    assert [item["kind"] for item in usage["items"]] == ["grant"]
