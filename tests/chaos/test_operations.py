"""Each transport fault on each operation, deterministically: the fault proxy breaks the first connection the
operation opens (API and CDN alike), and the operation completes or raises its documented error, with nothing
done twice and no partial file left.

The soak (test_soak.py) mixes faults at random over many sessions; this matrix makes sure that every
operation has met every kind of fault at least once, on every run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

import nemovideo
from nemovideo import APIConnectionError, NemoError, Recovery, StreamDisconnected, StreamTimeouts
from nemovideo.emulator import Emulator

from ..sdk._media import GENERATE, png, tiny_draft
from ._proxy import Fault, FaultProxy

pytestmark = pytest.mark.anyio

FAULTS: dict[str, Fault] = {
    "slow": Fault(latency=0.05, bandwidth=50_000),
    "stall": Fault(stall_after=0, stall_seconds=0.5),
    "stall forever": Fault(stall_after=0, stall_seconds=float("inf")),
    "reset": Fault(reset_after=700),
}
DELAYS = ("slow", "stall")
"""Faults that only delay (within the timeouts): every operation must complete under them."""
OPERATIONS = ("token", "session", "upload", "send", "state", "render start", "render poll", "download")
SAFE = ("token", "state", "render start", "render poll", "download")
"""Repeatable (idempotent, or made so by a client-side id or a resumable download): must complete."""
MAY_FAIL: dict[str, tuple[type[NemoError], ...]] = {
    "session": (APIConnectionError,),  # a POST that may have arrived is not repeated
    "upload": (APIConnectionError,),
    "send": (StreamDisconnected,),  # never re-sent; recovered from state when the agent took it
}
RECOVERY = Recovery(first_wait=0.1, wait=0.2, max_reads=10)
TIMEOUTS = StreamTimeouts(gap=1.0, heartbeats_only=1.0)
READ_TIMEOUT = 1.0


@pytest.fixture
def anyio_backend() -> str:
    """One backend, as for the soak: this proves the policy, not the event loop."""
    return "asyncio"


class Script:
    """The proxies' fault source: ``arm(fault)`` gives it to the next connection, every other is clean."""

    def __init__(self) -> None:
        self.armed: Fault | None = None
        self.given = 0

    def arm(self, fault: Fault) -> None:
        self.armed = fault

    def __call__(self) -> Fault:
        fault, self.armed = self.armed, None
        if fault is None:
            return Fault()
        self.given += 1
        return fault


@dataclass
class Proxied:
    api: FaultProxy
    cdn: FaultProxy
    script_api: Script
    script_cdn: Script


@pytest.fixture
async def proxied(nemo_emulator: Emulator) -> AsyncIterator[Proxied]:
    """The emulator behind two fault proxies; the URLs it hands out for its CDN point through one."""
    api_port = int(nemo_emulator.url.rsplit(":", 1)[1])
    cdn_port = int(nemo_emulator.cdn_url.rsplit(":", 1)[1])
    script_api, script_cdn = Script(), Script()
    original = nemo_emulator.ctx.cdn_url
    async with FaultProxy.serve(api_port, script_api) as api, FaultProxy.serve(cdn_port, script_cdn) as cdn:
        nemo_emulator.ctx.cdn_url = cdn.url
        try:
            yield Proxied(api, cdn, script_api, script_cdn)
        finally:
            nemo_emulator.ctx.cdn_url = original


def client(proxied: Proxied, config: Path) -> nemovideo.NemoClient:
    return nemovideo.NemoClient(
        api_url=proxied.api.url, config_dir=config, timeout=httpx.Timeout(READ_TIMEOUT), max_retries=3
    )


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def cells() -> Iterator[tuple[str, str]]:
    for op in OPERATIONS:
        for fault in FAULTS:
            yield op, fault


@pytest.mark.parametrize(("op", "fault"), list(cells()), ids=[f"{o}-{f}" for o, f in cells()])
async def test_fault_on_operation(
    op: str,
    fault: str,
    proxied: Proxied,
    nemo_emulator: Emulator,
    tmp_path: Path,
    waits: list[float],
) -> None:
    emulator = nemo_emulator
    emulator.configure(
        credits=1000,
        silent_share=0.0,
        generation_seconds=0.3,
        heartbeat_interval=0.05,
        job_progression="immediate",
    )
    config, out = tmp_path / "config", tmp_path / "out"
    out.mkdir()
    target = out / "video.mp4"
    # the set-up, on a client of its own (clean connections); the operation on a new one, whose first
    # connection meets the fault
    async with client(proxied, config) as setup:
        await setup.credits.balance()
        session_id = render_id = None
        if op not in ("token", "session"):
            session_id = (await setup.sessions.create()).id
        if op in ("render poll", "download"):
            job = await setup.render.start(session_id or "", tiny_draft(), quality="draft")
            render_id = job.id
    run: Callable[[nemovideo.NemoClient], Awaitable[object]]
    if op == "token":
        config = tmp_path / "fresh"  # no cached token: the first request fetches one
        run = lambda nemo: nemo.credits.balance()  # noqa: E731
    elif op == "session":
        run = lambda nemo: nemo.sessions.create()  # noqa: E731
    elif op == "upload":
        run = lambda nemo: nemo.sessions.get(session_id or "").upload(("logo.png", png()))  # noqa: E731
    elif op == "send":
        run = lambda nemo: nemo.sessions.get(session_id or "").send(  # noqa: E731
            GENERATE, recovery=RECOVERY, timeouts=TIMEOUTS
        )
    elif op == "state":
        run = lambda nemo: nemo.sessions.get(session_id or "").state()  # noqa: E731
    elif op == "render start":
        run = lambda nemo: nemo.render.start(session_id or "", tiny_draft(), quality="draft")  # noqa: E731
    elif op == "render poll":
        run = lambda nemo: nemo.render.wait(render_id or "", poll_interval=0.02)  # noqa: E731
    else:
        run = lambda nemo: nemo.render.download(render_id or "", target)  # noqa: E731
    before = len(emulator.log)
    async with client(proxied, config) as nemo:
        proxied.script_api.arm(FAULTS[fault])
        if op == "download":
            proxied.script_cdn.arm(FAULTS[fault])
        try:
            result = await run(nemo)
        except NemoError as exc:
            outcome: str = type(exc).__name__
            error: NemoError | None = exc
        else:
            outcome, error = "ok", None
            if isinstance(result, nemovideo.Reply) and result.recovered:
                outcome = "ok (recovered)"
    assert proxied.script_api.given + proxied.script_cdn.given >= 1, "the fault met a connection"

    # completed, or the documented error of an operation that must not repeat itself
    if op in SAFE or fault in DELAYS:
        assert error is None, f"{op} under {fault}: {outcome}: {error}"
    elif error is not None:
        assert isinstance(error, MAY_FAIL[op]), f"{op} under {fault}: {outcome}: {error}"

    entries = emulator.log
    messages = Counter(e.message for e in entries if e.endpoint == "run_sse" and e.message)
    assert all(n == 1 for n in messages.values()), messages
    jobs = list(emulator.ctx.store.renders)
    assert len(jobs) <= 1, jobs
    starts = {e.render_id for e in entries[before:] if e.endpoint == "render_start" and e.render_id}
    assert len(starts) <= 1, starts  # every retry of a start carried the same id
    if op == "download":
        assert listing(out) == (["video.mp4"] if error is None else [])
        if error is None:
            output = emulator.ctx.store.renders[jobs[0]].output_path
            assert output is not None
            assert target.read_bytes() == output.read_bytes()
    if op == "upload" and session_id is not None:
        assert len(emulator.session_state(session_id)["video_infos"]) <= 1
