"""An injectable clock: token expiry and rate-limit windows read it, tests move it forward."""

from __future__ import annotations

import threading
import time


class Clock:
    """Wall time plus an offset that only grows; `advance()` makes seven days pass in a test."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Seconds since the epoch, as the emulator sees them."""
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
