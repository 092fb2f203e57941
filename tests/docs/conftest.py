"""Sample files every docs block finds in its working directory, as a reader would have their own."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

SCRIPT = "Fresh coffee, roasted every morning. Made by people who care. Visit us today.\n"


def _ffmpeg(*args: str) -> None:
    import imageio_ffmpeg

    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", *args],
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture(scope="session")
def sample_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``clip.mp4`` and ``intro.mp4`` (3 s, H.264 and AAC), ``logo.png`` and ``script.txt``."""
    folder = tmp_path_factory.mktemp("samples")
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=3",
        "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
        str(folder / "clip.mp4"),
    )  # fmt: skip
    (folder / "intro.mp4").write_bytes((folder / "clip.mp4").read_bytes())
    _ffmpeg("-f", "lavfi", "-i", "color=c=0x1e3a8a:size=128x128", "-frames:v", "1", str(folder / "logo.png"))
    (folder / "script.txt").write_text(SCRIPT, encoding="utf-8")
    return folder
