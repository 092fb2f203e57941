"""Typed data returned by the API. Models hold data only, never a client."""

from .credits import Credits
from .draft import Change, Draft, DraftDiff, Segment, Track, TrackType
from .events import Event, Heartbeat, Media, StateDelta, StreamError, Text, TextDelta, ToolCall, ToolResult
from .render import RenderJob, RenderStatus
from .reply import Reply
from .session import SessionInfo
from .state import MediaInfo, State
from .upload import UploadedFile

__all__ = [
    "Change",
    "Credits",
    "Draft",
    "DraftDiff",
    "Event",
    "Heartbeat",
    "Media",
    "MediaInfo",
    "RenderJob",
    "RenderStatus",
    "Reply",
    "Segment",
    "SessionInfo",
    "State",
    "StateDelta",
    "StreamError",
    "Text",
    "TextDelta",
    "ToolCall",
    "ToolResult",
    "Track",
    "TrackType",
    "UploadedFile",
]
