"""A /run_sse turn as background work: it keeps going when the client disconnects (as the real service does,
which is why clients must never re-send a message), and streams its events to whoever still listens."""

from __future__ import annotations

import contextlib
import math
import uuid
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from . import _events as ev
from ._clock import Clock
from ._settings import Settings
from ._store import Session, User
from .agent import Plan

Item = tuple[str, bytes]
"""("event" | "heartbeat", an SSE frame)."""


class Run:
    def __init__(
        self,
        *,
        session: Session,
        user: User,
        plan: Plan,
        cost: int,
        silent: bool,
        settings: Settings,
        clock: Clock,
    ) -> None:
        self.session = session
        self.user = user
        self.plan = plan
        self.cost = cost
        self.silent = silent
        self.settings = settings
        self.clock = clock
        self.invocation_id = f"e-{uuid.uuid4()}"
        self._send: MemoryObjectSendStream[Item]
        self.receive: MemoryObjectReceiveStream[Item]
        self._send, self.receive = anyio.create_memory_object_stream[Item](math.inf)
        self.scope = anyio.CancelScope()
        self.done = anyio.Event()
        self.ok = False

    def _emit(self, kind: str, data: bytes) -> None:
        # When nobody listens any more, the work goes on.
        with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._send.send_nowait((kind, data))

    def _event(self, **kwargs: Any) -> None:
        self._emit(
            "event",
            ev.frame(ev.event(invocation_id=self.invocation_id, timestamp=self.clock.now(), **kwargs)),
        )

    async def _say(self, text: str, extra: list[dict[str, Any]] | None = None, *, last: bool = False) -> None:
        event_id = ev.new_id()
        for piece in ev.chunks(text):
            self._event(event_id=event_id, parts=[{"text": piece}], partial=True)
            await anyio.sleep(self.settings.text_delay)
        self._event(
            event_id=event_id,
            parts=[{"text": text}, *(extra or [])],
            partial=False,
            finish=True,
            turn_complete=last,
            long_running=[] if extra else None,
        )

    async def _work(self, seconds: float) -> None:
        """Sleep `seconds`, sending a heartbeat every `heartbeat_interval` (an empty `data:` line and a
        comment line, alternately)."""
        deadline = anyio.current_time() + seconds
        beat = 0
        while True:
            left = deadline - anyio.current_time()
            if left <= 0:
                return
            await anyio.sleep(min(self.settings.heartbeat_interval, left))
            if deadline - anyio.current_time() > 1e-3:
                self._emit("heartbeat", ev.HEARTBEAT_DATA if beat % 2 == 0 else ev.HEARTBEAT_COMMENT)
                beat += 1

    async def execute(self) -> None:
        try:
            with self.scope:
                await self._execute()
                self.ok = True
        finally:
            if self.cost and not self.ok:
                self.user.release(self.cost)
            self._send.close()
            self.done.set()

    async def _execute(self) -> None:
        plan = self.plan
        base = self.settings.generation_seconds * (
            1.0 if plan.kind == "generation" else self.settings.edit_fraction
        )
        for i, step in enumerate(plan.steps):
            call_id = f"adk-{uuid.uuid4()}"
            call = {"functionCall": {"id": call_id, "args": step.args, "name": step.tool}}
            if i == 0 and plan.intro and not self.silent:
                await self._say(plan.intro, [call])
            else:
                self._event(event_id=ev.new_id(), parts=[call], partial=False, finish=True, long_running=[])
            await self._work(base * step.weight)
            response = step.apply(self.session)
            self.session.messages += 1
            delta = {
                "draft": self.session.draft,
                "canvas_config": self.session.canvas_config,
                "last_tool": step.tool,
            }
            self._event(
                event_id=ev.new_id(),
                parts=[{"functionResponse": {"id": call_id, "name": step.tool, "response": response}}],
                role="user",
                state_delta=delta,
            )
        if self.cost:
            self.user.charge(self.cost)
            self.ok = True
        if plan.answer and not self.silent:
            await self._say(plan.answer, last=True)
