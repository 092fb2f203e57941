"""Injected 429s and 503s mid-batch: every job completes, nothing is done twice, and one rate limit holds
every job of the batch for its Retry-After (the gate is shared, not one backoff per job)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
import pytest

import nemovideo
from nemovideo.batch import Batch, BatchOptions, JobResult, Ledger, load_manifest
from nemovideo.emulator import Emulator

from .conftest import CREDITS, edit, emulator_log, prompt, sample_jobs, write_jsonl

pytestmark = pytest.mark.anyio

JOBS = 6
RETRY_AFTER = 1.0
FAULTS = [
    {"endpoint": "run_sse", "kind": "rate_limit", "count": 2, "retry_after": RETRY_AFTER},
    {"endpoint": "render_get", "kind": "rate_limit", "count": 1, "retry_after": RETRY_AFTER},
    {"endpoint": "upload", "kind": "rate_limit", "count": 1, "retry_after": RETRY_AFTER},
    {"endpoint": "state", "kind": "status", "status": 503, "count": 3},
    {"endpoint": "render_start", "kind": "status", "status": 503, "count": 2},
    {"endpoint": "create_session", "kind": "status", "status": 503, "count": 1},
    {"endpoint": "cdn", "kind": "status", "status": 503, "count": 1},
]
SLACK = 0.3
"""Seconds a request already on its way when a 429 arrived may still land (milliseconds on loopback;
more on a loaded machine)."""
OPTIONS = BatchOptions(jobs=3, settle=0.4, poll_interval=0.1, recover_deadline=20)


async def test_rate_limits_and_server_errors_mid_batch(api: Emulator, tmp_path: Path) -> None:
    rows = sample_jobs(tmp_path, JOBS)
    jobs = await load_manifest(write_jsonl(tmp_path / "jobs.jsonl", rows))
    results: list[JobResult] = []
    async with (
        nemovideo.NemoClient(api_url=api.url, config_dir=tmp_path / "nemo") as nemo,
        Ledger(tmp_path / "ledger.sqlite") as ledger,
        httpx.AsyncClient(base_url=api.url) as control,
    ):
        batch = Batch(nemo, jobs, ledger, OPTIONS)
        async with batch.results() as stream:
            async for result in stream:
                if not results:  # mid-batch: one job done, others running, some not started
                    armed = await control.post("/_emulator/faults", json=FAULTS)
                    assert armed.status_code == 200
                results.append(result)
        fired = (await control.get("/_emulator/faults")).json()["rules"]

    assert [r.status for r in results] == ["done"] * JOBS, [r.message for r in results]
    assert all(rule["fired"] == rule["count"] for rule in fired), fired

    log = emulator_log(api)
    accepted = Counter(e["message"] for e in log if e["endpoint"] == "run_sse" and e["status"] == 200)
    expected = [prompt(i) for i in range(1, JOBS + 1)] + [edit(i) for i in range(3, JOBS + 1, 3)]
    assert accepted == Counter(expected)  # the refused sends were repeated, none was processed twice
    starts = {e["render_id"] for e in log if e["endpoint"] == "render_start"}
    assert starts == {r.render_id for r in results}
    assert len(starts) == JOBS  # a start repeated after a 503 kept its id

    limited = [e for e in log if e["status"] == 429]
    assert batch.gate.limited == len(limited) == 4
    assert batch.gate.closed_for >= RETRY_AFTER
    for hit in limited:  # while the gate is closed, no job sends anything
        during = [
            e
            for e in log
            if hit["time"] + SLACK < e["time"] < hit["time"] + RETRY_AFTER - SLACK and e is not hit
        ]
        assert during == [], f"{len(during)} requests within the Retry-After of a 429 on {hit['endpoint']}"

    async with nemovideo.NemoClient(api_url=api.url, config_dir=tmp_path / "nemo") as check:
        total = (await check.credits.balance()).total
    assert total == CREDITS - 100 * JOBS - 50 * len([i for i in range(1, JOBS + 1) if i % 3 == 0])
