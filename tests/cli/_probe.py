"""What a produced MP4 really holds, read with PyAV: proof that a command made a playable video."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import av

SCRIPT = Path(sys.executable).with_name("nemovideo")
"""The installed ``nemovideo`` command of the environment running the tests."""


@dataclass(frozen=True)
class Probe:
    duration: float
    width: int
    height: int
    frames: int
    audio: bool


def probe(path: Path) -> Probe:
    assert path.is_file(), f"no video at {path}"
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video))
        duration = float(container.duration or 0) / 1_000_000
        return Probe(
            duration,
            video.codec_context.width,
            video.codec_context.height,
            frames,
            bool(container.streams.audio),
        )
