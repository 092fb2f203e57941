"""The gateway's projects: each holds sessions (a timeline, a chat) of its own."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field, model_validator

from ._base import Model


class ProjectSession(Model):
    """A session of a project (``GET /projects/<id>/sessions``, or the one ``POST /projects`` made)."""

    session_id: str = Field(validation_alias=AliasChoices("session_id", "id"))
    project_id: str | None = None
    name: str | None = None
    status: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class Project(Model):
    """A gateway project. Unknown fields are kept; the older ``id``/``status``/``prompt`` are read too."""

    project_id: str = Field(validation_alias=AliasChoices("project_id", "id"))
    user_id: str | None = None
    name: str | None = None
    status: str | None = None
    """Older gateway versions only."""
    prompt: str | None = None
    """Older gateway versions only: the prompt the project started from."""
    cover_assets: list[Any] = Field(default_factory=list)
    session: ProjectSession | None = None
    """The project's session, where the answer carries it (always after ``projects.create``)."""
    created_at: str | None = None
    updated_at: str | None = None
    deleted_at: str | None = None


class ProjectList(Model):
    """``GET /projects``: a bare list, or the list under ``projects``/``items``."""

    projects: list[Project] = Field(default_factory=list, validation_alias=AliasChoices("projects", "items"))

    @model_validator(mode="before")
    @classmethod
    def _bare(cls, data: Any) -> Any:
        return {"projects": data} if isinstance(data, list) else data


class SessionList(Model):
    sessions: list[ProjectSession] = Field(default_factory=list)
