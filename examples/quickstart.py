"""Quickstart: connect, check credits, describe a video, read the timeline the agent built.

    python examples/quickstart.py --emulator     # offline, against a local emulator
    python examples/quickstart.py                # against NEMO_API_URL with NEMO_TOKEN or an anonymous token
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from collections.abc import AsyncIterator

import anyio

import nemovideo

PROMPT = (
    "Generate a 10-second promotional video from this script with background music: "
    "Fresh coffee, roasted every morning. Made by people who care. Visit us today."
)


@contextlib.asynccontextmanager
async def client(use_emulator: bool) -> AsyncIterator[nemovideo.NemoClient]:
    if not use_emulator:
        async with nemovideo.NemoClient() as nemo:
            yield nemo
        return
    from nemovideo.emulator import serve

    with tempfile.TemporaryDirectory() as config_dir:  # the emulator's token stays out of your config
        async with serve() as emu, nemovideo.NemoClient(api_url=emu.url, config_dir=config_dir) as nemo:
            yield nemo


async def main(use_emulator: bool) -> None:
    async with client(use_emulator) as nemo:
        print(await nemo.credits.balance())
        session = await nemo.sessions.create(language="en")
        print(f"Session {session.id}")
        reply = await session.send(PROMPT, on_heartbeat=lambda s: print(f"Still working... ({s:.0f} s)"))
        print(reply.text)
        print(session.draft.summary())
        print(f"Credits spent: {reply.credits_spent}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emulator", action="store_true", help="run against a local emulator")
    anyio.run(main, parser.parse_args().emulator)
