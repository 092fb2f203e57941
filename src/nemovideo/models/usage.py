"""The gateway's usage history: what was charged, granted or expired, and for which conversation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AliasChoices, AliasPath, Field, field_validator

from ._base import Model


class UsageConversation(Model):
    """The conversation (one message to the agent and its tools) a charge paid for."""

    project_id: str | None = None
    session_id: str | None = None
    conversation_id: str | None = None
    user_message: str | None = None
    user_message_hidden: bool = False
    """The turn was a system action, not a message of the user's."""
    tools: list[str] = Field(default_factory=list, validation_alias=AliasChoices("tool_breakdown", "tools"))
    """Tool keys the turn ran (``tool_breakdown[].tool_key``)."""

    @field_validator("tools", mode="before")
    @classmethod
    def _tool_keys(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, list):
            return [v.get("tool_key", "") if isinstance(v, dict) else str(v) for v in value]
        return value


class UsageGrant(Model):
    source: str = ""
    """``welcome``, ``admin``, ``new_version_experience``, ``subscription_webhook:...``."""


class UsageRecord(Model):
    """One entry of ``nemo.credits.history()``: ``amount`` is signed (a charge is negative)."""

    kind: str = Field(validation_alias=AliasChoices("kind", "type"))
    """``conversation``, ``grant`` or ``expire`` (older gateways: their own ``type``)."""
    amount: int = Field(validation_alias=AliasChoices("amount_delta", "credits", "amount"))
    when: datetime | None = Field(default=None, validation_alias=AliasChoices("created_at", "when"))
    id: str | None = None
    description: str | None = None
    conversation: UsageConversation | None = None
    grant: UsageGrant | None = None
    grant_source: str | None = Field(default=None, validation_alias=AliasPath("grant", "source"))

    @property
    def project_id(self) -> str | None:
        return self.conversation.project_id if self.conversation else None

    @property
    def session_id(self) -> str | None:
        return self.conversation.session_id if self.conversation else None

    @property
    def tools(self) -> list[str]:
        return self.conversation.tools if self.conversation else []

    def summary(self) -> str:
        """A line for a person, as the vendor's CLI words it."""
        conv = self.conversation
        if self.kind == "conversation" and conv is not None:
            if conv.user_message_hidden:
                return "System action"
            if conv.user_message:
                text = conv.user_message
                return text if len(text) <= 60 else text[:60] + "…"
            return ", ".join(conv.tools) or conv.conversation_id or "Conversation usage"
        if self.kind == "grant":
            return _grant_label(self.grant_source or "")
        if self.kind == "expire":
            return "Credits expired"
        return self.description or self.kind


def _grant_label(source: str) -> str:
    if source.startswith("subscription_webhook:booster"):
        return "Booster pack"
    if source.startswith("subscription_webhook:"):
        return "Subscription grant"
    labels = {"welcome": "Welcome gift", "new_version_experience": "New version experience credits"}
    return labels.get(source, "Admin adjustment" if source == "admin" else source or "Credits granted")


class UsagePage(Model):
    """One page: ``{items, total, page_no, total_pages, has_next}``, or the older ``{records, total}``."""

    items: list[UsageRecord] = Field(default_factory=list, validation_alias=AliasChoices("items", "records"))
    total: int | None = None
    page_no: int | None = None
    total_pages: int | None = None
    has_next: bool | None = None
