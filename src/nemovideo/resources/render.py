"""``nemo.render``: export a draft to MP4, follow the job, fetch the file.

A render start carries an id the SDK makes once (``render_<uuid>``), so repeating the start after a lost
answer cannot make a second job: the retry of the same start reuses the id, and a "duplicate id" answer to
that retry means the first attempt landed. Jobs live on the server; ``wait(id)`` resumes one from its id
alone, in this program or a later one.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
import httpx
from pydantic import ValidationError

from .._api.skill import download_path, job_path
from .._download import ProgressHook, Transfer, display_url, mp4_duration, open_cdn, safe_name, target_path
from .._errors import (
    BadRequestError,
    DownloadError,
    DraftNotReadyError,
    NemoError,
    RenderCancelledError,
    RenderError,
    RenderFailedError,
    RenderTimeoutError,
    UnsupportedOnThisAPI,
)
from .._http import read_capped
from ..models.draft import Draft
from ..models.render import RenderJob, RenderStatus
from ._base import Resource

log = logging.getLogger("nemovideo")

FIRST_POLL = 2.0
"""Seconds before the second poll; each wait after is ×1.5, up to ``MAX_POLL`` (the vendor CLI's pace)."""
POLL_BACKOFF = 1.5
MAX_POLL = 15.0
DEADLINE = 300.0
MAX_RESUMES = 3
"""How many times a cut CDN download is resumed (``Range``) before the API's download route is tried."""
"""Default total wait for a job, seconds."""

Quality = Literal["high", "medium", "draft"]
JobHook = Callable[[RenderJob], object]


async def _sleep(seconds: float) -> None:
    """Indirection so tests can make poll waits instant and record them."""
    await anyio.sleep(seconds)


def poll_intervals(poll_interval: float | None = None) -> Iterator[float]:
    """A fixed ``poll_interval``, else 2 s growing ×1.5 up to 15 s."""
    if poll_interval is not None:
        if poll_interval <= 0:
            raise ValueError("poll_interval must be positive")
        while True:
            yield poll_interval
    wait = FIRST_POLL
    while True:
        yield wait
        wait = min(wait * POLL_BACKOFF, MAX_POLL)


def _is_duplicate(response: httpx.Response) -> bool:
    return response.status_code == 409 and b"duplicate" in response.content.lower()


class RenderResource(Resource):
    async def start(
        self,
        session_id: str,
        draft: Draft | Mapping[str, Any],
        quality: Quality = "high",
        render_id: str | None = None,
        *,
        project_id: str | None = None,
    ) -> RenderJob:
        """Start rendering ``draft`` (read from the session's state) to MP4; export costs no credits.

        A draft with no track holding segments raises ``DraftNotReadyError`` before anything is sent.
        Failed attempts are retried under the same id (a fixed id makes the start safe to repeat).
        On the gateway the render is the project's: ``project_id`` names it, else it is looked up.
        """
        model = draft if isinstance(draft, Draft) else Draft.model_validate(draft)
        if not model.is_ready:
            raise DraftNotReadyError(
                "the draft has no track with segments, so there is nothing to export yet: have the agent "
                "make a video first (e.g. session.send('Generate a 10-second video about ...')), then export"
            )
        requestor = self._requestor
        api = requestor.api
        rid = render_id or api.new_render_id()
        project = await api.project_of(requestor, session_id, project_id)
        body = api.render_body(rid, session_id, project, model.to_api(), quality)
        start_path = api.traits.render_path
        endpoint = f"POST {start_path}"
        attempts = 0

        async def once() -> RenderJob | None:
            nonlocal attempts
            attempts += 1
            response = await requestor.send(requestor.build("POST", start_path, json=body))
            if attempts > 1 and _is_duplicate(response):
                log.info("render %s: an earlier attempt of this start had landed; using that job", rid)
                return None
            return self._job_from(response, endpoint)

        try:
            job: RenderJob | None = await requestor.retrying(once, idempotent=True, what=endpoint)
        except BadRequestError as exc:
            if exc.http_status == 409:
                exc.hint = (
                    f"A render with id {rid!r} exists already: follow it with nemo.render.wait({rid!r}), "
                    "or start without render_id to get a new one."
                )
            raise
        return job if job is not None else await self.get(rid)

    async def get(self, job_id: str) -> RenderJob:
        """The job now (either poll shape of the API). Retried on transient failures: a GET is safe."""
        requestor = self._requestor
        path = requestor.api.render_job_path(job_id)

        async def once() -> RenderJob:
            response = await requestor.send(requestor.build("GET", path))
            return self._job_from(response, f"GET {path}")

        job: RenderJob = await requestor.retrying(once, idempotent=True, what=f"GET {path}")
        return job

    async def cancel(self, job_id: str) -> RenderJob:
        """Stop a job. A job that already ended answers with an error (``BadRequestError``, HTTP 409)."""
        requestor = self._requestor
        path = requestor.api.render_cancel_path(job_id)
        if path is None:
            raise UnsupportedOnThisAPI("render.cancel()", api=requestor.api.name, other=requestor.api.other)

        async def once() -> RenderJob:
            response = await requestor.send(requestor.build("POST", path))
            return self._job_from(response, f"POST {path}")

        job: RenderJob = await requestor.retrying(once, idempotent=True, what=f"POST {path}")
        return job

    async def wait(
        self,
        job_id: str,
        *,
        on_progress: JobHook | None = None,
        poll_interval: float | None = None,
        deadline: float | None = DEADLINE,
        cancel_on_timeout: bool = False,
    ) -> RenderJob:
        """Poll until the job completes and return it; resumes any job from its saved id.

        Polls at ``poll_interval`` seconds, else 2 s growing ×1.5 up to 15 s (on the gateway every 30 s, its
        own cadence). ``on_progress(job)`` is called
        whenever the status or progress changes. A failed job raises ``RenderFailedError``, a cancelled one
        ``RenderCancelledError``. When ``deadline`` seconds pass first, ``RenderTimeoutError`` is raised and
        the job keeps running, unless ``cancel_on_timeout`` asks to cancel it.
        """
        intervals = poll_intervals(
            poll_interval if poll_interval is not None else self._requestor.api.traits.render_poll
        )
        last: RenderJob | None = None
        with anyio.move_on_after(deadline):
            while True:
                job = await self.get(job_id)
                if on_progress is not None and (
                    last is None or (job.status, job.progress) != (last.status, last.progress)
                ):
                    on_progress(job)
                last = job
                if job.done:
                    break
                await _sleep(next(intervals))
        if last is None or not last.done:
            raise await self._timed_out(job_id, last, deadline, cancel_on_timeout)
        if last.cancelled:
            raise RenderCancelledError(f"render {job_id} was cancelled", render_id=job_id, job=last)
        if last.status is RenderStatus.FAILED:
            raise RenderFailedError(
                f"render {job_id} failed: {last.error or 'the server gave no reason'}",
                render_id=job_id,
                job=last,
            )
        return last

    async def _timed_out(
        self, job_id: str, last: RenderJob | None, deadline: float | None, cancel: bool
    ) -> RenderTimeoutError:
        where = f" at {last.progress:g}% ({last.status.value})" if last is not None else ""
        message = f"render {job_id} did not finish within {deadline:g} s{where}"
        if not cancel:
            return RenderTimeoutError(
                f"{message}; it keeps running: resume with nemo.render.wait({job_id!r})",
                render_id=job_id,
                job=last,
            )
        try:
            last = await self.cancel(job_id)
        except NemoError as exc:
            return RenderTimeoutError(
                f"{message}, and cancelling it failed ({exc}); it may still be running",
                render_id=job_id,
                job=last,
            )
        return RenderTimeoutError(f"{message}; it was cancelled", render_id=job_id, job=last, cancelled=True)

    async def export(
        self,
        session_id: str,
        draft: Draft | Mapping[str, Any],
        *,
        quality: Quality = "high",
        on_progress: JobHook | None = None,
        poll_interval: float | None = None,
        deadline: float | None = DEADLINE,
        cancel_on_timeout: bool = False,
        project_id: str | None = None,
    ) -> Video:
        """Start and wait. A job that fails is started once more under a new id (as the vendor documents);
        ``deadline`` covers both attempts."""
        wait: dict[str, Any] = {
            "on_progress": on_progress,
            "poll_interval": poll_interval,
            "cancel_on_timeout": cancel_on_timeout,
        }
        ends = None if deadline is None else anyio.current_time() + deadline

        def remaining() -> float | None:
            return None if ends is None else max(ends - anyio.current_time(), 0.0)

        job = await self.start(session_id, draft, quality, project_id=project_id)
        try:
            job = await self.wait(job.id, deadline=remaining(), **wait)
        except RenderFailedError as exc:
            log.info("render %s failed (%s); starting it once more under a new id", exc.render_id, exc)
            job = await self.start(session_id, draft, quality, project_id=project_id)
            job = await self.wait(job.id, deadline=remaining(), **wait)
        return Video(job, self, draft_duration=_draft_seconds(draft))

    async def download(
        self,
        job_or_url: RenderJob | str,
        path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        on_progress: ProgressHook | None = None,
    ) -> Path:
        """Save a finished render to ``path`` (a file, or a directory to save ``<render id>.mp4`` into).

        ``job_or_url`` is a ``RenderJob``, a render id, or an output URL. The file is fetched from the CDN
        without the bearer token; if that fails, from the API's download route with it. It appears at
        ``path`` complete or not at all; an existing file is replaced only with ``overwrite=True``.
        ``on_progress(bytes_received, total_or_None)`` follows the transfer.
        """
        job, url, render_id = _source(job_or_url)
        default = f"{render_id}.mp4" if render_id else safe_name(urlsplit(url or "").path)
        target = target_path(path, default, overwrite=overwrite)
        if render_id is not None and (job is None or job.status is not RenderStatus.COMPLETED):
            job = await self.get(render_id)
            _check_finished(job)
            url = job.output_url
        config = self._requestor.config
        transfer = Transfer(
            target,
            overwrite=overwrite,
            on_progress=on_progress,
            min_rate=config.min_download_rate,
            rate_window=config.download_rate_window,
        )
        try:
            if url:
                await transfer.reclaim(url)  # what a too-slow download to this path kept
            return await self._fetch(transfer, url, render_id)
        finally:
            transfer.discard()  # whatever is left of a failed or cancelled transfer

    async def _fetch(self, transfer: Transfer, url: str | None, render_id: str | None) -> Path:
        """From the CDN, resuming a cut transfer up to ``MAX_RESUMES`` times; else the API's route."""
        cdn_failure: DownloadError | None = None
        if url:
            for resume in range(MAX_RESUMES + 1):
                before = transfer.written
                try:
                    async with open_cdn(
                        self._requestor.http,
                        url,
                        http_timeout=self._requestor.config.timeout,
                        headers=transfer.resume_headers(),
                    ) as response:
                        await transfer.receive(response)
                    await transfer.commit()
                    return transfer.target
                except DownloadError as exc:
                    if exc.setting is not None:
                        raise  # too slow: the bytes are kept for the next call, not restarted elsewhere
                    cdn_failure = exc
                    if resume == MAX_RESUMES or not transfer.resume_headers() or transfer.written == before:
                        break
                    log.info("%s; resuming from byte %d", exc, transfer.written)
            if render_id is None or self._requestor.api.render_download_path(render_id) is None:
                assert cdn_failure is not None
                what = f"render {render_id}" if render_id else "the video"
                raise DownloadError(
                    f"could not download {what}: the CDN failed ({cdn_failure}); this API has no download "
                    f"route to try instead. Nothing was saved at {transfer.target}; try again later."
                ) from cdn_failure
            log.info(
                "render %s: the CDN download failed (%s); using the API's download route",
                render_id,
                cdn_failure,
            )
        assert render_id is not None
        if self._requestor.api.render_download_path(render_id) is None:
            raise DownloadError(f"render {render_id} has no output URL, so there is nothing to download")
        try:
            async with self._open_download(render_id) as response:
                await transfer.receive(response)  # a whole file: what the CDN left is started over
            await transfer.commit()
        except NemoError as exc:
            if isinstance(exc, DownloadError) and exc.setting is not None:
                raise  # too slow: the bytes are kept for the next call
            first = f"the CDN failed ({cdn_failure}) and " if cdn_failure else ""
            raise DownloadError(
                f"could not download render {render_id}: {first}the API's download route failed ({exc}). "
                f"Nothing was saved at {transfer.target}; try again later."
            ) from exc
        return transfer.target

    @asynccontextmanager
    async def _open_download(self, render_id: str) -> AsyncIterator[httpx.Response]:
        """The API's own download route, with auth; retried like any GET until its headers arrive."""
        requestor = self._requestor
        path = requestor.api.render_download_path(render_id)
        assert path is not None

        async def once() -> httpx.Response:
            response = await requestor.send(requestor.build("GET", path), stream=True)
            if response.status_code >= 400 or "json" in response.headers.get("content-type", ""):
                await read_capped(response, requestor.config.max_body_size, response.request)
                raise requestor.error_from(response, endpoint=f"GET {path}")
            return response

        response: httpx.Response = await requestor.retrying(once, idempotent=True, what=f"GET {path}")
        try:
            yield response
        finally:
            await response.aclose()

    def _job_from(self, response: httpx.Response, endpoint: str) -> RenderJob:
        """A job from a render answer: ``{"success", "data"}``, or the bare poll shape (``taskId``...)."""
        if response.status_code < 400:
            try:
                body = json.loads(response.content)
            except ValueError:
                body = None
            if isinstance(body, dict) and "success" not in body and "code" not in body:
                try:
                    return RenderJob.model_validate(body)
                except ValidationError:
                    pass
        requestor = self._requestor
        return requestor.decode(
            response, RenderJob, envelope=requestor.api.traits.render_envelope, endpoint=endpoint
        )


def _source(job_or_url: RenderJob | str) -> tuple[RenderJob | None, str | None, str | None]:
    """(job, url, render id) of what ``download`` was given."""
    if isinstance(job_or_url, RenderJob):
        return job_or_url, job_or_url.output_url, job_or_url.id
    if urlsplit(job_or_url).scheme in ("http", "https"):
        return None, job_or_url, None
    if not job_or_url:
        raise ValueError("pass a RenderJob, a render id or an output URL")
    return None, None, job_or_url


def _draft_seconds(draft: Draft | Mapping[str, Any]) -> float | None:
    try:
        shaped = draft if isinstance(draft, Draft) else Draft.model_validate(draft)
    except ValidationError:
        return None
    return shaped.duration_ms / 1000 if shaped.duration_ms > 0 else None


def _check_finished(job: RenderJob) -> None:
    if job.cancelled:
        raise RenderCancelledError(
            f"render {job.id} was cancelled: there is nothing to download", render_id=job.id, job=job
        )
    if job.status is RenderStatus.FAILED:
        raise RenderFailedError(
            f"render {job.id} failed ({job.error}): there is nothing to download", render_id=job.id, job=job
        )
    if job.status is not RenderStatus.COMPLETED:
        raise RenderError(
            f"render {job.id} is {job.status.value} ({job.progress:g}%): wait for it first with "
            f"nemo.render.wait({job.id!r})",
            render_id=job.id,
            job=job,
        )


class Video:
    """A finished export: its job, and a way to save the file (``await video.download(path)``).

    Not a model: it holds the render resource, which models never do.
    """

    def __init__(
        self, job: RenderJob, render: RenderResource, *, draft_duration: float | None = None
    ) -> None:
        self.job = job
        self._render = render
        self._draft_duration = draft_duration
        self._file_duration: float | None = None
        self.path: Path | None = None
        """Where the last ``download`` saved the file."""

    @property
    def id(self) -> str:
        return self.job.id

    @property
    def url(self) -> str | None:
        return self.job.output_url

    @property
    def duration(self) -> float | None:
        """Seconds: the file's own once downloaded, else the job's (from the poll), else the draft's."""
        for known in (self._file_duration, self.job.duration, self._draft_duration):
            if known is not None:
                return known
        return None

    async def download(
        self,
        path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        on_progress: ProgressHook | None = None,
    ) -> Path:
        """Save the MP4 to ``path`` (see ``nemo.render.download``)."""
        self.path = await self._render.download(self.job, path, overwrite=overwrite, on_progress=on_progress)
        self._file_duration = await anyio.to_thread.run_sync(mp4_duration, self.path)
        return self.path

    def __repr__(self) -> str:
        shown = display_url(self.url) if self.url else None
        return f"Video(id={self.id!r}, duration={self.duration!r}, url={shown!r})"

    def _repr_html_(self) -> str | None:
        """In Jupyter, a player once the file is downloaded (see ``nemovideo.notebook.video_html``);
        before that, the plain repr (a signed CDN URL is not written into the notebook)."""
        if self.path is None or not self.path.is_file():
            return None
        from ..notebook import video_html

        return video_html(self.path)


__all__ = ["RenderResource", "Video", "download_path", "job_path"]
