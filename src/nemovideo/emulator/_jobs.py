"""Render jobs: pending -> processing (progress %) -> completed | failed, encoded by the renderer."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio

from ._context import Context
from ._store import RenderJob


def now_ms() -> int:
    return int(time.time() * 1000)


async def _wait_step(job: RenderJob, n: int) -> None:
    while job.steps < n:
        await job.wake.wait()


def step(job: RenderJob) -> None:
    """Manual progression: let the job take its next stage."""
    job.steps += 1
    wake, job.wake = job.wake, anyio.Event()
    wake.set()


def _finish(job: RenderJob, status: str, error: str | None = None) -> None:
    job.status = status
    job.error = error
    job.completed_at = now_ms()
    if status == "completed":
        job.progress = 100


async def run_job(ctx: Context, job: RenderJob) -> None:
    """Run one job to its end. Cancelling `job.scope` (the cancel endpoint, a reset) stops the renderer."""
    manual = ctx.settings.job_progression == "manual"
    with job.scope:
        if manual:
            await _wait_step(job, 1)
        job.status = "processing"
        job.progress = max(job.progress, 10)
        if manual:
            await _wait_step(job, 2)
        try:
            from .renderer import DraftError, render_draft
        except ImportError as exc:
            _finish(job, "failed", f"renderer unavailable: {exc}")
            return
        output = ctx.data_dir / "renders" / f"{job.id}.mp4"

        def resolve(src: str) -> Path:
            path = ctx.local_path(src)
            if path is None:
                raise DraftError(f"media not found on this emulator's CDN: {src}")
            return path

        def progress(percent: float) -> None:
            job.progress = max(job.progress, min(99, 10 + int(percent * 0.89)))

        try:
            result = await render_draft(
                job.draft, output, resolve_media=resolve, quality=job.quality, on_progress=progress
            )
        except DraftError as exc:
            _finish(job, "failed", f"invalid draft: {exc}")
            return
        except Exception as exc:
            _finish(job, "failed", f"render failed: {type(exc).__name__}: {exc}")
            return
        job.output_path = Path(result.path)
        job.output_url = f"{ctx.cdn_url}/renders/{job.id}.mp4"
        job.duration = float(result.duration)
        job.size = int(result.size)
        job.width, job.height = int(result.width), int(result.height)
        _finish(job, "completed")


def poll_body(job: RenderJob, shape: str) -> dict[str, Any]:
    """The poll response in either documented shape."""
    if shape == "output":
        out: dict[str, Any] = {"taskId": job.id, "status": job.status, "progress": job.progress}
        if job.status == "completed":
            out["output"] = {"url": job.output_url, "duration": job.duration, "size": job.size}
        if job.error:
            out["error"] = job.error
        return out
    data: dict[str, Any] = {
        "id": job.id,
        "status": job.status,
        "progress": job.progress,
        "createdAt": job.created_at,
    }
    if job.status == "completed":
        data["outputUrl"] = job.output_url
    if job.completed_at is not None:
        data["completedAt"] = job.completed_at
    if job.error:
        data["error"] = job.error
    return {"success": True, "data": data}
