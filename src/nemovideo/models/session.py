"""A session as the API creates it."""

from __future__ import annotations

from ._base import Model


class SessionInfo(Model):
    """``POST /api/tasks/me/with-session/nemo_agent``: session ids are 19-digit strings."""

    session_id: str
    task_id: str | None = None
    user_id: str | None = None
