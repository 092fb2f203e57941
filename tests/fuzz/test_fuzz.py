"""Fuzzing the parsers: random and mutated inputs give typed results or documented errors, never a crash."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st

from nemovideo import Credits, Draft, NemoError
from nemovideo._auth import NemoAuth
from nemovideo._config import Config
from nemovideo._http import Requestor
from nemovideo._sse import parse_data
from nemovideo.models.events import (
    Heartbeat,
    Media,
    StateDelta,
    StreamError,
    Text,
    TextDelta,
    ToolCall,
    ToolResult,
)
from nemovideo.models.state import StateEnvelopeData

EVENT_TYPES = (TextDelta, Text, ToolCall, ToolResult, StateDelta, Media, Heartbeat, StreamError)
FIXTURES = Path(__file__).parent.parent / "fixtures" / "adk-sse"


def recorded_frames() -> list[Any]:
    frames = []
    for path in sorted(FIXTURES.glob("*.txt")):
        for line in path.read_text().splitlines():
            if line.startswith("data: "):
                frames.append(json.loads(line[len("data: ") :]))
    return frames


FRAMES = recorded_frames()

json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


@st.composite
def mutated_frame(draw: st.DrawFn) -> Any:
    """A recorded frame with values replaced, keys dropped or added, anywhere in its tree."""
    frame = json.loads(json.dumps(draw(st.sampled_from(FRAMES))))

    def mutate(node: Any) -> Any:
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node)))
            action = draw(st.sampled_from(["replace", "drop", "recurse", "add"]))
            if action == "replace":
                node[key] = draw(json_value)
            elif action == "drop":
                del node[key]
            elif action == "add":
                node[draw(st.text(max_size=10))] = draw(json_value)
            else:
                node[key] = mutate(node[key])
        elif isinstance(node, list) and node:
            index = draw(st.integers(0, len(node) - 1))
            node[index] = mutate(node[index])
        return node

    for _ in range(draw(st.integers(1, 4))):
        frame = mutate(frame)
    return frame


@given(st.text())
def test_parser_never_raises_on_any_text(data: str) -> None:
    events = parse_data(data)
    assert all(isinstance(e, EVENT_TYPES) for e in events)


@given(mutated_frame())
def test_parser_handles_mutated_recordings(frame: Any) -> None:
    events = parse_data(json.dumps(frame))
    assert all(isinstance(e, EVENT_TYPES) for e in events)


@given(st.binary(max_size=200).map(lambda b: b.decode("utf-8", "replace")) | json_value.map(json.dumps))
def test_parser_never_raises_on_json_or_bytes(data: str) -> None:
    assert all(isinstance(e, EVENT_TYPES) for e in parse_data(data))


REQUEST = httpx.Request("GET", "http://127.0.0.1:1/x")
REQUESTOR = Requestor(Config.resolve(api_url="http://127.0.0.1:1"), httpx.AsyncClient(), NemoAuth(Config()))


@given(
    st.integers(100, 599),
    st.binary(max_size=300) | json_value.map(lambda v: json.dumps(v).encode()),
    st.sampled_from(["application/json", "text/html", ""]),
)
def test_envelope_decoder_raises_only_documented_errors(status: int, body: bytes, ctype: str) -> None:
    response = httpx.Response(
        status, content=body, headers={"content-type": ctype} if ctype else {}, request=REQUEST
    )
    try:
        credits = REQUESTOR.decode(response, Credits, envelope="code", endpoint="GET /x")
    except NemoError:
        return
    assert isinstance(credits, Credits)


@given(
    json_value,
    st.sampled_from(["code", "data", "state", "draft"]),
)
def test_state_envelope_mutations(value: Any, where: str) -> None:
    body: dict[str, Any] = {"code": 0, "data": {"session_id": "1", "state": {"draft": {"t": [], "d": 0}}}}
    if where == "code":
        body["code"] = value
    elif where == "data":
        body["data"] = value
    elif where == "state":
        body["data"]["state"] = value
    else:
        body["data"]["state"]["draft"] = value
    response = httpx.Response(200, content=json.dumps(body).encode(), request=REQUEST)
    try:
        data = REQUESTOR.decode(response, StateEnvelopeData, envelope="code", endpoint="GET /state")
        state = data.flatten()
    except NemoError:
        return
    except ValueError as exc:  # pydantic's ValidationError from flatten(): must not escape the resource
        raise AssertionError(f"flatten leaked {type(exc).__name__}") from exc
    assert isinstance(state.draft, Draft)


segment = st.dictionaries(
    st.sampled_from(["id", "name", "text", "kind", "start", "end", "volume", "d", "m", "src", "zz"]),
    json_value,
    max_size=6,
)
track = st.fixed_dictionaries(
    {"tt": st.integers(-5, 20), "sg": st.lists(segment, max_size=3)},
    optional={"m": st.dictionaries(st.text(max_size=5), json_value, max_size=2), "d": st.integers(0, 10**6)},
)
draft = st.fixed_dictionaries(
    {},
    optional={
        "t": st.lists(track, max_size=3),
        "d": st.integers(0, 10**7) | st.floats(0, 1e7),
        "m": st.dictionaries(st.text(max_size=5), json_value, max_size=3),
        "transitions": json_value,
    },
)


@given(draft)
def test_drafts_that_parse_round_trip_exactly(raw: dict[str, Any]) -> None:
    try:
        parsed = Draft.model_validate(raw)
    except ValueError:
        return  # the resource turns this into a ProtocolError
    assert json.dumps(parsed.model_dump(by_alias=True)) == json.dumps(raw)
    parsed.summary()
    parsed.diff(Draft())
