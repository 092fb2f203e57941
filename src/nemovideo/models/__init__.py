"""Typed data returned by the API. Models hold data only, never a client."""

from typing import TYPE_CHECKING

from .._lazy import attach

if TYPE_CHECKING:
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

_LAZY = {
    "AskedQuestion": (".events", "AskedQuestion"),
    "Change": (".draft", "Change"),
    "Credits": (".credits", "Credits"),
    "Done": (".events", "Done"),
    "Draft": (".draft", "Draft"),
    "DraftDiff": (".draft", "DraftDiff"),
    "Event": (".events", "Event"),
    "Heartbeat": (".events", "Heartbeat"),
    "Media": (".events", "Media"),
    "MediaInfo": (".state", "MediaInfo"),
    "Project": (".project", "Project"),
    "ProjectSession": (".project", "ProjectSession"),
    "Question": (".events", "Question"),
    "QuestionOption": (".events", "QuestionOption"),
    "RenderJob": (".render", "RenderJob"),
    "RenderStatus": (".render", "RenderStatus"),
    "Reply": (".reply", "Reply"),
    "Segment": (".draft", "Segment"),
    "SessionInfo": (".session", "SessionInfo"),
    "State": (".state", "State"),
    "StateDelta": (".events", "StateDelta"),
    "Status": (".events", "Status"),
    "StreamError": (".events", "StreamError"),
    "Text": (".events", "Text"),
    "TextDelta": (".events", "TextDelta"),
    "Thinking": (".events", "Thinking"),
    "ToolCall": (".events", "ToolCall"),
    "ToolResult": (".events", "ToolResult"),
    "Track": (".draft", "Track"),
    "TrackType": (".draft", "TrackType"),
    "UploadedFile": (".upload", "UploadedFile"),
    "UsageConversation": (".usage", "UsageConversation"),
    "UsageGrant": (".usage", "UsageGrant"),
    "UsageRecord": (".usage", "UsageRecord"),
}
"""Each name loaded on first use, so using one model does not import and define the others."""

if not TYPE_CHECKING:
    __getattr__, __dir__ = attach(__name__, _LAZY)

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
