"""``nemo.state``: a session's draft and media."""

from __future__ import annotations

from urllib.parse import quote

from ..models.state import State, StateEnvelopeData
from ._base import Resource


def state_path(session_id: str) -> str:
    return f"/api/state/nemo_agent/me/{quote(session_id, safe='')}/latest"


class StateResource(Resource):
    async def latest(self, session_id: str) -> State:
        """The session's current state. Raises ``SessionNotFoundError`` (1002) for an unknown session."""
        data = await self._requestor.request("GET", state_path(session_id), StateEnvelopeData)
        return data.flatten()
