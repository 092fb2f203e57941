"""The event stream of one agent turn: SSE framing, its limits and timeouts (payloads -> events: _frames).

httpx-sse splits the lines. The fields are read here, as httpx-sse's ``SSEDecoder`` reads them, rather
than through ``EventSource.aiter_sse``: that drops ``:`` comment lines, and a comment is a heartbeat the gap
timeout must see; and one loop over a chunk's lines, with a fast path for ``data: `` lines, costs a fraction
of a decoder call and an event object per line.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import anyio
import httpx
from httpx_sse._decoders import SSELineDecoder

from ._body import text_chunks
from ._config import DEFAULT_MAX_EVENT_SIZE, DEFAULT_MAX_STREAM_BYTES, DEFAULT_MAX_STREAM_EVENTS
from ._errors import LimitExceededError, StreamDisconnected, StreamTimeout
from ._frames import parse_data
from .models.events import Event, Heartbeat

__all__ = ["EventStream", "StreamTimeouts", "parse_data"]


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
        self._data: list[str] = []  # the data lines of the frame being read
        self._event = self._last_id = ""  # the SSE fields that are not data
        self._retry: int | None = None
        self._frames: deque[str | None] = deque()  # data payloads; None for a ":" comment line
        self._pending: deque[Event] = deque()
        self._ended = False
        self._started = self._last_progress = self._last_notice = time.monotonic()
        self._last_frame = self._started  # the gap runs from the last whole frame, not the last byte
        self.events_received = 0

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        pending = self._pending
        while not pending:
            if not self._frames:
                await self._receive()
            pending.extend(self._parse(self._frames.popleft()))
        self.events_received += 1
        return pending.popleft()

    def _feed(self, lines: list[str]) -> None:
        """The SSE field rules (WHATWG, as httpx-sse's ``SSEDecoder``): ``data`` lines add up and a blank
        line dispatches them; ``event``, ``id`` and ``retry`` only decide whether a blank line with no data
        still dispatches (an empty frame, a heartbeat). A ``:`` comment is a heartbeat at once."""
        frames, data = self._frames, self._data
        for line in lines:
            if line.startswith("data: "):
                data.append(line[6:])
            elif not line:
                if data or self._event or self._last_id or self._retry is not None:
                    frames.append("\n".join(data))
                    data.clear()
                    self._event, self._retry = "", None
            elif line[0] == ":":
                frames.append(None)
            else:
                self._field(line)

    def _field(self, line: str) -> None:
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry":
            with contextlib.suppress(ValueError):
                self._retry = int(value)

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
        for event in events:
            if not isinstance(event, Heartbeat):
                self._last_progress = self._last_notice = now
                break
        else:
            if self._on_heartbeat is not None and now - self._last_notice >= self._timeouts.notice_every:
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
