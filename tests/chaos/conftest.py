"""Chaos tests use the SDK suite's ``waits`` fixture (instant retry sleeps, recorded)."""

from __future__ import annotations

from ..sdk.conftest import waits

__all__ = ["waits"]
