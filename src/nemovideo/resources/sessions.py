"""``nemo.sessions``: create sessions and stream the agent's events for a message."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from .._api.base import ChatTurn
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
        self._turns: dict[str, EventStream] = {}
        """The turn running now in this client, per session (what ``cancel`` stops)."""

    async def create(self, *, language: str | None = None, task_name: str = "project") -> Session:
        """Start a session (a timeline of its own); on the gateway, a project holding one session.
        Not retried once sent: a retry could make a second one."""
        info = await self._requestor.api.create_session(
            self._requestor, language=language, task_name=task_name
        )
        return self.get(
            info.session_id, task_id=info.task_id, user_id=info.user_id, project_id=info.project_id
        )

    def get(
        self,
        session_id: str,
        *,
        task_id: str | None = None,
        user_id: str | None = None,
        project_id: str | None = None,
    ) -> Session:
        """A handle on a session that already exists (front ends keep their own ids). Sends nothing."""
        from ..session import Session

        self._requestor.api.remember(session_id, project_id)
        info = SessionInfo(session_id=session_id, task_id=task_id, user_id=user_id, project_id=project_id)
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
        stream raises ``StreamDisconnected``, a quiet one ``StreamTimeout``. On the skill API the message
        goes to ``/run_sse``; on the gateway over its chat WebSocket (the stream ends after ``Done``).
        """
        requestor = self._requestor
        chat = requestor.api.chat(requestor, ChatTurn(session_id, text, timeouts, on_heartbeat))
        async with chat as events:
            self._turns[session_id] = events
            try:
                yield events
            finally:
                if self._turns.get(session_id) is events:
                    del self._turns[session_id]

    async def cancel(self, session_id: str) -> bool:
        """Stop the agent's running turn in this session (gateway only): sends ``abort`` and waits for the
        turn to end. Returns whether a turn of this client was running; without one, ``abort`` is still
        sent, for a turn started elsewhere."""
        requestor = self._requestor
        requestor.api.require("cancelling a turn", "gateway")
        from .._api._ws import abort_turn

        turn = self._turns.get(session_id)
        await abort_turn(requestor, session_id, turn)
        return turn is not None
