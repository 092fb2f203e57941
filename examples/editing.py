"""Iterative editing: one session keeps the timeline, so each message edits what the last one built.

    python examples/editing.py --emulator

Each reply says what the agent did; when it says nothing (a silent edit), the SDK describes the change
from the timeline's diff. The video is exported once, at the end.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import anyio
from _connect import connect, parser

STEPS = (
    "Generate a 6-second video from this script: Morning light. Fresh bread. Open at seven.",
    "Add upbeat background music",
    "Set the music volume to 20%",
    "Add a title 'Bakery Days' for 2 seconds",
    "Make it 5 seconds",
)


async def main(use_emulator: bool, quality: Literal["high", "medium", "draft"], output: Path) -> None:
    async with connect(use_emulator) as nemo:
        session = await nemo.sessions.create(language="en")
        for number, message in enumerate(STEPS, 1):
            print(f"\n[{number}] you: {message}")
            reply = await session.send(message)
            said = "(silent edit, read from the timeline)" if reply.silent else ""
            print(f"    agent: {reply.text} {said}".rstrip())
            for change in reply.changes.changes:
                print(f"    - {change.describe()}")
            print(f"    {session.draft.summary()}")
        video = await session.export(quality)
        path = await video.download(output, overwrite=True)
        print(f"\nSaved {path} ({session.draft.duration_ms / 1000:g} s)")


if __name__ == "__main__":
    args = parser(__doc__.splitlines()[0])
    args.add_argument("-o", "--output", type=Path, default=Path("editing.mp4"), help="where to save the MP4")
    ns = args.parse_args()
    anyio.run(main, ns.emulator, ns.quality, ns.output)
