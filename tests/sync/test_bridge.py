"""Edges of the bridge between the caller's thread and the client's loop: a client made inside another event
loop, a stream opened in one thread and left in another."""

from __future__ import annotations

import threading
from pathlib import Path

import anyio
import pytest

from nemovideo import SyncNemoClient, Text
from nemovideo.emulator import Emulator

from .conftest import threads_left


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_made_inside_a_running_event_loop(emulator: Emulator, tmp_path: Path, backend: str) -> None:
    """What the client makes for its loop is made outside the caller's (a trio lock would not work there)."""
    before = set(threading.enumerate())

    async def main() -> int:
        with SyncNemoClient(api_url=emulator.url, config_dir=tmp_path) as nemo:
            nemo.sessions.create()
            return nemo.credits.balance().total

    assert anyio.run(main, backend=backend) == 10_000
    assert threads_left(before) == []


def test_a_stream_left_in_another_thread(nemo: SyncNemoClient, emulator: Emulator) -> None:
    """Entered in one thread, iterated and left in another (a worker pool may hand the steps to any
    thread): leaving waits for the turn to end there, not in the thread that opened it."""
    session = nemo.sessions.create()
    stream = session.stream("hello there")
    events = stream.__enter__()
    texts: list[str] = []
    left: list[bool | None] = []

    def finish() -> None:
        texts.extend(e.text for e in events if isinstance(e, Text))
        left.append(stream.__exit__(None, None, None))

    worker = threading.Thread(target=finish, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "leaving the stream hung"
    assert texts
    assert left == [False]  # left cleanly, nothing to suppress
    assert nemo.credits.balance().total == 10_000  # the loop is free afterwards
