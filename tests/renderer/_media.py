"""Helpers for the renderer tests: make small media with ffmpeg and read rendered files back with PyAV."""

from __future__ import annotations

import math
import struct
import subprocess
from array import array
from pathlib import Path
from typing import Any

import av

from nemovideo.emulator.renderer import check_ffmpeg


def make_media(path: Path, *args: str) -> Path:
    """Run ffmpeg with lavfi inputs to create a test file."""
    subprocess.run([check_ffmpeg(), "-v", "error", "-y", *args, str(path)], check=True, timeout=60)
    return path


def frame_rgb(path: Path, seconds: float) -> tuple[int, int, bytes]:
    """The decoded frame shown at `seconds`, as (width, height, packed RGB bytes)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        chosen: Any = None
        for frame in container.decode(stream):
            if frame.time is not None and frame.time > seconds + 1e-6:
                break
            chosen = frame
        assert chosen is not None
        rgb = chosen.reformat(format="rgb24")
        plane = rgb.planes[0]
        raw = bytes(plane)
        width, height = rgb.width, rgb.height
        packed = b"".join(raw[y * plane.line_size : y * plane.line_size + 3 * width] for y in range(height))
        return width, height, packed


def region_rgb(
    frame: tuple[int, int, bytes], x0: float, y0: float, x1: float, y1: float
) -> tuple[float, float, float]:
    """Mean colour of a region given in fractions of the frame."""
    width, height, data = frame
    total = [0, 0, 0]
    count = 0
    for y in range(int(y0 * height), int(y1 * height)):
        for x in range(int(x0 * width), int(x1 * width)):
            i = 3 * (y * width + x)
            total[0] += data[i]
            total[1] += data[i + 1]
            total[2] += data[i + 2]
            count += 1
    return (total[0] / count, total[1] / count, total[2] / count)


def region_max_luma(frame: tuple[int, int, bytes], x0: float, y0: float, x1: float, y1: float) -> float:
    width, height, data = frame
    best = 0.0
    for y in range(int(y0 * height), int(y1 * height)):
        for x in range(int(x0 * width), int(x1 * width)):
            i = 3 * (y * width + x)
            best = max(best, 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2])
    return best


def audio_rms(path: Path, start: float, end: float) -> float:
    """RMS (0..1) of the mono mix between `start` and `end` seconds."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
    samples = array("h")
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                t = out.time or 0.0
                if start <= t < end:
                    samples.frombytes(bytes(out.planes[0])[: out.samples * 2])
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768


def top_level_boxes(path: Path) -> list[str]:
    """MP4 top-level box types in file order (to see `moov` before `mdat`)."""
    boxes: list[str] = []
    with path.open("rb") as f:
        while header := f.read(8):
            size, kind = struct.unpack(">I4s", header)
            boxes.append(kind.decode("latin-1"))
            if size == 1:
                (size,) = struct.unpack(">Q", f.read(8))
                f.seek(size - 16, 1)
            elif size == 0:
                break
            else:
                f.seek(size - 8, 1)
    return boxes
