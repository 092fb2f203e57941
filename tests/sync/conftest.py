"""Fixtures for the sync client against the emulator (a real server on loopback)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from nemovideo import SyncNemoClient
from nemovideo._sync import THREAD_NAME
from nemovideo.emulator import Emulator


@pytest.fixture
def emulator(nemo_emulator: Emulator) -> Emulator:
    nemo_emulator.configure(credits=10_000, silent_share=0.0, generation_seconds=0.1)
    return nemo_emulator


@pytest.fixture
def nemo(emulator: Emulator, tmp_path: Path) -> Iterator[SyncNemoClient]:
    with SyncNemoClient(api_url=emulator.url, config_dir=tmp_path / "nemo") as client:
        yield client


def loop_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


def threads_left(before: set[threading.Thread], timeout: float = 5.0) -> list[threading.Thread]:
    """Threads started since ``before`` that are still alive after ``timeout`` seconds."""
    for thread in set(threading.enumerate()) - before:
        thread.join(timeout)
    return [t for t in set(threading.enumerate()) - before if t.is_alive()]
