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
    assert final.code == 0, f"{kills}\n{final.stderr}"

    results = [json.loads(line) for line in final.stdout.splitlines()]
    summary = results.pop()["summary"]
    assert sorted(r["row"] for r in results) == list(range(1, JOBS + 1))
    assert {r["status"] for r in results} <= {"done", "skipped"}
    assert summary["counts"].get("failed", 0) == 0

    log = emulator_log(api)
    sent = Counter(e["message"] for e in log if e["endpoint"] == "run_sse")
    expected = [prompt(i) for i in range(1, JOBS + 1)] + [edit(i) for i in range(3, JOBS + 1, 3)]
    assert sent == Counter(expected), f"kills {kills}: messages sent {sent}"

    starts = [e["render_id"] for e in log if e["endpoint"] == "render_start"]
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
