"""Credits and reruns: 2001 stops new jobs and says how many are left; ``--max-credits`` keeps a floor; a
job whose inputs changed is redone only when asked."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import anyio
import pytest

import nemovideo
from nemovideo.batch import BatchOptions, JobResult, Ledger, load_manifest, run_batch
from nemovideo.emulator import Emulator

from .conftest import FAST, emulator_log, write_jsonl
from .conftest import run_batch as run_command

pytestmark = pytest.mark.anyio

OPTIONS = BatchOptions(jobs=1, settle=0.4, poll_interval=0.1, recover_deadline=20)


def plain_jobs(count: int) -> list[dict[str, str]]:
    return [
        {"prompt": f"Generate a 2-second video about tea {i}", "output": f"v{i}.mp4"}
        for i in range(1, count + 1)
    ]


def test_no_credits_stops_new_jobs_and_says_how_many_are_left(api: Emulator, tmp_path: Path) -> None:
    api.configure(credits=250)  # two generations
    write_jsonl(tmp_path / "jobs.jsonl", plain_jobs(5))

    run = run_command(["jobs.jsonl", "--jobs", "1", "--json", *FAST], api=api, cwd=tmp_path)

    assert run.code == 6, run.stderr  # the exit code of InsufficientCreditsError, as for other commands
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    summary = lines.pop()["summary"]
    statuses = {r["row"]: r["status"] for r in lines}
    assert statuses == {1: "done", 2: "done", 3: "failed", 4: "not started", 5: "not started"}
    assert summary["not_started"] == 2
    assert "credits ran out" in summary["stopped"]
    assert summary["hint"]  # top up, or the registration link of an anonymous user
    assert sum(1 for e in emulator_log(api) if e["endpoint"] == "run_sse") == 3
    report = (tmp_path / "jobs.jsonl.report.csv").read_text().splitlines()
    assert report[0].startswith("row,status,output")
    assert len(report) == 6


async def _run(
    nemo: nemovideo.NemoClient, manifest: Path, ledger: Path, options: BatchOptions
) -> list[JobResult]:
    jobs = await load_manifest(manifest)
    async with Ledger(ledger) as book, run_batch(nemo, jobs, book, options) as results:
        return sorted([r async for r in results], key=lambda r: r.job.row)


async def test_max_credits_keeps_a_floor(api: Emulator, tmp_path: Path) -> None:
    manifest = write_jsonl(tmp_path / "jobs.jsonl", plain_jobs(4))
    async with nemovideo.NemoClient(api_url=api.url, config_dir=tmp_path / "nemo") as nemo:
        start = (await nemo.credits.balance()).available
        floor = BatchOptions(jobs=1, settle=0.4, poll_interval=0.1, max_credits=start - 250)
        results = await _run(nemo, manifest, tmp_path / "ledger.sqlite", floor)
        end = (await nemo.credits.balance()).available
    assert [r.status for r in results] == ["done", "done", "not started", "not started"]
    assert "--max-credits" in (results[2].message or "")
    assert end >= start - 250


async def test_a_rerun_skips_saved_jobs_and_redoes_changed_ones_only_when_asked(
    api: Emulator, tmp_path: Path
) -> None:
    manifest = write_jsonl(tmp_path / "jobs.jsonl", plain_jobs(2))
    ledger = tmp_path / "ledger.sqlite"
    async with nemovideo.NemoClient(api_url=api.url, config_dir=tmp_path / "nemo") as nemo:
        first = await _run(nemo, manifest, ledger, OPTIONS)
        assert [r.status for r in first] == ["done", "done"]
        assert first[0].credits == 100  # one job at a time: its spend is measured exactly

        again = await _run(nemo, manifest, ledger, OPTIONS)
        assert [r.status for r in again] == ["skipped", "skipped"]
        assert again[0].path == first[0].path

        rows = plain_jobs(2)
        rows[1]["prompt"] = "Generate a 2-second video about coffee"
        await anyio.Path(manifest).write_text("".join(json.dumps(r) + "\n" for r in rows))
        changed = await _run(nemo, manifest, ledger, OPTIONS)
        assert [r.status for r in changed] == ["skipped", "changed"]
        assert "--redo-changed" in (changed[1].hint or "")

        redone = await _run(nemo, manifest, ledger, replace(OPTIONS, redo_changed=True))
        assert [r.status for r in redone] == ["skipped", "done"]
        assert redone[1].session_id != first[1].session_id
    sent = [e["message"] for e in emulator_log(api) if e["endpoint"] == "run_sse"]
    assert sent == [rows[0]["prompt"], plain_jobs(2)[1]["prompt"], rows[1]["prompt"]]
