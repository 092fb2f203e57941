"""Fixtures for the batch tests: the emulator as the API, manifests, the real command in a process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from nemovideo.emulator import Emulator

from ..cli._probe import SCRIPT
from ..sdk._media import png

CREDITS = 10_000
RUN_DEADLINE = 60.0
"""Seconds one run of the command may take before the test kills it and fails."""
FAST = ["--settle", "0.4", "--poll-interval", "0.1", "--recover-deadline", "20", "--timeout", "10"]
"""Flags that keep a test's runs short: quick polls, a short settle after a crash mid-reply."""


@pytest.fixture
def api(nemo_emulator: Emulator) -> Emulator:
    """The session's emulator, reset, with credits for many generations and edits."""
    nemo_emulator.configure(credits=CREDITS, generation_seconds=0.6)
    return nemo_emulator


def prompt(i: int) -> str:
    return f"Generate a 3-second video about tea shop number {i}"


def edit(i: int) -> str:
    return f"Add a title 'Shop {i}' for 2 seconds"


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def sample_jobs(directory: Path, count: int) -> list[dict[str, Any]]:
    """``count`` jobs: every other one uploads a logo first, every third one has a follow-up edit."""
    logo = directory / "logo.png"
    logo.write_bytes(png(8, 8))
    rows: list[dict[str, Any]] = []
    for i in range(1, count + 1):
        row: dict[str, Any] = {"prompt": prompt(i), "output": f"out/shop{i}.mp4"}
        if i % 2:
            row["files"] = ["logo.png"]
        if i % 3 == 0:
            row["edits"] = [edit(i)]
        rows.append(row)
    return rows


@dataclass
class Run:
    code: int | None
    """The exit code; negative (−9) for a run killed with SIGKILL."""
    stdout: str
    stderr: str
    killed: bool


def run_batch(
    args: list[str],
    *,
    api: Emulator,
    cwd: Path,
    kill_after: str | None = None,
    delay: float = 0.0,
) -> Run:
    """``nemovideo batch ARGS`` as a process against the emulator; with ``kill_after``, SIGKILL it
    ``delay`` seconds after its progress first shows that text (or let it finish if it never does)."""
    env = {**os.environ, "NEMO_API_URL": api.url}
    stdout: list[str] = []
    lines: list[str] = []
    killed = False
    started = time.monotonic()
    with subprocess.Popen(
        [str(SCRIPT), "batch", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        guard = threading.Timer(RUN_DEADLINE, proc.kill)
        guard.start()
        out = proc.stdout
        reader = threading.Thread(target=lambda: stdout.append(out.read()))
        reader.start()
        try:
            for line in proc.stderr:
                lines.append(line)
                if kill_after is not None and not killed and kill_after in line:
                    time.sleep(delay)
                    proc.send_signal(signal.SIGKILL)
                    killed = True
            proc.wait(timeout=RUN_DEADLINE)
        finally:
            guard.cancel()
            reader.join(timeout=5)
    assert time.monotonic() - started < RUN_DEADLINE, "the batch took too long: " + "".join(lines[-20:])
    return Run(proc.returncode, "".join(stdout), "".join(lines), killed)


def emulator_log(api: Emulator) -> list[dict[str, Any]]:
    """What the emulator received, from its own log route (every request of every run)."""
    entries = httpx.get(f"{api.url}/_emulator/log", timeout=10).json()["entries"]
    return [e for e in entries if not e["path"].startswith("/_emulator")]
