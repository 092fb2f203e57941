"""What the command shows: the timeline as a table, and progress for each step of a job.

Progress goes to stderr, results to stdout, so ``nemovideo ... > out.txt`` keeps the results clean. On a
terminal the steps are live rich bars; piped (a log, CI, a test) they are plain lines, one per milestone,
which read well in a file.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import TracebackType
from typing import TYPE_CHECKING

import anyio
from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from ..models.draft import Draft, TrackType, describe_segment
from ..models.events import Event, Heartbeat, ToolCall
from ._words import WORDS, Lang

if TYPE_CHECKING:
    from ..models.render import RenderJob

NOTICE_EVERY = 10.0
"""Seconds between two "still working" notices while the agent sends only heartbeats."""

WAIT_NOTICE_ENV = "NEMO_CLI_WAIT_NOTICE"
"""Seconds between two "still waiting for the server" lines while a request has no answer (default 30)."""


def wait_notice_every() -> float:
    value = os.environ.get(WAIT_NOTICE_ENV, "")
    try:
        return max(float(value), 0.05) if value else 30.0
    except ValueError:
        raise ValueError(f"{WAIT_NOTICE_ENV} must be a number of seconds, not {value!r}") from None


@asynccontextmanager
async def waiting(say: Callable[[str], object]) -> AsyncIterator[None]:
    """While the body awaits the server, say every few seconds that it is still waiting."""
    every = wait_notice_every()

    async def tick() -> None:
        waited = 0.0
        while True:
            await anyio.sleep(every)
            waited += every
            say(f"[dim]still waiting for the server ({waited:.0f} s)…[/]")

    async with anyio.create_task_group() as tg:
        tg.start_soon(tick)
        try:
            yield
        finally:
            tg.cancel_scope.cancel()


def seconds(ms: float) -> str:
    return f"{ms / 1000:.3f}".rstrip("0").rstrip(".") + " s"


def size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def reply(console: Console, text: str, *, raw: str | None = None) -> None:
    """The agent's reply as one renderable, so it wraps on words at the terminal's width; the raw text
    first (``--verbose``) when the translation changed it."""
    if raw is not None and raw != text:
        console.print(_wrapped(Text.assemble(("raw> ", "dim"), (raw, "dim")), console.width), soft_wrap=False)
    console.print(_wrapped(Text.assemble(("nemo> ", "bold"), text), console.width), soft_wrap=False)


_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef]")


def _wrapped(text: Text, width: int) -> Text:
    """Mostly Chinese (or Japanese, Korean) text has no spaces to wrap on: rich would move the whole
    sentence below the prompt as one long word, so it is broken at the width instead, character by
    character, as those languages wrap."""
    letters = [c for c in text.plain if not c.isspace()]
    if not letters or sum(1 for c in letters if _CJK.match(c)) * 2 <= len(letters):
        return text
    breaks, used = [], 0
    for at, char in enumerate(text.plain):
        cells = 0 if char == "\n" else cell_len(char)
        if char == "\n" or used + cells > width:
            used = 0
            if char != "\n":
                breaks.append(at)
        used += cells
    return Text("\n").join(text.divide(breaks)) if breaks else text


def timeline_table(draft: Draft, lang: Lang = "en") -> Table:
    """One row per segment: track, label, start, end, and volume for audio."""
    words = WORDS[lang]
    title = words["timeline_of"].format(title=draft.title) if draft.title else words["timeline"]
    table = Table(title=f"{title} ({seconds(draft.duration_ms)})", title_justify="left")
    justified = ("right", "left", "left", "right", "right", "right")
    for name, justify in zip(words["columns"].split("|"), justified, strict=True):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    if not draft.tracks:
        table.add_row("", words["empty"], "", "", "", "")
    for number, track in enumerate(draft.tracks, 1):
        if not track.segments:
            table.add_row(str(number), escape(track.label), words["empty"], "", "", "")
        for i, segment in enumerate(track.segments):
            label = f'"{segment.label}"' if track.type == TrackType.TEXT else segment.label
            volume = f"{segment.volume:g}%" if segment.volume is not None else ""
            table.add_row(
                str(number) if i == 0 else "",
                escape(track.label) if i == 0 else "",
                escape(label),
                seconds(segment.start_ms),
                seconds(segment.end_ms),
                volume,
            )
    return table


def plain_timeline(draft: Draft) -> str:
    """The timeline as text lines (for the chat's narrow output and for logs)."""
    lines = [f"Timeline ({seconds(draft.duration_ms)})" + (f": {draft.title}" if draft.title else "")]
    for number, track in enumerate(draft.tracks, 1):
        parts = ", ".join(describe_segment(track.type, s) for s in track.segments) or "(empty)"
        lines.append(f"  {number}. {track.label}: {parts}")
    return "\n".join(lines)


class Steps:
    """Progress of one job's steps: upload bytes, generation, render percent, download bytes.

    Use as a context manager; the ``*_hook`` methods are the SDK's progress callbacks.
    """

    def __init__(self, console: Console, *, enabled: bool = True, lang: Lang = "en") -> None:
        self.console = console
        self.words = WORDS[lang]
        self.enabled = enabled
        self.live = enabled and (console.is_terminal and not console.is_dumb_terminal)
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            disable=not self.live,
        )
        self._task: TaskID | None = None
        self._name = ""
        self._started = 0.0
        self._last_notice = 0.0
        self._said: set[str] = set()
        self._active = False
        self.render_id: str | None = None
        """The render being followed (known from its first progress), for a message on Ctrl-C."""

    def __enter__(self) -> Steps:
        self._progress.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.__exit__(exc_type, exc, tb)

    # plumbing
    def say(self, text: RenderableType) -> None:
        """A line above the bars (or just a line, when piped), through the console that owns them."""
        if self.enabled:
            self.console.print(text, highlight=False)

    def waiting(self) -> AbstractAsyncContextManager[None]:
        """``async with steps.waiting():`` around a request: "still waiting for the server" lines."""
        return waiting(self.say)

    def _begin(self, name: str, total: float | None) -> None:
        self._finish_current()
        self._name = name
        self._started = self._last_notice = time.monotonic()
        self._said = set()
        self._active = True
        if self.live:
            self._task = self._progress.add_task(name, total=total, detail="")
        else:
            self.say(f"{name}...")

    def _update(self, done: float, total: float | None, detail: str) -> None:
        if self._task is not None:
            self._progress.update(self._task, completed=done, total=total, detail=detail)

    def _finish_current(self) -> None:
        if self._task is not None:
            task = self._progress.tasks[self._task]
            self._progress.update(
                self._task, completed=task.total or task.completed or 1, total=task.total or 1
            )
            self._task = None

    def done(self, summary: str) -> None:
        """End the current step with a line saying how it went."""
        self._finish_current()
        self._active = False
        elapsed = time.monotonic() - self._started
        self.say(
            f"[green]✓[/] {summary} [dim]({elapsed:.1f} s)[/]"
            if self.live
            else f"{summary} ({elapsed:.1f} s)"
        )

    # steps
    def upload(self, count: int) -> Callable[[int, int], None]:
        self._begin(self.words["uploading"].format(count=count, plural="s" if count != 1 else ""), None)

        def hook(sent: int, total: int) -> None:
            self._update(sent, total, f"{size(sent)} / {size(total)}")
            if not self.live and sent >= total and "end" not in self._said:
                self._said.add("end")
                self.say("  " + self.words["sent"].format(size=size(total)))

        return hook

    def generation(self, what: str | None = None) -> None:
        self._begin(what or self.words["generating"], None)

    def on_event(self, event: Event) -> None:
        """Follows the agent's stream: its tool calls name the step, heartbeats say it is still at it."""
        if not self._active:
            return
        if isinstance(event, ToolCall):
            self._update(0, None, f"[cyan]{escape(event.name)}[/]" if self.live else event.name)
            if not self.live:
                self.say(f"  {self.words['agent']}: {event.name}")
        elif isinstance(event, Heartbeat):
            working = time.monotonic() - self._started
            self._update(0, None, self.words["working"].format(seconds=working))

    def on_heartbeat(self, quiet: float) -> None:
        """The SDK's ``on_heartbeat`` hook: only heartbeats for ``quiet`` seconds."""
        if not self._active:
            return  # the step is over: nothing after "done" but the result
        text = self.words["still"].format(seconds=time.monotonic() - self._started)
        if self.live:
            self._update(0, None, text)
        else:
            self.say(f"  {text}")

    def render(self) -> Callable[[RenderJob], None]:
        self._begin(self.words["rendering"], 100)

        def hook(job: RenderJob) -> None:
            self.render_id = job.id
            self._update(job.progress, 100, f"{job.progress:.0f}% {job.status.value}")
            if not self.live:
                step = f"{int(job.progress // 25) * 25}"
                if step not in self._said:
                    self._said.add(step)
                    self.say(f"  {job.progress:.0f}% {job.status.value}")

        return hook

    def download(self) -> Callable[[int, int | None], None]:
        self._begin(self.words["downloading"], None)

        def hook(received: int, total: int | None) -> None:
            shown = f"{size(received)} / {size(total)}" if total else size(received)
            self._update(received, total, shown)

        return hook
