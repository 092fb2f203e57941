"""A batch killed with SIGKILL at random points and run again: the emulator's own log shows each message
sent exactly once and each job rendered exactly once, every output a whole MP4, the credits charged once.

Each seed kills the real ``nemovideo batch`` process twice, each time a random moment after a randomly
chosen step showed in its progress (an upload, a send, a render start, a download), then lets a third run
finish.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import nemovideo
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
            assert row["prompt"] not in received, f"{kills}: it arrived, yet was not recovered: {row}"
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
