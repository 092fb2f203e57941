"""How the examples connect: ``NEMO_API_URL`` with your token (``NEMO_TOKEN``, else an anonymous one), or,
with ``--emulator``, a local emulator started in this process (no account, no network).

``NEMO_EMULATOR_GENERATION_SECONDS`` shortens the emulator's generations (default 3 s) for quick runs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import nemovideo

EMULATOR = {"credits": 10_000, "tokens_per_ip": 1_000_000}
"""A generation costs 100 credits and an edit 50: the emulator's default 100 would stop at one."""


def emulator_settings(**overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = dict(EMULATOR)
    if seconds := os.environ.get("NEMO_EMULATOR_GENERATION_SECONDS"):
        settings["generation_seconds"] = float(seconds)
    return {**settings, **overrides}


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--emulator", action="store_true", help="run against a local emulator (offline)")
    p.add_argument(
        "--quality", choices=("high", "medium", "draft"), default="high", help="render quality (default high)"
    )
    return p


@asynccontextmanager
async def connect(use_emulator: bool, **settings: Any) -> AsyncIterator[nemovideo.NemoClient]:
    if not use_emulator:
        async with nemovideo.NemoClient() as nemo:
            yield nemo
        return
    from nemovideo.emulator import serve

    os.environ.pop("NEMO_TOKEN", None)  # your own token is for the real API, not for the emulator
    with tempfile.TemporaryDirectory() as config_dir:  # the emulator's token stays out of your config
        async with (
            serve(**emulator_settings(**settings)) as emu,
            nemovideo.NemoClient(api_url=emu.url, config_dir=config_dir) as nemo,
        ):
            yield nemo
