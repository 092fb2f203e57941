"""What the API says about an uploaded file."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from ._base import Model


class UploadedFile(Model):
    """One file the session now has; ``cdn_url`` is how drafts and later requests refer to it."""

    filename: str
    file_type: str | None = None
    """"video", "image" or "audio"."""
    cdn_url: str | None = Field(default=None, validation_alias=AliasChoices("cdn_url", "url"))
    file_id: str | None = None
    """The gateway's id of the file."""
    duration: float | None = None
    """Seconds; None for images."""
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    hash: str | None = None
    """The server's content hash."""
    size: int | None = None
    """Bytes, where the server says."""


class UploadResult(Model):
    """``data`` of an upload answer."""

    files: list[UploadedFile] = Field(default_factory=list)
    session_state_applied: bool | None = None
