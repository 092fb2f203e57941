"""A batch killed with SIGKILL at random points and run again: the emulator's own log shows each message
sent exactly once and each job rendered exactly once, every output a whole MP4, the credits charged once.

Each seed kills the real ``nemovideo batch`` process twice, each time a random moment after a randomly
chosen step showed in its progress (an upload, a send, a render start, a download), then lets a third run
finish.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import pytest

import nemovideo
from nemovideo.batch import Batch, BatchOptions, Job, JobResult, Ledger, load_manifest
from nemovideo.emulator import Emulator

from ..cli._probe import probe
from .conftest import CREDITS, FAST, edit, emulator_log, prompt, run_batch, sample_jobs, write_jsonl

JOBS = 4
SEEDS = [11, 23, 37, 41, 59]
STEPS = ("uploading", "sending its prompt", "sending its edit", "rendering", "downloading")
GENERATION_COST = 100
EDIT_COST = 50


def received_messages(log: list[dict[str, Any]]) -> list[str]:
    """The messages the server received whole; a request cut by a kill before its body arrived was
    processed by nothing, which its answer (none, or an error) shows."""
    attempts = [e for e in log if e["endpoint"] == "run_sse"]
    cut = [e for e in attempts if e["message"] is None]
    assert all(e["status"] != 200 for e in cut), cut
    return [e["message"] for e in attempts if e["message"] is not None]


def unconfirmed(row: dict[str, Any], jobs: list[dict[str, Any]]) -> str:
    """The text of the message a failed row names: its prompt, or its edit N (which may fail after the
    prompt's outcome was read, so the prompt having arrived says nothing of it)."""
    found = re.match(r"the (prompt|edit (\d+)) of session", row["message"])
    assert found, row
    if found[2] is None:
        return str(row["prompt"])
    return str(jobs[row["row"] - 1]["edits"][int(found[2]) - 1])


@pytest.mark.parametrize("seed", SEEDS)
def test_killed_twice_then_rerun_makes_each_video_once(api: Emulator, tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    rows = sample_jobs(tmp_path, JOBS)
    write_jsonl(tmp_path / "jobs.jsonl", rows)
    args = ["jobs.jsonl", "--jobs", "3", *FAST]

    kills = []
    for _ in range(2):
        step, delay = rng.choice(STEPS), rng.uniform(0.0, 0.5)
        run = run_batch(args, api=api, cwd=tmp_path, kill_after=step, delay=delay)
        kills.append((step, round(delay, 3), run.killed))
        assert run.code == (-9 if run.killed else 0), run.stderr
    assert kills[0][2], "the first run finished before its kill"
    final = run_batch([*args, "--json"], api=api, cwd=tmp_path)
    if final.code != 0:
        # A kill just after a message was recorded as sent, before its request reached the server: the
        # rerun cannot tell "never arrived" from "arrived, still working", so it does not send it again
        # and says so. That is honest only if the server really never received it; then the way out
        # the error names (--redo-failed) must finish the job, still once.
        failed = [r for r in map(json.loads, final.stdout.splitlines()) if r.get("status") == "failed"]
        received = set(received_messages(emulator_log(api)))
        assert failed, f"{kills}\n{final.stdout}\n{final.stderr}"
        for row in failed:
            assert row["error"] == "StreamDisconnected", f"{kills}\n{row}"
            assert "--redo-failed" in row["message"]
            assert unconfirmed(row, rows) not in received, f"{kills}: it arrived, unrecovered: {row}"
        final = run_batch([*args, "--redo-failed", "--json"], api=api, cwd=tmp_path)
        assert final.code == 0, f"{kills}\n{final.stdout}\n{final.stderr}"

    results = [json.loads(line) for line in final.stdout.splitlines()]
    summary = results.pop()["summary"]
    assert sorted(r["row"] for r in results) == list(range(1, JOBS + 1))
    assert {r["status"] for r in results} <= {"done", "skipped"}
    assert summary["counts"].get("failed", 0) == 0

    log = emulator_log(api)
    sent = Counter(received_messages(log))
    expected = [prompt(i) for i in range(1, JOBS + 1)] + [edit(i) for i in range(3, JOBS + 1, 3)]
    assert sent == Counter(expected), f"kills {kills}: messages sent {sent}"

    attempts = [e for e in log if e["endpoint"] == "render_start"]
    # a run killed while its request was on the way: the body never arrived, so nothing started
    aborted = [e for e in attempts if e["render_id"] is None]
    assert all(e["status"] != 200 for e in aborted), f"kills {kills}: {aborted}"
    starts = [e["render_id"] for e in attempts if e["render_id"] is not None]
    assert len(starts) == len(set(starts)) == JOBS, f"kills {kills}: render starts {starts}"
    assert {r["render_id"] for r in results} == set(starts)
    assert len({r["session_id"] for r in results}) == JOBS

    for i in range(1, JOBS + 1):
        video = probe(tmp_path / "out" / f"shop{i}.mp4")
        assert video.frames > 0
        assert 2.5 <= video.duration <= 3.5
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        f"shop{i}.mp4" for i in range(1, JOBS + 1)
    )  # no partial download left anywhere

    with nemovideo.SyncNemoClient(api_url=api.url) as nemo:  # the same cached token as the runs
        balance = nemo.credits.balance()
    edits = sum(len(r.get("edits", [])) for r in rows)
    assert balance.total == CREDITS - JOBS * GENERATION_COST - edits * EDIT_COST, kills


@pytest.mark.anyio
async def test_an_edit_recorded_as_sent_that_never_left_fails_naming_the_edit(
    api: Emulator, tmp_path: Path
) -> None:
    """Stopped between "recorded as sent" and the request leaving: the prompt's outcome is known, the
    edit's is not. The rerun does not send the edit again and its error names the edit, not the prompt."""
    rows = [{"prompt": prompt(1), "output": "out/a.mp4", "edits": [edit(1)]}]
    manifest = write_jsonl(tmp_path / "jobs.jsonl", rows)
    ledger = tmp_path / "ledger.sqlite"
    options = BatchOptions(jobs=1, settle=0.4, poll_interval=0.1, recover_deadline=2)
    async with nemovideo.NemoClient(api_url=api.url, config_dir=tmp_path / "nemo") as nemo:
        with anyio.CancelScope() as stop:

            def on_step(job: Job, text: str) -> None:
                if text.startswith("sending its edit"):
                    stop.cancel()  # the edit's request has not left yet

            await _results(nemo, manifest, ledger, options, on_step)
        assert stop.cancelled_caught
        assert received_messages(emulator_log(api)) == [prompt(1)]

        (failed,) = await _results(nemo, manifest, ledger, options)
        assert (failed.status, failed.error) == ("failed", "StreamDisconnected")
        assert unconfirmed(failed.as_dict(), rows) == edit(1)
        assert "--redo-failed" in (failed.message or "")

        (done,) = await _results(nemo, manifest, ledger, replace(options, redo_failed=True))
    assert done.status == "done"
    assert received_messages(emulator_log(api)) == [prompt(1), prompt(1), edit(1)]  # the edit once


async def _results(
    nemo: nemovideo.NemoClient,
    manifest: Path,
    ledger: Path,
    options: BatchOptions,
    on_step: Callable[[Job, str], None] | None = None,
) -> list[JobResult]:
    jobs = await load_manifest(manifest)
    async with Ledger(ledger) as book:
        batch = Batch(nemo, jobs, book, options, on_step=on_step)
        async with batch.results() as results:
            return [r async for r in results]
