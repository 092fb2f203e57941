"""Typed data returned by the API. Models hold data only, never a client."""

from .credits import Credits
from .draft import Change, Draft, DraftDiff, Segment, Track, TrackType
from .events import (
    AskedQuestion,
    Done,
    Event,
    Heartbeat,
    Media,
    Question,
    QuestionOption,
    StateDelta,
    Status,
    StreamError,
    Text,
    TextDelta,
    Thinking,
    ToolCall,
    ToolResult,
)
from .project import Project, ProjectSession
from .render import RenderJob, RenderStatus
from .reply import Reply
from .session import SessionInfo
from .state import MediaInfo, State
from .upload import UploadedFile
from .usage import UsageConversation, UsageGrant, UsageRecord

__all__ = [
    "AskedQuestion",
    "Change",
    "Credits",
    "Done",
    "Draft",
    "DraftDiff",
    "Event",
    "Heartbeat",
    "Media",
    "MediaInfo",
    "Project",
    "ProjectSession",
    "Question",
    "QuestionOption",
    "RenderJob",
    "RenderStatus",
    "Reply",
    "Segment",
    "SessionInfo",
    "State",
    "StateDelta",
    "Status",
    "StreamError",
    "Text",
    "TextDelta",
    "Thinking",
    "ToolCall",
    "ToolResult",
    "Track",
    "TrackType",
    "UploadedFile",
    "UsageConversation",
    "UsageGrant",
    "UsageRecord",
]
