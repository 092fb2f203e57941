"""A session's state: its draft and the media it knows."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from ._base import Model
from .draft import Draft


class MediaInfo(Model):
    """An uploaded or generated medium as state lists it (``video_infos``)."""

    filename: str | None = None
    file_type: str | None = None
    cdn_url: str | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None


class State(Model):
    """``GET /api/state/nemo_agent/me/<sid>/latest``, flattened: the ``state`` object's keys at the top."""

    session_id: str | None = None
    task_id: str | None = None
    task_name: str | None = None
    project_id: str | None = None
    """The gateway's project (its state is the project's)."""
    draft: Draft = Field(default_factory=Draft)
    video_infos: list[MediaInfo] = Field(default_factory=list)
    canvas_config: dict[str, Any] = Field(default_factory=dict)
    video_analyses: dict[str, Any] | list[Any] = Field(default_factory=dict)
    generated_media: list[Any] = Field(default_factory=list)

    @field_validator("draft", mode="before")
    @classmethod
    def _empty_draft(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("video_infos", "generated_media", mode="before")
    @classmethod
    def _empty_list(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("canvas_config", "video_analyses", mode="before")
    @classmethod
    def _empty_dict(cls, value: Any) -> Any:
        return {} if value is None else value


class StateEnvelopeData(Model):
    """The wire form: session fields beside a nested ``state`` object, validated in one pass."""

    session_id: str | None = None
    task_id: str | None = None
    task_name: str | None = None
    state: State = Field(default_factory=State)

    @field_validator("state", mode="before")
    @classmethod
    def _empty_state(cls, value: Any) -> Any:
        return {} if value is None else value

    def flatten(self) -> State:
        known = {k: getattr(self, k) for k in ("session_id", "task_id", "task_name") if getattr(self, k)}
        return self.state.model_copy(update=known)
