"""Running the jobs: bounded concurrency on one client, each job continuing from its last recorded step.

A job's steps, each recorded in the ledger before (intent) and after (outcome) it:

1. session created (its id recorded);
2. files uploaded (on a rerun after an unfinished upload, the session's media are read first);
3. each message sent (recorded as sent before the request, as replied after): a message recorded as sent
   whose reply was not recorded is never sent again; its outcome is read from the session's state;
4. render id chosen (recorded before the render request), render done: a recorded id is resumed;
5. file saved (atomically: complete or absent): a saved file is not downloaded again.

One failed job never stops the others. Insufficient credits (2001), or a balance that would drop below
``max_credits``, stops new jobs from starting; the running ones finish.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import anyio
import anyio.to_thread
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._client import NemoClient
from .._download import mp4_duration
from .._errors import (
    AgentError,
    APIConnectionError,
    APIError,
    BadRequestError,
    DraftNotReadyError,
    InsufficientCreditsError,
    NemoError,
    RateLimitError,
    RenderCancelledError,
    RenderFailedError,
    RenderTimeoutError,
    ServerError,
    SessionNotFoundError,
    StreamDisconnected,
    StreamTimeout,
)
from ..models.draft import Draft
from ..models.events import StreamError
from ..models.render import RenderJob, RenderStatus
from ..models.state import State
from ..resources.render import poll_intervals
from ..session import Session
from ._gate import RateGate
from ._ledger import Entry, Ledger
from ._manifest import Job

T = TypeVar("T")
Status = Literal["done", "skipped", "changed", "failed", "not started"]
StepHook = Callable[[Job, str], object]

RENDER_STARTS = 2
"""A render that fails is started once more under a new id (as the vendor documents), not more."""


@dataclass(frozen=True)
class BatchOptions:
    """How a batch runs. Every wait has a deadline and every retry a limit; each error names its setting."""

    jobs: int = 4
    """How many jobs run at once."""
    max_credits: int | None = None
    """Start no job that would bring the balance below this (estimated per job from the costs below)."""
    generation_cost: int = 100
    """Credits a job's prompt is estimated to cost (the documented ~100 a clip)."""
    edit_cost: int = 50
    """Credits each edit is estimated to cost (the documented ~50)."""
    redo_changed: bool = False
    """Redo jobs whose inputs changed since the ledger recorded them (a new session, new credits)."""
    redo_failed: bool = False
    """Start failed jobs over from nothing instead of continuing them from their last step."""
    overwrite: bool = False
    """Replace output files that exist but that the ledger did not save."""
    language: str | None = None
    """The agent's language for new sessions."""
    max_attempts: int = 6
    """Tries of one request after rate limits (429) or, for a request safe to repeat, transient failures."""
    max_rate_wait: float = 300.0
    """The longest ``Retry-After`` honoured, in seconds; a longer one stops the job (rerun later)."""
    settle: float = 20.0
    """Seconds the timeline must stay unchanged before a message whose reply was not seen counts as done."""
    recover_deadline: float = 900.0
    """Seconds to wait for such a message's outcome in the session's state before giving up on it."""
    render_deadline: float = 600.0
    """Seconds to wait for one render."""
    poll_interval: float | None = None
    """Seconds between render polls (default: 2 s growing to 15 s)."""

    def __post_init__(self) -> None:
        if self.jobs < 1:
            raise ValueError("jobs must be at least 1")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")


@dataclass(frozen=True)
class JobResult:
    """How a job ended: its file, or the error (class, message and what to do)."""

    job: Job
    status: Status
    path: Path | None = None
    duration: float | None = None
    """Seconds of video."""
    size: int | None = None
    """Bytes of the MP4."""
    credits: int | None = None
    """Credits the job spent, when measured alone (jobs overlapping in time share one balance)."""
    session_id: str | None = None
    render_id: str | None = None
    error: str | None = None
    """The error's class name."""
    message: str | None = None
    hint: str | None = None
    elapsed: float = 0.0
    """Seconds this run spent on the job."""

    @property
    def ok(self) -> bool:
        return self.status in ("done", "skipped")

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.job.row,
            "status": self.status,
            "output": str(self.job.output),
            "duration": self.duration,
            "size": self.size,
            "credits": self.credits,
            "session_id": self.session_id,
            "render_id": self.render_id,
            "error": self.error,
            "message": self.message,
            "hint": self.hint,
            "elapsed": round(self.elapsed, 3),
            "prompt": self.job.prompt,
        }


def draft_hash(draft: Draft) -> str:
    return hashlib.sha256(json.dumps(draft.to_api(), sort_keys=True).encode()).hexdigest()[:32]


class _Stop(Exception):
    """The job does not start (no credits, or the budget); ``status`` and words for its result."""

    def __init__(self, status: Status, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.hint = hint


class Batch:
    """One run of a list of jobs; ``async with batch.results() as results: async for r in results``.

    After the run, ``gate`` tells how often the batch was rate limited, ``balance_before``/``after`` the
    credits of the whole run.
    """

    def __init__(
        self,
        nemo: NemoClient,
        jobs: Sequence[Job],
        ledger: Ledger,
        options: BatchOptions | None = None,
        *,
        on_step: StepHook | None = None,
    ) -> None:
        self.options = options or BatchOptions()
        self.nemo = nemo.with_options(max_retries=0)  # every refusal reaches the shared gate
        self.jobs = list(jobs)
        self.ledger = ledger
        self.on_step = on_step
        self.gate = RateGate(max_wait=self.options.max_rate_wait)
        self.stopped: str | None = None
        """Why new jobs stopped starting, if they did."""
        self.stop_hint: str | None = None
        self.balance_before: int | None = None
        self.balance_after: int | None = None
        self._reserved = 0
        self._budget = anyio.Lock()
        self._sending: set[object] = set()
        self._overlapped: set[object] = set()

    # -- plumbing ---------------------------------------------------------------------------------------
    async def _call(self, what: Callable[[], Awaitable[T]], *, safe: bool = True) -> T:
        return await self.gate.call(what, safe=safe, max_attempts=self.options.max_attempts)

    def _step(self, job: Job, text: str) -> None:
        if self.on_step is not None:
            self.on_step(job, text)

    async def _total(self) -> int | None:
        try:
            return (await self._call(self.nemo.credits.balance)).total
        except NemoError:
            return None

    # -- the run ----------------------------------------------------------------------------------------
    @asynccontextmanager
    async def results(self) -> AsyncIterator[MemoryObjectReceiveStream[JobResult]]:
        """Start the jobs; yield a stream of their results as each finishes (in finishing order)."""
        self.balance_before = await self._total()
        send, receive = anyio.create_memory_object_stream[JobResult](len(self.jobs) or 1)
        slots = anyio.Semaphore(self.options.jobs)
        async with anyio.create_task_group() as tg:

            async def all_jobs() -> None:
                async with send, anyio.create_task_group() as inner:
                    for job in self.jobs:  # taken in manifest order; each job gives its slot back
                        await slots.acquire()
                        inner.start_soon(self._one, job, slots, send.clone())
                self.balance_after = await self._total()

            tg.start_soon(all_jobs)
            try:
                async with receive:
                    yield receive
            except BaseException:
                tg.cancel_scope.cancel()  # the reader stopped: so do the jobs (each step is recorded)
                raise

    async def _one(self, job: Job, slots: anyio.Semaphore, out: MemoryObjectSendStream[JobResult]) -> None:
        try:
            await self._report(job, out)
        finally:
            slots.release()

    async def _report(self, job: Job, out: MemoryObjectSendStream[JobResult]) -> None:
        async with out:
            started = time.monotonic()
            result = await self._result(job)
            await out.send(_with_elapsed(result, time.monotonic() - started))

    async def _result(self, job: Job) -> JobResult:
        entry = await self.ledger.get(str(job.output))
        owned = entry is not None  # an output this ledger recorded may be replaced when redone
        if entry is not None and entry.fingerprint != job.fingerprint:
            if not self.options.redo_changed:
                return JobResult(
                    job,
                    "changed",
                    session_id=entry.session_id,
                    message="its inputs (prompt, files, edits, quality) changed since it was recorded",
                    hint="Rerun with --redo-changed to make it again (a new session: it costs credits).",
                )
            entry = None
        if entry is not None and entry.status == "failed" and self.options.redo_failed:
            entry = None
        if entry is not None and entry.saved and _saved_whole(job.output, entry.size):
            return JobResult(
                job,
                "skipped",
                path=job.output,
                duration=entry.duration,
                size=entry.size,
                credits=entry.credits,
                session_id=entry.session_id,
                render_id=entry.render_id,
                message="saved by an earlier run",
            )
        estimate = 0
        try:
            if entry is None or not entry.started:
                if self.stopped is not None:
                    raise _Stop("not started", self.stopped, self.stop_hint)
                if not owned and not self.options.overwrite and job.output.exists():
                    raise FileExistsError(
                        17, "the output exists and the ledger did not save it", str(job.output)
                    )
            remaining = len(job.messages) - (entry.replied if entry is not None else 0)
            if remaining > 0:
                estimate = await self._reserve(job, remaining)
            if entry is None:
                entry = await self.ledger.begin(str(job.output), job.fingerprint, job.row)
            return await self._make(job, entry)
        except _Stop as stop:
            return JobResult(job, stop.status, message=stop.message, hint=stop.hint)
        except (NemoError, OSError) as exc:
            if isinstance(exc, InsufficientCreditsError) and self.stopped is None:
                self.stopped = "the credits ran out (2001)"
                self.stop_hint = exc.hint
            return await self._failed(job, entry, exc)
        finally:
            self._reserved -= estimate

    async def _reserve(self, job: Job, messages: int) -> int:
        """The job's estimated cost, counted against ``max_credits`` with the other running jobs'."""
        limit = self.options.max_credits
        if limit is None:
            return 0
        estimate = self.options.generation_cost + self.options.edit_cost * (messages - 1)
        if messages < len(job.messages):
            estimate = self.options.edit_cost * messages
        async with self._budget:
            if self.stopped is not None:
                raise _Stop("not started", self.stopped, self.stop_hint)
            available = (await self._call(self.nemo.credits.balance)).available
            if available - self._reserved - estimate < limit:
                self.stopped = (
                    f"the balance ({available} credits, {self._reserved} reserved by running jobs) would "
                    f"drop below --max-credits {limit} (a job is estimated at {estimate})"
                )
                self.stop_hint = "Top up credits or lower --max-credits, then rerun: done jobs are skipped."
                raise _Stop("not started", self.stopped, self.stop_hint)
            self._reserved += estimate
        return estimate

    async def _failed(self, job: Job, entry: Entry | None, exc: BaseException) -> JobResult:
        message, hint = _words(exc)
        if isinstance(exc, SessionNotFoundError) and entry is not None and entry.session_id:
            hint = (
                f"The session the ledger recorded ({entry.session_id}) is gone (an emulator's sessions end "
                "with it): rerun with --redo-failed to start the job over in a new session."
            )
        if entry is not None:
            with anyio.CancelScope(shield=True):
                entry = await self.ledger.record(entry, status="failed", error=type(exc).__name__, hint=hint)
        return JobResult(
            job,
            "failed",
            session_id=entry.session_id if entry is not None else None,
            render_id=entry.render_id if entry is not None else None,
            error=type(exc).__name__,
            message=message,
            hint=hint,
        )

    # -- one job's steps --------------------------------------------------------------------------------
    async def _make(self, job: Job, entry: Entry) -> JobResult:
        ledger = self.ledger
        entry = await ledger.record(entry, status="running")
        if entry.session_id is None:
            self._step(job, "creating a session")
            session = await self._call(lambda: self.nemo.sessions.create(language=self.options.language))
            entry = await ledger.record(entry, session_id=session.id, task_id=session.task_id)
        else:
            session = self.nemo.sessions.get(entry.session_id, task_id=entry.task_id)
        if job.files and not entry.uploaded:
            entry = await self._upload(job, entry, session)
        spent: list[int | None] = []
        while entry.replied < len(job.messages):
            entry = await self._message(job, entry, session, spent)
        state = await self._call(session.state)
        if not state.draft.is_ready:
            raise DraftNotReadyError(
                "the agent answered but built no timeline, so there is nothing to export: reword the prompt "
                "(say what to show, how long), then rerun with --redo-changed"
            )
        rid = entry.render_id
        if entry.rendered and rid is not None:
            finished = await self._call(lambda: self.nemo.render.get(rid))
        else:
            entry, finished = await self._render(job, entry, session, state.draft)
        self._step(job, "downloading")
        await anyio.Path(job.output.parent).mkdir(parents=True, exist_ok=True)
        path = await self._call(lambda: self.nemo.render.download(finished, job.output, overwrite=True))
        size = (await anyio.Path(path).stat()).st_size
        duration = await anyio.to_thread.run_sync(mp4_duration, path)
        known = [s for s in spent if s is not None]
        credits = sum(known) if spent and len(known) == len(spent) else entry.credits
        entry = await ledger.record(
            entry, saved=1, size=size, duration=duration, credits=credits, status="done"
        )
        return JobResult(
            job,
            "done",
            path=path,
            duration=duration,
            size=size,
            credits=credits,
            session_id=entry.session_id,
            render_id=entry.render_id,
        )

    async def _upload(self, job: Job, entry: Entry, session: Session) -> Entry:
        if entry.upload_started:
            state = await self._call(session.state)  # an earlier upload may have landed
            if len(state.video_infos) >= len(job.files):
                return await self.ledger.record(entry, uploaded=1)
        self._step(job, f"uploading {len(job.files)} file{'s' if len(job.files) != 1 else ''}")
        entry = await self.ledger.record(entry, upload_started=1)
        while True:
            try:
                await self._call(lambda: session.upload(*job.files), safe=False)
                break
            except (ServerError, APIConnectionError) as exc:
                if isinstance(exc, APIConnectionError) and not exc.sent:
                    continue  # it never left: nothing landed
                state = await self._call(session.state)
                if len(state.video_infos) >= len(job.files):
                    break
                raise
        return await self.ledger.record(entry, uploaded=1)

    async def _message(self, job: Job, entry: Entry, session: Session, spent: list[int | None]) -> Entry:
        """Send message ``entry.replied`` once; if an earlier run recorded it as sent, read its outcome."""
        index = entry.replied
        text = job.messages[index]
        label = "prompt" if index == 0 else f"edit {index}"
        if entry.sent > index:
            if entry.error == "AgentError":
                raise AgentError(
                    f"the agent's turn for the {label} failed in an earlier run; it is not sent again. "
                    "Rerun with --redo-failed to start the job over (a new session)."
                )
            self._step(job, f"reading the outcome of its {label} (sent before; never sent twice)")
            await self._settled(session, entry.draft_before, label)
            spent.append(None)
            return await self.ledger.record(entry, replied=index + 1, draft_before=None)
        before = draft_hash((await self._call(session.state)).draft)
        refused = 0
        while True:
            token = object()
            alone = not self._sending
            self._sending.add(token)
            if len(self._sending) > 1:
                self._overlapped |= self._sending
            try:
                balance = await self._total() if alone else None
                await self.gate.wait()
                entry = await self.ledger.record(entry, sent=index + 1, draft_before=before)
                self._step(job, f"sending its {label}")
                try:
                    await _stream(session, text)
                except RateLimitError as exc:  # refused, not processed: not sent; wait with every job
                    entry = await self.ledger.record(entry, sent=index, draft_before=None)
                    refused += 1
                    if refused >= self.options.max_attempts:
                        raise
                    self.gate.close_for(exc)
                    continue
                except (APIConnectionError, StreamTimeout, ServerError) as exc:
                    if isinstance(exc, APIConnectionError) and not exc.sent:  # it never left
                        entry = await self.ledger.record(entry, sent=index, draft_before=None)
                        refused += 1
                        if refused >= self.options.max_attempts:
                            raise
                        await anyio.sleep(0.5 * refused)
                        continue
                    self._step(job, f"reading the outcome of its {label} from the session (not re-sent)")
                    await self._settled(session, before, label)
                    balance = None
            finally:
                self._sending.discard(token)
                overlapped = token in self._overlapped
                self._overlapped.discard(token)
            after = await self._total() if balance is not None and not overlapped else None
            spent.append(max(balance - after, 0) if balance is not None and after is not None else None)
            return await self.ledger.record(entry, replied=index + 1, draft_before=None)

    async def _settled(self, session: Session, before: str | None, label: str) -> State:
        """The session's state once a message sent earlier has done its work: the timeline changed, then
        stayed the same for ``settle`` seconds. Nothing is re-sent."""
        options = self.options
        deadline = anyio.current_time() + options.recover_deadline
        last: str | None = None
        since = 0.0
        pause = max(min(options.settle / 4, 2.0), 0.05)
        while anyio.current_time() < deadline:
            state = await self._call(session.state)
            now = anyio.current_time()
            seen = draft_hash(state.draft)
            if seen != before:
                if seen != last:
                    last, since = seen, now
                elif now - since >= options.settle:
                    return state
            await anyio.sleep(pause)
        raise StreamDisconnected(
            f"the {label} of session {session.id} was sent, but its timeline did not change (and settle) "
            f"within {options.recover_deadline:g} s (recover_deadline). It was not sent again: that could "
            "charge twice. "
            "If the message never arrived, rerun with --redo-failed to start the job over.",
            sent=True,
        )

    async def _render(
        self, job: Job, entry: Entry, session: Session, draft: Draft
    ) -> tuple[Entry, RenderJob]:
        while True:
            if entry.render_id is None:
                entry = await self.ledger.record(
                    entry,
                    render_id=self.nemo._requestor.api.new_render_id(),
                    render_attempts=entry.render_attempts + 1,
                )
                self._step(job, "rendering")
            else:
                self._step(job, "resuming its render")
            rid = entry.render_id
            assert rid is not None
            await self._started(rid, session.id, draft, job)
            try:
                finished = await self._wait(rid)
            except RenderFailedError:
                if entry.render_attempts >= RENDER_STARTS:
                    raise
                entry = await self.ledger.record(
                    entry,
                    render_id=self.nemo._requestor.api.new_render_id(),
                    render_attempts=entry.render_attempts + 1,
                )
                continue
            return await self.ledger.record(entry, rendered=1), finished

    async def _wait(self, rid: str) -> RenderJob:
        """Poll the render, each poll through the gate, until it ends or ``render_deadline`` passes."""
        options = self.options
        render = self.nemo.render
        deadline = anyio.current_time() + options.render_deadline
        intervals = poll_intervals(options.poll_interval)
        while True:
            job = await self._call(lambda: render.get(rid))
            left = deadline - anyio.current_time()
            if job.done:
                break
            if left <= 0:
                raise RenderTimeoutError(
                    f"render {rid} did not finish within {options.render_deadline:g} s (render_deadline) at "
                    f"{job.progress:g}%; it keeps running: rerun the batch to resume it",
                    render_id=rid,
                    job=job,
                )
            await anyio.sleep(min(next(intervals), left))
        if job.cancelled:
            raise RenderCancelledError(f"render {rid} was cancelled", render_id=rid, job=job)
        if job.status is RenderStatus.FAILED:
            raise RenderFailedError(
                f"render {rid} failed: {job.error or 'the server gave no reason'}", render_id=rid, job=job
            )
        return job

    async def _started(self, rid: str, session_id: str, draft: Draft, job: Job) -> RenderJob:
        """The render job ``rid``: found on the server, else started under that very id."""
        render = self.nemo.render
        try:
            return await self._call(lambda: render.get(rid))
        except APIError as exc:
            if exc.http_status != 404:
                raise
        try:
            return await self._call(lambda: render.start(session_id, draft, job.quality, render_id=rid))
        except BadRequestError as exc:
            if exc.http_status != 409:
                raise
            return await self._call(lambda: render.get(rid))  # an earlier start with this id landed


async def _stream(session: Session, text: str) -> None:
    """Send ``text`` and read the agent's events to the end; a failed turn raises ``AgentError``."""
    failures: list[StreamError] = []
    async with session.stream(text) as events:
        async for event in events:
            if isinstance(event, StreamError):
                failures.append(event)
    if failures:
        raise AgentError(failures[-1].message, code=failures[-1].code)


def _words(exc: BaseException) -> tuple[str, str | None]:
    """What happened and what to do, apart (an ``APIError``'s ``str`` holds both)."""
    if isinstance(exc, APIError):
        return exc.message + (f" (code {exc.code})" if exc.code is not None else ""), exc.hint
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.strerror or exc}: {exc.filename}", None
    hint = getattr(exc, "hint", None)
    return str(exc) or type(exc).__name__, hint if isinstance(hint, str) else None


def _saved_whole(path: Path, size: int | None) -> bool:
    try:
        return size is not None and path.stat().st_size == size
    except OSError:
        return False


def _with_elapsed(result: JobResult, seconds: float) -> JobResult:
    from dataclasses import replace

    return replace(result, elapsed=seconds)


@asynccontextmanager
async def run_batch(
    nemo: NemoClient,
    jobs: Sequence[Job],
    ledger: Ledger,
    options: BatchOptions | None = None,
    *,
    on_step: StepHook | None = None,
) -> AsyncIterator[MemoryObjectReceiveStream[JobResult]]:
    """Run ``jobs`` on ``nemo``, recording progress in ``ledger``; iterate the results as jobs finish::

    async with Ledger("jobs.ledger.sqlite") as ledger, run_batch(nemo, jobs, ledger) as results:
        async for result in results:
            print(result.job.output, result.status)
    """
    async with Batch(nemo, jobs, ledger, options, on_step=on_step).results() as results:
        yield results
