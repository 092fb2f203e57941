"""A render (export) job, read from either of the two documented poll shapes."""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any

from pydantic import AliasChoices, AliasPath, Field, field_validator

from ._base import Model


class RenderStatus(str, enum.Enum):
    """``pending -> processing -> completed | failed``. Unknown values are kept as pseudo-members."""

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @classmethod
    def _missing_(cls, value: object) -> RenderStatus | None:
        if not isinstance(value, str):
            return None
        lowered = value.strip().lower()
        if lowered == "canceled":
            return cls.CANCELLED
        for member in cls:
            if member.value == lowered:
                return member
        member = str.__new__(cls, value)
        member._name_ = value.upper()
        member._value_ = value
        return member

    @property
    def is_terminal(self) -> bool:
        return self in (RenderStatus.COMPLETED, RenderStatus.FAILED, RenderStatus.CANCELLED)


def _from_ms(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, timezone.utc)
    return value


class RenderJob(Model):
    """A render job as last polled. Save ``id``: ``nemo.render.wait(id)`` resumes it, even from another
    program, since the job lives on the server."""

    id: str = Field(validation_alias=AliasChoices("id", "taskId", "task_id", "render_id"))
    status: RenderStatus = RenderStatus.PENDING
    progress: float = 0
    """Percent, 0-100."""
    output_url: str | None = Field(
        default=None, validation_alias=AliasChoices("outputUrl", "output_url", AliasPath("output", "url"))
    )
    """The finished MP4 on the CDN (no auth: the token is never sent there)."""
    duration: float | None = Field(
        default=None, validation_alias=AliasChoices("duration", AliasPath("output", "duration"))
    )
    """Seconds."""
    size: int | None = Field(default=None, validation_alias=AliasChoices("size", AliasPath("output", "size")))
    """Bytes."""
    created_at: datetime | None = Field(
        default=None, validation_alias=AliasChoices("createdAt", "created_at")
    )
    completed_at: datetime | None = Field(
        default=None, validation_alias=AliasChoices("completedAt", "completed_at")
    )
    error: str | None = None
    """Why a failed job failed."""

    @field_validator("created_at", "completed_at", mode="before")
    @classmethod
    def _millis(cls, value: Any) -> Any:
        return _from_ms(value)

    @field_validator("progress", mode="before")
    @classmethod
    def _no_progress(cls, value: Any) -> Any:
        return 0 if value is None else value

    @property
    def cancelled(self) -> bool:
        """Cancelled, whether the status says so or a failure names a cancellation."""
        if self.status is RenderStatus.CANCELLED:
            return True
        return self.status is RenderStatus.FAILED and (self.error or "").strip().lower() in (
            "cancelled",
            "canceled",
        )

    @property
    def done(self) -> bool:
        return self.status.is_terminal
