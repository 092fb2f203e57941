"""``nemo.projects`` (gateway): projects, each holding sessions of its own."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

from ..models.project import Project, ProjectSession
from ._base import Resource

if TYPE_CHECKING:
    from .._api.gateway import GatewayApi


class ProjectsResource(Resource):
    def _gateway(self) -> GatewayApi:
        api = self._requestor.api
        api.require("projects", "gateway")
        from .._api.gateway import GatewayApi

        assert isinstance(api, GatewayApi)
        return api

    async def create(self, name: str | None = None) -> Project:
        """A new project with its first session (``project.session``). Not retried once sent."""
        return await self._gateway().create_project(self._requestor, name)

    async def list(self) -> builtins.list[Project]:
        """Every project of the account."""
        return await self._gateway().projects(self._requestor)

    async def get(self, project_id: str) -> Project:
        return await self._gateway().project(self._requestor, project_id)

    async def sessions(self, project_id: str) -> builtins.list[ProjectSession]:
        """The sessions of a project (``nemo.sessions.get(s.session_id, project_id=...)`` opens one)."""
        return await self._gateway().project_sessions(self._requestor, project_id)
