"""Credit balance."""

from __future__ import annotations

from typing import Any

from pydantic import model_validator

from ._base import Model


class Credits(Model):
    """A balance. ``frozen`` credits are reserved by running work; ``total = available + frozen``."""

    available: int
    """Credits that can be spent now."""
    frozen: int = 0
    """Credits reserved by operations still running; charged when they end, released if they fail."""
    total: int = 0
    """``available + frozen``."""
    total_granted: int | None = None
    """Every credit ever granted to the account (gateway only)."""
    total_consumed: int | None = None
    """Every credit ever spent (gateway only)."""

    @model_validator(mode="before")
    @classmethod
    def _total(cls, data: Any) -> Any:
        """The gateway sends no ``total``: it is ``available + frozen`` there too."""
        if isinstance(data, dict) and data.get("total") is None and isinstance(data.get("available"), int):
            return {**data, "total": data["available"] + int(data.get("frozen") or 0)}
        return data

    def __repr__(self) -> str:
        return f"Credits(available={self.available}, frozen={self.frozen}, total={self.total})"

    def __str__(self) -> str:
        return f"{self.available} credits available ({self.frozen} reserved, {self.total} total)"
