"""The gateway's chat messages -> the typed events the SSE path yields, plus the gateway's own.

Field names follow the vendor's CLI (``src/core/agent.ts``, ``types.ts``), which reads several spellings of
some fields: every one of them is accepted here. An unknown ``type`` is skipped, as unknown keys are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from ..models.events import (
    AskedQuestion,
    Done,
    Event,
    Heartbeat,
    Question,
    Status,
    StreamError,
    Text,
    TextDelta,
    Thinking,
    ToolCall,
    ToolResult,
)

STATUS_TYPES = frozenset({"session_ready", "warming_up", "status", "message_accepted"})
TURN_END_TYPES = frozenset({"done", "error"})


def _first(message: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        value = message.get(name)
        if value not in (None, ""):
            return value
    return None


def _text(message: Mapping[str, Any]) -> str | None:
    value = _first(message, "text", "content")
    return value if isinstance(value, str) else None


def _tool_name(message: Mapping[str, Any]) -> str:
    value = _first(message, "tool", "tool_name", "name")
    return value if isinstance(value, str) else ""


def _tool_id(message: Mapping[str, Any]) -> str | None:
    value = _first(message, "tool_call_id", "tool_id", "id")
    return str(value) if value is not None else None


def _chunk(message: Mapping[str, Any]) -> list[Event]:
    text = _text(message)
    return [TextDelta(text=text)] if text else []


def _whole_text(message: Mapping[str, Any]) -> list[Event]:
    text = _text(message)
    return [Text(text=text)] if text else []


def _tool_start(message: Mapping[str, Any]) -> list[Event]:
    args = _first(message, "args", "input", "arguments")
    return [
        ToolCall(name=_tool_name(message), id=_tool_id(message), args=args if isinstance(args, dict) else {})
    ]


def _tool_end(message: Mapping[str, Any]) -> list[Event]:
    return [
        ToolResult(
            name=_tool_name(message) or None,
            id=_tool_id(message),
            result=_first(message, "result", "output"),
        )
    ]


def _question(message: Mapping[str, Any]) -> list[Event]:
    asked: list[AskedQuestion] = []
    for item in message.get("questions") or []:
        try:
            asked.append(AskedQuestion.model_validate(item))
        except ValidationError:
            continue  # a malformed question is dropped, the others kept
    return [Question(questions=asked)]


def _error(message: Mapping[str, Any]) -> list[Event]:
    text = _first(message, "error", "message", "detail")
    code = message.get("code")
    return [
        StreamError(
            message=str(text) if text is not None else "the agent failed",
            code=str(code) if code is not None else None,
        )
    ]


def _status(message: Mapping[str, Any]) -> list[Event]:
    kind = str(message.get("type"))
    status = str(message.get("status") or kind) if kind == "status" else kind
    return [Status(status=status, detail={k: v for k, v in message.items() if k != "type"})]


_DECODERS: dict[str, Callable[[Mapping[str, Any]], list[Event]]] = {
    "chunk": _chunk,
    "text": _whole_text,
    "thinking_start": lambda m: [Thinking(phase="start")],
    "thinking_chunk": lambda m: [Thinking(phase="chunk", text=_text(m) or "")],
    "thinking_end": lambda m: [Thinking(phase="end")],
    "tool_start": _tool_start,
    "toolcall_start": _tool_start,
    "tool_end": _tool_end,
    "toolcall_end": _tool_end,
    "ask_question": _question,
    "done": lambda m: [Done()],
    "pong": lambda m: [Heartbeat()],
    "error": _error,
    **dict.fromkeys(STATUS_TYPES, _status),
}


def decode_message(message: Any) -> list[Event]:
    """The typed events of one server message (a JSON object with a ``type``); [] for anything else."""
    if not isinstance(message, Mapping):
        return []
    decoder = _DECODERS.get(str(message.get("type")))
    return decoder(message) if decoder is not None else []
