"""Every fault the emulator offers, on every operation: it completes or raises the documented error, and the
emulator's log proves that nothing was done twice (no message sent twice, no second render job, no second
session or upload, no credits charged twice) and that no partial file is left at a download's target.

The outcomes are printed as a table at the end of the test report (see conftest.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest

import nemovideo
from nemovideo import NemoError, Recovery, StreamTimeouts
from nemovideo.emulator import Emulator

from ..sdk._media import GENERATE, png, tiny_draft
from .conftest import FaultMatrix


@pytest.fixture
def anyio_backend() -> str:
    """One backend: the matrix proves the retry and recovery policy, which does not depend on the event
    loop; running it twice would double its time for nothing (the SDK suites cover trio)."""
    return "asyncio"


pytestmark = pytest.mark.anyio

OPERATIONS: dict[str, str] = {
    "token": "anonymous_token",
    "session create": "create_session",
    "upload": "upload",
    "send (stream)": "run_sse",
    "state": "state",
    "render start": "render_start",
    "render poll": "render_get",
    "download (CDN)": "cdn",
}
FAULTS: dict[str, dict[str, Any]] = {
    "status": {"status": 503, "count": 2},
    "rate_limit": {"retry_after": 1},
    "latency": {"seconds": 0.2},
    "drop_before_headers": {},
    "drop_after_headers": {},
    "cut_stream": {"after": 2},
    "heartbeats_only": {"seconds": 1.0},
    "malformed_json": {},
    "expire_token": {},
}
STREAM_ONLY = ("cut_stream", "heartbeats_only")

OK = "ok"
# What the documented policy (docs/errors.md, docs/media.md) says each cell must come to.
EXPECTED: dict[str, dict[str, str]] = {
    "token": {
        "status": "ok (2 retries)",
        "rate_limit": "ok (1 retry)",
        "latency": OK,
        "drop_before_headers": "ok (1 retry)",
        "drop_after_headers": "ok (new client id)",
        "malformed_json": "ProtocolError",
        "expire_token": OK,
    },
    "session create": {
        "status": "ServerError",
        "rate_limit": "ok (1 retry)",
        "latency": OK,
        "drop_before_headers": "APIConnectionError",
        "drop_after_headers": "APIConnectionError",
        "malformed_json": "ProtocolError",
        "expire_token": "ok (new token)",
    },
    "upload": {
        "status": "ServerError",
        "rate_limit": "ok (1 retry)",
        "latency": OK,
        "drop_before_headers": "APIConnectionError",
        "drop_after_headers": "APIConnectionError",
        "malformed_json": "ProtocolError",
        "expire_token": "ok (new token)",
    },
    "send (stream)": {
        "status": "ServerError",
        "rate_limit": "RateLimitError",
        "latency": OK,
        "drop_before_headers": "StreamDisconnected",
        "drop_after_headers": "ok (recovered)",
        "cut_stream": "ok (recovered)",
        "heartbeats_only": "ok (recovered)",
        "malformed_json": "AgentError",
        "expire_token": "AuthenticationError",
    },
    "state": {
        "status": "ok (2 retries)",
        "rate_limit": "ok (1 retry)",
        "latency": OK,
        "drop_before_headers": "ok (1 retry)",
        "drop_after_headers": "ok (1 retry)",
        "malformed_json": "ProtocolError",
        "expire_token": "ok (new token)",
    },
    "render start": {
        "status": "ok (2 retries)",
        "rate_limit": "ok (1 retry)",
        "latency": OK,
        "drop_before_headers": "ok (1 retry)",
        "drop_after_headers": "ok (1 retry)",
        "malformed_json": "ProtocolError",
        "expire_token": "ok (new token)",
    },
    "render poll": {
        "status": "ok (2 retries)",
        "rate_limit": "ok (1 retry)",
        "latency": OK,
        "drop_before_headers": "ok (1 retry)",
        "drop_after_headers": "ok (1 retry)",
        "malformed_json": "ProtocolError",
        "expire_token": "ok (new token)",
    },
    "download (CDN)": {
        "status": "ok (API route)",
        "rate_limit": "ok (API route)",
        "latency": OK,
        "drop_before_headers": "ok (API route)",
        "drop_after_headers": "ok (1 retry)",  # resumed from the cut with Range
        "malformed_json": "ok (API route)",
        "expire_token": OK,
    },
}
# A message the agent accepted is charged once (generation_cost); one it never processed is not charged.
CHARGED_SEND = {"latency", "drop_after_headers", "cut_stream", "heartbeats_only", "malformed_json"}
GENERATION_COST = 100
FAST = Recovery(first_wait=0.05, wait=0.1, max_reads=8)
TIMEOUTS = StreamTimeouts(heartbeats_only=0.3)

CELLS = [(op, fault) for op in OPERATIONS for fault in FAULTS if fault in EXPECTED[op]]


@pytest.fixture(scope="module", autouse=True)
def _matrix_shape(fault_matrix: FaultMatrix) -> None:
    fault_matrix.shape(list(OPERATIONS), list(FAULTS))
    for op in OPERATIONS:
        for fault in FAULTS:
            if fault not in EXPECTED[op]:
                fault_matrix.record(op, fault, "n/a")


@dataclass
class Cell:
    """One operation, ready to run once its setup is done."""

    run: Callable[[], Awaitable[object]]
    session_id: str | None = None
    target: Path | None = None
    render_source: Path | None = None


async def prepare(op: str, nemo: nemovideo.NemoClient, emulator: Emulator, out: Path) -> Cell:
    """Everything the operation needs, done before the fault is armed."""
    if op == "token":
        return Cell(nemo.credits.balance)
    await nemo.credits.balance()
    if op == "session create":
        return Cell(nemo.sessions.create)
    session = await nemo.sessions.create()
    if op == "upload":
        return Cell(lambda: session.upload(("logo.png", png())), session.id)
    if op == "send (stream)":
        return Cell(lambda: session.send(GENERATE, recovery=FAST, timeouts=TIMEOUTS), session.id)
    if op == "state":
        return Cell(session.state, session.id)
    if op == "render start":
        emulator.configure(job_progression="manual")
        return Cell(lambda: nemo.render.start(session.id, tiny_draft(), quality="draft"), session.id)
    emulator.configure(job_progression="immediate")
    job = await nemo.render.start(session.id, tiny_draft(), quality="draft")
    if op == "render poll":
        return Cell(lambda: nemo.render.wait(job.id, poll_interval=0.01), session.id)
    assert op == "download (CDN)"
    job = await nemo.render.wait(job.id, poll_interval=0.01)
    output = emulator.ctx.store.renders[job.id].output_path
    target = out / "video.mp4"
    return Cell(lambda: nemo.render.download(job, target), session.id, target, output)


def describe(op: str, result: object, new_entries: list[Any]) -> str:
    """The outcome of a call that returned, in the matrix's words."""
    endpoint = OPERATIONS[op]
    hits = sum(1 for e in new_entries if e.endpoint == endpoint)
    if op == "download (CDN)" and any(e.endpoint == "render_download" for e in new_entries):
        return "ok (API route)"
    if op == "send (stream)":
        assert isinstance(result, nemovideo.Reply)
        return "ok (recovered)" if result.recovered else OK
    if op != "token" and any(e.endpoint == "anonymous_token" for e in new_entries):
        return "ok (new token)"
    if (
        op == "token"
        and len({e.headers.get("x-client-id") for e in new_entries if e.endpoint == endpoint}) > 1
    ):
        return "ok (new client id)"
    retries = hits - 1
    if retries <= 0:
        return OK
    return f"ok ({retries} {'retry' if retries == 1 else 'retries'})"


async def settled_total(nemo: nemovideo.NemoClient) -> int:
    """The balance's total once no credits are frozen (work that outlived its stream has ended)."""
    with anyio.fail_after(10):
        while True:
            credits = await nemo.credits.balance()
            if credits.frozen == 0:
                return credits.total
            await anyio.sleep(0.05)


@pytest.mark.parametrize(("op", "fault"), CELLS, ids=[f"{op}-{fault}" for op, fault in CELLS])
async def test_fault_on_operation(
    op: str,
    fault: str,
    nemo: nemovideo.NemoClient,
    nemo_emulator: Emulator,
    waits: list[float],
    tmp_path: Path,
    fault_matrix: FaultMatrix,
) -> None:
    emulator = nemo_emulator
    emulator.configure(credits=1000, silent_share=0.0, generation_seconds=0.3, heartbeat_interval=0.05)
    out = tmp_path / "out"
    out.mkdir()
    cell = await prepare(op, nemo, emulator, out)
    start_total = emulator.settings.credits  # the client's anonymous user started with this many
    before = len(emulator.log)
    params = dict(FAULTS[fault])
    count = params.pop("count", 1)
    emulator.faults.add(OPERATIONS[op], fault, count=count, **params)

    try:
        result = await cell.run()
    except NemoError as exc:
        outcome = type(exc).__name__
    else:
        outcome = describe(op, result, emulator.log[before:])
    fault_matrix.record(op, fault, outcome)
    emulator.faults.clear()

    # the documented outcome
    assert outcome == EXPECTED[op][fault], f"{op} under {fault}: {outcome}"
    entries = emulator.log
    assert any(e.fault == fault for e in entries[before:]), "the fault fired"

    # no message sent twice
    messages = Counter(e.message for e in entries if e.endpoint == "run_sse")
    assert all(n == 1 for n in messages.values()), messages

    # no duplicate render job: each start carried one id, and one start made at most one job
    starts = {e.render_id for e in entries if e.endpoint == "render_start"}
    jobs = list(emulator.ctx.store.renders)
    assert len(starts) <= 1
    assert set(jobs) <= starts
    if op == "render start" and outcome.startswith(OK):
        assert jobs == list(starts)

    # no second session, no upload stored twice
    sessions = list(emulator.ctx.store.sessions)
    assert len(sessions) <= 1
    if cell.session_id is not None:
        infos = emulator.session_state(cell.session_id)["video_infos"]
        assert len(infos) <= 1
        if op == "upload" and outcome.startswith(OK):
            assert [i["filename"] for i in infos] == ["logo.png"]

    # no partial file at the target: the whole file or nothing, and no temporary file left
    if cell.target is not None:
        assert cell.render_source is not None
        names = sorted(p.name for p in cell.target.parent.iterdir())
        if outcome.startswith(OK):
            assert names == [cell.target.name]
            assert cell.target.read_bytes() == cell.render_source.read_bytes()
        else:
            assert names == []

    # no credits charged twice: a generation costs its price once, or nothing if it never ran
    charged = start_total - await settled_total(nemo)
    expected = GENERATION_COST if op == "send (stream)" and fault in CHARGED_SEND else 0
    assert charged == expected, f"charged {charged} credits"
