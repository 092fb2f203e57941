"""The renderer's exceptions, kept apart so every private module can raise them without import cycles."""

from __future__ import annotations


class DraftError(ValueError):
    """A draft the renderer cannot draw; raised before ffmpeg starts, so callers never see ffmpeg errors."""


class FFmpegUnavailable(RuntimeError):
    """The ffmpeg binary is missing or lacks a filter, encoder or muxer the renderer needs."""


class RenderError(RuntimeError):
    """ffmpeg ran and failed; the message ends with the last lines of its stderr."""

    def __init__(self, message: str, *, returncode: int | None = None, stderr: str = "") -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr
