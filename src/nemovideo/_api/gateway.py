"""The gateway (the API of the vendor's own CLI): API keys, projects holding sessions, a chat WebSocket.

The wire shapes come from the vendor's CLI, public repository ``nemovideo/nemovideo-tools``
(``src/core/client.ts``, ``render.ts``, ``types.ts``); docs/which-api.md sums them up.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .base import Api, ChatTurn, Traits

_last_ms = 0


def _unique_ms() -> int:
    """The vendor's ids are ``render_<ms>``; two renders started in one millisecond (a batch) must differ."""
    global _last_ms
    _last_ms = max(int(time.time() * 1000), _last_ms + 1)
    return _last_ms


if TYPE_CHECKING:  # the models are imported by the methods using them, so making a client loads none
    from .._http import Requestor
    from .._sse import EventStream
    from ..models.project import Project, ProjectSession
    from ..models.session import SessionInfo
    from ..models.state import State

PROJECTS_PATH = "/projects"
RENDER_PATH = "/services/v1/render-proxy/lambda"
MAX_REMEMBERED = 10_000
"""Session -> project pairs kept per client (a bounded map; older ones are looked up again)."""


def quoted(value: str) -> str:
    return quote(value, safe="")


class GatewayApi(Api):
    name = "gateway"
    other = "skill"
    traits = Traits("gateway", "gateway", "/billing/balance", RENDER_PATH, "file", 1, 30.0, 600.0)

    def __init__(self) -> None:
        self._projects: dict[str, str] = {}

    def remember(self, session_id: str, project_id: str | None) -> None:
        if not project_id:
            return
        if len(self._projects) >= MAX_REMEMBERED:
            self._projects.pop(next(iter(self._projects)))
        self._projects[session_id] = project_id

    # --- projects ------------------------------------------------------------------------------------

    async def create_project(self, requestor: Requestor, name: str | None) -> Project:
        """``POST /projects`` with a first session. Not retried once sent (a retry could make two)."""
        from ..models.project import Project

        body: dict[str, Any] = {"create_session": True}
        if name:
            body["name"] = name
        project = await requestor.request(
            "POST", PROJECTS_PATH, Project, json=body, envelope=self.traits.envelope
        )
        if project.session is not None:
            self.remember(project.session.session_id, project.project_id)
        return project

    async def projects(self, requestor: Requestor) -> list[Project]:
        from ..models.project import ProjectList

        response = await requestor.request("GET", PROJECTS_PATH, ProjectList, envelope=self.traits.envelope)
        for project in response.projects:
            if project.session is not None:
                self.remember(project.session.session_id, project.project_id)
        return response.projects

    async def project(self, requestor: Requestor, project_id: str) -> Project:
        from ..models.project import Project

        return await requestor.request(
            "GET", f"{PROJECTS_PATH}/{quoted(project_id)}", Project, envelope=self.traits.envelope
        )

    async def project_sessions(self, requestor: Requestor, project_id: str) -> list[ProjectSession]:
        from ..models.project import SessionList

        path = f"{PROJECTS_PATH}/{quoted(project_id)}/sessions"
        listed = await requestor.request("GET", path, SessionList, envelope=self.traits.envelope)
        for session in listed.sessions:
            self.remember(session.session_id, session.project_id or project_id)
        return listed.sessions

    async def project_of(self, requestor: Requestor, session_id: str, project_id: str | None) -> str | None:
        """The project holding ``session_id``: as given, as remembered, else found in ``GET /projects``."""
        if project_id:
            return project_id
        if session_id in self._projects:
            return self._projects[session_id]
        await self.projects(requestor)
        found = self._projects.get(session_id)
        if found is None:
            from .._errors import SessionNotFoundError

            raise SessionNotFoundError(
                f"no project of this account holds session {session_id!r} (on the gateway, state and renders "
                "belong to a project)",
                hint="Create a new session with `await nemo.sessions.create()` and continue there, or pass "
                "project_id=... of the project that holds it (see nemo.projects.list()).",
            )
        return found

    # --- sessions and state --------------------------------------------------------------------------

    async def create_session(
        self, requestor: Requestor, *, language: str | None, task_name: str
    ) -> SessionInfo:
        """On the gateway a session comes with a project of its own (``POST /projects``)."""
        from ..models.session import SessionInfo

        project = await self.create_project(requestor, None if task_name == "project" else task_name)
        if project.session is None:
            sessions = await self.project_sessions(requestor, project.project_id)
            if not sessions:
                from .._errors import ProtocolError

                raise ProtocolError("the gateway made a project without a session", endpoint="POST /projects")
            session_id = sessions[0].session_id
        else:
            session_id = project.session.session_id
        return SessionInfo(session_id=session_id, project_id=project.project_id, user_id=project.user_id)

    async def state(self, requestor: Requestor, session_id: str, project_id: str | None) -> State:
        from ..models.state import State
        from ._frontend import _FrontendState

        pid = await self.project_of(requestor, session_id, project_id)
        assert pid is not None
        raw = await requestor.request(
            "GET", f"/api/v1/state/frontend/{quoted(pid)}", _FrontendState, envelope=self.traits.envelope
        )
        extra = raw.model_extra or {}
        project = extra.get("project") if isinstance(extra.get("project"), dict) else {}
        assert isinstance(project, dict)
        fields = {k: v for k, v in project.items() if k in State.model_fields and k != "draft"}
        return State.model_validate(
            {
                **extra,
                **fields,
                "session_id": session_id,
                "project_id": pid,
                "draft": project.get("timeline_draft") or {},
                "project_name": extra.get("projectName"),
            }
        )

    # --- uploads and render --------------------------------------------------------------------------

    def upload_path(self, session_id: str) -> str:
        return "/files/upload"

    def upload_fields(self, session_id: str) -> Mapping[str, str]:
        return {"session_id": session_id}

    def new_render_id(self) -> str:
        return f"render_{_unique_ms()}"

    def render_body(
        self, render_id: str, session_id: str, project_id: str | None, draft: Any, quality: str
    ) -> dict[str, Any]:
        return {
            **super().render_body(render_id, session_id, project_id, draft, quality),
            "projectId": project_id,
        }

    def render_cancel_path(self, job_id: str) -> str | None:
        return None  # the gateway documents no cancel route for renders

    def render_download_path(self, job_id: str) -> str | None:
        return None  # the gateway's download route answers a job by project, not a file

    # --- chat ----------------------------------------------------------------------------------------

    def chat(self, requestor: Requestor, turn: ChatTurn) -> AbstractAsyncContextManager[EventStream]:
        """Over the chat WebSocket (``_ws``): the message goes once, after ``session_ready``."""
        from ._ws import open_chat

        return open_chat(requestor, turn)
