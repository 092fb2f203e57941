"""Fixtures for SDK tests against the emulator (a real server on loopback)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import nemovideo
from nemovideo.emulator import Emulator
from nemovideo.emulator._log import LogEntry


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Makes retry waits instant and records how long each would have been."""
    recorded: list[float] = []

    async def instant(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr("nemovideo._http._sleep", instant)
    return recorded


@pytest.fixture
async def nemo(nemo_emulator: Emulator, tmp_path: Path) -> AsyncIterator[nemovideo.NemoClient]:
    async with nemovideo.NemoClient(api_url=nemo_emulator.url, config_dir=tmp_path / "nemo") as client:
        yield client


GATEWAY_KEY = "nmv_usr_scenarioKey0123456789"
GATEWAY_TWINS = {
    "run_sse": "ws_message",
    "create_session": "gw_project_create",
    "state": "gw_state",
    "upload": "gw_upload",
    "credits": "gw_balance",
    "render_start": "gw_render_start",
    "render_get": "gw_render_get",
}
"""The emulator's name of each skill endpoint's twin on the gateway (``ws_message``: a chat message)."""


@pytest.fixture(params=["skill", "gateway"])
def api(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def either(api: str, nemo_emulator: Emulator, tmp_path: Path) -> AsyncIterator[nemovideo.NemoClient]:
    """A client of each API generation in turn: an anonymous one (skill API), one with an API key (the
    gateway), both on the emulator over loopback. A scenario test taking it runs on both."""
    key = GATEWAY_KEY if api == "gateway" else None
    async with nemovideo.NemoClient(
        api_url=nemo_emulator.url, config_dir=tmp_path / "nemo", api_key=key
    ) as client:
        assert client.config.api == api
        yield client


def twin(api: str, endpoint: str) -> str:
    """The emulator's name of a skill endpoint on the test's API generation (a fault's or a log entry's)."""
    return GATEWAY_TWINS[endpoint] if api == "gateway" else endpoint


def _counts(entry: LogEntry, endpoint: str) -> bool:
    if entry.endpoint == endpoint:
        return True
    if entry.endpoint != GATEWAY_TWINS.get(endpoint):
        return False
    return entry.endpoint != "ws_message" or (entry.extra or {}).get("type") == "message"


def requests_to(emulator: Emulator, endpoint: str) -> int:
    """Requests to ``endpoint`` (a skill endpoint name), or to its gateway twin."""
    return sum(1 for entry in emulator.log if _counts(entry, endpoint))


def messages_sent(emulator: Emulator) -> list[str]:
    """Chat messages the agent got, over ``/run_sse`` or the gateway's WebSocket."""
    return [entry.message or "" for entry in emulator.log if _counts(entry, "run_sse")]


def cut_chat(emulator: Emulator, api: str, *, after: int) -> None:
    """Break the chat after ``after`` events, so the turn's outcome has to be read from the state, as after
    a cut SSE stream. On the gateway the socket closes and so does the one reconnect (``count=2``): that
    one either finds the turn over (its ``done`` comes, what was said between is lost) or running (and is
    cut again); ``Session.send`` reads the state either way."""
    if api == "gateway":
        emulator.faults.add("ws_chat", "ws_close", count=2, after=after, code=1011)
    else:
        emulator.faults.add("run_sse", "cut_stream", after=after)
