"""The aggregated outcome of one message to the agent."""

from __future__ import annotations

from pydantic import Field

from .._router import Route
from ._base import Model
from .draft import Draft, DraftDiff
from .events import AskedQuestion, ToolCall, ToolResult


class Reply(Model):
    """What the agent said and did. ``text`` is never empty: a silent edit is described from the diff."""

    text: str
    """The reply for a person: the agent's final text with GUI instructions translated, or on a silent
    edit a summary of what changed."""
    raw_text: str | None = None
    """The agent's final text as sent (the last non-partial text), or None when it said nothing."""
    texts: list[str] = Field(default_factory=list)
    """Every final text of the turn, in order."""
    suggested_actions: list[Route] = Field(default_factory=list)
    """Actions the agent pointed at through its GUI talk (export, show state, credits...)."""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_results: list[ToolResult] = Field(default_factory=list)
    questions: list[AskedQuestion] = Field(default_factory=list)
    """What the agent asked before going on (gateway): answer with the next message."""
    draft_before: Draft = Field(default_factory=Draft)
    draft_after: Draft = Field(default_factory=Draft)
    changes: DraftDiff = Field(default_factory=DraftDiff)
    credits_spent: int | None = None
    """Credits charged by this turn, when the balance could be read before and after."""
    silent: bool = False
    """The agent sent no text: ``text`` was written from the timeline's changes."""
    recovered: bool = False
    """The stream broke; the outcome was read from the session state (the message was not re-sent)."""

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        spent = "" if self.credits_spent is None else f", credits_spent={self.credits_spent}"
        flags = "".join(f", {n}=True" for n in ("silent", "recovered") if getattr(self, n))
        counts = f"changes={len(self.changes)}, tool_calls={len(self.tool_calls)}"
        return f"Reply(text={self.text!r}, {counts}{spent}{flags})"
