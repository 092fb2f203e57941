"""Small media for SDK tests: files that pass the API's type checks, and a tiny renderable draft."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import nemovideo

MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
WAV_HEAD = (
    b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00"
    b"\x02\x00\x10\x00data\x00\x00\x00\x00"
)
GENERATE = (
    "Generate a 5-second promotional video from this script: A city that never sleeps. Join us tonight."
)


def png(width: int = 2, height: int = 2) -> bytes:
    """A valid PNG (grey pixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def mp4_like(path: Path, size: int) -> Path:
    """An MP4-looking file of ``size`` bytes, made instantly (sparse after its header)."""
    with path.open("wb") as f:
        f.write(MP4_HEAD)
        f.truncate(size)
    return path


def tiny_draft(src: str | None = None) -> dict[str, Any]:
    """A 2-second 320x180 draft with a scene (or a clip from ``src``), music and a title."""
    video: dict[str, Any] = {"id": "seg_1", "kind": "scene", "name": "intro", "start": 0, "end": 2000,
                             "text": "Hello", "bg": "#1e3a8a"}  # fmt: skip
    if src is not None:
        video = {"id": "seg_1", "kind": "clip", "name": "clip", "start": 0, "end": 2000, "src": src}
    return {
        "d": 2000,
        "m": {"title": "Test", "width": 320, "height": 180, "fps": 25, "aspect": "16:9"},
        "t": [
            {"tt": 0, "m": {"name": "Video"}, "sg": [video]},
            {"tt": 1, "m": {"name": "BGM"}, "sg": [{"id": "seg_2", "kind": "music", "name": "Lo-fi",
              "start": 0, "end": 2000, "style": "lofi", "seed": 7, "volume": 35}]},
            {"tt": 7, "m": {"name": "Title"}, "sg": [{"id": "seg_3", "kind": "text", "name": "Hi", "start": 0,
              "end": 1000, "text": "Hi", "position": "center"}]},
        ],
    }  # fmt: skip


async def session_id(nemo: nemovideo.NemoClient) -> str:
    return (await nemo.sessions.create()).id


async def rendered(nemo: nemovideo.NemoClient) -> nemovideo.RenderJob:
    """A finished render of the tiny draft (start the emulator with ``job_progression="immediate"``)."""
    job = await nemo.render.start(await session_id(nemo), tiny_draft(), quality="draft")
    return await nemo.render.wait(job.id, poll_interval=0.05)
