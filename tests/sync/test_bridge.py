"""Edges of the bridge between the caller's thread and the client's loop: a client made inside another event
loop, a stream opened in one thread and left in another, the loop's tasks reused from call to call."""

from __future__ import annotations

import contextvars
import threading
import time
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


async def tasks_in_the_loop() -> int:
    return len(anyio.get_running_tasks())


def test_calls_reuse_the_loops_tasks(nemo: SyncNemoClient, emulator: Emulator) -> None:
    """A call runs in a task the loop keeps between calls: as many as ever ran at once, never one a call;
    a call cancelled by its caller leaves its task usable for the next."""
    runner = nemo._runner
    nemo.credits.balance()
    one_at_a_time = runner.call(tasks_in_the_loop)
    for _ in range(20):
        nemo.credits.balance()
    assert runner.call(tasks_in_the_loop) == one_at_a_time

    emulator.faults.add("credits", "latency", count=8, seconds=0.3)  # 8 calls overlap
    threads = [threading.Thread(target=nemo.credits.balance) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    at_most_eight = runner.call(tasks_in_the_loop)
    assert one_at_a_time < at_most_eight <= one_at_a_time + 7

    for _ in range(5):  # cancelled while the loop runs it (as Ctrl-C does), then a call in that task
        task, finished, _relay = runner._start(anyio.sleep, (10,), {})
        time.sleep(0.02)
        task.cancel()
        assert finished.wait(5)
        assert nemo.credits.balance().total == 10_000
    assert runner.call(tasks_in_the_loop) == at_most_eight


request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


def test_calls_do_not_see_the_callers_context_variables(nemo: SyncNemoClient) -> None:
    """As docs/sync.md says: a call runs in the loop's context, whichever thread set what before it."""

    async def seen() -> str:
        return request_id.get()

    async def set_it() -> None:
        request_id.set("set in a call")

    nemo.credits.balance()  # the loop is running
    request_id.set("set by the caller")
    assert nemo._runner.call(seen) == "unset"
    nemo._runner.call(set_it)
    assert request_id.get() == "set by the caller"  # nor does a call change the caller's


class _ClosedTaskGroup:
    def start_soon(self, *args: object) -> None:
        raise RuntimeError("this task group is not active")


def test_a_call_the_loop_cannot_start_raises_in_the_caller(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop-side hand-off failing (no task can be started) reaches the caller as that error, at once,
    instead of leaving it waiting for an outcome that never comes."""
    with SyncNemoClient(api_url=emulator.url, config_dir=tmp_path) as nemo:
        loop = nemo._runner._loop_now()  # running, no task started yet
        monkeypatch.setattr(loop, "tasks", _ClosedTaskGroup())
        raised: list[BaseException] = []

        def call() -> None:
            try:
                nemo.credits.balance()
            except BaseException as exc:
                raised.append(exc)

        caller = threading.Thread(target=call, daemon=True)
        caller.start()
        caller.join(10)
        assert not caller.is_alive(), "the caller was left waiting"
        assert [type(e) for e in raised] == [RuntimeError]
        assert "not active" in str(raised[0])
        monkeypatch.undo()
        assert nemo.credits.balance().total == 10_000  # the loop still serves calls
