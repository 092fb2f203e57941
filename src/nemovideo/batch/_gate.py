"""One pace for the whole batch: a rate limit seen by any job holds every job's next request.

The batch's client is derived with ``max_retries=0`` so that every refusal reaches this layer, which
decides for all jobs at once: a 429 closes the gate for its ``Retry-After``; a transient failure of a
request that is safe to repeat is retried with jittered backoff. Each is bounded by ``max_attempts``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

from .._errors import APIConnectionError, DownloadError, ProtocolError, RateLimitError, ServerError
from .._retry import RATE_LIMIT_DEFAULT_WAIT, retry_wait

T = TypeVar("T")


class RateGate:
    """Closed until a moment on the event loop's clock; every request of the batch waits for it."""

    def __init__(self, *, max_wait: float) -> None:
        self.max_wait = max_wait
        self._opens_at = 0.0
        self.limited = 0
        """How many 429 answers the batch received."""
        self.closed_for = 0.0
        """Seconds the gate was closed in all (overlapping closures counted once)."""

    async def wait(self) -> None:
        while (left := self._opens_at - anyio.current_time()) > 0:  # noqa: ASYNC110 - a deadline
            await anyio.sleep(left)  # that moves later, not an event

    def close_for(self, exc: RateLimitError) -> None:
        """Hold every job for the server's ``Retry-After`` (30 s when it gave none)."""
        seconds = exc.retry_after if exc.retry_after is not None else RATE_LIMIT_DEFAULT_WAIT
        if seconds > self.max_wait:
            exc.hint = (
                f"The server asked to wait {seconds:g} s, longer than max_rate_wait ({self.max_wait:g} s, "
                "--max-rate-wait): rerun the batch later; it continues where it stopped."
            )
            raise exc
        now = anyio.current_time()
        self.limited += 1
        ends = now + seconds
        if ends > self._opens_at:
            self.closed_for += ends - max(now, self._opens_at)
            self._opens_at = ends

    async def call(self, what: Callable[[], Awaitable[T]], *, safe: bool, max_attempts: int) -> T:
        """``what()`` once the gate is open; a 429 (a refusal: nothing was done) is always repeated after
        the gate reopens, a transient failure only when ``safe`` says the request may be repeated."""
        attempt = 0
        while True:
            await self.wait()
            attempt += 1
            try:
                return await what()
            except RateLimitError as exc:
                if attempt >= max_attempts:
                    raise
                self.close_for(exc)
            except (ServerError, APIConnectionError, ProtocolError, DownloadError) as exc:
                if not safe or attempt >= max_attempts:
                    raise
                await anyio.sleep(retry_wait(exc, attempt=attempt, max_wait=self.max_wait))
