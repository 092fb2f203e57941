"""``nemovideo chat``: a terminal session that does for a person what the vendor's skill does in a chat.

Each line goes through the router (``nemovideo.route``): export, credits, status and ``upload <path>``
become SDK calls; anything else goes to the agent, whose reply streams in as it is written. The agent
talks as if there were a GUI, so its final text is shown translated; a silent edit is told from the
timeline's diff; the timeline is shown after every change.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
from rich.console import Console
from rich.markup import escape

from .._client import NemoClient
from .._errors import NemoError
from .._router import Route, language_of, route
from .._sse import StreamTimeouts
from ..models.events import Event, Text, TextDelta, ToolCall
from ..resources.render import Quality
from ..session import Session
from . import _exit, _ui
from ._words import Lang

QUIT = {"quit", "exit", "bye", ":q", "q", "/quit", "/exit", "/q", "退出", "再见"}
HELP = (
    "Describe the video you want, or an edit (e.g. [bold]generate a 10-second video about tea with "
    "background music[/], [bold]add a title 'Tea time' for 3 seconds[/]).\n"
    "Also: [bold]upload <path>[/], [bold]status[/] (the timeline), [bold]credits[/], [bold]export[/] "
    "(render and download), [bold]quit[/]. Chinese works too: 上传, 状态, 积分, 导出."
)
_UPLOAD_WORD = re.compile(r"\bupload\b|上传", re.I)

_SAY = {
    "en": {
        "credits": "{available} credits available ({frozen} reserved, {total} total)",
        "which_file": "Which file? Type [bold]upload <path>[/] (the path of an existing file).",
        "uploaded": "Uploaded {name} ({kind}{seconds})",
        "seconds": ", {seconds:g} s",
        "next": "Now ask for a video from it, e.g. [bold]use my uploaded clip[/].",
        "rendered": "Rendered {id}",
        "downloaded": "Downloaded {size}",
        "saved": "Saved {path} ({seconds:g} s, {size})",
        "spent": "{n} credits spent",
        "silent": "no reply: read from the timeline",
    },
    "zh": {
        "credits": "可用积分 {available}（冻结 {frozen}，共 {total}）",
        "which_file": "上传哪个文件？请输入 [bold]上传 <路径>[/]（一个已有文件的路径）。",
        "uploaded": "已上传 {name}（{kind}{seconds}）",
        "seconds": "，{seconds:g} 秒",
        "next": "现在可以让我用它做视频，例如 [bold]用我上传的素材做一个视频[/]。",
        "rendered": "已渲染 {id}",
        "downloaded": "已下载 {size}",
        "saved": "已保存 {path}（{seconds:g} 秒，{size}）",
        "spent": "花费 {n} 积分",
        "silent": "智能体没有回复：以上根据时间线的变化得出",
    },
}
"""What the chat says itself, in the language of the user's message (English or Chinese)."""


async def read_line(prompt: str) -> str | None:
    """The next line of input; None at end of input. The prompt shows only on a terminal."""

    def read() -> str | None:
        if sys.stdin.isatty():
            try:
                return input(prompt)
            except EOFError:
                return None
        line = sys.stdin.readline()
        return line if line else None

    return await anyio.to_thread.run_sync(read, abandon_on_cancel=True)


def paths_in(text: str) -> list[Path]:
    """The existing files named after "upload" (quotes allowed for names with spaces)."""
    rest = _UPLOAD_WORD.split(text, maxsplit=1)[-1]
    try:
        words = shlex.split(rest)
    except ValueError:
        words = rest.split()
    return [Path(w).expanduser() for w in words if Path(w).expanduser().is_file()]


def _is_local(url: str) -> bool:
    """An emulator's session has no page in the web app."""
    return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")


class Chat:
    def __init__(
        self,
        nemo: NemoClient,
        session: Session,
        out: Console,
        *,
        quality: Quality,
        output_dir: Path,
        verbose: bool = False,
    ) -> None:
        self.nemo = nemo
        self.session = session
        self.out = out
        self.quality = quality
        self.output_dir = output_dir
        self.verbose = verbose
        self._mid_line = False
        self._say = _SAY["en"]
        self._lang: Lang = "en"

    def print(self, text: str = "", **kwargs: object) -> None:
        self._end_line()
        self.out.print(text, highlight=False, **kwargs)  # type: ignore[arg-type]

    def _end_line(self) -> None:
        if self._mid_line:
            self.out.file.write("\n")
            self._mid_line = False

    async def run(self) -> None:
        self.print(f"Session {self.session.id}. " + HELP)
        while True:
            line = await read_line("you> ")
            if line is None:
                self.print()
                break
            text = line.strip()
            if not text:
                continue
            if text.lower() in QUIT:
                break
            try:
                await self.handle(text)
            except NemoError as exc:
                self.report(exc)
            except OSError as exc:
                self.report(exc)
        url = self.session.project_url
        if url and not _is_local(self.nemo.config.api_url):
            self.print(f"Session {self.session.id}: {url}")

    def report(self, exc: BaseException) -> None:
        self.print(f"[red]error:[/] {escape(_exit.message(exc))}")
        if hint := _exit.hint(exc):
            self.print(f"[yellow]hint:[/] {escape(hint)}")

    async def handle(self, text: str) -> None:
        self._lang = "zh" if language_of(text) == "zh" else "en"
        self._say = _SAY[self._lang]
        target = route(text)
        if target is Route.EXPORT:
            await self.export()
        elif target is Route.CREDITS:
            balance = await self.nemo.credits.balance()
            self.print(self._say["credits"].format(**balance.model_dump()))
        elif target is Route.STATE:
            self.show_timeline((await self.session.state()).draft)
        elif target is Route.UPLOAD:
            await self.upload(text)
        else:
            await self.send(text)

    def show_timeline(self, draft: object) -> None:
        from ..models.draft import Draft

        assert isinstance(draft, Draft)
        self._end_line()
        self.out.print(_ui.timeline_table(draft, self._lang))

    async def upload(self, text: str) -> None:
        paths = paths_in(text)
        if not paths:
            self.print(self._say["which_file"])
            return
        files = await self.session.upload(*paths)
        for f in files:
            shown = self._say["seconds"].format(seconds=f.duration) if f.duration else ""
            self.print(
                self._say["uploaded"].format(
                    name=escape(f.filename), kind=f.file_type or "file", seconds=shown
                )
            )
        self.print(self._say["next"])

    def _on_event(self, event: Event) -> None:
        if isinstance(event, TextDelta) and self.verbose:  # the raw reply as it is written
            if not self._mid_line:
                self.out.file.write("raw> ")
            self.out.file.write(event.text)
            self.out.file.flush()
            self._mid_line = True
        elif isinstance(event, Text):
            self._end_line()
        elif isinstance(event, ToolCall):
            self.print(f"[dim]  · {escape(event.name)}[/]")

    def _on_heartbeat(self, quiet: float) -> None:
        self.print(f"[dim]  … still working ({quiet:.0f} s)[/]")

    async def send(self, text: str) -> None:
        reply = await self.session.send(
            text,
            on_event=self._on_event,
            on_heartbeat=self._on_heartbeat,
            timeouts=StreamTimeouts(notice_every=_ui.NOTICE_EVERY),
        )
        self._end_line()
        if reply.silent:
            self.print(f"nemo> [italic]{escape(reply.text)}[/]  [dim]({self._say['silent']})[/]")
        else:
            _ui.reply(self.out, reply.text)  # translated; the raw text was streamed above with --verbose
        if reply.changes:
            self.show_timeline(reply.draft_after)
        if reply.credits_spent:
            self.print(f"[dim]{self._say['spent'].format(n=reply.credits_spent)}[/]")

    async def export(self) -> None:
        steps = _ui.Steps(self.out, lang=self._lang)
        with steps:
            video = await self.session.export(self.quality, on_progress=steps.render())
            steps.done(self._say["rendered"].format(id=video.id))
            path = await video.download(self.output_dir, overwrite=False, on_progress=steps.download())
            steps.done(self._say["downloaded"].format(size=_ui.size(path.stat().st_size)))
        seconds = video.duration or self.session.draft.duration_ms / 1000
        self.print(
            self._say["saved"].format(
                path=escape(str(path)), seconds=seconds, size=_ui.size(path.stat().st_size)
            )
        )


async def chat(
    nemo: NemoClient,
    out: Console,
    *,
    session_id: str | None,
    language: str | None,
    quality: Quality,
    output_dir: Path,
    verbose: bool = False,
) -> None:
    if session_id:
        session = nemo.sessions.get(session_id)
        await session.state()  # fails now, not at the first message, if the session is gone
    else:
        session = await nemo.sessions.create(language=language)
    await Chat(nemo, session, out, quality=quality, output_dir=output_dir, verbose=verbose).run()
