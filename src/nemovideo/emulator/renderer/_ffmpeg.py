"""Finding and checking the ffmpeg binary, and running it as an async subprocess with progress.

The process is always reaped: on cancellation or any error it is killed and waited for under a shielded scope,
so no ffmpeg outlives the call.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import re
import shutil
import subprocess
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio
from anyio.abc import ByteReceiveStream

from ._errors import FFmpegUnavailable, RenderError

FILTERS = (
    "color", "gradients", "drawtext", "zoompan", "scale", "crop", "pad", "setsar", "format", "trim", "loop",
    "settb", "setpts", "fps", "tpad", "concat", "null", "aresample", "aformat", "asetpts", "atrim", "volume",
    "afade", "adelay", "amix", "apad", "anullsrc", "lowpass",
)  # fmt: skip
ENCODERS = ("libx264", "aac")
MUXERS = ("mp4",)


@dataclass(frozen=True)
class FFmpegInfo:
    path: str
    script_option: str


def _locate(ffmpeg: str | None) -> str:
    if ffmpeg is None:
        ffmpeg = os.environ.get("IMAGEIO_FFMPEG_EXE") or None
    if ffmpeg is None:
        try:
            import imageio_ffmpeg
        except ImportError:
            raise FFmpegUnavailable(
                "no ffmpeg: install the 'emulator' extra (imageio-ffmpeg) or set IMAGEIO_FFMPEG_EXE"
            ) from None
        try:
            return str(imageio_ffmpeg.get_ffmpeg_exe())
        except RuntimeError as exc:
            raise FFmpegUnavailable(f"imageio-ffmpeg has no usable ffmpeg binary: {exc}") from None
    found = shutil.which(ffmpeg)
    if found is None:
        raise FFmpegUnavailable(f"ffmpeg binary {ffmpeg!r} not found or not executable")
    return found


def _listing(path: str, what: str) -> set[str]:
    try:
        out = subprocess.run(
            [path, "-hide_banner", f"-{what}"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise FFmpegUnavailable(f"cannot run {path!r}: {exc}") from None
    names: set[str] = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] != "=" and not parts[0].startswith("-"):
            names.add(parts[1])
    return names


@functools.lru_cache(maxsize=8)
def _probe(path: str) -> FFmpegInfo:
    missing = [f"filter {f}" for f in FILTERS if f not in _listing(path, "filters")]
    missing += [f"encoder {e}" for e in ENCODERS if e not in _listing(path, "encoders")]
    missing += [f"muxer {m}" for m in MUXERS if m not in _listing(path, "muxers")]
    if missing:
        raise FFmpegUnavailable(f"ffmpeg at {path!r} lacks what the renderer needs: {', '.join(missing)}")
    version = subprocess.run([path, "-version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"ffmpeg version n?(\d+)\.", version)
    old = match is not None and int(match.group(1)) < 7
    return FFmpegInfo(path, "-filter_complex_script" if old else "-/filter_complex")


def probe_ffmpeg(ffmpeg: str | None = None) -> FFmpegInfo:
    return _probe(_locate(ffmpeg))


def check_ffmpeg(ffmpeg: str | None = None) -> str:
    """The ffmpeg to use (argument, else `IMAGEIO_FFMPEG_EXE`, else imageio-ffmpeg's binary), checked once.

    Raises `FFmpegUnavailable` naming what is missing; a successful check is cached per binary.
    """
    return probe_ffmpeg(ffmpeg).path


async def run_ffmpeg(
    args: Sequence[str],
    *,
    cwd: Path,
    total_seconds: float,
    on_progress: Callable[[float], object] | None,
) -> None:
    """Run ffmpeg with `-progress pipe:1` in `args`; report percentages; raise `RenderError` if it fails."""
    tail: deque[str] = deque(maxlen=25)
    last = -1.0

    async def report(value: float) -> None:
        nonlocal last
        value = round(min(100.0, max(0.0, value)), 2)
        if on_progress is None or value <= last:
            return
        last = value
        result = on_progress(value)
        if inspect.isawaitable(result):
            await result

    async def drain_stderr(stream: ByteReceiveStream) -> None:
        buf = b""
        async for chunk in stream:
            buf += chunk
            *done, buf = buf.split(b"\n")
            tail.extend(line.decode(errors="replace").rstrip() for line in done)
        if buf:
            tail.append(buf.decode(errors="replace").rstrip())

    process = await anyio.open_process(
        list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd
    )
    try:
        assert process.stdout is not None
        assert process.stderr is not None
        async with anyio.create_task_group() as tg:
            tg.start_soon(drain_stderr, process.stderr)
            buf = b""
            async for chunk in process.stdout:
                buf += chunk
                *done, buf = buf.split(b"\n")
                for raw in done:
                    key, _, value = raw.decode(errors="replace").strip().partition("=")
                    if key == "out_time_us" and value.lstrip("-").isdigit() and total_seconds > 0:
                        await report(int(value) / 1e6 / total_seconds * 100)
        returncode = await process.wait()
    except BaseException:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        with anyio.CancelScope(shield=True):
            await process.wait()
            await process.aclose()
        raise
    await process.aclose()
    if returncode != 0:
        lines = [line for line in tail if line.strip()]
        detail = "\n".join(lines[-12:]) or "(no output)"
        raise RenderError(
            f"ffmpeg exited with status {returncode}:\n{detail}",
            returncode=returncode,
            stderr="\n".join(lines),
        )
    await report(100.0)
