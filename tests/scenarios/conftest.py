"""One suite for both clients and both API generations: each scenario gets ``nemo`` as the async
``NemoClient`` and as the sync one, each speaking the skill API (anonymous) and the gateway (an API key).

A test body is written once, as async code against the async client's interface. For the sync variant,
``Blocking`` wraps the real sync objects so they can be driven from that one body, and hides none of their
behaviour: every attribute is looked up on the sync object (a method it lacks fails the test), and the shape
of each call is taken from the async twin of the method:

- the twin is a coroutine function: the sync method is called when the coroutine is awaited (it blocks the
  test's event loop, as a script calling the sync client from a running loop would) and its result returned;
- the twin returns at once (``sessions.get``, ``stream``): the sync method is called at once; a context
  manager it returns is entered and exited by an async one (``async with session.stream(...)``);
- a sync event stream is iterated by ``async for``.

Results that are sync objects (a ``SyncSession``, a ``SyncVideo``...) are wrapped in turn; data (models,
paths, numbers) passes through unchanged.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager, asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import pytest

from nemovideo import NemoClient, SyncNemoClient
from nemovideo._sync import _Handle, _Resource
from nemovideo.emulator import Emulator

from ..sdk.conftest import GATEWAY_KEY

Connect = Callable[[], AbstractAsyncContextManager[NemoClient]]
"""Opens another client of the test's kind, on the same emulator and token (``async with connect() as c``)."""

_SYNC_TYPES = (SyncNemoClient, _Resource, _Handle)


def _twin_of(target: object) -> type:
    if isinstance(target, SyncNemoClient):
        return NemoClient
    twin: type = type(target)._mirrors  # type: ignore[attr-defined]
    return twin


def _seen_async(value: object) -> object:
    """A sync object as the async client's counterpart would be used; data as it is."""
    return Blocking(value) if isinstance(value, _SYNC_TYPES) else value


class Blocking:
    """A sync client's object (client, resource, session, video, event stream) in its async twin's shape."""

    def __init__(self, target: object) -> None:
        self._target = target
        self._twin = _twin_of(target)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not inspect.ismethod(value):
            return _seen_async(value)
        if inspect.iscoroutinefunction(getattr(self._twin, name)):

            async def awaited(*args: Any, **kwargs: Any) -> object:
                return _seen_async(value(*args, **kwargs))

            return functools.update_wrapper(awaited, value)

        def at_once(*args: Any, **kwargs: Any) -> object:
            result = value(*args, **kwargs)
            if isinstance(result, AbstractContextManager) and not isinstance(result, _SYNC_TYPES):
                return _Entered(result)
            return _seen_async(result)

        return functools.update_wrapper(at_once, value)

    def __aiter__(self) -> Blocking:
        return self

    async def __anext__(self) -> object:
        try:
            return next(self._target)  # type: ignore[call-overload]
        except StopIteration:
            raise StopAsyncIteration from None

    def __repr__(self) -> str:
        return f"Blocking({self._target!r})"


class _Entered(AbstractAsyncContextManager[object]):
    """A sync context manager (a stream) entered and left by ``async with``."""

    def __init__(self, cm: AbstractContextManager[object]) -> None:
        self._cm = cm

    async def __aenter__(self) -> object:
        return _seen_async(self._cm.__enter__())

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        return self._cm.__exit__(exc_type, exc, tb)


@pytest.fixture
def emulator(nemo_emulator: Emulator) -> Emulator:
    """The session's emulator with room for several generations, an agent that always speaks, and short
    generations (the plugin's drafts render at draft quality)."""
    nemo_emulator.configure(credits=10_000, silent_share=0.0, generation_seconds=0.1, heartbeat_interval=0.02)
    return nemo_emulator


@pytest.fixture(params=["async", "sync"])
def client_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["skill", "gateway"])
def api(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def connect(client_kind: str, api: str, emulator: Emulator, tmp_path: Path) -> Connect:
    settings: dict[str, Any] = {"api_url": emulator.url, "config_dir": tmp_path / "nemo"}
    if api == "gateway":
        settings["api_key"] = GATEWAY_KEY
    if client_kind == "async":
        return lambda: NemoClient(**settings)

    @asynccontextmanager
    async def sync() -> AsyncIterator[NemoClient]:
        with SyncNemoClient(**settings) as client:
            yield cast(NemoClient, Blocking(client))

    return sync


@pytest.fixture
async def nemo(connect: Connect) -> AsyncIterator[NemoClient]:
    async with connect() as client:
        yield client
