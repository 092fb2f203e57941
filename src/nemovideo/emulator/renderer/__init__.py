"""The renderer: a draft timeline (JSON data) becomes a real MP4 (H.264 + AAC) through ffmpeg.

Used by the emulator's render jobs and for local previews. `render_draft` validates the draft completely
before ffmpeg starts, so a bad draft raises `DraftError` naming the track, segment and field.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from ._errors import DraftError, FFmpegUnavailable, RenderError
from ._ffmpeg import check_ffmpeg, probe_ffmpeg, run_ffmpeg
from ._fonts import resolve_fonts
from ._graph import QUALITY, Job, build_job, output_args
from ._music import STYLES, synthesize_music
from ._plan import RenderPlan, default_resolve_media, validate_draft

__all__ = [
    "QUALITY",
    "STYLES",
    "DraftError",
    "FFmpegUnavailable",
    "RenderError",
    "RenderPlan",
    "RenderResult",
    "check_ffmpeg",
    "default_resolve_media",
    "render_draft",
    "synthesize_music",
    "validate_draft",
]


@dataclass(frozen=True)
class RenderResult:
    """The finished file: `duration` in seconds (the draft's `d`), `size` in bytes."""

    path: Path
    duration: float
    width: int
    height: int
    size: int


def _link(source: Path, target: Path) -> None:
    try:
        target.symlink_to(source)
    except OSError:
        shutil.copyfile(source, target)


def _target(output: str | os.PathLike[str]) -> tuple[Path, Path]:
    """The absolute target and the hidden temporary file beside it (same filesystem, so rename is atomic)."""
    target = Path(os.path.abspath(output))
    if not target.parent.is_dir():
        raise FileNotFoundError(f"output directory {str(target.parent)!r} does not exist")
    return target, target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")


def _write_job(job: Job, workdir: Path) -> None:
    for name, text in job.files.items():
        (workdir / name).write_text(text, encoding="utf-8")
    for name, path in job.links.items():
        _link(path, workdir / name)
    (workdir / "graph.txt").write_text(job.graph, encoding="utf-8")


async def render_draft(
    draft: Mapping[str, Any],
    output: str | os.PathLike[str],
    *,
    resolve_media: Callable[[str], Path] | None = None,
    quality: str = "high",
    on_progress: Callable[[float], object] | None = None,
    font: str | os.PathLike[str] | None = None,
    ffmpeg: str | None = None,
) -> RenderResult:
    """Render `draft` to an MP4 at `output`.

    ffmpeg writes to a hidden temporary file beside `output`, renamed into place only on success; on failure
    or cancellation the file is removed and ffmpeg is killed, so `output` is either complete or untouched.
    `on_progress` gets percentages (0-100, ending at 100); it may be a coroutine function.
    """
    if quality not in QUALITY:
        raise ValueError(f"unknown quality {quality!r}; expected one of {', '.join(QUALITY)}")
    plan = validate_draft(draft, resolve_media=resolve_media)
    fonts = resolve_fonts(font)
    info = await anyio.to_thread.run_sync(probe_ffmpeg, ffmpeg)
    target, partial = _target(output)
    workdir = Path(tempfile.mkdtemp(prefix="nemovideo-render-"))
    try:
        job = build_job(plan, fonts)
        _write_job(job, workdir)
        for name, music in job.music.items():
            data = await anyio.to_thread.run_sync(synthesize_music, music.style, music.seed, music.seconds)
            (workdir / name).write_bytes(data)
        args = [info.path, "-hide_banner", "-nostdin", "-nostats", "-v", "error", "-y", *job.inputs]
        args += [info.script_option, "graph.txt", *output_args(quality, plan.canvas.fps)]
        args += ["-progress", "pipe:1", "-f", "mp4", str(partial)]
        await run_ffmpeg(args, cwd=workdir, total_seconds=plan.canvas.seconds, on_progress=on_progress)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(workdir, ignore_errors=True)
    c = plan.canvas
    return RenderResult(target, c.seconds, c.width, c.height, os.stat(target).st_size)
