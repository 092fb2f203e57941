"""Fixtures for the command's tests: the emulator as ``NEMO_API_URL``, quick generations."""

from __future__ import annotations

import pytest

from nemovideo.emulator import Emulator


@pytest.fixture
def api(nemo_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The test emulator as the API the command talks to (without --emulator), with credits for edits."""
    nemo_emulator.configure(credits=10_000)
    monkeypatch.setenv("NEMO_API_URL", nemo_emulator.url)
    return nemo_emulator
