"""A call leaves nothing for the garbage collector: no reference cycle, no model rebuilt.

Garbage in cycles makes the collector run inside later calls (the slow tail of per-call latency), and a
parametrized envelope model that the collector may drop is rebuilt, schema and all, by the next call.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from pydantic import BaseModel

import nemovideo

pytestmark = pytest.mark.anyio


@contextmanager
def collected_garbage() -> Iterator[list[object]]:
    """The objects in reference cycles made inside the block (kept by the collector, not freed)."""
    gc.collect()
    found: list[object] = []
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield found
        gc.collect()
        found.extend(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def sdk_objects(garbage: list[object]) -> list[object]:
    """Requests, responses and model classes (the emulator runs in this process: its own cycles are not
    the client's)."""
    kinds = (httpx.Request, httpx.Response)
    return [o for o in garbage if isinstance(o, kinds) or (isinstance(o, type) and issubclass(o, BaseModel))]


async def test_calls_leave_no_reference_cycles(nemo: nemovideo.NemoClient) -> None:
    await nemo.credits.balance()  # the token is fetched, the pool warm
    with collected_garbage() as garbage:
        for _ in range(5):
            credits = await nemo.credits.balance()
    assert credits.available > 0
    assert sdk_objects(garbage) == []
