"""The transport-chaos soak, run for longer than CI does, with its numbers as Markdown.

    .venv/bin/python benchmarks/soak.py [--seconds 600] [--seed N] [--workers 4] [--out benchmarks/SOAK.md]

It is the runner of tests/chaos/test_soak.py (tests/chaos/_soak.py): sessions through a TCP fault proxy in
front of the emulator's API and CDN origins, then the checks on the emulator's log and ledger. The exit
status is 1 when a check failed; the report lists each problem with the seed that found it.
Not part of the test suite: numbers, not verdicts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the runner lives with the tests

from tests.chaos._soak import SoakReport, run_soak  # noqa: E402


def commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    return done.stdout.strip() or "?"


def markdown(report: SoakReport, workers: int, seconds: float, revision: str) -> str:
    total = sum(report.operations.values())
    ok = sum(n for (_, outcome), n in report.operations.items() if outcome.startswith("ok"))
    lines = [
        "# Transport chaos: the soak",
        "",
        f"One run of `benchmarks/soak.py --seconds {seconds:g} --seed {report.seed} "
        f"--workers {workers}`, "
        f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, commit {revision}, "
        f"Python {platform.python_version()} on {platform.machine()}.",
        "",
        "## Load",
        "",
        "| | |",
        "|---|---|",
        f"| sessions (a new client and token each) | {len(report.sessions)} |",
        f"| operations | {total} ({ok} completed, {total - ok} raised a documented error) |",
        f"| HTTP requests the emulator received | {report.requests} |",
        f"| TCP connections through the proxies | {report.connections} |",
        "",
        "## Faults",
        "",
        "| kind | connections given it | took effect |",
        "|---|---|---|",
        *(
            f"| {kind} | {report.faults_drawn[kind]} | {report.faults_fired.get(kind, '(always)')} |"
            for kind in sorted(report.faults_drawn)
        ),
        "",
        "## Outcomes (operation x outcome)",
        "",
        *report.table(),
        "",
        "## Checks",
        "",
        f"Looked at: {', '.join(f'{n} {what}' for what, n in report.checked.items())}.",
        "",
    ]
    if report.problems:
        lines += [f"- **problem**: {p.splitlines()[0]}" for p in report.problems]
    else:
        lines += [
            "- every operation completed or raised a documented `NemoError`; none hung",
            "- no message reached the agent twice",
            "- at most one render job per session, the one its client was told of",
            "- credits charged equal the price of the messages the agent accepted, each once",
            "- every download target holds the whole video or nothing (no partial or temporary file)",
        ]
    lines += [
        "",
        "## Reproduce",
        "",
        "```",
        f".venv/bin/python benchmarks/soak.py --seconds {seconds:g} --seed {report.seed} "
        f"--workers {workers} --out benchmarks/SOAK.md",
        "```",
        "",
        "The seed fixes the sequence of faults the proxies draw, in the order connections arrive; which",
        "request a connection carries still depends on timing, so a replay is close, not identical. In CI",
        "the same runner runs for 40 s (`tests/chaos/test_soak.py`); `NEMO_SOAK_SECONDS` and",
        "`NEMO_SOAK_SEED` lengthen or replay it:",
        "",
        "```",
        f"NEMO_SOAK_SECONDS=600 NEMO_SOAK_SEED={report.seed} .venv/bin/pytest tests/chaos/test_soak.py",
        "```",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--out", type=Path, default=None, help="write the Markdown report here")
    args = parser.parse_args()
    seed = random.randrange(1_000_000) if args.seed is None else args.seed
    started_at = commit()  # the code that runs, even if the tree moves on meanwhile
    print(f"soak seed {seed}, {args.seconds:g} s, {args.workers} workers", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        report = anyio.run(lambda: run_soak(args.seconds, seed, Path(tmp), workers=args.workers))
    print(report.summary())
    if args.out is not None:
        args.out.write_text(markdown(report, args.workers, args.seconds, started_at))
    raise SystemExit(1 if report.problems else 0)


if __name__ == "__main__":
    main()
