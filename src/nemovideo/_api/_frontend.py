"""The gateway's state answer, a module of its own so that a gateway client loads the models on first use."""

from __future__ import annotations

from ..models.state import State


class _FrontendState(State):
    """``GET /api/v1/state/frontend/<project_id>``:
    ``{project: {timeline_draft, ...}, version?, projectName?}``."""
