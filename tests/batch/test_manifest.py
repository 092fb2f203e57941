"""The manifest is checked whole before anything is sent: every bad row is named by its row and line."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from nemovideo.batch import COLUMNS, ManifestError, load_manifest, shard
from nemovideo.emulator import Emulator

from .conftest import FAST, emulator_log, run_batch, sample_jobs, write_jsonl


def test_dry_run_names_the_two_bad_rows_of_twenty_and_sends_nothing(api: Emulator, tmp_path: Path) -> None:
    rows = sample_jobs(tmp_path, 20)
    (tmp_path / "notes.txt").write_text("not a video")
    rows[6]["files"] = ["missing-clip.mp4"]  # row 7
    rows[12]["files"] = ["notes.txt"]  # row 13
    write_jsonl(tmp_path / "jobs.jsonl", rows)

    run = run_batch(["jobs.jsonl", "--dry-run", *FAST], api=api, cwd=tmp_path)

    assert run.code == 2, run.stderr
    assert "2 problems" in run.stderr
    assert "row 7 (line 7)" in run.stderr
    assert "missing-clip.mp4" in run.stderr
    assert "row 13 (line 13)" in run.stderr
    assert "notes.txt" in run.stderr
    for good in (1, 2, 8, 20):
        assert f"row {good} " not in run.stderr
    assert emulator_log(api) == []  # not one request, not even for a token
    assert not (tmp_path / "jobs.jsonl.ledger.sqlite").exists()


def test_dry_run_of_a_good_csv_prints_the_plan(api: Emulator, tmp_path: Path) -> None:
    rows = sample_jobs(tmp_path, 3)
    lines = ["prompt,output,files,edits,quality"]
    for row in rows:
        cells = [row["prompt"], row["output"], ";".join(row.get("files", [])), ";".join(row.get("edits", []))]
        lines.append(",".join(json.dumps(c) for c in cells) + ",draft")
    (tmp_path / "jobs.csv").write_text("\n".join(lines) + "\n")

    run = run_batch(["jobs.csv", "--dry-run"], api=api, cwd=tmp_path)

    assert run.code == 0, run.stderr
    assert "3 jobs, 2 files to upload, 4 messages to send" in run.stdout
    assert "Nothing was sent (--dry-run)" in run.stdout
    assert emulator_log(api) == []


@pytest.mark.anyio
async def test_unknown_columns_and_missing_fields_are_refused(tmp_path: Path) -> None:
    (tmp_path / "jobs.csv").write_text("prompt,output,colour\na,b.mp4,red\n")
    with pytest.raises(ManifestError, match=r"unknown column.*'colour'"):
        await load_manifest(tmp_path / "jobs.csv")
    write_jsonl(
        tmp_path / "jobs.jsonl",
        [{"prompt": "p", "output": "a.mp4"}, {"output": "b.mp4"}, {"prompt": "p", "output": "a.mp4"}],
    )
    with pytest.raises(ManifestError) as raised:
        await load_manifest(tmp_path / "jobs.jsonl")
    problems = {(row, text.split(" ")[0]) for row, _, text in raised.value.problems}
    assert problems == {(2, "'prompt'"), (3, "output")}


@pytest.mark.anyio
async def test_a_changed_file_changes_the_jobs_fingerprint(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "jobs.jsonl", sample_jobs(tmp_path, 2))
    first = await load_manifest(tmp_path / "jobs.jsonl")
    await anyio.Path(tmp_path / "logo.png").write_bytes((tmp_path / "logo.png").read_bytes() + b"\0")
    again = await load_manifest(tmp_path / "jobs.jsonl")
    assert first[0].fingerprint != again[0].fingerprint  # the job with the logo
    assert first[1].fingerprint == again[1].fingerprint  # the job without files


@pytest.mark.anyio
async def test_shards_split_the_jobs_without_overlap(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "jobs.jsonl", [{"prompt": f"p{i}", "output": f"{i}.mp4"} for i in range(10)])
    jobs = await load_manifest(tmp_path / "jobs.jsonl")
    parts = [shard(jobs, i, 3) for i in (1, 2, 3)]
    assert sorted(j.row for part in parts for j in part) == list(range(1, 11))
    assert [j.row for j in parts[1]] == [2, 5, 8]
    with pytest.raises(ValueError, match="I/N"):
        shard(jobs, 4, 3)
    assert COLUMNS == ("prompt", "output", "files", "edits", "quality")
