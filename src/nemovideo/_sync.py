"""``SyncNemoClient``: the async client, run on an event loop of its own in a background thread.

Each sync method is a thin typed delegation to its async twin through ``_Runner.call``; none of the API's
behaviour is written here. What lives here is only the bridge:

- the loop: ``anyio.from_thread.start_blocking_portal`` in a daemon thread, started on the first call, one
  per client and process. After ``os.fork()`` the child starts its own loop and a new async client: the
  parent's connections and locks cannot be shared.
- interrupts: a ``KeyboardInterrupt`` (Ctrl-C) in the waiting thread cancels the call in the loop, waits up
  to ``CANCEL_GRACE`` seconds for it to unwind (files removed, connections closed), then propagates.
- hooks: keyword arguments named ``on_*`` are relayed to the calling thread and run there, in order, while
  it waits, so they may touch thread-bound state (a progress bar, a GUI, the sync client itself).
- the end: ``close()``, ``with`` exit, garbage collection and interpreter exit close the connection pool
  and stop the thread.

A new async method needs one delegating method here; ``tests/sync/test_surface.py`` names a missing one.
"""

from __future__ import annotations

import builtins
import contextlib
import contextvars
import functools
import os
import ssl
import threading
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from pathlib import Path
from queue import Empty, SimpleQueue
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, NamedTuple, ParamSpec, TypeVar

import anyio
import anyio.abc
import anyio.from_thread
import anyio.lowlevel
import httpx

from ._client import NemoClient
from ._files import MAX_FILE_SIZE
from ._sse import EventStream
from .resources.credits import PAGE_SIZE as HISTORY_PAGE_SIZE
from .resources.credits import CreditsResource
from .resources.projects import ProjectsResource
from .resources.render import DEADLINE, RenderResource, Video
from .resources.sessions import SessionsResource
from .resources.state import StateResource
from .resources.uploads import UploadsResource
from .session import EXPORT_DEADLINE, Session

if TYPE_CHECKING:
    from datetime import date, datetime

    from anyio.from_thread import BlockingPortal

    from ._config import Config
    from ._download import ProgressHook as DownloadHook
    from ._files import FileInput, ProgressHook
    from ._sse import StreamTimeouts
    from .models.credits import Credits
    from .models.draft import Draft
    from .models.events import Event
    from .models.project import Project, ProjectSession
    from .models.render import RenderJob
    from .models.reply import Reply
    from .models.session import SessionInfo
    from .models.state import State
    from .models.upload import UploadedFile
    from .models.usage import UsageRecord
    from .resources.render import JobHook, Quality
    from .session import Recovery

P = ParamSpec("P")
T = TypeVar("T")
A = TypeVar("A")

CANCEL_GRACE = 10.0
"""Seconds an interrupted call gets to unwind in the loop before the interrupt propagates anyway."""
SIGNAL_CHECK = 0.1
"""Seconds at most between two checks for a pending signal while a call is waited for."""
THREAD_NAME = "nemovideo-sync"

_Relay = SimpleQueue[Callable[[], object] | None]
_relays = threading.local()
_runners: weakref.WeakSet[_Runner] = weakref.WeakSet()
_parents_objects: list[object] = []  # in a forked child: see _Runner._after_fork


def _relay() -> _Relay:
    """This thread's queue of hook calls (``None`` wakes the waiter when a call completes)."""
    queue: _Relay | None = getattr(_relays, "queue", None)
    if queue is None:
        queue = _relays.queue = SimpleQueue()
    return queue


def _relayed(hook: Callable[..., object], relay: _Relay) -> Callable[..., None]:
    def in_caller_thread(*args: Any) -> None:
        relay.put(functools.partial(hook, *args))

    return in_caller_thread


def _next_hook(relay: _Relay) -> Callable[[], object] | None:
    """The next relayed hook, or ``None`` after ``SIGNAL_CHECK`` seconds: a signal that lands just before
    the thread blocks does not wake it, so waking now and then lets Python run its handler (Ctrl-C's
    ``KeyboardInterrupt``) in time."""
    try:
        return relay.get(timeout=SIGNAL_CHECK)
    except Empty:
        return None


def _run_hooks(waited: Future[Any], relay: _Relay) -> None:
    """Relayed hooks until ``waited`` resolves, in a frame of its own below ``_wait``'s ``try``: a Ctrl-C
    raised between two instructions of a loop was seen (CPython 3.11) to pass by a ``try`` around that
    loop in the same frame; from a frame below, it arrives as any exception does."""
    while not waited.done():
        item = _next_hook(relay)
        if item is not None:
            item()
    while not relay.empty():  # hooks of this call queued before it completed
        item = relay.get_nowait()
        if item is not None:
            item()


def _wait(waited: Future[T], task: Future[Any], finished: threading.Event, relay: _Relay) -> T:
    """Run relayed hooks until ``waited`` resolves. An interrupt (or a hook's error) cancels ``task`` and
    waits for it to unwind before propagating."""
    try:
        _run_hooks(waited, relay)  # in a frame of its own: see _run_hooks
    except BaseException:
        if not task.done():
            task.cancel()  # the portal cancels the task's scope in the loop
            finished.wait(CANCEL_GRACE)
        raise
    return waited.result()


def _outside_any_loop(make: Callable[[], T]) -> T:
    """``make()`` in a thread of its own, where no event loop runs, its error raised here.

    anyio binds a lock made inside a running loop to that loop's library (a trio lock, made in a trio
    task, cannot be used in the client's asyncio loop); made where no loop runs, it binds on first use."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(make).result()


class _Job(NamedTuple):
    """One call handed to the loop, and how its caller learns the outcome."""

    call: Callable[[], Awaitable[Any]]
    future: Future[Any]
    finished: threading.Event


class _Worker:
    """A task of the loop between two calls: woken with the next one."""

    __slots__ = ("job", "wake")

    def __init__(self) -> None:
        self.job: _Job | None = None
        self.wake = anyio.Event()


class _Loop:
    """Where calls run: tasks of the loop thread that take one call after another, and the token to reach
    that loop.

    A task is reused from call to call because starting one per call (``TaskGroup.start_soon``) costs
    more than the hand-off itself; there are as many as calls ever ran at once. A call runs in its
    task's context, a copy of the loop's as it started, not in the calling thread's: context variables
    set there are not seen, as in any thread pool."""

    def __init__(self, tasks: anyio.abc.TaskGroup, token: anyio.lowlevel.EventLoopToken) -> None:
        self.tasks = tasks
        self.token = token
        self._context = contextvars.copy_context()  # the loop's, as it started
        self._idle: list[_Worker] = []

    def submit(self, job: _Job) -> None:
        """Run ``job`` in an idle task, or in a new one (in the loop's thread). If neither can be done,
        the job's caller gets the error: nothing else would ever wake it."""
        try:
            if self._idle:
                worker = self._idle.pop()
                worker.job = job
                worker.wake.set()
            else:
                self._context.copy().run(self.tasks.start_soon, self._work, job)
        except BaseException as exc:
            _settle(job, None, exc)
            if not isinstance(exc, Exception):
                raise

    async def _work(self, job: _Job | None) -> None:
        worker = _Worker()
        while job is not None:
            settle = await _run(job, self)
            job = None
            worker.wake = anyio.Event()
            self._idle.append(worker)
            # The caller's wake-up comes last: its thread then finds a loop about to sleep, not one
            # still holding the GIL (which would cost it a second wake-up).
            settle()
            del settle  # the outcome is the caller's now: an idle task keeps none alive
            try:
                await worker.wake.wait()
            except BaseException:  # the loop is ending
                with contextlib.suppress(ValueError):
                    self._idle.remove(worker)
                if worker.job is not None:
                    _cancel(worker.job)
                raise
            job, worker.job = worker.job, None


async def _serve(*, task_status: anyio.abc.TaskStatus[_Loop]) -> None:
    async with anyio.create_task_group() as tasks:
        task_status.started(_Loop(tasks, anyio.lowlevel.current_token()))
        await anyio.sleep_forever()


def _soon(loop: _Loop, func: Callable[..., object], *args: Any) -> None:
    """``func(*args)`` in the loop's thread, without waiting for it."""
    loop.token.backend_class.run_sync_soon(func, args, loop.token.native_token)


def _cancel(job: _Job) -> None:
    job.future.cancel()
    job.finished.set()


def _settle(job: _Job, result: object, exc: BaseException | None) -> None:
    job.finished.set()
    if job.future.set_running_or_notify_cancel():
        if exc is None:
            job.future.set_result(result)
        else:
            job.future.set_exception(exc)


async def _run(job: _Job, loop: _Loop) -> Callable[[], object]:
    """Await the job's call under a cancel scope of its own; return how to settle its future.

    The caller hands a call over with one non-blocking ``run_sync_soon`` and then waits on its future:
    one thread wake-up each way. (``BlockingPortal.start_task_soon`` also makes the caller wait until
    the loop has started the task, a second round trip on every call.) Cancelling the future from the
    caller's thread cancels the call's scope here, as the portal does."""

    def on_done(done: Future[Any]) -> None:
        if done.cancelled():
            with contextlib.suppress(RuntimeError):  # the loop is already gone
                _soon(loop, scope.cancel)

    settle: Callable[[], object] = job.finished.set  # cancelled by its caller, whose future says so
    with anyio.CancelScope() as scope:
        job.future.add_done_callback(on_done)
        try:
            result = await job.call()
        except anyio.get_cancelled_exc_class():
            _cancel(job)
            raise  # the scope keeps its own cancellation (the caller's); the loop's ends the task
        except Exception as exc:
            settle = functools.partial(_settle, job, None, exc)
        except BaseException as exc:
            _settle(job, None, exc)
            raise
        else:
            settle = functools.partial(_settle, job, result, None)
    return settle


class _Runner:
    """The loop thread and the async client of one process, shared by a client and its derived ones."""

    def __init__(self, make_client: Callable[[], NemoClient]) -> None:
        self._make_client = functools.partial(_outside_any_loop, make_client)
        self._client: NemoClient | None = self._make_client()  # settings are checked now, for the caller
        self._lock = threading.Lock()
        self._portal_cm: AbstractContextManager[BlockingPortal] | None = None
        self._portal: BlockingPortal | None = None
        self._loop: _Loop | None = None
        self._loop_thread: int | None = None
        self._closed = False
        self.generation = 0
        """Bumped in a forked child: handles made before the fork belong to the parent's loop."""
        _runners.add(self)

    def client(self) -> NemoClient:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._make_client()
                client = self._client
        return client

    def _loop_now(self) -> _Loop:
        loop = self._loop
        if loop is not None:
            return loop
        with self._lock:
            if self._closed:
                raise RuntimeError("this SyncNemoClient is closed: make a new one")
            if self._loop is None:
                cm = anyio.from_thread.start_blocking_portal("asyncio", name=THREAD_NAME)
                portal = cm.__enter__()
                self._portal_cm, self._portal = cm, portal
                self._loop_thread = portal.call(threading.get_ident)
                self._loop = portal.start_task(_serve)[1]
            return self._loop

    def soon(self, func: Callable[..., object], *args: Any) -> None:
        """``func(*args)`` in the loop thread, without waiting for it."""
        _soon(self._loop_now(), func, *args)

    def _start(
        self, func: Callable[..., Awaitable[T]], args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> tuple[Future[T], threading.Event, _Relay]:
        if threading.get_ident() == self._loop_thread:
            raise RuntimeError("a SyncNemoClient cannot be called from its own loop's thread")
        relay = _relay()
        kwargs = {
            name: _relayed(value, relay) if name.startswith("on_") and callable(value) else value
            for name, value in kwargs.items()
        }
        task: Future[T] = Future()
        finished = threading.Event()
        task.add_done_callback(lambda _: relay.put(None))
        loop = self._loop_now()
        _soon(loop, loop.submit, _Job(functools.partial(func, *args, **kwargs), task, finished))
        return task, finished, relay

    def call(self, func: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``await func(*args, **kwargs)`` in the loop, from this thread."""
        task, finished, relay = self._start(func, args, kwargs)
        return _wait(task, task, finished, relay)

    def enter(self, cm: AbstractAsyncContextManager[A], convert: Callable[[A], T]) -> _Context[A, T]:
        return _Context(self, cm, convert)

    def iterate(self, items: AsyncIterator[T]) -> Iterator[T]:
        """A plain iterator over an async one; closing it (or leaving its ``for``) closes the async one.

        Each step is a call of its own (any of the loop's tasks may run it), so the async iterator must
        not hold a cancel scope open across a ``yield``."""
        try:
            while True:
                try:
                    item = self.call(items.__anext__)
                except StopAsyncIteration:
                    return
                yield item
        finally:
            aclose = getattr(items, "aclose", None)
            if aclose is not None and self._portal is not None:
                self.call(aclose)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            cm, portal, client, loop = self._portal_cm, self._portal, self._client, self._loop
            self._portal_cm = self._portal = self._loop = None
        if cm is None or portal is None or client is None or loop is None:
            return  # never started: no connection was opened
        args = (cm, portal, client, loop)
        if threading.get_ident() == self._loop_thread:  # collected in the loop itself: it cannot wait
            threading.Thread(target=_shutdown, args=args, daemon=True).start()
        else:
            _shutdown(*args)

    def _after_fork(self) -> None:
        """In a forked child: the loop thread did not come along; start afresh on the next call.

        The parent's portal and client are kept, never collected: collecting the portal would wait for
        a loop that is not in this process, and the client's sockets are the parent's."""
        _parents_objects.append((self._portal_cm, self._portal, self._client))
        self._lock = threading.Lock()
        self._portal_cm = self._portal = self._loop = None
        self._loop_thread = None
        self._client = None
        self.generation += 1


def _shutdown(
    cm: AbstractContextManager[BlockingPortal], portal: BlockingPortal, client: NemoClient, loop: _Loop
) -> None:
    try:
        portal.call(client.aclose)
        portal.call(portal.stop, True)  # calls still running elsewhere are cancelled
    finally:
        cm.__exit__(None, None, None)  # joins the thread
        _join_workers(loop)


def _join_workers(loop: _Loop) -> None:
    """Wait (``CANCEL_GRACE`` seconds at most) for the worker threads of ``loop`` (file reads, name
    lookups) to end. The loop's end tells them to stop but does not wait, so without this one could
    still be alive when ``close()`` returns or Python exits."""
    ends = time.monotonic() + CANCEL_GRACE
    native = loop.token.native_token  # asyncio: the loop; anyio's worker threads name it ``loop``
    for thread in threading.enumerate():
        if getattr(thread, "loop", None) is native and thread is not threading.current_thread():
            thread.join(max(0.0, ends - time.monotonic()))


def _after_fork_in_child() -> None:
    global _relays
    _relays = threading.local()
    for runner in list(_runners):
        runner._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


class _Context(AbstractContextManager[T], Generic[A, T]):
    """A plain context manager holding an async one open in a task of the loop (entered and exited in
    that one task, as cancel scopes require)."""

    def __init__(
        self, runner: _Runner, cm: AbstractAsyncContextManager[A], convert: Callable[[A], T]
    ) -> None:
        self._runner = runner
        self._cm = cm
        self._convert = convert
        self._entered: Future[A] = Future()
        self._exc_info: tuple[type[BaseException] | None, BaseException | None, TracebackType | None] = (
            None,
            None,
            None,
        )
        self._leave: anyio.Event | None = None

    async def _hold(self) -> bool | None:
        self._leave = anyio.Event()
        try:
            value = await self._cm.__aenter__()
        except BaseException as exc:
            self._entered.set_exception(exc)
            if isinstance(exc, Exception):
                return None  # raised in the caller's thread by __enter__
            raise
        self._entered.set_result(value)
        try:
            await self._leave.wait()
        except BaseException as exc:  # cancelled: an interrupt, or the client closing
            await self._cm.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        return await self._cm.__aexit__(*self._exc_info)

    def __enter__(self) -> T:
        self._task, self._finished, relay = self._runner._start(self._hold, (), {})
        self._entered.add_done_callback(lambda _: relay.put(None))
        return self._convert(_wait(self._entered, self._task, self._finished, relay))

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        if exc is not None and not isinstance(exc, Exception):
            # KeyboardInterrupt, SystemExit...: not thrown into the loop (it would end it); the async
            # side sees a cancellation instead.
            self._task.cancel()
            self._finished.wait(CANCEL_GRACE)
            return False
        self._exc_info = (exc_type, exc, tb)
        leave = self._leave
        assert leave is not None
        relay = _relay()  # this thread's: it may not be the one that entered
        self._task.add_done_callback(lambda _: relay.put(None))
        self._runner.soon(leave.set)
        return _wait(self._task, self._task, self._finished, relay)


class _Mirror:
    """A sync twin of an async class: ``help()`` on a method shows the async method's docstring."""

    _mirrors: ClassVar[type]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, member in vars(cls).items():
            twin = getattr(getattr(cls, "_mirrors", None), name, None)
            if not name.startswith("_") and callable(member) and not member.__doc__ and twin is not None:
                member.__doc__ = twin.__doc__


class _Handle(_Mirror, Generic[A]):
    """The sync face of one async object (a session, a video, a stream) of this process's loop."""

    def __init__(self, runner: _Runner, target: A) -> None:
        self._runner = runner
        self._generation = runner.generation
        self._wrapped = target

    @property
    def _target(self) -> A:
        """The async object, for a call (its data, ``_wrapped``, can be read in any process)."""
        if self._generation != self._runner.generation:
            raise RuntimeError(
                f"this {type(self).__name__} was made before os.fork() and belongs to the parent process: "
                "in this process get a new one from the client (e.g. nemo.sessions.get(session_id))"
            )
        return self._wrapped

    def __repr__(self) -> str:
        return f"Sync{self._wrapped!r}"


class _Resource(_Mirror, Generic[A]):
    """The sync face of one resource; it looks the async resource up on each call (it changes on fork)."""

    def __init__(self, client: SyncNemoClient, get: Callable[[NemoClient], A]) -> None:
        self._client = client
        self._runner = client._runner
        self._get = get

    @property
    def _target(self) -> A:
        return self._get(self._client._async)


# --- handles --------------------------------------------------------------------------------------


class SyncEventStream(_Handle[EventStream]):
    """A plain iterator over the typed events of one agent turn (see ``EventStream``)."""

    _mirrors = EventStream

    def __iter__(self) -> SyncEventStream:
        return self

    def __next__(self) -> Event:
        try:
            return self._runner.call(self._target.__anext__)
        except StopAsyncIteration:
            raise StopIteration from None

    @property
    def aborted(self) -> bool:
        return self._wrapped.aborted

    @property
    def events_received(self) -> int:
        return self._wrapped.events_received

    def close(self) -> None:
        self._runner.call(self._target.aclose)


class SyncVideo(_Handle[Video]):
    """A finished export (see ``Video``); ``video.download(path)`` saves it."""

    _mirrors = Video

    @property
    def job(self) -> RenderJob:
        return self._wrapped.job

    @property
    def path(self) -> Path | None:
        return self._wrapped.path

    @property
    def id(self) -> str:
        return self._wrapped.id

    @property
    def url(self) -> str | None:
        return self._wrapped.url

    @property
    def duration(self) -> float | None:
        return self._wrapped.duration

    def download(
        self,
        path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        on_progress: DownloadHook | None = None,
    ) -> Path:
        return self._runner.call(self._target.download, path, overwrite=overwrite, on_progress=on_progress)

    def _repr_html_(self) -> str | None:
        return self._wrapped._repr_html_()


class SyncSession(_Handle[Session]):
    """One editing session (see ``Session``), with blocking methods."""

    _mirrors = Session

    @property
    def info(self) -> SessionInfo:
        return self._wrapped.info

    @property
    def id(self) -> str:
        return self._wrapped.id

    @property
    def task_id(self) -> str | None:
        return self._wrapped.task_id

    @property
    def user_id(self) -> str | None:
        return self._wrapped.user_id

    @property
    def project_url(self) -> str | None:
        return self._wrapped.project_url

    @property
    def project_id(self) -> str | None:
        return self._wrapped.project_id

    def cancel(self) -> bool:
        return self._runner.call(self._target.cancel)

    @property
    def draft(self) -> Draft:
        return self._wrapped.draft

    def state(self) -> State:
        return self._runner.call(self._target.state)

    def upload(self, *files: FileInput, on_progress: ProgressHook | None = None) -> list[UploadedFile]:
        return self._runner.call(self._target.upload, *files, on_progress=on_progress)

    def export(
        self,
        quality: Quality = "high",
        *,
        on_progress: Callable[[RenderJob], object] | None = None,
        poll_interval: float | None = None,
        deadline: float | None = EXPORT_DEADLINE,
        cancel_on_timeout: bool = False,
        download_to: str | os.PathLike[str] | None = None,
        overwrite: bool = False,
    ) -> SyncVideo:
        video = self._runner.call(
            self._target.export,
            quality,
            on_progress=on_progress,
            poll_interval=poll_interval,
            deadline=deadline,
            cancel_on_timeout=cancel_on_timeout,
            download_to=download_to,
            overwrite=overwrite,
        )
        return SyncVideo(self._runner, video)

    def stream(
        self,
        text: str,
        *,
        timeouts: StreamTimeouts | None = None,
        on_heartbeat: Callable[[float], object] | None = None,
    ) -> AbstractContextManager[SyncEventStream]:
        hook = _relayed(on_heartbeat, _relay()) if on_heartbeat is not None else None
        cm = self._target.stream(text, timeouts=timeouts, on_heartbeat=hook)
        return self._runner.enter(cm, functools.partial(SyncEventStream, self._runner))

    def send(
        self,
        text: str,
        *,
        on_event: Callable[[Event], object] | None = None,
        on_heartbeat: Callable[[float], object] | None = None,
        timeouts: StreamTimeouts | None = None,
        recovery: Recovery | None = None,
        track_credits: bool = True,
    ) -> Reply:
        return self._runner.call(
            self._target.send,
            text,
            on_event=on_event,
            on_heartbeat=on_heartbeat,
            timeouts=timeouts,
            recovery=recovery,
            track_credits=track_credits,
        )


# --- resources ------------------------------------------------------------------------------------


class SyncCreditsResource(_Resource[CreditsResource]):
    _mirrors = CreditsResource

    def balance(self) -> Credits:
        return self._runner.call(self._target.balance)

    def history(
        self,
        *,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
        page_size: int = HISTORY_PAGE_SIZE,
    ) -> Iterator[UsageRecord]:
        return self._runner.iterate(self._target.history(start=start, end=end, page_size=page_size))


class SyncProjectsResource(_Resource[ProjectsResource]):
    _mirrors = ProjectsResource

    def create(self, name: str | None = None) -> Project:
        return self._runner.call(self._target.create, name)

    def list(self) -> builtins.list[Project]:
        return self._runner.call(self._target.list)

    def get(self, project_id: str) -> Project:
        return self._runner.call(self._target.get, project_id)

    def sessions(self, project_id: str) -> builtins.list[ProjectSession]:
        return self._runner.call(self._target.sessions, project_id)


class SyncStateResource(_Resource[StateResource]):
    _mirrors = StateResource

    def latest(self, session_id: str, *, project_id: str | None = None) -> State:
        return self._runner.call(self._target.latest, session_id, project_id=project_id)


class SyncUploadsResource(_Resource[UploadsResource]):
    _mirrors = UploadsResource

    def upload(
        self,
        session_id: str,
        *files: FileInput,
        on_progress: ProgressHook | None = None,
        max_file_size: int = MAX_FILE_SIZE,
    ) -> list[UploadedFile]:
        return self._runner.call(
            self._target.upload, session_id, *files, on_progress=on_progress, max_file_size=max_file_size
        )

    def from_urls(self, session_id: str, urls: Sequence[str]) -> list[UploadedFile]:
        return self._runner.call(self._target.from_urls, session_id, urls)


class SyncRenderResource(_Resource[RenderResource]):
    _mirrors = RenderResource

    def start(
        self,
        session_id: str,
        draft: Draft | Mapping[str, Any],
        quality: Quality = "high",
        render_id: str | None = None,
        *,
        project_id: str | None = None,
    ) -> RenderJob:
        return self._runner.call(
            self._target.start, session_id, draft, quality, render_id, project_id=project_id
        )

    def get(self, job_id: str) -> RenderJob:
        return self._runner.call(self._target.get, job_id)

    def cancel(self, job_id: str) -> RenderJob:
        return self._runner.call(self._target.cancel, job_id)

    def wait(
        self,
        job_id: str,
        *,
        on_progress: JobHook | None = None,
        poll_interval: float | None = None,
        deadline: float | None = DEADLINE,
        cancel_on_timeout: bool = False,
    ) -> RenderJob:
        return self._runner.call(
            self._target.wait,
            job_id,
            on_progress=on_progress,
            poll_interval=poll_interval,
            deadline=deadline,
            cancel_on_timeout=cancel_on_timeout,
        )

    def export(
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
    ) -> SyncVideo:
        video = self._runner.call(
            self._target.export,
            session_id,
            draft,
            quality=quality,
            on_progress=on_progress,
            poll_interval=poll_interval,
            deadline=deadline,
            cancel_on_timeout=cancel_on_timeout,
            project_id=project_id,
        )
        return SyncVideo(self._runner, video)

    def download(
        self,
        job_or_url: RenderJob | str,
        path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        on_progress: DownloadHook | None = None,
    ) -> Path:
        return self._runner.call(
            self._target.download, job_or_url, path, overwrite=overwrite, on_progress=on_progress
        )


class SyncSessionsResource(_Resource[SessionsResource]):
    _mirrors = SessionsResource

    def create(self, *, language: str | None = None, task_name: str = "project") -> SyncSession:
        session = self._runner.call(self._target.create, language=language, task_name=task_name)
        return SyncSession(self._runner, session)

    def get(
        self,
        session_id: str,
        *,
        task_id: str | None = None,
        user_id: str | None = None,
        project_id: str | None = None,
    ) -> SyncSession:
        session = self._target.get(session_id, task_id=task_id, user_id=user_id, project_id=project_id)
        return SyncSession(self._runner, session)

    def cancel(self, session_id: str) -> bool:
        return self._runner.call(self._target.cancel, session_id)

    def stream(
        self,
        session_id: str,
        text: str,
        *,
        timeouts: StreamTimeouts | None = None,
        on_heartbeat: Callable[[float], object] | None = None,
    ) -> AbstractContextManager[SyncEventStream]:
        hook = _relayed(on_heartbeat, _relay()) if on_heartbeat is not None else None
        cm = self._target.stream(session_id, text, timeouts=timeouts, on_heartbeat=hook)
        return self._runner.enter(cm, functools.partial(SyncEventStream, self._runner))


# --- the client -----------------------------------------------------------------------------------


class SyncNemoClient:
    """A blocking client for the NemoVideo API: ``NemoClient``'s resources and methods without ``await``.

    It runs one ``NemoClient`` on an event loop in a background thread of its own (started on the first
    call), so it works in scripts, web views, task queues, Jupyter cells and threads whose own event loop
    is running; from several threads at once; and in a child after ``os.fork()`` (which starts its own
    loop). Progress hooks (``on_*`` arguments) run in the calling thread. Ctrl-C cancels the call under
    way. Use it as ``with SyncNemoClient() as nemo: ...`` or call ``close()``; interpreter exit closes it
    too. Settings are those of ``NemoClient``, except ``http_client`` (the client owns its pool).
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        api_url: str | None = None,
        web_url: str | None = None,
        client_id: str | None = None,
        config_dir: str | os.PathLike[str] | None = None,
        skill_source: str | None = None,
        skill_version: str | None = None,
        skill_platform: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        verify: bool | ssl.SSLContext = True,
        allow_insecure_http: bool = False,
        api_key: str | None = None,
        api: str | None = None,
    ) -> None:
        make = functools.partial(
            NemoClient,
            token=token,
            api_url=api_url,
            web_url=web_url,
            client_id=client_id,
            config_dir=config_dir,
            skill_source=skill_source,
            skill_version=skill_version,
            skill_platform=skill_platform,
            timeout=timeout,
            max_retries=max_retries,
            verify=verify,
            allow_insecure_http=allow_insecure_http,
            api_key=api_key,
            api=api,
        )
        self._runner = _Runner(make)
        self._derive: Callable[[NemoClient], NemoClient] | None = None
        self._derived: tuple[NemoClient, NemoClient] | None = None
        self._close: Callable[[], object] = weakref.finalize(self, _Runner.close, self._runner)
        # (a finalizer runs once: on close(), on garbage collection or at interpreter exit)

    @property
    def _async(self) -> NemoClient:
        """The async client this one runs, in this process."""
        base = self._runner.client()
        if self._derive is None:
            return base
        derived = self._derived
        if derived is None or derived[0] is not base:
            derived = self._derived = (base, self._derive(base))
        return derived[1]

    def with_options(
        self,
        *,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        max_body_size: int | None = None,
        max_event_size: int | None = None,
        max_stream_events: int | None = None,
        max_stream_bytes: int | None = None,
        min_download_rate: int | None = None,
        download_rate_window: float | None = None,
    ) -> SyncNemoClient:
        """A client with other timeouts, retries or limits that shares this one's loop, pool and token.

        Closing the derived client leaves them open; close the original.
        """
        client = SyncNemoClient.__new__(SyncNemoClient)
        client._runner = self._runner
        parent = self._derive

        def derive(base: NemoClient) -> NemoClient:
            return (parent(base) if parent else base).with_options(
                timeout=timeout,
                max_retries=max_retries,
                deadline=deadline,
                max_body_size=max_body_size,
                max_event_size=max_event_size,
                max_stream_events=max_stream_events,
                max_stream_bytes=max_stream_bytes,
                min_download_rate=min_download_rate,
                download_rate_window=download_rate_window,
            )

        client._derive = derive
        client._derived = None
        client._close = lambda: None
        client._async  # noqa: B018 (checks the options now, in the caller's thread)
        return client

    @property
    def config(self) -> Config:
        return self._async.config

    @functools.cached_property
    def credits(self) -> SyncCreditsResource:
        return SyncCreditsResource(self, lambda nemo: nemo.credits)

    @functools.cached_property
    def projects(self) -> SyncProjectsResource:
        return SyncProjectsResource(self, lambda nemo: nemo.projects)

    @functools.cached_property
    def state(self) -> SyncStateResource:
        return SyncStateResource(self, lambda nemo: nemo.state)

    @functools.cached_property
    def uploads(self) -> SyncUploadsResource:
        return SyncUploadsResource(self, lambda nemo: nemo.uploads)

    @functools.cached_property
    def render(self) -> SyncRenderResource:
        return SyncRenderResource(self, lambda nemo: nemo.render)

    @functools.cached_property
    def sessions(self) -> SyncSessionsResource:
        return SyncSessionsResource(self, lambda nemo: nemo.sessions)

    def close(self) -> None:
        """Close the connection pool and stop the loop thread (calls still running are cancelled)."""
        self._close()

    def __enter__(self) -> SyncNemoClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Sync{self._async!r}"
