"""The emulator's switches, in one mutable dataclass that `configure()` validates."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

ErrorTransport = Literal["json", "http"]
MessageKey = Literal["msg", "message", "error"]
PollShape = Literal["data", "output"]
JobProgression = Literal["real", "immediate", "manual"]
GatewayEnvelope = Literal["code", "success", "bare"]
UsageShape = Literal["items", "records"]
ChunkKey = Literal["text", "content"]
ToolStyle = Literal["tool", "toolcall"]

_CHOICES: dict[str, tuple[str, ...]] = {
    "error_transport": ("json", "http"),
    "message_key": ("msg", "message", "error"),
    "poll_shape": ("data", "output"),
    "job_progression": ("real", "immediate", "manual"),
    "gateway_envelope": ("code", "success", "bare"),
    "gateway_usage_shape": ("items", "records"),
    "gateway_chunk_key": ("text", "content"),
    "gateway_tool_style": ("tool", "toolcall"),
}

_NON_NEGATIVE = (
    "credits",
    "generation_seconds",
    "edit_fraction",
    "heartbeat_interval",
    "text_delay",
    "token_ttl",
    "retry_after",
    "generation_cost",
    "edit_cost",
    "gateway_turn_limit",
)


@dataclass
class Settings:
    """Every switch the emulator has; tests change them with `Emulator.configure(**changes)`.

    Defaults follow API.md where it states a value (100 credits, 7-day tokens, 500 MB uploads, 30 % silent
    edits, 1 token per client and 10 per IP every 7 days) and otherwise favour fast local runs.
    """

    credits: int = 100
    """Credits a new anonymous token starts with."""
    seed: int = 0
    """Seeds ids, silent-edit choices, colours and fault probabilities."""
    silent_share: float = 0.3
    """Share of edits (not generations) that stream no text at all."""
    generation_seconds: float = 3.0
    """How long a generation works (split over its two stages)."""
    edit_fraction: float = 0.1
    """An edit works for `generation_seconds * edit_fraction`."""
    heartbeat_interval: float = 1.0
    """Seconds between heartbeats while work runs."""
    text_delay: float = 0.02
    """Seconds between two partial text deltas."""
    error_transport: ErrorTransport = "json"
    """"json": codes 1001..4002 in a 200 body; "http": with an HTTP status too."""
    message_key: MessageKey = "msg"
    """Key of the failure message in REST error bodies."""
    poll_shape: PollShape = "data"
    """Render poll body: "data" (`data.outputUrl`) or "output" (`output.url`)."""
    max_upload_bytes: int = 500 * 1024 * 1024
    """Largest accepted file (per file)."""
    tokens_per_client: int = 1
    """Anonymous tokens one client id may hold within `token_ttl`."""
    tokens_per_ip: int = 10
    """Anonymous tokens one IP may get within `token_ttl`."""
    token_ttl: float = 7 * 24 * 3600.0
    """Token lifetime and rate-limit window, seconds on the emulator clock."""
    retry_after: float = 30.0
    """`Retry-After` seconds on a rate-limited anonymous-token request."""
    generation_cost: int = 100
    edit_cost: int = 50
    job_progression: JobProgression = "real"
    """Render jobs: "real" (as fast as the renderer), "immediate" (done before the start call answers),
    "manual" (they wait for `Emulator.step_render`)."""
    render_quality: str | None = None
    """Forces a renderer quality preset ("high", "medium", "draft") whatever the request asks."""
    gateway_strict_keys: bool = False
    """Gateway: accept only API keys registered with `Emulator.add_api_key` (else any well-formed
    `nmv_usr_...` key, one account per key)."""
    gateway_envelope: GatewayEnvelope = "code"
    """Gateway REST bodies: "code" (`{code, message, data}`), "success" (`{success, data}`) or "bare"."""
    gateway_usage_shape: UsageShape = "items"
    """Usage history: "items" (paged) or the older "records" (`{records, total}`)."""
    gateway_chunk_key: ChunkKey = "text"
    """Key of the delta in a `chunk` message (and of the text in `text`)."""
    gateway_tool_style: ToolStyle = "tool"
    """"tool": `tool_start`/`tool_end` with `tool`; "toolcall": `toolcall_start`/`toolcall_end` with
    `tool_name`."""
    gateway_turn_limit: float = 600.0
    """Seconds (emulator clock) after which a chat turn is ended with a `turn_timeout` error."""

    def updated(self, **changes: Any) -> Settings:
        """A validated copy with `changes` applied; unknown names and bad values raise."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise TypeError(f"unknown emulator setting(s): {', '.join(unknown)}")
        new = dataclasses.replace(self, **changes)
        new.validate()
        return new

    def validate(self) -> None:
        for name, choices in _CHOICES.items():
            if getattr(self, name) not in choices:
                raise ValueError(f"{name} must be one of {choices}, not {getattr(self, name)!r}")
        for name in _NON_NEGATIVE:
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if not 0.0 <= self.silent_share <= 1.0:
            raise ValueError("silent_share must be within 0..1")
        if self.max_upload_bytes < 1 or self.tokens_per_client < 1 or self.tokens_per_ip < 1:
            raise ValueError("max_upload_bytes, tokens_per_client and tokens_per_ip must be positive")
        if self.heartbeat_interval <= 0:
            raise ValueError("heartbeat_interval must be positive")
        if self.render_quality not in (None, "high", "medium", "draft"):
            raise ValueError("render_quality must be None, 'high', 'medium' or 'draft'")

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
