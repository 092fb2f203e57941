"""Credit balance."""

from __future__ import annotations

from ._base import Model


class Credits(Model):
    """A balance. ``frozen`` credits are reserved by running work; ``total = available + frozen``."""

    available: int
    """Credits that can be spent now."""
    frozen: int = 0
    """Credits reserved by operations still running; charged when they end, released if they fail."""
    total: int = 0
    """``available + frozen``."""

    def __repr__(self) -> str:
        return f"Credits(available={self.available}, frozen={self.frozen}, total={self.total})"

    def __str__(self) -> str:
        return f"{self.available} credits available ({self.frozen} reserved, {self.total} total)"
