"""A gate in front of httpx's connection pool, so thousands of waiting requests cost linear time.

httpcore's pool rescans every queued request each time a connection frees up: with 2,000 requests
waiting on 100 connections that is quadratic (most of the client's CPU in a 2,000-stream run). Here a
request first waits on a semaphore with as many slots as the pool has connections, so httpcore only
ever sees as many requests as it can serve. The wait keeps httpx's pool timeout and its error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import httpx


class GatedTransport(httpx.AsyncBaseTransport):
    """At most ``slots`` requests inside ``inner`` at once; a slot is held until the response is closed."""

    def __init__(self, inner: httpx.AsyncBaseTransport, slots: int) -> None:
        self._inner = inner
        self._slots = anyio.Semaphore(slots)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        pool_timeout = request.extensions.get("timeout", {}).get("pool")
        with anyio.move_on_after(pool_timeout) as waited:
            await self._slots.acquire()
        if waited.cancelled_caught:
            raise httpx.PoolTimeout(
                f"no free connection in {pool_timeout} s (the pool timeout)", request=request
            )
        try:
            response = await self._inner.handle_async_request(request)
        except BaseException:
            self._slots.release()
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _Released(response.stream, self._slots)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class _Released(httpx.AsyncByteStream):
    """A response body that gives its slot back when it is closed (once)."""

    def __init__(self, inner: httpx.AsyncByteStream, slots: anyio.Semaphore) -> None:
        self._inner = inner
        self._slots: anyio.Semaphore | None = slots

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._inner.__aiter__()

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            slots, self._slots = self._slots, None
            if slots is not None:
                slots.release()
