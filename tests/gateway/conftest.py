"""Fixtures for the gateway's chat: a raw WebSocket server, a gateway client on it, instant waits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

import nemovideo

from ._raw_ws import RawGateway

KEY = "nmv_usr_raWtEstKey0123456789abcdef"


@pytest.fixture
def raw() -> Iterator[RawGateway]:
    server = RawGateway()
    try:
        yield server
    finally:
        server.stop()
    assert not server.errors, server.errors


@pytest.fixture
def ws_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Makes handshake and reconnect waits instant and records them."""
    recorded: list[float] = []

    async def instant(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr("nemovideo._api._ws._sleep", instant)
    return recorded


@pytest.fixture
async def gw(raw: RawGateway, tmp_path: Path) -> AsyncIterator[nemovideo.NemoClient]:
    async with nemovideo.NemoClient(api_key=KEY, api_url=raw.url, config_dir=tmp_path / "nemo") as client:
        yield client
