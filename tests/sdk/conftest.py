"""Fixtures for SDK tests against the emulator (a real server on loopback)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import nemovideo
from nemovideo.emulator import Emulator


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


def requests_to(emulator: Emulator, endpoint: str) -> int:
    return sum(1 for entry in emulator.log if entry.endpoint == endpoint)
