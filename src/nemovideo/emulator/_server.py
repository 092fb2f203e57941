"""Running the emulator: two uvicorn servers (API and CDN origins) on one event loop in a background thread.

A thread of its own means the emulator serves callers on asyncio, on trio, or with no event loop at all (the
pytest fixture, the CLI): they only talk to it over loopback HTTP, or through the thread-safe calls below.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
from anyio.abc import TaskStatus

from ._clock import Clock
from ._faults import Faults
from ._log import LogEntry, RequestLog
from ._settings import Settings

if TYPE_CHECKING:
    from ._context import Context


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # asyncio sets NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


class Emulator:
    """A local NemoVideo API. `start()` returns once both origins listen; `stop()` returns once they closed.

    `settings` are the names of `Settings` (credits, seed, silent_share, generation_seconds, ...); `reset()`
    goes back to them.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        cdn_port: int = 0,
        data_dir: str | Path | None = None,
        **settings: Any,
    ) -> None:
        self.host = host
        self._ports = (port, cdn_port)
        self._initial = Settings().updated(**settings)
        self.clock = Clock()
        self.faults = Faults(self._initial.seed)
        self._log = RequestLog()
        self._data_dir_arg = Path(data_dir) if data_dir is not None else None
        self._temp_dir: str | None = None
        self._ctx: Context | None = None
        self._portal_cm: Any = None
        self._portal: anyio.from_thread.BlockingPortal | None = None
        self._main: Future[None] | None = None
        self._stop_event: anyio.Event | None = None
        self._servers: list[Any] = []
        self.url = ""
        self.cdn_url = ""

    # life cycle
    def start(self) -> Emulator:
        if self._portal is not None:
            raise RuntimeError("the emulator is already running")
        if self._data_dir_arg is None:
            self._temp_dir = tempfile.mkdtemp(prefix="nemovideo-emulator-")
            data_dir = Path(self._temp_dir)
        else:
            data_dir = self._data_dir_arg
            data_dir.mkdir(parents=True, exist_ok=True)
        socks = [_bind(self.host, self._ports[0]), _bind(self.host, self._ports[1])]
        self.url = f"http://{self.host}:{socks[0].getsockname()[1]}"
        self.cdn_url = f"http://{self.host}:{socks[1].getsockname()[1]}"
        self._portal_cm = anyio.from_thread.start_blocking_portal("asyncio")
        self._portal = self._portal_cm.__enter__()
        try:
            self._main, _ = self._portal.start_task(self._run, socks, data_dir)
        except BaseException:
            self._close_portal()
            raise
        return self

    def stop(self) -> None:
        """Close both origins now: open streams are cut, running work and render jobs are cancelled."""
        if self._portal is None:
            return
        try:
            self._portal.call(self._request_stop)
            if self._main is not None:
                self._main.result(timeout=30)
        finally:
            self._close_portal()
            if self._temp_dir is not None:
                shutil.rmtree(self._temp_dir, ignore_errors=True)
                self._temp_dir = None

    def _close_portal(self) -> None:
        cm, self._portal_cm, self._portal = self._portal_cm, None, None
        if cm is not None:
            cm.__exit__(None, None, None)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _run(
        self, socks: list[socket.socket], data_dir: Path, *, task_status: TaskStatus[None]
    ) -> None:
        import uvicorn

        from ._app import build_api
        from ._cdn import build_cdn
        from ._context import Context
        from ._outer import Outer
        from ._store import Store

        ctx = Context(
            settings=self._initial,
            clock=self.clock,
            faults=self.faults,
            log=self._log,
            store=Store(self._initial, self.clock, data_dir),
            data_dir=data_dir,
            url=self.url,
            cdn_url=self.cdn_url,
        )
        self._ctx = ctx
        self._stop_event = anyio.Event()
        apps = [Outer(build_api(ctx, self), ctx, "api"), Outer(build_cdn(ctx), ctx, "cdn")]
        self._servers = [
            uvicorn.Server(
                uvicorn.Config(
                    app,
                    lifespan="off",
                    log_level="critical",
                    access_log=False,
                    timeout_graceful_shutdown=1,
                    ws="wsproto",
                )
            )
            for app in apps
        ]
        async with anyio.create_task_group() as outer:
            for server, sock in zip(self._servers, socks, strict=True):
                outer.start_soon(server.serve, [sock])
            async with anyio.create_task_group() as work:
                ctx.work = work
                while not all(s.started for s in self._servers):  # noqa: ASYNC110 (uvicorn has no event)
                    await anyio.sleep(0.005)
                task_status.started()
                await self._stop_event.wait()
                work.cancel_scope.cancel()
            for server in self._servers:
                server.should_exit = True
                server.force_exit = True
                for conn in list(server.server_state.connections):
                    transport = getattr(conn, "transport", None)
                    if transport is not None:
                        transport.close()
        for sock in socks:
            sock.close()

    def _request_stop(self) -> None:
        if self._stop_event is not None:
            self._stop_event.set()

    # thread-safe handle
    def _call(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        if self._portal is None:
            raise RuntimeError("the emulator is not running")
        return self._portal.call(lambda: func(*args, **kwargs))

    @property
    def ctx(self) -> Context:
        if self._ctx is None:
            raise RuntimeError("the emulator is not running")
        return self._ctx

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @property
    def log(self) -> list[LogEntry]:
        """Every request both origins received so far (control routes excepted), oldest first."""
        return self._log.entries()

    def clear_log(self) -> None:
        self._log.clear()

    def configure(self, **changes: Any) -> Settings:
        """Change settings now, e.g. `configure(silent_share=0, generation_seconds=0.2)`; returns them all."""
        return self._call(self._configure_in_loop, **changes)  # type: ignore[no-any-return]

    def _configure_in_loop(self, **changes: Any) -> Settings:
        new = self.ctx.settings.updated(**changes)
        self.ctx.settings = new
        self.ctx.store.settings = new
        if "seed" in changes:
            self.faults.reseed(new.seed)
        return new

    def reset(self) -> None:
        """Back to a fresh emulator: no tokens, sessions, uploads, jobs, faults or log; the start settings."""
        if self._portal is None:
            raise RuntimeError("the emulator is not running")
        self._portal.call(self._reset_in_loop)

    async def _reset_in_loop(self) -> None:
        ctx = self.ctx
        for run in list(ctx.runs):
            run.scope.cancel()
        for job in ctx.store.renders.values():
            job.scope.cancel()
        await anyio.lowlevel.checkpoint()
        self.faults.clear()
        self.faults.reseed(self._initial.seed)
        self._log.clear()
        self.clock.reset()
        ctx.settings = self._initial
        ctx.runs.clear()
        await anyio.to_thread.run_sync(ctx.store.reset, self._initial)

    def add_api_key(self, key: str | None = None, *, credits: int | None = None) -> str:
        """Register a gateway API key (a new one when `key` is None) and return it; `credits` sets its
        balance. With `gateway_strict_keys` only registered keys are accepted."""
        return self._call(lambda: self.ctx.store.gateway.register(key, credits).key)  # type: ignore[no-any-return]

    def revoke_api_key(self, key: str) -> None:
        """From now on the gateway refuses `key` (401 code 1011; the chat closes with 4001)."""

        def do() -> None:
            self.ctx.store.gateway.register(key, None).revoked = True

        self._call(do)

    def step_render(self, render_id: str) -> str:
        """Manual progression: move a job one stage on (pending, processing, rendered); returns its status."""
        from ._jobs import step

        def do() -> str:
            job = self.ctx.store.renders[render_id]
            step(job)
            return job.status

        return self._call(do)  # type: ignore[no-any-return]

    def render_status(self, render_id: str) -> dict[str, Any]:
        """A job's poll body in the "data" shape (for assertions without HTTP)."""
        from ._jobs import poll_body

        return self._call(lambda: poll_body(self.ctx.store.renders[render_id], "data")["data"])  # type: ignore[no-any-return]

    def session_state(self, session_id: str) -> dict[str, Any]:
        """A session's state, as GET .../latest returns it under `data.state`."""
        import copy

        return self._call(lambda: copy.deepcopy(self.ctx.store.sessions[session_id].state()))  # type: ignore[no-any-return]


@contextlib.asynccontextmanager
async def serve(**kwargs: Any) -> AsyncIterator[Emulator]:
    """`async with serve(**settings) as emu:` runs an emulator for the block, from asyncio or trio code."""
    emu = Emulator(**kwargs)
    await anyio.to_thread.run_sync(emu.start)
    try:
        yield emu
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(emu.stop)
