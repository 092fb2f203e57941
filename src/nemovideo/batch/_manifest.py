"""The manifest: one job a row, read from JSON Lines or CSV, checked whole before anything is sent.

Every problem of every row is collected (not just the first), each named by its row and line, so one
``--dry-run`` shows all there is to fix. Relative paths are read from the manifest's own directory, so a
manifest and its media move together.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast, get_args

from .._errors import NemoError
from .._files import prepare
from ..resources.render import Quality

COLUMNS = ("prompt", "output", "files", "edits", "quality")
REQUIRED = ("prompt", "output")
QUALITIES: tuple[str, ...] = get_args(Quality)
MAX_ROWS = 100_000
"""The most jobs one manifest may hold (a bound on memory, and on the ledger's size)."""


class ManifestError(ValueError):
    """The manifest cannot run as written; ``problems`` lists each one as ``(row, line, text)``."""

    def __init__(self, source: Path, problems: Sequence[tuple[int, int, str]]) -> None:
        self.source = source
        self.problems = list(problems)
        shown = "\n".join(f"  row {row} (line {line}): {text}" for row, line, text in self.problems)
        count = len(self.problems)
        super().__init__(f"{source}: {count} problem{'s' if count != 1 else ''} to fix first:\n{shown}")


@dataclass(frozen=True)
class Job:
    """One video to make: a prompt, media to upload first, follow-up edits, where the MP4 goes."""

    prompt: str
    output: Path
    files: tuple[Path, ...] = ()
    edits: tuple[str, ...] = ()
    quality: Quality = "draft"
    row: int = 0
    """The job's place in the manifest (1 = the first job), for messages."""
    line: int = 0
    """The manifest line the job came from."""
    fingerprint: str = field(default="", compare=False)
    """A hash of everything that shapes the video (prompt, edits, quality, output, each file's path, size
    and modification time): the ledger compares it to see whether a job's input changed."""

    @property
    def messages(self) -> tuple[str, ...]:
        """What is sent to the agent, in order: the prompt, then each edit."""
        return (self.prompt, *self.edits)

    def with_fingerprint(self) -> Job:
        files = []
        for path in self.files:
            st = path.stat()
            files.append([str(path), st.st_size, st.st_mtime_ns])
        blob = json.dumps(
            [self.prompt, list(self.edits), self.quality, str(self.output), files], ensure_ascii=False
        )
        return dataclasses.replace(self, fingerprint=hashlib.sha256(blob.encode()).hexdigest()[:32])


def _list(value: Any, *, csv_cell: bool) -> tuple[list[str] | None, str | None]:
    """A list of strings: a JSON list, or in CSV a ``;``-separated cell (or a JSON list in the cell)."""
    if value is None or value == "":
        return [], None
    if isinstance(value, str) and csv_cell:
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                return None, "is not a valid JSON list"
        else:
            return [part.strip() for part in text.split(";") if part.strip()], None
    if isinstance(value, str):
        return [value], None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None, "must be a list of strings"
    return [v for v in value if v.strip()], None


def _rows(source: Path, text: str) -> list[tuple[int, dict[str, Any] | str]]:
    """(line, the row as a dict, or why it is not one)."""
    rows: list[tuple[int, dict[str, Any] | str]] = []
    if source.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text), restkey="\0extra")
        unknown = [c for c in (reader.fieldnames or []) if c not in COLUMNS]
        if not reader.fieldnames:
            return [(1, "the CSV file has no header row (prompt,output,files,edits,quality)")]
        if unknown:
            known = ", ".join(COLUMNS)
            return [(1, f"unknown column(s) {', '.join(map(repr, unknown))}: the columns are {known}")]
        for record in reader:
            line = reader.line_num
            if "\0extra" in record:
                rows.append((line, "has more cells than the header has columns"))
                continue
            rows.append((line, {k: v for k, v in record.items() if v not in (None, "")}))
        return rows
    for line, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except json.JSONDecodeError as exc:
            rows.append((line, f"is not valid JSON ({exc.msg})"))
            continue
        rows.append((line, item if isinstance(item, dict) else "must be a JSON object"))
    return rows


def _job(
    item: dict[str, Any], *, row: int, line: int, base: Path, quality: Quality, csv_cell: bool
) -> tuple[Job | None, list[str]]:
    problems: list[str] = []
    unknown = sorted(set(item) - set(COLUMNS))
    if unknown:
        problems.append(
            f"unknown column(s) {', '.join(map(repr, unknown))}: the columns are {', '.join(COLUMNS)}"
        )
    for name in REQUIRED:
        value = item.get(name)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{name!r} is required (a non-empty text)")
    files, why = _list(item.get("files"), csv_cell=csv_cell)
    if why:
        problems.append(f"'files' {why}")
    edits, why = _list(item.get("edits"), csv_cell=csv_cell)
    if why:
        problems.append(f"'edits' {why}")
    chosen = item.get("quality") or quality
    if chosen not in QUALITIES:
        problems.append(f"'quality' must be one of {', '.join(QUALITIES)}, not {chosen!r}")
    output = item.get("output")
    if isinstance(output, str) and output.strip() and not output.lower().endswith(".mp4"):
        problems.append(f"'output' must name an .mp4 file, not {output!r}")
    if problems:
        return None, problems
    job = Job(
        prompt=str(item["prompt"]).strip(),
        output=(base / os.path.expanduser(str(item["output"]).strip())).resolve(),
        files=tuple((base / os.path.expanduser(f)).resolve() for f in files or []),
        edits=tuple(edits or []),
        quality=cast(Quality, chosen),
        row=row,
        line=line,
    )
    return job, []


async def load_manifest(path: str | os.PathLike[str], *, quality: Quality = "draft") -> list[Job]:
    """Read and check a manifest (``.jsonl``/``.json`` lines or ``.csv``): the jobs, or ``ManifestError``
    naming every bad row.

    Checked for every row before any request: the columns, the quality, an ``.mp4`` output used by no
    other row, and each file (exists, readable, a type and size the API accepts, as an upload checks
    them). ``quality`` is the default for rows without one.
    """
    import anyio

    source = Path(path)
    text = await anyio.Path(source).read_text(encoding="utf-8-sig")
    base = Path(await anyio.Path(source).resolve()).parent
    csv_cell = source.suffix.lower() == ".csv"
    problems: list[tuple[int, int, str]] = []
    jobs: list[Job] = []
    outputs: dict[Path, int] = {}
    rows = _rows(source, text)
    if len(rows) > MAX_ROWS:
        raise ManifestError(source, [(MAX_ROWS + 1, rows[MAX_ROWS][0], f"more than {MAX_ROWS} jobs")])
    for row, (line, item) in enumerate(rows, 1):
        if isinstance(item, str):
            problems.append((row, line, item))
            continue
        job, found = _job(item, row=row, line=line, base=base, quality=quality, csv_cell=csv_cell)
        for problem in found:
            problems.append((row, line, problem))
        if job is None:
            continue
        if job.output in outputs:
            problems.append((row, line, f"output {job.output} is also row {outputs[job.output]}'s output"))
            continue
        outputs[job.output] = row
        bad = await _check_files(job)
        problems.extend((row, line, text) for text in bad)
        if not bad:
            jobs.append(job.with_fingerprint())
    if not rows:
        problems.append((0, 0, "the manifest holds no job"))
    if problems:
        raise ManifestError(source, problems)
    return jobs


async def _check_files(job: Job) -> list[str]:
    """Each file as an upload checks it, one by one so every bad file is named."""
    problems = []
    for path in job.files:
        try:
            for item in await prepare([path]):
                item.close()
        except OSError as exc:
            problems.append(f"file {path}: {exc.strerror or exc}")
        except NemoError as exc:
            problems.append(f"file {path}: {getattr(exc, 'message', str(exc))}")
    return problems


def shard(jobs: Sequence[Job], index: int, count: int) -> list[Job]:
    """Every ``count``-th job starting at the ``index``-th (1-based): shard ``index`` of ``count``."""
    if count < 1 or not 1 <= index <= count:
        raise ValueError(f"a shard is I/N with 1 <= I <= N, not {index}/{count}")
    return [job for job in jobs if (job.row - 1) % count == index - 1]
