"""A session as the API creates it."""

from __future__ import annotations

from ._base import Model


class SessionInfo(Model):
    """A session as created: ``POST /api/tasks/me/with-session/nemo_agent`` (skill API; session ids are
    19-digit strings), or ``POST /projects`` (gateway: a project holding the session)."""

    session_id: str
    task_id: str | None = None
    user_id: str | None = None
    project_id: str | None = None
    """The gateway's project holding the session (its state and renders are the project's)."""
