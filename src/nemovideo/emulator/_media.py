"""What an upload is: its family by extension and by content (magic bytes), then a probe with ffmpeg."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import anyio

EXTENSIONS: dict[str, str] = {
    "mp4": "video",
    "mov": "video",
    "avi": "video",
    "webm": "video",
    "mkv": "video",
    "jpg": "image",
    "jpeg": "image",
    "png": "image",
    "gif": "image",
    "webp": "image",
    "mp3": "audio",
    "wav": "audio",
    "m4a": "audio",
    "aac": "audio",
}
SNIFF_BYTES = 64


def extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def sniff(head: bytes) -> set[str]:
    """The container formats `head` (the first bytes of a file) could start; empty when none matches."""
    found: set[str] = set()
    if len(head) >= 12 and head[4:8] == b"ftyp":
        found |= {"mp4", "mov", "m4a"}
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        found |= {"webm", "mkv"}
    if head.startswith(b"RIFF") and len(head) >= 12:
        riff = {b"AVI ": "avi", b"WEBP": "webp", b"WAVE": "wav"}.get(head[8:12])
        if riff:
            found.add(riff)
    if head.startswith(b"\xff\xd8\xff"):
        found |= {"jpg", "jpeg"}
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        found.add("png")
    if head.startswith((b"GIF87a", b"GIF89a")):
        found.add("gif")
    if head.startswith(b"ID3"):
        found |= {"mp3", "aac"}
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        # MPEG audio frame sync; ADTS (AAC) is the 0xFFF1/0xFFF9 case of it.
        found.add("mp3")
        if head[1] & 0xF6 == 0xF0:
            found.add("aac")
    if head.startswith(b"\x00\x00\x00") and b"moov" in head[:16]:
        found |= {"mov", "mp4"}
    return found


def check_type(filename: str, head: bytes) -> tuple[str | None, str]:
    """(file_type, "") when the name and the content agree on an accepted format, else (None, reason)."""
    ext = extension(filename)
    family = EXTENSIONS.get(ext)
    if family is None:
        accepted = "mp4 mov avi webm mkv jpg png gif webp mp3 wav m4a aac"
        return None, f"unsupported file type {ext or '(none)'!r} for {filename!r}; accepted: {accepted}"
    if ext not in sniff(head):
        return None, f"unsupported file: the content of {filename!r} is not {ext}"
    return family, ""


@dataclass
class Probe:
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    has_video: bool = False
    has_audio: bool = False


def ffmpeg_exe() -> str:
    """The ffmpeg binary: `IMAGEIO_FFMPEG_EXE` if set, else the one the imageio-ffmpeg wheel ships."""
    env = os.environ.get("IMAGEIO_FFMPEG_EXE")
    if env:
        return env
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\S+.*?: Video: (.*)")
_SIZE = re.compile(r"(?<![0-9a-fx])(\d{1,5})x(\d{1,5})(?![0-9])")
_FPS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:fps|tbr)")


def parse_ffmpeg_info(stderr: str) -> Probe:
    """Parse the stream summary `ffmpeg -i <file>` prints (it exits 1 for want of an output: expected)."""
    probe = Probe()
    if m := _DURATION.search(stderr):
        probe.duration = round(int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3]), 3)
    if m := _VIDEO.search(stderr):
        probe.has_video = True
        line = m[1]
        if s := _SIZE.search(line):
            probe.width, probe.height = int(s[1]), int(s[2])
        if f := _FPS.search(line):
            probe.fps = float(f[1])
    probe.has_audio = re.search(r"Stream #\S+.*?: Audio:", stderr) is not None
    return probe


async def probe(path: Path) -> Probe:
    """Probe a media file; an undecodable file gives an empty `Probe` rather than an error."""
    try:
        result = await anyio.run_process(
            [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)], check=False, stdin=None
        )
    except OSError:
        return Probe()
    return parse_ffmpeg_info(result.stderr.decode("utf-8", "replace"))
