"""Small real media files for the emulator tests, made once per session with the bundled ffmpeg."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from nemovideo.emulator._media import ffmpeg_exe


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """clip.mp4 (2 s, 320x180, 25 fps, red, with a tone), still.png (64x48), tone.wav (1 s)."""
    root = tmp_path_factory.mktemp("media")
    _ffmpeg(
        "-f", "lavfi", "-i", "color=c=red:s=320x180:r=25:d=2",
        "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(root / "clip.mp4"),
    )  # fmt: skip
    _ffmpeg("-f", "lavfi", "-i", "color=c=blue:s=64x48", "-frames:v", "1", str(root / "still.png"))
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=220:duration=1", str(root / "tone.wav"))
    return root
