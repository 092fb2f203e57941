"""Quickstart: describe a video, read the timeline the agent built, export it, download the MP4.

python examples/quickstart.py --emulator     # offline, against a local emulator
python examples/quickstart.py                # against NEMO_API_URL with NEMO_TOKEN or an anonymous token
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import anyio
from _connect import connect, parser

PROMPT = (
    "Generate a 10-second promotional video from this script with background music: "
    "Fresh coffee, roasted every morning. Made by people who care. Visit us today."
)


async def main(use_emulator: bool, quality: Literal["high", "medium", "draft"], output: Path) -> None:
    async with connect(use_emulator) as nemo:
        print(await nemo.credits.balance())
        session = await nemo.sessions.create(language="en")
        print(f"Session {session.id}")

        reply = await session.send(
            PROMPT, on_heartbeat=lambda quiet: print(f"Still working... ({quiet:.0f} s)")
        )
        print(reply.text)  # the agent's words, GUI talk translated
        print(session.draft.summary())  # Timeline (3 tracks): 1. Video: ... 2. BGM: ... 3. Title: ...
        print(f"Credits spent: {reply.credits_spent}")

        video = await session.export(
            quality,
            on_progress=lambda job: print(f"Rendering: {job.progress:.0f}% ({job.status.value})"),
        )
        path = await video.download(output, overwrite=True)
        seconds = video.duration or session.draft.duration_ms / 1000
        print(f"Saved {path} ({seconds:g} s, {path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    args = parser(__doc__.splitlines()[0])
    args.add_argument(
        "-o", "--output", type=Path, default=Path("quickstart.mp4"), help="where to save the MP4"
    )
    ns = args.parse_args()
    anyio.run(main, ns.emulator, ns.quality, ns.output)
