"""The soak through the fault proxy (see _soak.py): bounded to ~40 s here, ``NEMO_SOAK_SECONDS`` for longer;
``NEMO_SOAK_SEED`` replays a seed (the fault sequence by connection order; timing still varies)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from ._soak import OPERATIONS, run_soak

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    """One backend: the soak proves the retry and recovery policy, not the event loop (the hostile suite runs
    both), and twice its time would be twice the CI's."""
    return "asyncio"


async def test_soak(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seconds = float(os.environ.get("NEMO_SOAK_SECONDS", "40"))
    seed = int(os.environ.get("NEMO_SOAK_SEED") or random.randrange(1_000_000))
    report = await run_soak(seconds, seed, tmp_path)
    summary = report.summary()  # with the seed: shown when an assertion fails (replay: NEMO_SOAK_SEED)
    assert report.problems == [], summary
    # the soak did what it claims: every operation ran, and faults of every kind took effect
    ran = {op for op, _ in report.operations}
    assert ran == set(OPERATIONS), f"seed {seed}: operations never reached: {set(OPERATIONS) - ran}"
    assert {"reset", "stall"} <= set(report.faults_fired), f"seed {seed}: {report.faults_fired}"
    assert {"latency", "bandwidth"} <= set(report.faults_drawn), f"seed {seed}: {report.faults_drawn}"
    assert report.operations[("download", "ok")] > 0, summary
