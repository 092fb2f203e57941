"""The seam: what one API generation answers for. Everything else lives once, in the resources."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple
from urllib.parse import quote

from .._config import Generation
from .._errors import UnsupportedOnThisAPI

if TYPE_CHECKING:
    from .._http import EnvelopeKind, Requestor
    from .._sse import EventStream, StreamTimeouts
    from ..models.session import SessionInfo
    from ..models.state import State


class Traits(NamedTuple):
    """What tells the generations apart as plain data: one row per generation, in field order (a row is
    one line, so the two generations' data never reads as repeated code)."""

    envelope: EnvelopeKind
    """How JSON answers are wrapped."""
    render_envelope: EnvelopeKind
    balance_path: str
    render_path: str
    """``POST`` here starts a render; ``<render_path>/<id>`` polls it."""
    upload_field: str
    """The multipart field of a file."""
    files_per_upload: int | None
    """How many files one upload request may carry (None: any number)."""
    render_poll: float | None
    """The default poll cadence of a render wait (None: 2 s growing ×1.5 up to 15 s)."""
    turn_limit: float
    """Seconds one chat turn may take, when the caller does not say."""


class ChatTurn(NamedTuple):
    """One message for the agent, and how its stream is watched."""

    session_id: str
    text: str
    timeouts: StreamTimeouts | None = None
    on_heartbeat: Callable[[float], object] | None = None


class Api:
    """One API generation. Subclasses fill in the paths and shapes; a feature the generation lacks
    raises ``UnsupportedOnThisAPI`` through ``require``."""

    name: ClassVar[Generation]
    other: ClassVar[Generation]
    traits: ClassVar[Traits]

    def require(self, feature: str, generation: Generation) -> None:
        if generation != self.name:
            raise UnsupportedOnThisAPI(feature, api=self.name, other=generation)

    # --- sessions and state ------------------------------------------------------------------------

    async def create_session(
        self, requestor: Requestor, *, language: str | None, task_name: str
    ) -> SessionInfo:
        raise NotImplementedError

    async def state(self, requestor: Requestor, session_id: str, project_id: str | None) -> State:
        raise NotImplementedError

    def remember(self, session_id: str, project_id: str | None) -> None:
        """Note which project holds a session (the gateway reads state and renders by project)."""

    # --- uploads and render ------------------------------------------------------------------------

    def upload_path(self, session_id: str) -> str:
        raise NotImplementedError

    def upload_fields(self, session_id: str) -> Mapping[str, str]:
        return {}

    def new_render_id(self) -> str:
        raise NotImplementedError

    def render_body(
        self, render_id: str, session_id: str, project_id: str | None, draft: Any, quality: str
    ) -> dict[str, Any]:
        return {
            "id": render_id,
            "sessionId": session_id,
            "draft": draft,
            "output": {"format": "mp4", "quality": quality},
        }

    async def project_of(self, requestor: Requestor, session_id: str, project_id: str | None) -> str | None:
        return project_id

    def render_job_path(self, job_id: str) -> str:
        return f"{self.traits.render_path}/{quote(job_id, safe='')}"

    def render_cancel_path(self, job_id: str) -> str | None:
        raise NotImplementedError

    def render_download_path(self, job_id: str) -> str | None:
        """The API's own file route for a render, or None where the generation has none."""
        raise NotImplementedError

    # --- chat ----------------------------------------------------------------------------------------

    def chat(self, requestor: Requestor, turn: ChatTurn) -> AbstractAsyncContextManager[EventStream]:
        """Send ``turn.text`` once and stream the agent's events."""
        raise NotImplementedError
