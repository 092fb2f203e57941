"""Ctrl-C in the calling thread cancels the call under way in the loop, cleanly.

A real SIGINT is sent to the main thread (where pytest runs the tests) while it waits; Python's default
handler raises ``KeyboardInterrupt`` there, as it does for a user at a terminal or in a Jupyter kernel.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

import nemovideo
from nemovideo import SyncNemoClient
from nemovideo.emulator import Emulator

from ..sdk._media import MP4_HEAD, tiny_draft

pytestmark = pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_kill"),
    reason="signals reach the main thread of a POSIX process",
)


def interrupt_when(ready: threading.Event, after: float = 0.0) -> None:
    """Send SIGINT to the main thread ``after`` seconds once ``ready`` is set (from another thread, as a
    terminal would)."""
    main = threading.main_thread().ident
    assert main is not None

    def send() -> None:
        if ready.wait(10):
            time.sleep(after)
            signal.pthread_kill(main, signal.SIGINT)

    threading.Thread(target=send, daemon=True).start()


def test_ctrl_c_during_a_render_wait(
    nemo: SyncNemoClient, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.configure(job_progression="manual")  # the job never finishes by itself
    polling = threading.Event()
    seen: list[str] = []

    async def sleep(seconds: float) -> None:
        polling.set()
        try:
            await anyio.sleep(seconds)
        except anyio.get_cancelled_exc_class():
            seen.append("cancelled")
            raise

    monkeypatch.setattr("nemovideo.resources.render._sleep", sleep)
    session = nemo.sessions.create()
    job = nemo.render.start(session.id, tiny_draft())
    interrupt_when(polling)
    with pytest.raises(KeyboardInterrupt):
        nemo.render.wait(job.id, poll_interval=30)
    assert seen == ["cancelled"]  # the async side saw a cancellation, and unwound before the interrupt
    assert nemo.render.get(job.id).status is nemovideo.RenderStatus.PENDING  # the client goes on working


@pytest.mark.parametrize("how", ["send", "stream"])
def test_ctrl_c_during_a_message_does_not_resend_it(
    nemo: SyncNemoClient, emulator: Emulator, how: str
) -> None:
    emulator.configure(generation_seconds=30)  # heartbeats until the interrupt
    session = nemo.sessions.create()
    streaming = threading.Event()
    interrupt_when(streaming)
    text = "Generate a 3-second video about rain"

    def talk() -> None:
        if how == "send":
            session.send(text, on_event=lambda event: streaming.set())
        else:
            with session.stream(text) as events:
                for _ in events:
                    streaming.set()

    with pytest.raises(KeyboardInterrupt):
        talk()
    nemo.credits.balance()  # a later call works: nothing of the interrupted one is left in the way
    assert [e.message for e in emulator.log if e.endpoint == "run_sse"] == [text]


@contextlib.contextmanager
def stalling_cdn(closed: list[bool]) -> Iterator[str]:
    """A server that sends the start of a 1 MB video, then waits until the client hangs up."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            conn.settimeout(10)
            conn.recv(65536)
            head = b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: 1000000\r\n\r\n"
            conn.sendall(head + MP4_HEAD + b"\0" * 65536)
            try:
                closed.append(conn.recv(1) == b"")
            except TimeoutError:
                closed.append(False)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/renders/r.mp4"
    finally:
        thread.join(15)
        server.close()


def test_ctrl_c_during_a_download_leaves_no_file(
    nemo: SyncNemoClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("nemovideo._download.CHUNK_SIZE", 4096)
    closed: list[bool] = []
    receiving = threading.Event()
    target = tmp_path / "video.mp4"
    with stalling_cdn(closed) as url:
        interrupt_when(receiving)
        with pytest.raises(KeyboardInterrupt):
            nemo.render.download(url, target, on_progress=lambda done, total: receiving.set())
    assert closed == [True]  # the async side hung up
    assert list(tmp_path.iterdir()) == []  # neither the video nor its partial file


def test_ctrl_c_while_a_download_waits_for_bytes_leaves_no_file(
    nemo: SyncNemoClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interrupt lands while the caller's thread is blocked with no hook due (the socket is silent):
    it is raised and the call cancelled at once, not when the server gives up 10 s later."""
    monkeypatch.setattr("nemovideo._download.CHUNK_SIZE", 4096)
    closed: list[bool] = []
    receiving = threading.Event()
    with stalling_cdn(closed) as url:
        interrupt_when(receiving, after=0.3)  # the 64 KB are in by then; the socket is silent
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            nemo.render.download(url, tmp_path / "video.mp4", on_progress=lambda done, total: receiving.set())
        assert time.monotonic() - started < 5.0
    assert closed == [True]
    assert list(tmp_path.iterdir()) == []
