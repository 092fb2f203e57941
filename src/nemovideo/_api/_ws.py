"""The gateway's chat WebSocket (``httpx-ws`` on the client's own httpx pool), as the vendor's CLI runs it
(``src/core/ws.ts``, ``agent.ts``):

- the handshake is retried on 502/503/504 and on a 403 whose reason is not an auth failure, up to 10 times
  with waits of 2, 3, 3, 3, 3, 5, 5, 5, 5, 5 s (``HANDSHAKE_DELAYS``);
- the message is sent once, after ``session_ready``; ``{"type": "ping"}`` every 30 s;
- close 4001 is a refused key (``AuthenticationError``), 4002 a missing session (``SessionNotFoundError``);
  any other close gets one reconnect after 1 s, which never re-sends the message (a second failure raises
  ``StreamDisconnected``, and ``Session.send`` reads the state to learn the outcome); a turn followed on
  the new socket is marked ``resumed`` (what was said meanwhile is missing: ``Session.send`` reads the state);
- the message carries a ``client_message_id``: the end of another turn (one that ended while no socket
  listened, which the gateway hands the next socket) does not end this one;
- the turn ends with ``done`` (or ``error``), or at the turn limit (10 minutes unless told otherwise).

The socket lives in a background task of its own, so the caller's code never runs inside httpx-ws's task
group (whose errors would come out wrapped in exception groups) and a reconnect can replace the socket
while the caller iterates. That task never raises: it hands events and errors to the iterator through a
bounded channel.

The key rides in the URL's query (the gateway wants it there): no message, log line or repr of the SDK
shows a URL's query, and the ``httpx`` logger's request lines are redacted below.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
import httpx

from .._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    NemoError,
    SessionNotFoundError,
    StreamDisconnected,
    redact,
)
from .._http import read_capped
from .._sse import EventStream, StreamTimeouts
from ..models.events import Done, Event, Heartbeat, Status, StreamError
from ._ws_events import TURN_END_TYPES, decode_message

if TYPE_CHECKING:
    from httpx_ws import AsyncWebSocketSession

    from .._http import Requestor
    from .base import ChatTurn

log = logging.getLogger("nemovideo")

CHAT_PATH = "/ws/chat"
HANDSHAKE_RETRY_STATUSES = frozenset({502, 503, 504})
HANDSHAKE_DELAYS: tuple[float, ...] = (2.0, 3.0, 3.0, 3.0, 3.0, 5.0, 5.0, 5.0, 5.0, 5.0)
"""Seconds before each handshake retry (the vendor CLI's table); its length is the retry limit."""
AUTH_FAIL_PATTERNS = (
    "invalid authentication token",
    "invalid token",
    "invalid or expired",
    "missing authentication token",
    "token not found",
    "token has been revoked",
    "token has expired",
)
RECONNECT_DELAY = 1.0
PING_INTERVAL = 30.0
ABORT_WAIT = 30.0
"""Seconds ``cancel`` waits for the turn to end after ``abort``."""
QUEUE_SIZE = 1024
"""Server messages held for a slow reader before the socket stops being read."""
MAX_REASON = 64 * 1024
CLOSE_AUTH, CLOSE_NO_SESSION = 4001, 4002
MISSING_EXTRA = "the gateway's chat needs the 'gateway' extra: pip install \"nemovideo[gateway]\""


async def _sleep(seconds: float) -> None:
    """Indirection so tests can make handshake and reconnect waits instant and record them."""
    await anyio.sleep(seconds)


class _RedactQuery(logging.Filter):
    """httpx logs each request's full URL at INFO; the chat URL's query holds the API key."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = redact(record.getMessage())
            record.args = None
        return True


logging.getLogger("httpx").addFilter(_RedactQuery())


def _ws_session_class() -> type[AsyncWebSocketSession]:
    try:
        from httpx_ws import AsyncWebSocketSession
    except ImportError as exc:
        raise ImportError(MISSING_EXTRA, name="httpx_ws") from exc
    return AsyncWebSocketSession


def _upgrade_headers() -> dict[str, str]:
    import base64
    import secrets

    return {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Key": base64.b64encode(secrets.token_bytes(16)).decode(),
        "Sec-WebSocket-Version": "13",
    }


def reject_reason(body: bytes) -> str:
    """The reason of a refused handshake: ``reason``/``message``/``detail`` of a JSON body, else its text."""
    text = body.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        return text[:200].strip()
    if isinstance(data, dict):
        for key in ("reason", "message", "detail", "error"):
            if data.get(key):
                return str(data[key])
    return ""


def transient_403(reason: str) -> bool:
    lowered = reason.lower()
    return not any(pattern in lowered for pattern in AUTH_FAIL_PATTERNS)


def _key(requestor: Requestor) -> str:
    token = requestor.config.token
    assert token is not None, "the gateway client always has a key"
    return token.get()


@asynccontextmanager
async def connect(requestor: Requestor, session_id: str) -> AsyncIterator[AsyncWebSocketSession]:
    """An open chat socket for ``session_id``; the handshake is retried as the vendor's CLI does."""
    session_class = _ws_session_class()
    params = {"token": _key(requestor), "session_id": session_id}
    attempts = len(HANDSHAKE_DELAYS) + 1
    for attempt in range(1, attempts + 1):
        request = requestor.build("GET", CHAT_PATH, params=params, headers=_upgrade_headers())
        response = await requestor.send(request, stream=True)
        if response.status_code == 101:
            break
        await read_capped(response, MAX_REASON, request)
        reason = redact(reject_reason(response.content))
        status = response.status_code
        retriable = status in HANDSHAKE_RETRY_STATUSES or (status == 403 and transient_403(reason))
        if retriable and attempt < attempts:
            delay = HANDSHAKE_DELAYS[attempt - 1]
            log.info(
                "chat handshake answered HTTP %d (%s); retrying in %g s (attempt %d of %d)",
                status,
                reason or "no reason",
                delay,
                attempt + 1,
                attempts,
            )
            await _sleep(delay)
            continue
        raise _refused(requestor, response, reason, retried=attempt - 1 if retriable else 0)
    try:
        session = session_class(
            response.extensions["network_stream"],
            max_message_size_bytes=requestor.config.max_event_size,
            keepalive_ping_interval_seconds=None,  # the gateway's own ping is sent instead
            response=response,
        )
        async with session:
            yield session
    finally:
        await response.aclose()


def _refused(requestor: Requestor, response: httpx.Response, reason: str, *, retried: int) -> NemoError:
    status = response.status_code
    if status == 401 or (status == 403 and not transient_403(reason)):
        error = AuthenticationError(
            f"the gateway refused the chat connection: {reason or 'not authorised'}",
            code=status,
            http_status=status,
        )
        error.hint = requestor._auth_hint(response)
        return error
    failure = requestor.error_from(response, endpoint=f"GET {CHAT_PATH}")
    if retried and isinstance(failure, APIError):
        failure.message += f" (the chat handshake was tried {retried + 1} times)"
        failure.args = (failure.message,)
    return failure


def _closed_error(code: int, reason: str) -> NemoError | None:
    """The error a close code stands for, or None for a close that earns the reconnect."""
    if code == CLOSE_AUTH:
        return AuthenticationError(
            f"the gateway closed the chat: invalid API key ({reason or 'close 4001'})",
            code=CLOSE_AUTH,
            hint="The API key was refused: make a new one in the dashboard at nemovideo.com and use it.",
        )
    if code == CLOSE_NO_SESSION:
        return SessionNotFoundError(
            f"the gateway closed the chat: missing or unknown session_id ({reason or 'close 4002'})",
            code=CLOSE_NO_SESSION,
        )
    return None


class _Sent:
    """Marker in the channel: the message has left."""


_Item = dict[str, Any] | NemoError | _Sent


class ChatStream(EventStream):
    """One turn over the chat WebSocket: the same typed events as the SSE path, plus ``Thinking``,
    ``Question``, ``Status`` and ``Done`` (after which the iteration ends)."""

    def __init__(
        self,
        requestor: Requestor,
        session_id: str,
        text: str,
        *,
        timeouts: StreamTimeouts,
        on_heartbeat: Callable[[float], object] | None = None,
    ) -> None:
        # EventStream's fields this class shares (limits, timeouts, counters); no HTTP response here
        config = requestor.config
        self.response = None  # type: ignore[assignment]
        self._limits = (config.max_event_size, config.max_stream_events, config.max_stream_bytes)
        self._chars = self._partial = self._frames_seen = 0
        self._timeouts = timeouts
        self._on_heartbeat = on_heartbeat
        self._pending: deque[Event] = deque()
        self._started = self._last_progress = self._last_notice = time.monotonic()
        self.events_received = 0
        self._requestor = requestor
        self._session_id = session_id
        self._text = text
        self._put, self._items = anyio.create_memory_object_stream[_Item](QUEUE_SIZE)
        self._ws: AsyncWebSocketSession | None = None
        self._stack = AsyncExitStack()
        self._run_scope = anyio.CancelScope()
        self._finished = False
        self.turn_over = anyio.Event()
        """Set once the turn ended (``done`` or ``error``) or the socket is gone for good."""
        self.sent = False
        """Whether the message left: from then on nothing re-sends it."""
        self.aborted = False
        self.resumed = False
        """Whether the socket was replaced after the message left: messages sent meanwhile are missing."""
        self.message_id = f"cm_{uuid.uuid4().hex[:16]}"
        """The ``client_message_id`` this turn's message carries."""

    def __repr__(self) -> str:
        return f"ChatStream(session_id={self._session_id!r}, sent={self.sent}, events={self.events_received})"

    # --- lifetime ------------------------------------------------------------------------------------

    async def __aenter__(self) -> ChatStream:
        """Connect, wait for ``session_ready``, send the message. Errors before it left raise here."""
        tasks = await self._stack.enter_async_context(anyio.create_task_group())
        self._stack.callback(self._run_scope.cancel)
        tasks.start_soon(self._run)
        try:
            while not self.sent and not self._finished:
                item = await self._next_item()
                if isinstance(item, NemoError):
                    raise item
                if isinstance(item, dict):
                    self._pending.extend(self._decode(item))
        except BaseException:
            await self.aclose()
            raise
        return self

    def _stop(self) -> None:
        """End the iteration and the background task now; the socket closes on the way out (``aclose``).
        Only the task's own scope is cancelled: the caller's code is never inside it."""
        self._finished = True
        self._run_scope.cancel()

    async def aclose(self) -> None:
        """Close the socket (the background task ends; nothing is left running)."""
        self._stop()
        await self._stack.aclose()
        self._put.close()
        self._items.close()

    # --- the iterator --------------------------------------------------------------------------------

    async def __anext__(self) -> Event:
        while not self._pending:
            if self._finished:
                raise StopAsyncIteration
            item = await self._next_item()
            if isinstance(item, NemoError):
                self._finished = True
                raise item
            if isinstance(item, dict):
                self._pending.extend(self._decode(item))
        self.events_received += 1
        return self._pending.popleft()

    async def _next_item(self) -> _Item:
        t = self._timeouts
        now = time.monotonic()
        remaining = t.total - (now - self._started)
        quiet_left = t.heartbeats_only - (now - self._last_progress)
        try:
            with anyio.fail_after(max(min(t.gap, remaining, quiet_left), 0)):
                return await self._items.receive()
        except TimeoutError:
            self._stop()
            raise self._timeout_error(remaining, quiet_left, t.gap) from None
        except anyio.EndOfStream:
            return StreamDisconnected("the chat socket closed before the turn ended", sent=self.sent)

    def _decode(self, message: dict[str, Any]) -> list[Event]:
        self._check_limits(len(json.dumps(message)), 1)
        events = decode_message(message)
        now = time.monotonic()
        if any(not isinstance(e, (Heartbeat, Status)) for e in events):
            self._last_progress = self._last_notice = now
        elif self._on_heartbeat is not None and now - self._last_notice >= self._timeouts.notice_every:
            self._last_notice = now
            self._on_heartbeat(now - self._last_progress)
        if any(isinstance(e, (Done, StreamError)) for e in events):
            self._finished = True
        return events

    # --- the socket (background task) ----------------------------------------------------------------

    async def _run(self) -> None:
        """Connect (and reconnect once), pump messages into the channel; never raises."""
        try:
            with self._run_scope:
                await self._serve()
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            return  # the reader is gone
        finally:
            self.turn_over.set()

    async def _serve(self) -> None:
        reconnected = False
        while True:
            try:
                async with connect(self._requestor, self._session_id) as ws:
                    self._ws = ws
                    broke = await self._pump_until_end(ws)
                if broke is None:
                    return
                raise broke
            except NemoError as exc:
                if reconnected and self.sent:
                    exc = StreamDisconnected(
                        f"the chat connection broke and the one reconnect failed ({exc}). The agent may "
                        "still be working: do not send the message again; read the session state.",
                        sent=True,
                    )
                await self._put.send(exc)
                return
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                raise  # the reader is gone: nothing to reconnect for
            except Exception as exc:  # the socket closed or broke
                refused = _closed_error(*_close_of(exc))
                if refused is not None:
                    await self._put.send(refused)
                    return
                if reconnected:
                    await self._put.send(self._broken(exc))
                    return
                reconnected = True
                self.resumed = self.sent
                log.info(
                    "the chat socket closed (%s) before the turn ended; reconnecting once in %g s, "
                    "without re-sending the message",
                    _describe(exc),
                    RECONNECT_DELAY,
                )
                await _sleep(RECONNECT_DELAY)
            finally:
                self._ws = None

    def _broken(self, exc: BaseException) -> NemoError:
        what = f"the chat connection broke twice ({_describe(exc)})"
        if not self.sent:
            return APIConnectionError(f"{what} before the message was sent; nothing was sent", sent=False)
        return StreamDisconnected(
            f"{what}. The agent may still be working: do not send the message again; read the session state.",
            sent=True,
        )

    async def _pump_until_end(self, ws: AsyncWebSocketSession) -> Exception | None:
        """``_pump``, its failure returned rather than raised: raised inside httpx-ws's task group, it
        would come out wrapped in an exception group."""
        try:
            await self._pump(ws)
        except Exception as exc:
            return exc
        return None

    async def _pump(self, ws: AsyncWebSocketSession) -> None:
        """Read until the turn ends; send the message after the first ``session_ready``; ping."""
        from httpx_ws import WebSocketInvalidTypeReceived

        next_ping = time.monotonic() + PING_INTERVAL
        while True:
            with anyio.move_on_after(max(next_ping - time.monotonic(), 0)) as waited:
                try:
                    raw = await ws.receive_text()
                except WebSocketInvalidTypeReceived:
                    continue  # a binary frame: the gateway sends none; skip it
            if waited.cancelled_caught:
                await ws.send_json({"type": "ping"})
                next_ping = time.monotonic() + PING_INTERVAL
                continue
            try:
                message = json.loads(raw)
            except ValueError:
                log.debug("skipped a chat frame that is not JSON (%d characters)", len(raw))
                continue
            if not isinstance(message, dict):
                continue
            kind = message.get("type")
            if kind in TURN_END_TYPES and message.get("client_message_id") not in (None, self.message_id):
                log.debug("skipped the end of an earlier turn (%s)", kind)
                continue
            await self._put.send(message)
            if kind == "session_ready" and not self.sent:
                metadata = {"client_message_id": self.message_id}
                await ws.send_json({"type": "message", "content": self._text, "metadata": metadata})
                self.sent = True
                await self._put.send(_Sent())
            elif kind in TURN_END_TYPES and self.sent:
                return

    async def abort(self, wait: float = ABORT_WAIT) -> None:
        """Send ``abort`` and wait (up to ``wait`` s) for the turn to end."""
        self.aborted = True
        ws = self._ws
        if ws is not None and not self.turn_over.is_set():
            await ws.send_json({"type": "abort"})
        with anyio.move_on_after(wait):
            await self.turn_over.wait()


def _close_of(exc: BaseException) -> tuple[int, str]:
    code = getattr(exc, "code", None)
    return (code, str(getattr(exc, "reason", "") or "")) if isinstance(code, int) else (0, "")


def _describe(exc: BaseException) -> str:
    code, reason = _close_of(exc)
    if code:
        return f"close code {code}{': ' + reason if reason else ''}"
    return redact(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


@asynccontextmanager
async def open_chat(requestor: Requestor, turn: ChatTurn) -> AsyncIterator[ChatStream]:
    limit = requestor.api.traits.turn_limit
    chat = ChatStream(
        requestor,
        turn.session_id,
        turn.text,
        timeouts=turn.timeouts or StreamTimeouts(total=limit, heartbeats_only=limit),
        on_heartbeat=turn.on_heartbeat,
    )
    await chat.__aenter__()
    try:
        yield chat
    finally:
        await chat.aclose()


async def abort_turn(requestor: Requestor, session_id: str, turn: EventStream | None) -> None:
    """Abort the turn ``turn`` runs, or, without one here, whatever turn runs in the session elsewhere."""
    if isinstance(turn, ChatStream):
        await turn.abort()
        return
    with anyio.move_on_after(ABORT_WAIT) as waited:
        async with connect(requestor, session_id) as ws:
            while True:
                message = json.loads(await ws.receive_text())
                if isinstance(message, dict) and message.get("type") == "session_ready":
                    break
            await ws.send_json({"type": "abort"})
    if waited.cancelled_caught:
        raise APITimeoutError(
            f"the gateway did not get the chat of session {session_id} ready within {ABORT_WAIT:g} s; "
            "nothing was aborted",
            sent=False,
        )
