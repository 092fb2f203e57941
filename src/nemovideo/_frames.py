"""One SSE ``data:`` payload -> typed events.

The payload is parsed and type-checked once, in pydantic-core, into plain dicts (``TypedDict`` schemas:
no model instance per nested object), and each event is then built from those checked values without a
second validation. This is the hot path of a stream: a long turn is tens of thousands of frames.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from pydantic import AliasChoices, ConfigDict, Field, TypeAdapter, ValidationError, with_config
from pydantic.alias_generators import to_camel
from typing_extensions import TypedDict  # pydantic refuses typing.TypedDict before 3.12 (and needs this)

from .models.events import (
    Event,
    Heartbeat,
    Media,
    StateDelta,
    StreamError,
    Text,
    TextDelta,
    ToolCall,
    ToolResult,
)

_WIRE = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")
"""ADK's camelCase and the snake_case of its Python models alike; unknown keys ignored."""


@with_config(_WIRE)
class _FunctionCall(TypedDict, total=False):
    id: str | None
    name: str
    args: dict[str, Any] | None


@with_config(_WIRE)
class _FunctionResponse(TypedDict, total=False):
    id: str | None
    name: str | None
    response: Any


@with_config(_WIRE)
class _Blob(TypedDict, total=False):
    mime_type: str | None
    data: str | None


@with_config(_WIRE)
class _FileData(TypedDict, total=False):
    mime_type: str | None
    file_uri: str | None


@with_config(_WIRE)
class _Part(TypedDict, total=False):
    text: str | None
    thought: bool | None
    function_call: _FunctionCall | None
    function_response: _FunctionResponse | None
    inline_data: _Blob | None
    file_data: _FileData | None


@with_config(_WIRE)
class _Content(TypedDict, total=False):
    role: str | None
    parts: list[_Part] | None


@with_config(_WIRE)
class _Actions(TypedDict, total=False):
    state_delta: dict[str, Any] | None
    artifact_delta: dict[str, Any] | None


@with_config(_WIRE)
class _Frame(TypedDict, total=False):
    """Every top-level key any documented frame form uses, so one Rust-side parse reads them all."""

    # ADK events
    id: str | None
    invocation_id: str | None
    author: str | None
    partial: bool | None
    content: _Content | str | None
    actions: _Actions | None
    error_code: str | int | None
    error_message: str | None
    # simple typed objects (vendor reference 4.4)
    type: str | None
    name: str | None
    args: dict[str, Any] | None
    result: Any
    # error frames
    error: str | dict[str, Any] | None
    error_details: Annotated[
        dict[str, Any] | None, Field(validation_alias=AliasChoices("error_details", "errorDetails"))
    ]


_validate: Callable[[str], _Frame] | None = None


def _validator() -> Callable[[str], _Frame]:
    """Built on first use, not at import (a program that never streams never pays for the schema)."""
    global _validate
    if _validate is None:
        _validate = TypeAdapter(_Frame).validator.validate_json
    return _validate


_E = TypeVar("_E", bound=Event)
_new = object.__new__
_set = object.__setattr__


def _make(cls: type[_E], fields: dict[str, Any], fields_set: set[str]) -> _E:
    """What ``cls.model_construct(**fields)`` makes, without its per-field bookkeeping (half the cost of
    a frame): ``fields`` holds every field in declaration order, values already checked; ``fields_set`` the
    names given explicitly. tests/sdk/test_sse_parser.py pins the result to ``model_construct``'s."""
    event = _new(cls)
    _set(event, "__dict__", fields)
    _set(event, "__pydantic_fields_set__", fields_set)
    _set(event, "__pydantic_extra__", {})
    _set(event, "__pydantic_private__", None)
    return event


def _b64(data: str | None) -> bytes | None:
    if data is None:
        return None
    try:
        return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        return None


def parse_data(data: str) -> list[Event]:
    """Turn one ``data:`` payload into typed events. Never raises: bad frames become ``StreamError``."""
    if not data.strip():
        return [Heartbeat()]
    try:
        frame = (_validate or _validator())(data)
    except ValidationError:
        try:
            json.loads(data)
        except ValueError:
            return [
                StreamError(message="the server sent a frame that is not JSON", details={"raw": data[:500]})
            ]
        return [
            StreamError(message="the server sent a frame of an unknown shape", details={"raw": data[:500]})
        ]
    return _events(frame)


_META = {"event_id", "author", "invocation_id"}


def _events(frame: _Frame) -> list[Event]:
    """Typed events from a validated frame, each part its own event, in order."""
    author = frame.get("author")
    meta: dict[str, Any] = {
        "event_id": frame.get("id"),
        "author": author,
        "invocation_id": frame.get("invocation_id"),
    }
    error = frame.get("error")
    if error is not None:
        message = error if isinstance(error, str) else json.dumps(error)
        details = frame.get("error_details") or (error if isinstance(error, dict) else {})
        code = details.get("error_type") if isinstance(details.get("error_type"), str) else None
        fields = {**meta, "type": "stream_error", "message": message, "code": code, "details": details}
        return [_make(StreamError, fields, {*_META, "message", "code", "details"})]
    content = frame.get("content")
    if not isinstance(content, dict):
        if frame.get("type") is not None:
            return _simple(frame, content)
        content = None

    events: list[Event] = []
    partial = frame.get("partial")
    parts = content.get("parts") if content is not None else None
    is_tool_answer = content is not None and content.get("role") == "user"
    for part in parts or ():
        if part.get("thought"):
            continue  # reasoning, not for display
        text = part.get("text")
        if text is not None and not is_tool_answer:
            if author == "system" and text.startswith("Error: "):
                fields = {**meta, "type": "stream_error", "message": text[7:], "code": None, "details": {}}
                events.append(_make(StreamError, fields, {*_META, "message"}))
            elif partial:
                events.append(
                    _make(TextDelta, {**meta, "type": "text_delta", "text": text}, {*_META, "text"})
                )
            else:
                events.append(_make(Text, {**meta, "type": "text", "text": text}, {*_META, "text"}))
        call = part.get("function_call")
        if call is not None and not partial:
            fields = {
                **meta,
                "type": "tool_call",
                "id": call.get("id"),
                "name": call.get("name", ""),
                "args": call.get("args") or {},
            }
            events.append(_make(ToolCall, fields, {*_META, "id", "name", "args"}))
        answer = part.get("function_response")
        if answer is not None:
            fields = {
                **meta,
                "type": "tool_result",
                "id": answer.get("id"),
                "name": answer.get("name"),
                "result": answer.get("response"),
            }
            events.append(_make(ToolResult, fields, {*_META, "id", "name", "result"}))
        blob = part.get("inline_data")
        if blob is not None and not partial:
            fields = {
                **meta,
                "type": "media",
                "mime_type": blob.get("mime_type"),
                "data": _b64(blob.get("data")),
                "uri": None,
            }
            events.append(_make(Media, fields, {*_META, "mime_type", "data"}))
        ref = part.get("file_data")
        if ref is not None and not partial:
            fields = {
                **meta,
                "type": "media",
                "mime_type": ref.get("mime_type"),
                "data": None,
                "uri": ref.get("file_uri"),
            }
            events.append(_make(Media, fields, {*_META, "mime_type", "uri"}))
    actions = frame.get("actions")
    if actions is not None:
        state, artifacts = actions.get("state_delta"), actions.get("artifact_delta")
        if state or artifacts:
            fields = {**meta, "type": "state_delta", "delta": state or {}, "artifact_delta": artifacts or {}}
            events.append(_make(StateDelta, fields, {*_META, "delta", "artifact_delta"}))
    error_code, error_message = frame.get("error_code"), frame.get("error_message")
    if error_code is not None or error_message:
        code = str(error_code) if error_code is not None else None
        fields = {
            **meta,
            "type": "stream_error",
            "message": error_message or f"the model failed ({code})",
            "code": code,
            "details": {},
        }
        events.append(_make(StreamError, fields, {*_META, "message", "code"}))
    return events


_NO_META: dict[str, Any] = {"event_id": None, "author": None, "invocation_id": None}


def _simple(frame: _Frame, content: str | None) -> list[Event]:
    """A simple typed object (``{"type": "text", "content": ...}``): no ADK metadata."""
    kind = frame.get("type")
    if kind == "text" and content is not None:
        return [_make(Text, {**_NO_META, "type": "text", "text": content}, {"text"})]
    if kind == "text_delta" and content is not None:
        return [_make(TextDelta, {**_NO_META, "type": "text_delta", "text": content}, {"text"})]
    name = frame.get("name")
    if kind == "tool_call" and name:
        fields = {**_NO_META, "type": "tool_call", "id": None, "name": name, "args": frame.get("args") or {}}
        return [_make(ToolCall, fields, {"name", "args"})]
    if kind == "tool_result":
        fields = {**_NO_META, "type": "tool_result", "id": None, "name": name, "result": frame.get("result")}
        return [_make(ToolResult, fields, {"name", "result"})]
    if kind == "heartbeat":
        return [_make(Heartbeat, {**_NO_META, "type": "heartbeat"}, set())]
    if kind == "error":
        fields = {**_NO_META, "type": "stream_error", "message": content or "the agent failed"}
        return [_make(StreamError, {**fields, "code": None, "details": {}}, {"message"})]
    return []  # a type from a newer server: ignore, as with unknown keys
