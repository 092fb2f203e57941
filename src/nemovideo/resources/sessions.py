"""``nemo.sessions``: create sessions and stream the agent's events for a message."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import httpx

from .._sse import EventStream, StreamTimeouts
from ..models.session import SessionInfo
from ._base import Resource

if TYPE_CHECKING:
    from .._http import Requestor
    from ..session import Session
    from .credits import CreditsResource
    from .render import RenderResource
    from .state import StateResource
    from .uploads import UploadsResource

CREATE_PATH = "/api/tasks/me/with-session/nemo_agent"
RUN_SSE_PATH = "/run_sse"
APP_NAME = "nemo_agent"


def run_sse_body(session_id: str, text: str) -> dict[str, Any]:
    return {
        "app_name": APP_NAME,
        "user_id": "me",
        "session_id": session_id,
        "new_message": {"role": "user", "parts": [{"text": text}]},
    }


class SessionsResource(Resource):
    def __init__(
        self,
        requestor: Requestor,
        *,
        state: StateResource,
        credits: CreditsResource,
        uploads: UploadsResource,
        render: RenderResource,
    ) -> None:
        super().__init__(requestor)
        self._state = state
        self._credits = credits
        self._uploads = uploads
        self._render = render

    async def create(self, *, language: str | None = None, task_name: str = "project") -> Session:
        """Start a session (a timeline of its own). Not retried once sent: a retry could make a second one."""
        body: dict[str, Any] = {"task_name": task_name}
        if language:
            body["language"] = language
        info = await self._requestor.request("POST", CREATE_PATH, SessionInfo, json=body)
        return self.get(info.session_id, task_id=info.task_id, user_id=info.user_id)

    def get(self, session_id: str, *, task_id: str | None = None, user_id: str | None = None) -> Session:
        """A handle on a session that already exists (front ends keep their own ids). Sends nothing."""
        from ..session import Session

        info = SessionInfo(session_id=session_id, task_id=task_id, user_id=user_id)
        return Session(
            info,
            sessions=self,
            state=self._state,
            credits=self._credits,
            uploads=self._uploads,
            render=self._render,
            web_url=self._requestor.config.web_url,
        )

    @asynccontextmanager
    async def stream(
        self,
        session_id: str,
        text: str,
        *,
        timeouts: StreamTimeouts | None = None,
        on_heartbeat: Callable[[float], object] | None = None,
    ) -> AsyncIterator[EventStream]:
        """Send ``text`` to the agent and iterate its typed events.

        The message is sent exactly once: after the request left, no failure re-sends it (that could
        duplicate work and charge twice). Errors before the stream starts raise here, typed; a broken
        stream raises ``StreamDisconnected``, a quiet one ``StreamTimeout``.
        """
        requestor = self._requestor
        base = requestor.config.timeout
        request = requestor.build(
            "POST",
            RUN_SSE_PATH,
            json=run_sse_body(session_id, text),
            headers={"Accept": "text/event-stream", "Cache-Control": "no-store"},
            timeout=httpx.Timeout(connect=base.connect, read=None, write=base.write, pool=base.pool),
        )
        async with requestor.stream(request) as response:
            limits = self._requestor.config
            events = EventStream(
                response,
                timeouts=timeouts or StreamTimeouts(),
                on_heartbeat=on_heartbeat,
                max_event_size=limits.max_event_size,
                max_stream_events=limits.max_stream_events,
                max_stream_bytes=limits.max_stream_bytes,
            )
            try:
                yield events
            finally:
                await events.aclose()
