"""The soak: many sessions through the fault proxy, then proof from the emulator's log and state that the
faults cost nothing but errors in words.

Each session is a new client (so a new anonymous token) doing every operation once: token, create, upload,
send, state, render start, render poll, download. API and CDN traffic both go through proxies drawing a
random fault per connection. Afterwards, with the faults off, the checks:

- every operation completed or raised a documented ``NemoError`` (and none hung);
- no message reached the agent twice;
- at most one render job per session, and the one the client was told of;
- credits charged once per accepted message (the sum over users equals the sum of their runs' prices);
- every download target holds the whole video, or nothing (no partial or temporary file).

Used by tests/chaos/test_soak.py and benchmarks/soak.py.
"""

from __future__ import annotations

import random
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import httpx

import nemovideo
from nemovideo import NemoError, Recovery, StreamTimeouts
from nemovideo.emulator import Emulator, LogEntry

from ..sdk._media import GENERATE, png
from ._proxy import FaultProxy, random_faults

T = TypeVar("T")

OPERATIONS = (
    "token",
    "session",
    "upload",
    "send",
    "state",
    "render start",
    "render poll",
    "download",
)
EMULATOR_SETTINGS: dict[str, Any] = {
    "credits": 100_000,
    "tokens_per_ip": 1_000_000,
    "generation_seconds": 0.3,
    "heartbeat_interval": 0.05,
    "text_delay": 0.002,
    "render_quality": "draft",
    "silent_share": 0.0,
}
RECOVERY = Recovery(first_wait=0.2, wait=0.3, max_reads=10)
TIMEOUTS = StreamTimeouts(gap=3.0, heartbeats_only=3.0, total=30.0)
OPERATION_BOUND = 90.0
"""Seconds any one operation may take before the soak calls it hung (its own deadlines are far shorter)."""


@dataclass
class SessionRecord:
    number: int
    outcomes: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    """Operation -> the message of the error it raised."""
    session_id: str | None = None
    render_id: str | None = None
    target: Path | None = None


@dataclass
class SoakReport:
    seed: int
    seconds: float = 0.0
    sessions: list[SessionRecord] = field(default_factory=list)
    connections: int = 0
    faults_drawn: Counter[str] = field(default_factory=Counter)
    faults_fired: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    problems: list[str] = field(default_factory=list)
    """Violations of the guarantees; empty when the soak passed."""
    checked: Counter[str] = field(default_factory=Counter)
    """How many things each check looked at (messages, sessions, users, targets)."""

    @property
    def operations(self) -> Counter[tuple[str, str]]:
        return Counter((op, outcome) for s in self.sessions for op, outcome in s.outcomes.items())

    def table(self) -> list[str]:
        """Operation x outcome, as Markdown rows."""
        outcomes = sorted({o for _, o in self.operations}, key=lambda o: (not o.startswith("ok"), o))
        counts = self.operations
        lines = [
            "| operation | " + " | ".join(outcomes) + " |",
            "|---" * (len(outcomes) + 1) + "|",
        ]
        for op in OPERATIONS:
            lines.append(f"| {op} | " + " | ".join(str(counts[(op, o)] or "") for o in outcomes) + " |")
        return lines

    def examples(self) -> dict[tuple[str, str], str]:
        """One message for each (operation, error class) seen."""
        seen: dict[tuple[str, str], str] = {}
        for record in self.sessions:
            for op, message in record.errors.items():
                seen.setdefault((op, record.outcomes[op]), message)
        return seen

    def summary(self) -> str:
        total = sum(self.operations.values())
        return "\n".join(
            [
                f"soak seed {self.seed}: {len(self.sessions)} sessions, {total} operations, "
                f"{self.requests} requests over {self.connections} connections in {self.seconds:.0f} s",
                f"faults drawn: {dict(self.faults_drawn)}; fired: {dict(self.faults_fired)}",
                f"checked: {dict(self.checked)}",
                *self.table(),
                *(f"{op}: {kind}: {message}" for (op, kind), message in sorted(self.examples().items())),
                *(f"PROBLEM: {p}" for p in self.problems),
            ]
        )


async def _step(
    record: SessionRecord,
    name: str,
    call: Callable[[], Awaitable[T]],
    describe: Callable[[T], str] | None = None,
) -> T | None:
    """Run one operation; record ``ok`` (or ``describe``'s words), the documented error's class name, or a
    problem."""
    try:
        with anyio.fail_after(OPERATION_BOUND):
            result = await call()
    except NemoError as exc:
        record.outcomes[name] = type(exc).__name__
        record.errors[name] = str(exc)
        return None
    except TimeoutError:
        record.outcomes[name] = f"HUNG over {OPERATION_BOUND:g} s"
        return None
    except Exception as exc:  # anything else is a bug: the SDK documents what it raises
        record.outcomes[name] = f"UNDOCUMENTED {type(exc).__name__}: {exc}"
        record.outcomes[name + " traceback"] = "".join(traceback.format_exception(exc))
        return None
    record.outcomes[name] = describe(result) if describe is not None else "ok"
    return result


async def _session(record: SessionRecord, api_url: str, work: Path) -> None:
    config, videos = work / "config", work / "videos"
    await anyio.Path(videos).mkdir(parents=True)
    message = f"{GENERATE} Scene {record.number}."
    async with nemovideo.NemoClient(
        api_url=api_url, config_dir=config, timeout=httpx.Timeout(3.0, connect=2.0), max_retries=3
    ) as base:
        nemo = base.with_options(deadline=8.0)
        await _step(record, "token", nemo.credits.balance)
        session = await _step(record, "session", nemo.sessions.create)
        if session is None:
            return
        record.session_id = session.id
        await _step(record, "upload", lambda: session.upload(("logo.png", png())))
        await _step(
            record,
            "send",
            lambda: session.send(message, recovery=RECOVERY, timeouts=TIMEOUTS),
            lambda reply: "ok (recovered)" if reply.recovered else "ok",
        )
        state = await _step(record, "state", session.state)
        if state is None:
            return
        job = await _step(
            record, "render start", lambda: nemo.render.start(session.id, state.draft, quality="draft")
        )
        if job is None:
            return
        record.render_id = job.id
        done = await _step(record, "render poll", lambda: nemo.render.wait(job.id, poll_interval=0.05))
        if done is None:
            return
        record.target = videos / "video.mp4"
        await _step(record, "download", lambda: nemo.render.download(done, videos / "video.mp4"))


async def run_soak(seconds: float, seed: int, out: Path, *, workers: int = 4) -> SoakReport:
    """Sessions on ``workers`` concurrent lanes until ``seconds`` have passed, then the checks."""
    report = SoakReport(seed)
    rng = random.Random(seed)
    emulator = Emulator(**EMULATOR_SETTINGS, seed=seed)
    await anyio.to_thread.run_sync(emulator.start)
    try:
        api_port = int(emulator.url.rsplit(":", 1)[1])
        cdn_port = int(emulator.cdn_url.rsplit(":", 1)[1])
        async with (
            FaultProxy.serve(api_port, random_faults(rng)) as api,
            FaultProxy.serve(cdn_port, random_faults(rng)) as cdn,
        ):
            # Every URL the emulator hands out for its CDN now points through the proxy.
            emulator.ctx.cdn_url = cdn.url
            started = time.monotonic()
            numbers = iter(range(1_000_000))

            async def lane() -> None:
                while time.monotonic() - started < seconds:
                    record = SessionRecord(next(numbers))
                    report.sessions.append(record)
                    await _session(record, api.url, out / f"s{record.number}")

            async with anyio.create_task_group() as lanes:
                for _ in range(workers):
                    lanes.start_soon(lane)
            report.seconds = time.monotonic() - started
            api.enabled = cdn.enabled = False
            report.connections = api.stats.connections + cdn.stats.connections
            report.faults_drawn = api.stats.drawn + cdn.stats.drawn
            report.faults_fired = api.stats.fired + cdn.stats.fired
        await _check(report, emulator)
    finally:
        await anyio.to_thread.run_sync(emulator.stop)
    return report


def _how_downloaded(log: list[LogEntry], render_id: str) -> str:
    """How a download that completed got there: in one go, resumed with a range, or from the API route."""
    if any(e.endpoint == "render_download" and e.render_id == render_id for e in log):
        return "ok (API route)"
    if any(e.origin == "cdn" and render_id in e.path and "range" in e.headers for e in log):
        return "ok (resumed)"
    return "ok"


async def _settled(emulator: Emulator) -> None:
    """Wait until no credits are frozen: runs that outlived their streams have finished."""
    with anyio.move_on_after(30):
        while any(u.frozen for u in list(emulator.ctx.store.users.values())):  # noqa: ASYNC110 (polls state)
            await anyio.sleep(0.1)


async def _check(report: SoakReport, emulator: Emulator) -> None:
    problems = report.problems
    await _settled(emulator)
    log = emulator.log
    report.requests = len(log)
    store = emulator.ctx.store
    settings = emulator.settings

    for record in report.sessions:
        for op, outcome in record.outcomes.items():
            if not op.endswith("traceback") and (outcome.startswith(("UNDOCUMENTED", "HUNG"))):
                trace = record.outcomes.get(op + " traceback", "")
                problems.append(f"session {record.number} {op}: {outcome}\n{trace}")

    messages = Counter(e.message for e in log if e.endpoint == "run_sse" and e.message)
    report.checked["messages"] = len(messages)
    problems += [f"message sent {n} times: {m!r}" for m, n in messages.items() if n > 1]

    for record in report.sessions:
        if record.session_id is None:
            continue
        report.checked["sessions"] += 1
        jobs = [j.id for j in list(store.renders.values()) if j.session_id == record.session_id]
        if len(jobs) > 1:
            problems.append(f"session {record.number}: {len(jobs)} render jobs for one export: {jobs}")
        if record.render_id is not None and jobs != [record.render_id]:
            problems.append(f"session {record.number}: told of job {record.render_id}, the server has {jobs}")

    prices = {"generation": settings.generation_cost, "edit": settings.edit_cost}
    owed = sum(prices.get(e.extra.get("plan", ""), 0) for e in log if e.endpoint == "run_sse")
    users = list(store.users.values())
    charged = sum(settings.credits - u.available - u.frozen for u in users)
    report.checked["users"] = len(users)
    if charged != owed:
        problems.append(f"credits charged {charged}, but the accepted messages cost {owed}")
    problems += [f"user {u.user_id}: {u.frozen} credits still frozen" for u in users if u.frozen]

    for record in report.sessions:
        if record.target is None:
            continue
        report.checked["targets"] += 1
        if record.outcomes.get("download") == "ok":
            record.outcomes["download"] = _how_downloaded(log, record.render_id or "")
        names = sorted(p.name for p in record.target.parent.iterdir())
        if record.outcomes.get("download", "").startswith("ok"):
            assert record.render_id is not None
            source = store.renders[record.render_id].output_path
            if names != [record.target.name]:
                problems.append(f"session {record.number}: files at the target: {names}")
            elif source is None or record.target.read_bytes() != source.read_bytes():
                problems.append(f"session {record.number}: the saved video differs from the render")
        elif names:
            problems.append(f"session {record.number}: a failed download left {names}")
