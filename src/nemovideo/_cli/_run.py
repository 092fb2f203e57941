"""Which API a command talks to: ``NEMO_API_URL`` with the user's or an anonymous token, or an emulator
started in this process (``--emulator``)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx

from .._client import NemoClient

EMULATOR_SETTINGS: dict[str, Any] = {"credits": 10_000, "tokens_per_ip": 1_000_000}
"""The in-process emulator: enough credits for a long chat (a generation costs 100, an edit 50) and no
anonymous-token limit; the other settings are the emulator's defaults (a generation works 3 s)."""

SETTINGS_ENV = "NEMO_EMULATOR_GENERATION_SECONDS"
"""Overrides how long the in-process emulator's generation works (seconds), for fast scripted runs."""


def emulator_settings() -> dict[str, Any]:
    settings = dict(EMULATOR_SETTINGS)
    seconds = os.environ.get(SETTINGS_ENV)
    if seconds:
        try:
            settings["generation_seconds"] = float(seconds)
        except ValueError:
            raise ValueError(f"{SETTINGS_ENV} must be a number of seconds, not {seconds!r}") from None
    return settings


@asynccontextmanager
async def open_client(emulator: bool, *, timeout: httpx.Timeout | None = None) -> AsyncIterator[NemoClient]:
    """A client for the command. With ``emulator`` the token lives in a temporary config directory, so
    the emulator's token never lands in the user's own config."""
    if not emulator:
        async with NemoClient(timeout=timeout) as nemo:
            yield nemo
        return
    try:
        from ..emulator import serve
    except ImportError as exc:  # pragma: no cover - the extra is missing
        raise ImportError(exc.msg, name="starlette") from exc
    with tempfile.TemporaryDirectory(prefix="nemovideo-cli-") as config_dir:
        async with serve(**emulator_settings()) as emu:
            with _without_env("NEMO_TOKEN", "NEMO_CLIENT_ID"):  # the user's token stays off the emulator
                nemo = NemoClient(api_url=emu.url, config_dir=config_dir, timeout=timeout)
            async with nemo:
                yield nemo


@contextmanager
def _without_env(*names: str) -> Iterator[None]:
    """Hide variables while a client reads its settings (it reads them once, when built)."""
    saved = {name: os.environ.pop(name) for name in names if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)
