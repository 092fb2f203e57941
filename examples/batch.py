"""Batch: one short video per input clip, several at once but never more than ``--limit`` together.

    python examples/batch.py --emulator                  # makes three sample clips first
    python examples/batch.py clip1.mp4 clip2.mov -o out/

Each clip gets its own session (a session holds one timeline, and a timeline is edited one message at a
time), is uploaded, turned into a video by the agent, rendered and downloaded. An ``anyio.CapacityLimiter``
caps how many run at once: it spares your credits' rate limits and the renderer.

This loop starts over when it is interrupted. For many videos that must survive a crash or a rate limit
without paying twice, use ``nemovideo batch jobs.jsonl`` or ``nemovideo.batch`` (docs/batch.md).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Literal

import anyio
from _connect import connect, parser

import nemovideo

REQUEST = "Generate a 5-second video from my uploaded clip with background music"


async def make_sample_clips(directory: Path, count: int) -> list[Path]:
    """Small test-pattern clips, made with the ffmpeg that the emulator extra installs."""
    import imageio_ffmpeg

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    clips = []
    for i in range(count):
        clip = directory / f"sample{i + 1}.mp4"
        pattern = ("testsrc", "smptebars", "rgbtestsrc")[i % 3]
        await anyio.run_process(
            [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", f"{pattern}=size=320x180:rate=25",
             "-t", "2", "-pix_fmt", "yuv420p", str(clip)]
        )  # fmt: skip
        clips.append(clip)
    return clips


async def one(
    nemo: nemovideo.NemoClient,
    clip: Path,
    out_dir: Path,
    quality: Literal["high", "medium", "draft"],
    limiter: anyio.CapacityLimiter,
    results: dict[Path, str],
) -> None:
    async with limiter:
        started = time.monotonic()
        print(f"{clip.name}: started ({limiter.borrowed_tokens} of {limiter.total_tokens} running)")
        session = await nemo.sessions.create(language="en")
        await session.upload(clip)
        reply = await session.send(REQUEST)
        video = await session.export(quality)
        path = await video.download(out_dir / f"{clip.stem}-video.mp4", overwrite=True)
        results[clip] = f"{path} ({reply.draft_after.duration_ms / 1000:g} s)"
        print(f"{clip.name}: saved {path.name} in {time.monotonic() - started:.1f} s")


async def main(
    use_emulator: bool,
    clips: list[Path],
    out_dir: Path,
    limit: int,
    quality: Literal["high", "medium", "draft"],
) -> None:
    await anyio.Path(out_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        if not clips:
            clips = await make_sample_clips(Path(scratch), 3)
        limiter = anyio.CapacityLimiter(limit)
        results: dict[Path, str] = {}
        async with connect(use_emulator) as nemo, anyio.create_task_group() as tg:
            for clip in clips:
                tg.start_soon(one, nemo, clip, out_dir, quality, limiter, results)
    print(f"\n{len(results)} videos:")
    for clip, saved in results.items():
        print(f"  {clip.name} -> {saved}")


if __name__ == "__main__":
    args = parser(__doc__.splitlines()[0])
    args.add_argument(
        "clips", nargs="*", type=Path, help="clips to turn into videos (default: three samples)"
    )
    args.add_argument("-o", "--output-dir", type=Path, default=Path("batch-output"), help="where the MP4s go")
    args.add_argument("--limit", type=int, default=2, help="how many run at once (default 2)")
    ns = args.parse_args()
    anyio.run(main, ns.emulator, ns.clips, ns.output_dir, ns.limit, ns.quality)
