"""The /run_sse response: relays a run's frames as they come, and applies the stream faults."""

from __future__ import annotations

from collections.abc import Callable

import anyio
from starlette.responses import Response

from . import _events as ev
from ._faults import FaultRule
from ._outer import Receive, Scope, Send
from ._runs import Run
from ._settings import Settings

HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
BROKEN_FRAME = b'data: {"content":{"parts":[{"text":"Err\n\n'


class SSEResponse(Response):
    """A raw ASGI response (not a StreamingResponse) so that a fault can cut the connection mid-stream."""

    def __init__(
        self, run: Run, fault: FaultRule | None, abort: Callable[[], None] | None, settings: Settings
    ) -> None:
        super().__init__(status_code=200, media_type="text/event-stream")
        self.run = run
        self.fault = fault
        self.abort = abort
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        closed = {"aborted": False}
        async with anyio.create_task_group() as tg:

            async def watch() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                tg.cancel_scope.cancel()

            tg.start_soon(watch)
            try:
                closed["aborted"] = await self._relay(send)
            except OSError:
                closed["aborted"] = True
            tg.cancel_scope.cancel()
        if not closed["aborted"]:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _body(self, send: Send, data: bytes) -> None:
        await send({"type": "http.response.body", "body": data, "more_body": True})

    async def _relay(self, send: Send) -> bool:
        """Send the frames; True when the connection was cut on purpose."""
        fault = self.fault
        kind = fault.kind if fault is not None else None
        if fault is not None and kind == "heartbeats_only":
            try:
                with anyio.move_on_after(float(fault.param("seconds"))):
                    beat = 0
                    while True:
                        await anyio.sleep(self.settings.heartbeat_interval)
                        await self._body(send, ev.HEARTBEAT_DATA if beat % 2 == 0 else ev.HEARTBEAT_COMMENT)
                        beat += 1
            finally:  # also when the client leaves first
                self.run.receive.close()
            return False
        events = 0
        async with self.run.receive:
            async for item_kind, data in self.run.receive:
                await self._body(send, data)
                if item_kind != "event":
                    continue
                events += 1
                if fault is not None and kind == "cut_stream" and events >= int(fault.param("after")):
                    await anyio.sleep(0.05)
                    self._abort()
                    return True
                if kind == "malformed_json" and events == 1:
                    await self._body(send, BROKEN_FRAME)
                    return False
        return False

    def _abort(self) -> None:
        if self.abort is not None:
            self.abort()
