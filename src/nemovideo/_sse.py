"""SSE frames -> typed events, and the event stream with its timeouts.

httpx-sse does the framing. Its line and field decoders are used directly rather than
``EventSource.aiter_sse`` because that drops ``:`` comment lines, and a comment is a heartbeat the
gap timeout must see.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
from httpx_sse._decoders import SSEDecoder, SSELineDecoder
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from ._body import text_chunks
from ._config import DEFAULT_MAX_EVENT_SIZE, DEFAULT_MAX_STREAM_BYTES, DEFAULT_MAX_STREAM_EVENTS
from ._errors import LimitExceededError, StreamDisconnected, StreamTimeout
from .models.events import (
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


class _Wire(BaseModel):
    """Accepts ADK's camelCase and the snake_case of its Python models alike; ignores unknown keys."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class _FunctionCall(_Wire):
    id: str | None = None
    name: str = ""
    args: dict[str, Any] | None = None


class _FunctionResponse(_Wire):
    id: str | None = None
    name: str | None = None
    response: Any = None


class _Blob(_Wire):
    mime_type: str | None = None
    data: str | None = None


class _FileData(_Wire):
    mime_type: str | None = None
    file_uri: str | None = None


class _Part(_Wire):
    text: str | None = None
    thought: bool | None = None
    function_call: _FunctionCall | None = None
    function_response: _FunctionResponse | None = None
    inline_data: _Blob | None = None
    file_data: _FileData | None = None


class _Content(_Wire):
    role: str | None = None
    parts: list[_Part] | None = None


class _Actions(_Wire):
    state_delta: dict[str, Any] | None = None
    artifact_delta: dict[str, Any] | None = None


class _Frame(_Wire):
    """Every top-level key any documented frame form uses, so one Rust-side parse reads them all."""

    # ADK events
    id: str | None = None
    invocation_id: str | None = None
    author: str | None = None
    partial: bool | None = None
    content: _Content | str | None = None
    actions: _Actions | None = None
    error_code: str | int | None = None
    error_message: str | None = None
    # simple typed objects (vendor reference 4.4)
    type: str | None = None
    name: str | None = None
    args: dict[str, Any] | None = None
    result: Any = None
    # error frames
    error: str | dict[str, Any] | None = None
    error_details: dict[str, Any] | None = Field(
        default=None, validation_alias=AliasChoices("error_details", "errorDetails")
    )


def _b64(data: str | None) -> bytes | None:
    if data is None:
        return None
    try:
        return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        return None


def parse_data(data: str) -> list[Event]:
    """Turn one ``data:`` payload into typed events. Never raises: bad frames become ``StreamError``."""
    if not data.strip():
        return [Heartbeat()]
    try:
        frame = _Frame.model_validate_json(data)
    except ValidationError:
        try:
            json.loads(data)
        except ValueError:
            return [
                StreamError(message="the server sent a frame that is not JSON", details={"raw": data[:500]})
            ]
        return [
            StreamError(message="the server sent a frame of an unknown shape", details={"raw": data[:500]})
        ]
    return _events(frame)


def _events(frame: _Frame) -> list[Event]:
    """Typed events from a validated frame (built with ``model_construct``: the values are checked)."""
    meta: dict[str, Any] = {
        "event_id": frame.id,
        "author": frame.author,
        "invocation_id": frame.invocation_id,
    }
    if frame.error is not None:
        message = frame.error if isinstance(frame.error, str) else json.dumps(frame.error)
        details = frame.error_details or (frame.error if isinstance(frame.error, dict) else {})
        code = details.get("error_type") if isinstance(details.get("error_type"), str) else None
        return [StreamError.model_construct(message=message, code=code, details=details, **meta)]
    if frame.type is not None and not isinstance(frame.content, _Content):
        return _simple(frame)

    events: list[Event] = []
    content = frame.content if isinstance(frame.content, _Content) else None
    is_tool_answer = content is not None and content.role == "user"
    for part in (content.parts or []) if content else []:
        if part.thought:
            continue  # reasoning, not for display
        if part.text is not None and not is_tool_answer:
            if frame.author == "system" and part.text.startswith("Error: "):
                events.append(StreamError.model_construct(message=part.text[len("Error: ") :], **meta))
            elif frame.partial:
                events.append(TextDelta.model_construct(text=part.text, **meta))
            else:
                events.append(Text.model_construct(text=part.text, **meta))
        if part.function_call is not None and not frame.partial:
            call = part.function_call
            events.append(ToolCall.model_construct(id=call.id, name=call.name, args=call.args or {}, **meta))
        if part.function_response is not None:
            answer = part.function_response
            events.append(
                ToolResult.model_construct(id=answer.id, name=answer.name, result=answer.response, **meta)
            )
        if part.inline_data is not None and not frame.partial:
            blob = part.inline_data
            events.append(Media.model_construct(mime_type=blob.mime_type, data=_b64(blob.data), **meta))
        if part.file_data is not None and not frame.partial:
            ref = part.file_data
            events.append(Media.model_construct(mime_type=ref.mime_type, uri=ref.file_uri, **meta))
    actions = frame.actions
    if actions is not None and (actions.state_delta or actions.artifact_delta):
        events.append(
            StateDelta.model_construct(
                delta=actions.state_delta or {}, artifact_delta=actions.artifact_delta or {}, **meta
            )
        )
    if frame.error_code is not None or frame.error_message:
        code = str(frame.error_code) if frame.error_code is not None else None
        events.append(
            StreamError.model_construct(
                message=frame.error_message or f"the model failed ({code})", code=code, **meta
            )
        )
    return events


def _simple(frame: _Frame) -> list[Event]:
    text = frame.content if isinstance(frame.content, str) else None
    if frame.type == "text" and text is not None:
        return [Text.model_construct(text=text)]
    if frame.type == "text_delta" and text is not None:
        return [TextDelta.model_construct(text=text)]
    if frame.type == "tool_call" and frame.name:
        return [ToolCall.model_construct(name=frame.name, args=frame.args or {})]
    if frame.type == "tool_result":
        return [ToolResult.model_construct(name=frame.name, result=frame.result)]
    if frame.type == "heartbeat":
        return [Heartbeat.model_construct()]
    if frame.type == "error":
        return [StreamError.model_construct(message=text or "the agent failed")]
    return []  # a type from a newer server: ignore, as with unknown keys


# --- the stream --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamTimeouts:
    """Limits on *parsed events*, not socket reads (a heartbeat counts as an event)."""

    gap: float = 300.0
    """Longest wait between two events, heartbeats included."""
    total: float = 900.0
    """Longest whole stream (the vendor's client allows 15 minutes)."""
    heartbeats_only: float = 600.0
    """Longest run of nothing but heartbeats before the SDK assumes the turn timed out."""
    notice_every: float = 120.0
    """How often ``on_heartbeat`` is told the agent is still working."""


class EventStream:
    """Async iterator over the typed events of one agent turn. Closing it closes the connection.

    Timeouts are armed only while waiting for the network: frames already received are parsed without
    one, which keeps a fast stream cheap.
    """

    aborted: bool = False
    """The turn was cancelled (``session.cancel()``, gateway only)."""

    def __init__(
        self,
        response: httpx.Response,
        *,
        timeouts: StreamTimeouts,
        on_heartbeat: Callable[[float], object] | None = None,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        max_stream_events: int = DEFAULT_MAX_STREAM_EVENTS,
        max_stream_bytes: int = DEFAULT_MAX_STREAM_BYTES,
    ) -> None:
        self.response = response
        self._limits = (max_event_size, max_stream_events, max_stream_bytes)
        self._chars = self._partial = self._frames_seen = 0
        self._timeouts = timeouts
        self._on_heartbeat = on_heartbeat
        self._chunks = text_chunks(response)
        self._lines = SSELineDecoder()
        self._fields = SSEDecoder()
        self._frames: deque[str | None] = deque()  # data payloads; None for a ":" comment line
        self._pending: deque[Event] = deque()
        self._ended = False
        self._started = self._last_progress = self._last_notice = time.monotonic()
        self._last_frame = self._started  # the gap runs from the last whole frame, not the last byte
        self.events_received = 0

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        while not self._pending:
            if not self._frames:
                await self._receive()
            data = self._frames.popleft()
            self._pending.extend(self._parse(data))
        self.events_received += 1
        return self._pending.popleft()

    def _feed(self, lines: list[str]) -> None:
        for line in lines:
            if line.startswith(":"):
                self._frames.append(None)
            elif (sse := self._fields.decode(line)) is not None:
                self._frames.append(sse.data)

    async def _receive(self) -> None:
        """Wait for frames from the network, under the gap, total and heartbeats-only limits."""
        t = self._timeouts
        while not self._frames:
            if self._ended:
                raise StopAsyncIteration
            now = time.monotonic()
            remaining = t.total - (now - self._started)
            quiet_left = t.heartbeats_only - (now - self._last_progress)
            gap_left = t.gap - (now - self._last_frame)
            try:
                with anyio.fail_after(max(min(gap_left, remaining, quiet_left), 0)):
                    chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                self._ended = True
                self._feed([*self._lines.flush(), ""])  # "" dispatches a last, unterminated frame
                continue
            except TimeoutError:
                await self.aclose()
                raise self._timeout_error(remaining, quiet_left, gap_left) from None
            except httpx.TransportError as exc:
                await self.aclose()
                raise StreamDisconnected(
                    f"the stream broke after {self.events_received} events ({type(exc).__name__}). The agent "
                    "may still be working: do not send the message again; read the session state instead.",
                    sent=True,
                ) from exc
            queued = len(self._frames)
            self._feed(self._lines.decode(chunk))
            if len(self._frames) > queued:
                self._last_frame = time.monotonic()
            try:
                self._check_limits(len(chunk), len(self._frames) - queued)
            except LimitExceededError:
                await self.aclose()
                raise

    def _check_limits(self, size: int, frames: int) -> None:
        """Counted per network chunk, not per line: a frame still incomplete grows ``_partial``."""
        max_event, max_events, max_chars = self._limits
        self._chars += size
        self._frames_seen += frames
        self._partial = self._partial + size if frames == 0 else 0
        if self._partial > max_event:
            problem, setting = f"one event grew past {max_event} characters", "max_event_size"
        elif self._frames_seen > max_events:
            problem, setting = f"the stream sent more than {max_events} events", "max_stream_events"
        elif self._chars > max_chars:
            problem, setting = f"the stream sent more than {max_chars} characters", "max_stream_bytes"
        else:
            return
        raise LimitExceededError(
            f"{problem} and was closed after {self.events_received} events. The agent may still be "
            "working: do not send the message again; read the session state instead",
            setting=setting,
        )

    def _parse(self, data: str | None) -> list[Event]:
        events: list[Event] = parse_data(data) if data is not None else [Heartbeat()]
        now = time.monotonic()
        if any(not isinstance(e, Heartbeat) for e in events):
            self._last_progress = self._last_notice = now
        elif self._on_heartbeat is not None and now - self._last_notice >= self._timeouts.notice_every:
            self._last_notice = now
            self._on_heartbeat(now - self._last_progress)
        return events

    def _timeout_error(self, remaining: float, quiet_left: float, gap_left: float) -> StreamTimeout:
        t = self._timeouts
        if remaining <= min(gap_left, quiet_left):
            why = f"the turn took longer than {t.total:g} s"
        elif quiet_left <= gap_left:
            why = f"only heartbeats for {t.heartbeats_only:g} s"
        else:
            why = f"no event for {t.gap:g} s"
        return StreamTimeout(
            f"gave up waiting on the agent: {why}. The work may still finish: read the session state "
            "before sending the message again."
        )

    async def aclose(self) -> None:
        if not self._ended:
            self._ended = True
            # A read in a cancelled scope raises inside httpx's innermost generator, so its nested
            # generators unwind now; closing only the outer one would leave them to the garbage collector
            # (which trio reports). A finished stream stops at once.
            with anyio.CancelScope() as unwind:
                unwind.cancel()
                with contextlib.suppress(StopAsyncIteration, httpx.HTTPError):
                    while True:
                        await self._chunks.__anext__()
        await self._chunks.aclose()
        await self.response.aclose()
