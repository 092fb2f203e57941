"""A floor under a download's transfer rate, so a CDN that trickles gives up instead of going on for hours.

Per-read timeouts catch a server that sends nothing; they never catch one that sends a byte every few
seconds. ``RateFloor`` asks for ``rate * window`` bytes within every ``window`` seconds: each time that quota
is met, a new window starts. It is a cancel scope whose deadline is pushed on by progress, so a stalled read
is interrupted on time even when no byte arrives to wake the loop up.
"""

from __future__ import annotations

from types import TracebackType

import anyio


class RateFloor:
    """``with floor: ... floor.progress(received) ...``; then ``floor.tripped`` says it gave up."""

    def __init__(self, rate: int | None, window: float) -> None:
        self.rate = rate
        self.window = window
        self._quota = 0 if rate is None else max(int(rate * window), 1)
        self._mark = 0
        self._scope = anyio.CancelScope()

    def __enter__(self) -> RateFloor:
        if self.rate is not None:
            self._scope.deadline = anyio.current_time() + self.window
        self._scope.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        return bool(self._scope.__exit__(kind, exc, tb))

    def progress(self, received: int) -> None:
        """``received`` bytes so far: once the window's quota is in, the next window starts now."""
        if self.rate is not None and received - self._mark >= self._quota:
            self._mark = received
            self._scope.deadline = anyio.current_time() + self.window

    @property
    def tripped(self) -> bool:
        """The quota was not met within a window (the transfer was interrupted for it)."""
        return self._scope.cancelled_caught

    def words(self) -> str:
        """What was too slow, in the words of the settings that say so."""
        return (
            f"fewer than {self._quota} bytes arrived in {self.window:g} s "
            f"(limit: min_download_rate={self.rate} bytes/s over download_rate_window={self.window:g} s)"
        )
