"""Typed events of the agent's stream (``/run_sse`` on the skill API, the chat WebSocket on the gateway).

One ADK event can carry several parts (text, a tool call, a state change); the parser turns each into its
own typed event, in order. Reasoning (``thought`` parts) is not shown; partial tool calls are never acted on.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ._base import Model


class _Event(Model):
    event_id: str | None = None
    """The ADK event id. Ids repeat (partials share one; artifacts split): never dedupe by it."""
    author: str | None = None
    invocation_id: str | None = None


class TextDelta(_Event):
    """A piece of text still being written (``partial: true``)."""

    type: Literal["text_delta"] = "text_delta"
    text: str


class Text(_Event):
    """A complete text. After deltas, it repeats their whole text."""

    type: Literal["text"] = "text"
    text: str


class ToolCall(_Event):
    """The agent called a tool (only complete calls are reported)."""

    type: Literal["tool_call"] = "tool_call"
    id: str | None = None
    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class ToolResult(_Event):
    """A tool's answer."""

    type: Literal["tool_result"] = "tool_result"
    id: str | None = None
    name: str | None = None
    result: Any = None


class StateDelta(_Event):
    """The session state changed (``actions.stateDelta``), or artifacts were saved (``artifactDelta``)."""

    type: Literal["state_delta"] = "state_delta"
    delta: dict[str, Any] = Field(default_factory=dict)
    artifact_delta: dict[str, Any] = Field(default_factory=dict)


class Media(_Event):
    """Inline bytes (decoded from URL-safe base64) or a file reference sent by the agent."""

    type: Literal["media"] = "media"
    mime_type: str | None = None
    data: bytes | None = None
    uri: str | None = None


class Heartbeat(_Event):
    """The server is still working: an empty ``data:`` line, a ``:`` comment, or a heartbeat object."""

    type: Literal["heartbeat"] = "heartbeat"


class StreamError(_Event):
    """The agent's turn failed mid-stream (the HTTP status stayed 200)."""

    type: Literal["stream_error"] = "stream_error"
    message: str
    code: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class Thinking(_Event):
    """The agent's reasoning (gateway ``thinking_start``/``thinking_chunk``/``thinking_end``); not a reply."""

    type: Literal["thinking"] = "thinking"
    phase: Literal["start", "chunk", "end"] = "chunk"
    text: str = ""


class QuestionOption(Model):
    id: str
    label: str = ""


class AskedQuestion(Model):
    """One question the agent asks, with the options it offers."""

    id: str
    prompt: str = ""
    options: list[QuestionOption] = Field(default_factory=list)
    allow_multiple: bool = False


class Question(_Event):
    """The agent asks before going on (gateway ``ask_question``): answer with the next message."""

    type: Literal["question"] = "question"
    questions: list[AskedQuestion] = Field(default_factory=list)


class Status(_Event):
    """Where the turn stands (gateway ``session_ready``, ``warming_up``, ``status``, ``message_accepted``)."""

    type: Literal["status"] = "status"
    status: str
    detail: dict[str, Any] = Field(default_factory=dict)


class Done(_Event):
    """The turn is complete (gateway ``done``); the stream ends after it."""

    type: Literal["done"] = "done"


Event = (
    TextDelta
    | Text
    | ToolCall
    | ToolResult
    | StateDelta
    | Media
    | Heartbeat
    | StreamError
    | Thinking
    | Question
    | Status
    | Done
)
