"""``nemo.state``: a session's draft and media."""

from __future__ import annotations

from ..models.state import State
from ._base import Resource


class StateResource(Resource):
    async def latest(self, session_id: str, *, project_id: str | None = None) -> State:
        """The session's current state. Raises ``SessionNotFoundError`` (1002) for an unknown session.

        On the gateway the state is the project's: ``project_id`` names it, else the project that holds
        the session is looked up (remembered from ``sessions.create`` and ``projects``)."""
        return await self._requestor.api.state(self._requestor, session_id, project_id)
