"""ADK-shaped events, framed as the recordings in the shared fixtures show: `data: <compact JSON>\\n\\n`."""

from __future__ import annotations

import json
import uuid
from typing import Any

AUTHOR = "nemo_agent"
HEARTBEAT_DATA = b"data: \n\n"
HEARTBEAT_COMMENT = b": keepalive\n\n"


def frame(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"


def new_id() -> str:
    return str(uuid.uuid4())


def event(
    *,
    invocation_id: str,
    event_id: str,
    timestamp: float,
    parts: list[dict[str, Any]] | None,
    role: str = "model",
    partial: bool | None = None,
    finish: bool = False,
    turn_complete: bool = False,
    state_delta: dict[str, Any] | None = None,
    long_running: list[str] | None = None,
) -> dict[str, Any]:
    """One ADK Event, keys in the order ADK's own serialiser writes them."""
    out: dict[str, Any] = {}
    if parts is not None:
        out["content"] = {"parts": parts, "role": role}
    if partial is not None:
        out["partial"] = partial
    if turn_complete:
        out["turnComplete"] = True
    if finish:
        out["finishReason"] = "STOP"
    out["invocationId"] = invocation_id
    out["author"] = AUTHOR
    out["actions"] = {
        "stateDelta": state_delta or {},
        "artifactDelta": {},
        "requestedAuthConfigs": {},
        "requestedToolConfirmations": {},
    }
    out["nodeInfo"] = {"path": f"{AUTHOR}@1"}
    if long_running is not None:
        out["longRunningToolIds"] = long_running
    out["id"] = event_id
    out["timestamp"] = timestamp
    return out


def chunks(text: str, words: int = 3) -> list[str]:
    """Split a reply into the deltas a streaming model would send; joined they give back `text`."""
    tokens = text.split(" ")
    out = []
    for i in range(0, len(tokens), words):
        piece = " ".join(tokens[i : i + words])
        out.append(piece if i == 0 else " " + piece)
    return out
