"""The stream's fast paths against the slow, obvious ones they replace.

- SSE fields are read by ``EventStream``'s own loop: it must find exactly the frames httpx-sse's
  ``SSELineDecoder`` + ``SSEDecoder`` find (comments kept as heartbeats), for any body cut anywhere.
- Events are built without ``model_construct``: each must be the very object ``model_construct`` makes
  from the same fields (same values in the same order, same fields set, same extras).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
from httpx_sse._decoders import SSEDecoder, SSELineDecoder
from hypothesis import given
from hypothesis import strategies as st

from nemovideo._sse import EventStream, StreamTimeouts, parse_data
from nemovideo.models.events import Event, Heartbeat

from .test_fuzz import FRAMES, mutated_frame


def reference_frames(body: str) -> list[str | None]:
    """The payloads httpx-sse's decoders find in ``body`` (None for a ``:`` comment line)."""
    lines_of, fields = SSELineDecoder(), SSEDecoder()
    found: list[str | None] = []
    for line in [*lines_of.decode(body), *lines_of.flush(), ""]:
        if line.startswith(":"):
            found.append(None)
        elif (sse := fields.decode(line)) is not None:
            found.append(sse.data)
    return found


class _Chunks(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk


async def _stream_events(chunks: list[bytes]) -> list[Event]:
    response = httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=_Chunks(chunks))
    return [event async for event in EventStream(response, timeouts=StreamTimeouts())]


def same_object(event: Event) -> tuple[Any, ...]:
    return (
        type(event),
        list(event.__dict__.items()),
        event.model_fields_set,
        event.__pydantic_extra__,
        event.__pydantic_private__,
    )


LINES = st.sampled_from(
    [
        'data: {"type":"text","content":"hi"}',
        'data:{"type":"text_delta","content":"x"}',
        'data: {"author":"a","content":{"parts":[{"text":"t"}]}}',
        'data: {"error":"boom"}',
        "data: not json",
        "data:",
        "data: ",
        "data:  two spaces",
        "data",
        "",
        ":comment",
        ": ping",
        "event: x",
        "event:",
        "id: 3",
        "id:",
        "id: a\0b",
        "retry: 10",
        "retry: x",
        "other: field",
        " data: x",
    ]
) | st.text(alphabet='data:{} "\r\nie', max_size=12)


@st.composite
def sse_body(draw: st.DrawFn) -> tuple[str, list[bytes]]:
    """A body of any lines with any line ends, maybe unterminated, cut into chunks anywhere."""
    ends = st.sampled_from(["\n", "\n", "\r\n", "\r"])
    lines = draw(st.lists(st.tuples(LINES, ends), max_size=25))
    text = "".join(line + end for line, end in lines)
    unterminated: bool = draw(st.booleans())
    if lines and unterminated:
        text = text[: -len(lines[-1][1])]
    raw = text.encode()
    cuts = sorted(draw(st.lists(st.integers(0, len(raw)), max_size=8)))
    chunks = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    return text, [chunk for chunk in chunks if chunk]


@given(sse_body())
def test_framing_finds_what_httpx_sse_finds(body: tuple[str, list[bytes]]) -> None:
    text, chunks = body
    expected = [e for data in reference_frames(text) for e in (parse_data(data) if data else [Heartbeat()])]
    events = anyio.run(_stream_events, chunks)
    assert [same_object(e) for e in events] == [same_object(e) for e in expected]


def _as_model_construct_would(event: Event) -> Event:
    given_fields = {name: getattr(event, name) for name in event.model_fields_set}
    return type(event).model_construct(**given_fields)


META = {"id": "e-1", "invocationId": "i-1", "author": "agent"}
DOCUMENTED = [  # every payload form of /work/shared/API.md, "Event payloads"
    {**META, "partial": True, "content": {"role": "model", "parts": [{"text": "Hel"}]}},
    {**META, "content": {"role": "model", "parts": [{"text": "Hi", "thought": True}, {"text": "Hello"}]}},
    {**META, "content": {"parts": [{"functionCall": {"id": "c1", "name": "trim", "args": {"s": 1}}}]}},
    {**META, "content": {"role": "user", "parts": [{"functionResponse": {"id": "c1", "response": 1}}]}},
    {**META, "content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": "-__-Pj8"}}]}},
    {**META, "content": {"parts": [{"fileData": {"mimeType": "video/mp4", "fileUri": "https://x/y.mp4"}}]}},
    {**META, "actions": {"stateDelta": {"a": 1}, "artifactDelta": {"r.mp4": 0}}},
    {**META, "errorCode": "MODEL_RETURNED_NO_CONTENT"},
    {**META, "errorMessage": "overloaded"},
    {"author": "system", "content": {"parts": [{"text": "Error: quota exceeded"}]}},
    {"invocation_id": "i", "content": {"parts": [{"function_call": {"name": "x"}}]}, "state_delta": {}},
    {"type": "text", "content": "Hello"},
    {"type": "text_delta", "content": "He"},
    {"type": "tool_call", "name": "add_bgm", "args": {"volume": 35}},
    {"type": "tool_result", "name": "add_bgm", "result": {"ok": True}},
    {"type": "heartbeat"},
    {"type": "error", "content": "failed"},
    {"type": "error"},
    {"error": "boom"},
    {"error": "boom", "error_details": {"error_type": "RuntimeError"}},
    {"error": {"message": "boom", "error_type": "X"}},
]


def test_documented_and_recorded_frames_build_what_model_construct_builds() -> None:
    frames = [json.dumps(frame) for frame in [*DOCUMENTED, *FRAMES]] + ["", "{not json", "[1]"]
    events = [event for frame in frames for event in parse_data(frame)]
    assert len({type(e) for e in events}) == 8  # every kind the skill API sends
    assert len(events) >= len(frames)
    for event in events:
        assert same_object(event) == same_object(_as_model_construct_would(event))


@given(mutated_frame())
def test_mutated_frames_build_what_model_construct_builds(frame: Any) -> None:
    for event in parse_data(json.dumps(frame)):
        assert same_object(event) == same_object(_as_model_construct_would(event))
