"""``nemovideo batch``: many videos from one manifest, resumable, with one bar for the whole run.

Progress goes to stderr (an overall bar with counts and a line per running job on a terminal; plain lines
otherwise), the summary table to stdout, and a report file (CSV, or JSON by its suffix) next to the
manifest. The ledger (see ``nemovideo.batch``) makes a rerun of the same command continue where it stopped.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..batch import Batch, BatchOptions, Job, JobResult, Ledger, ManifestError, load_manifest, shard
from ..batch._ledger import default_ledger_path
from . import _exit, _ui
from ._options import READ_TIMEOUT, EmulatorOpt, QualityChoice, QualityOpt, TimeoutOpt
from ._run import open_client

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

_EXAMPLE = "nemovideo batch jobs.jsonl --jobs 8"


def _shard(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    found = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", value)
    if not found or not 1 <= int(found[1]) <= int(found[2]):
        raise typer.BadParameter(f"write I/N with 1 <= I <= N, e.g. 2/4, not {value!r}", param_hint="--shard")
    return int(found[1]), int(found[2])


def _beside(manifest: Path, where: tuple[int, int] | None, suffix: str) -> Path:
    """``<manifest>[.shard-I-of-N]<suffix>`` next to the manifest."""
    tag = f".shard-{where[0]}-of-{where[1]}" if where else ""
    return manifest.with_name(f"{manifest.name}{tag}{suffix}")


class View:
    """What the run shows while it goes: a bar and a line per running job, or plain lines."""

    def __init__(self, console: Console, total: int, *, enabled: bool) -> None:
        self.console = console
        self.enabled = enabled
        self.live = enabled and console.is_terminal and not console.is_dumb_terminal
        self.total = total
        self.counts = {"done": 0, "failed": 0, "running": 0}
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            disable=not self.live,
        )
        self.overall = self.progress.add_task("Jobs", total=total, detail=self._counts())
        self.lines: dict[int, TaskID] = {}

    def _counts(self) -> str:
        c = self.counts
        ended = c["done"] + c["failed"]
        return f"{ended}/{self.total} · {c['done']} done · {c['failed']} failed · {c['running']} running"

    def step(self, job: Job, text: str) -> None:
        if not self.enabled:
            return
        if job.row not in self.lines:
            self.counts["running"] += 1
            if self.live:
                self.lines[job.row] = self.progress.add_task(
                    f"  row {job.row}", total=None, detail=escape(job.output.name)
                )
            else:
                self.lines[job.row] = TaskID(0)
            self._refresh()
        if self.live:
            self.progress.update(self.lines[job.row], detail=f"{escape(job.output.name)}: {escape(text)}")
        else:
            self.console.print(f"row {job.row} ({job.output.name}): {text}", highlight=False, markup=False)

    def finished(self, result: JobResult) -> None:
        row = result.job.row
        line = self.lines.pop(row, None)
        if line is not None:
            self.counts["running"] -= 1
            if self.live:
                self.progress.remove_task(line)
        self.counts["done" if result.ok else "failed"] += 1
        self._refresh(advance=1)
        if self.enabled:
            self.console.print(_line(result), highlight=False, markup=False)

    def _refresh(self, advance: int = 0) -> None:
        self.progress.update(self.overall, advance=advance, detail=self._counts())


def _line(result: JobResult) -> str:
    where = f"row {result.job.row} ({result.job.output.name})"
    if result.status == "done":
        seconds = f"{result.duration:g} s · " if result.duration else ""
        return f"{where}: done: {result.path} ({seconds}{_ui.size(result.size or 0)})"
    return f"{where}: {result.status}: {result.message or ''}"


def plan_table(jobs: list[Job]) -> Table:
    table = Table(title=f"Plan: {len(jobs)} job{'s' if len(jobs) != 1 else ''}", title_justify="left")
    for name in ("row", "output", "files", "edits", "quality", "prompt"):
        table.add_column(name, justify="right" if name in ("row", "files", "edits") else "left")
    for job in jobs:
        prompt = job.prompt if len(job.prompt) <= 50 else job.prompt[:49] + "…"
        table.add_row(
            str(job.row),
            escape(str(job.output)),
            str(len(job.files)),
            str(len(job.edits)),
            job.quality,
            escape(prompt),
        )
    return table


def summary_table(results: list[JobResult]) -> Table:
    table = Table(title="Jobs", title_justify="left")
    for name in ("row", "status", "output", "duration", "size", "credits"):
        table.add_column(name, justify="right" if name in ("row", "duration", "size", "credits") else "left")
    for r in sorted(results, key=lambda r: r.job.row):
        style = {"done": "green", "skipped": "green", "failed": "red"}.get(r.status, "yellow")
        table.add_row(
            str(r.job.row),
            f"[{style}]{r.status}[/]",
            escape(str(r.job.output)),
            f"{r.duration:g} s" if r.duration else "",
            _ui.size(r.size) if r.size else "",
            str(r.credits) if r.credits is not None else "",
        )
    return table


REPORT_FIELDS = (
    "row",
    "status",
    "output",
    "duration",
    "size",
    "credits",
    "session_id",
    "render_id",
    "error",
    "message",
    "hint",
    "elapsed",
    "prompt",
)


def report_text(path: Path, results: list[JobResult]) -> str:
    """The report: a JSON list for ``*.json``, else CSV with a header (shard reports concatenate)."""
    rows = [r.as_dict() for r in sorted(results, key=lambda r: r.job.row)]
    if path.suffix.lower() == ".json":
        return json.dumps(rows, ensure_ascii=False, indent=1) + "\n"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=REPORT_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _exit_code(results: list[JobResult], batch: Batch) -> int:
    """0 when every job is done; else the code of the first failed job's error (as other commands)."""
    if all(r.ok for r in results):
        return _exit.OK
    if batch.stopped is not None and batch.stopped.startswith("the credits ran out"):
        return 6
    for r in sorted(results, key=lambda r: r.job.row):
        if r.status == "failed" and r.error:
            for code, classes, _ in _exit.EXIT_CODES:
                if any(cls.__name__ == r.error for cls in classes):
                    return code
            return 1
    return 1


def command(
    manifest: Annotated[
        Path,
        typer.Argument(
            metavar="MANIFEST",
            help="Jobs, one a row: .jsonl or .csv; columns prompt, output, files, edits, quality.",
            show_default=False,
        ),
    ],
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, max=1000, help="How many jobs run at once.")
    ] = 4,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row and every file, print the plan; send nothing.")
    ] = False,
    max_credits: Annotated[
        int | None,
        typer.Option(
            "--max-credits",
            metavar="N",
            min=0,
            help="Start no job that would bring the balance below N credits.",
        ),
    ] = None,
    shard_of: Annotated[
        str | None,
        typer.Option(
            "--shard", metavar="I/N", help="Run every N-th job starting at the I-th (one of N machines)."
        ),
    ] = None,
    ledger_path: Annotated[
        Path | None,
        typer.Option(
            "--ledger", metavar="FILE", help="The ledger. \\[default: <manifest>.ledger.sqlite beside it]"
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="FILE",
            help="The report: .csv or .json. \\[default: <manifest>.report.csv beside it]",
        ),
    ] = None,
    redo_changed: Annotated[
        bool,
        typer.Option("--redo-changed", help="Redo jobs whose inputs changed since recorded (costs credits)."),
    ] = False,
    redo_failed: Annotated[
        bool, typer.Option("--redo-failed", help="Start failed jobs over instead of continuing them.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace output files the ledger did not save (otherwise refused)."),
    ] = False,
    quality: QualityOpt = QualityChoice.draft,
    settle: Annotated[
        float,
        typer.Option(
            "--settle",
            metavar="SECONDS",
            min=0.0,
            help="After a crash mid-reply: how long the timeline must stay unchanged to count as done.",
        ),
    ] = BatchOptions.settle,
    recover_deadline: Annotated[
        float,
        typer.Option(
            "--recover-deadline",
            metavar="SECONDS",
            min=0.0,
            help="After a crash mid-reply: how long to wait for the reply's outcome in the session.",
        ),
    ] = BatchOptions.recover_deadline,
    poll_interval: Annotated[
        float | None,
        typer.Option(
            "--poll-interval",
            metavar="SECONDS",
            min=0.01,
            help="Seconds between render polls. \\[default: 2 s growing to 15 s]",
        ),
    ] = None,
    max_rate_wait: Annotated[
        float,
        typer.Option(
            "--max-rate-wait",
            metavar="SECONDS",
            min=0.0,
            help="The longest Retry-After honoured; a longer one stops the job (rerun later).",
        ),
    ] = BatchOptions.max_rate_wait,
    language: Annotated[
        str | None, typer.Option("--language", metavar="LANG", help="The agent's language, e.g. en.")
    ] = None,
    timeout: TimeoutOpt = READ_TIMEOUT,
    emulator: EmulatorOpt = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per finished job on stdout, then a summary line.")
    ] = False,
) -> None:
    """Make many videos from one manifest: resumable after a crash, never paid twice.

    Every step of every job is recorded in a ledger beside the manifest; run the same command again to
    continue: sent messages are not sent again, renders are resumed, saved files are kept.
    """
    from ._app import complain, run, timeout_of

    where = _shard(shard_of)
    options = BatchOptions(
        jobs=jobs,
        max_credits=max_credits,
        redo_changed=redo_changed,
        redo_failed=redo_failed,
        overwrite=force,
        language=language,
        settle=settle,
        recover_deadline=recover_deadline,
        poll_interval=poll_interval,
        max_rate_wait=max_rate_wait,
    )
    ledger_file = ledger_path or (_beside(manifest, where, ".ledger.sqlite") if where else None)
    ledger_file = ledger_file or default_ledger_path(manifest)
    report_file = report or _beside(manifest, where, ".report.csv")

    def interrupted() -> str:
        return f"every finished step is in the ledger {ledger_file}; run the same command again to continue"

    async def job() -> None:
        try:
            todo = await load_manifest(manifest, quality=QualityChoice(quality).value)
        except ManifestError as exc:
            hint = "Fix the rows above and run again (--dry-run checks without sending)."
            complain(str(exc), hint, _exit.USAGE, as_json=as_json)
            return
        if where is not None:
            todo = shard(todo, *where)
        if dry_run:
            _plan(todo, ledger_file, as_json=as_json)
            return
        view = View(err, len(todo), enabled=not as_json)
        results: list[JobResult] = []
        async with Ledger(ledger_file) as ledger, open_client(emulator, timeout=timeout_of(timeout)) as nemo:
            batch = Batch(nemo, todo, ledger, options, on_step=view.step)
            with view.progress:
                async with batch.results() as stream:
                    async for result in stream:
                        results.append(result)
                        view.finished(result)
                        if as_json:
                            print(json.dumps(result.as_dict(), ensure_ascii=False), flush=True)
        await anyio.Path(report_file).write_text(report_text(report_file, results), encoding="utf-8")
        _summary(results, batch, report_file, as_json=as_json)
        code = _exit_code(results, batch)
        if code:
            raise typer.Exit(code)

    run(job, as_json=as_json, on_interrupt=interrupted)


def _plan(todo: list[Job], ledger_file: Path, *, as_json: bool) -> None:
    files = sum(len(j.files) for j in todo)
    messages = sum(len(j.messages) for j in todo)
    if as_json:
        for j in todo:
            print(
                json.dumps(
                    {
                        "row": j.row,
                        "output": str(j.output),
                        "files": [str(f) for f in j.files],
                        "edits": list(j.edits),
                        "quality": j.quality,
                        "prompt": j.prompt,
                    },
                    ensure_ascii=False,
                )
            )
        return
    out.print(plan_table(todo))
    out.print(
        f"{len(todo)} jobs, {files} files to upload, {messages} messages to send; "
        f"ledger {escape(str(ledger_file))}. Nothing was sent (--dry-run).",
        highlight=False,
    )


def _summary(results: list[JobResult], batch: Batch, report_file: Path, *, as_json: bool) -> None:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    spent = None
    if batch.balance_before is not None and batch.balance_after is not None:
        spent = max(batch.balance_before - batch.balance_after, 0)
    left = counts.get("not started", 0)
    summary: dict[str, Any] = {
        "counts": counts,
        "credits_spent": spent,
        "rate_limited": batch.gate.limited,
        "rate_wait": round(batch.gate.closed_for, 3),
        "stopped": batch.stopped,
        "hint": batch.stop_hint,
        "not_started": left,
        "report": str(report_file),
    }
    if as_json:
        print(json.dumps({"summary": summary}, ensure_ascii=False))
        return
    out.print(summary_table(results))
    shown = ", ".join(f"{n} {status}" for status, n in counts.items())
    credits = f" · {spent} credits spent" if spent is not None else ""
    waited = (
        f" · rate limited {batch.gate.limited}x ({batch.gate.closed_for:.1f} s)" if batch.gate.limited else ""
    )
    out.print(f"{shown}{credits}{waited} · report {escape(str(report_file))}", highlight=False)
    if batch.stopped:
        err.print(
            f"[yellow]stopped starting jobs:[/] {escape(batch.stopped)}; "
            f"{left} job{'s' if left != 1 else ''} left",
            highlight=False,
        )
        if batch.stop_hint:
            err.print(f"[yellow]hint:[/] {escape(batch.stop_hint)}", highlight=False)
    for r in results:
        if r.status in ("failed", "changed") and r.hint:
            err.print(f"[yellow]hint (row {r.job.row}):[/] {escape(r.hint)}", highlight=False)
