"""The hostile server for the session, a client of one of its cases, and the bounds every case is held to."""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

import nemovideo

from ._server import HostileServer

DEADLINE = 2.0
"""The total deadline per request attempt the clients run with (seconds)."""
BODY_CAP = 1024 * 1024
"""The JSON body cap (bytes) and the SSE event cap (characters) the clients run with."""
SLACK = 1.5
"""Seconds a case may run past its deadline (scheduling on a busy machine)."""
RSS_BOUND = 64 * 1024 * 1024
"""Peak growth of the resident set during one case. Generous, yet far below what buffering any of these
bodies whole would take (the 200 MB body, the 50 MB event, the 1 GB bomb)."""

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    """Resident set size in bytes, from /proc/self/statm (field 2, in pages)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE


@dataclass
class Usage:
    seconds: float = 0.0
    peak_growth: int = 0
    """Most bytes the resident set grew above its level at the start, sampled every few milliseconds."""


@contextmanager
def bounded(seconds: float, *, memory: int = RSS_BOUND) -> Iterator[Usage]:
    """Measure a case's time and peak RSS growth, then assert both stayed within bounds."""
    usage = Usage()
    base = rss()
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.002):
            usage.peak_growth = max(usage.peak_growth, rss() - base)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    try:
        yield usage
    finally:
        usage.seconds = time.monotonic() - started
        done.set()
        sampler.join()
        usage.peak_growth = max(usage.peak_growth, rss() - base)
    assert usage.seconds < seconds, f"took {usage.seconds:.2f} s, bound {seconds:g} s"
    assert usage.peak_growth < memory, f"RSS grew by {usage.peak_growth / 2**20:.1f} MB"


@contextmanager
def nothing_left_behind() -> Iterator[None]:
    """Fail if the case leaves a warning, or anything for the garbage collector to report: an unclosed
    generator or socket, a coroutine never awaited (trio reports async generators finalised by the collector
    as ``ResourceWarning``s, through ``sys.unraisablehook`` when they happen in a finaliser)."""
    left: list[str] = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda report: left.append(f"{report.exc_value!r} ({report.object!r})")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
            gc.collect()
    finally:
        sys.unraisablehook = previous
    left += [f"{w.category.__name__}: {w.message}" for w in caught]
    assert left == [], left


@pytest.fixture(scope="session")
def hostile_server() -> Iterator[HostileServer]:
    from . import _cases

    server = HostileServer()
    server.handlers.update(_cases.CASES)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def hostile(hostile_server: HostileServer) -> HostileServer:
    hostile_server.clear()
    return hostile_server


ClientFactory = Callable[[str], AbstractAsyncContextManager[nemovideo.NemoClient]]


@pytest.fixture
def client_of(hostile: HostileServer, tmp_path: Path) -> ClientFactory:
    """``async with client_of("case") as nemo``: a client whose API is that case, with small limits and no
    retries (a retry would only repeat the same misbehaviour)."""

    @asynccontextmanager
    async def make(case: str) -> AsyncIterator[nemovideo.NemoClient]:
        async with nemovideo.NemoClient(
            api_url=hostile.url(case), token="nmv_usr_hostiletest", config_dir=tmp_path, max_retries=0
        ) as base:
            yield base.with_options(
                deadline=DEADLINE,
                max_body_size=BODY_CAP,
                max_event_size=BODY_CAP,
                max_stream_events=20_000,
                max_stream_bytes=8 * BODY_CAP,
            )

    return make
