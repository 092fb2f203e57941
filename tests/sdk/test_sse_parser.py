"""The event parser on recorded ADK responses and on every documented frame form."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from nemovideo._sse import EventStream, StreamTimeouts, parse_data
from nemovideo.models.events import (
    Event,
    Heartbeat,
    Media,
    StateDelta,
    StreamError,
    Text,
    TextDelta,
    ToolCall,
    ToolResult,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "adk-sse"


def recorded(name: str) -> httpx.Response:
    """A recording: a whole HTTP response (status line, headers, body) or just the body."""
    raw = (FIXTURES / name).read_bytes()
    if not raw.startswith(b"HTTP/"):
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=raw)
    head, _, body = raw.partition(b"\r\n\r\n")
    pairs = [line.split(": ", 1) for line in head.decode().split("\r\n")[1:]]
    headers = [(k, v) for k, v in pairs if k.lower() != "transfer-encoding"]
    return httpx.Response(200, headers=headers, content=body)


async def events_of(response: httpx.Response) -> list[Event]:
    stream = EventStream(response, timeouts=StreamTimeouts())
    return [event async for event in stream]


def kinds(events: list[Event]) -> list[str]:
    return [e.type for e in events]


@pytest.mark.anyio
async def test_echo_partials_call_result_final() -> None:
    events = await events_of(recorded("echo_sse.txt"))
    assert kinds(events) == [
        "text_delta", "text_delta", "text_delta", "tool_call", "tool_result", "text", "media", "state_delta",
    ]  # fmt: skip
    deltas = "".join(e.text for e in events if isinstance(e, TextDelta))
    final = next(e for e in events if isinstance(e, Text))
    assert deltas == final.text == "echo: cut at 5s"
    call = next(e for e in events if isinstance(e, ToolCall))
    assert (call.id, call.name, call.args) == ("call-1", "trim_clip", {"start": 1.5, "end": 4.0})
    result = next(e for e in events if isinstance(e, ToolResult))
    assert (result.id, result.result) == ("call-1", {"ok": True})
    media = next(e for e in events if isinstance(e, Media))
    assert media.mime_type == "image/png"
    assert media.data == b"\xfb\xff\xfe>?"  # URL-safe base64 "-__-Pj8="
    delta = next(e for e in events if isinstance(e, StateDelta))
    assert delta.delta == {"last_text": "cut at 5s", "count": 1}


@pytest.mark.anyio
async def test_mid_stream_error_frame() -> None:
    events = await events_of(recorded("echo_error.txt"))
    assert kinds(events) == ["text", "stream_error"]
    error = events[1]
    assert isinstance(error, StreamError)
    assert "deterministic failure" in error.message
    assert error.code == "RuntimeError"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "name", ["fake_llm_streaming.txt", "fake_llm_streaming_legacy.txt", "fake_llm_nonstreaming.txt"]
)
async def test_llm_agent_variants_agree_on_the_outcome(name: str) -> None:
    events = await events_of(recorded(name))
    finals = [e.text for e in events if isinstance(e, Text)]
    calls = [e for e in events if isinstance(e, ToolCall)]
    results = [e for e in events if isinstance(e, ToolResult)]
    assert finals == ["Trimming your clip...", "Done, clip trimmed to 2.5s."]
    assert [c.name for c in calls] == ["trim_clip"]  # the partial functionCall is never reported
    assert [r.result for r in results] == [{"ok": True, "duration": 2.5}]
    deltas = [e for e in events if isinstance(e, TextDelta)]
    if name != "fake_llm_nonstreaming.txt":
        assert "".join(d.text for d in deltas) == "Trimming your clip...Done, clip trimmed to 2.5s."
        assert len({d.event_id for d in deltas}) == 2  # partials share ids: merged, never deduped
    else:
        assert deltas == []


@pytest.mark.anyio
async def test_repeated_event_id_is_kept() -> None:
    events = await events_of(recorded("render_sse.txt"))
    assert kinds(events) == ["text", "state_delta"]
    assert events[0].event_id == events[1].event_id
    assert isinstance(events[1], StateDelta)
    assert events[1].artifact_delta == {"render.mp4": 0}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("", [Heartbeat()]),
        ('{"type":"heartbeat"}', [Heartbeat()]),
        ('{"type":"text","content":"Hello"}', [Text(text="Hello")]),
        (
            '{"type":"tool_call","name":"add_bgm","args":{"volume":35}}',
            [ToolCall(name="add_bgm", args={"volume": 35})],
        ),
        (
            '{"type":"tool_result","name":"add_bgm","result":{"ok":true}}',
            [ToolResult(name="add_bgm", result={"ok": True})],
        ),
        ('{"type":"something_new","x":1}', []),
        ('{"error":"boom"}', [StreamError(message="boom")]),
    ],
)
def test_simple_typed_objects_and_errors(data: str, expected: list[Event]) -> None:
    assert parse_data(data) == expected


def test_system_error_text_and_error_code_and_bad_json() -> None:
    system = {"author": "system", "content": {"role": "model", "parts": [{"text": "Error: quota exceeded"}]}}
    [error] = parse_data(json.dumps(system))
    assert isinstance(error, StreamError)
    assert error.message == "quota exceeded"
    [model_failure] = parse_data(json.dumps({"author": "agent", "errorCode": "MODEL_RETURNED_NO_CONTENT"}))
    assert isinstance(model_failure, StreamError)
    assert model_failure.code == "MODEL_RETURNED_NO_CONTENT"
    [broken] = parse_data("{'not': json")
    assert isinstance(broken, StreamError)
    assert "not JSON" in broken.message


def test_thoughts_are_hidden_and_snake_case_accepted() -> None:
    frame = {
        "author": "agent",
        "invocation_id": "e-1",
        "content": {"role": "model", "parts": [{"text": "thinking...", "thought": True}, {"text": "Hi"}]},
        "actions": {"state_delta": {"a": 1}},
    }
    events = parse_data(json.dumps(frame))
    assert kinds(events) == ["text", "state_delta"]
    assert events[0] == Text(text="Hi", author="agent", invocation_id="e-1")


@pytest.mark.anyio
async def test_comment_lines_and_empty_data_are_heartbeats() -> None:
    body = b': keepalive\n\ndata:\n\ndata: {"type":"text","content":"done"}\n\n'
    response = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)
    assert kinds(await events_of(response)) == ["heartbeat", "heartbeat", "text"]


@pytest.mark.anyio
async def test_unterminated_last_frame_is_still_read() -> None:
    body = b'data: {"type":"text","content":"last"}'
    response = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)
    assert kinds(await events_of(response)) == ["text"]
