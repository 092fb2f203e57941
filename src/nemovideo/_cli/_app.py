"""The commands. Each one runs one async job with ``anyio.run`` and turns a documented error into
``error:``/``hint:`` lines and an exit code (see ``_exit``), never a traceback.

A new command lives in its own module, takes its flags from ``_options`` and runs its job with ``run``;
it is registered here with one line at the end (``app.command()(module.command)``).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

import anyio
import httpx
import typer
from rich.console import Console
from rich.markup import escape

from .. import _files
from .._errors import DraftNotReadyError, NemoError
from .._sse import StreamTimeouts
from .._version import __version__
from ..resources.render import Quality
from . import _exit, _ui
from ._account import login, logout, projects, usage
from ._batch import command as batch_command
from ._extras import install_line, missing_extra
from ._mcp import mcp
from ._options import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    AspectChoice,
    EmulatorOpt,
    ForceOpt,
    JsonOpt,
    OutputOpt,
    QualityChoice,
    QualityOpt,
    SessionArg,
    TimeoutOpt,
    VerboseOpt,
)
from ._run import open_client
from ._words import WORDS, lang_of

app = typer.Typer(
    name="nemovideo",
    help="Make videos with the NemoVideo AI agent. Add --emulator to work offline against a local emulator.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

out = Console(soft_wrap=True)  # paths stay on one line in logs and pipes; replies wrap (see reply())
err = Console(stderr=True, soft_wrap=True)

QUALITIES = tuple(q.value for q in QualityChoice)


def _quality(value: QualityChoice | str) -> Quality:
    return QualityChoice(value).value


def _version(value: bool) -> None:
    if value:
        print(f"nemovideo {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Make videos with the NemoVideo AI agent."""


def timeout_of(seconds: float) -> httpx.Timeout:
    """``--timeout``: the wait for each answer; connecting waits at most ``CONNECT_TIMEOUT``."""
    return httpx.Timeout(seconds, connect=min(seconds, CONNECT_TIMEOUT))


def _unwrap(exc: BaseException) -> BaseException:
    """The one error inside an exception group (task groups wrap what their tasks raise)."""
    inner = getattr(exc, "exceptions", None)
    while inner is not None and len(inner) == 1:
        exc = inner[0]
        inner = getattr(exc, "exceptions", None)
    return exc


def _interrupted(on_interrupt: Callable[[], str | None] | None) -> typer.Exit:
    said = on_interrupt() if on_interrupt is not None else None
    err.print(f"interrupted{': ' + said if said else ''}", highlight=False)
    return typer.Exit(_exit.INTERRUPTED)


def run(
    job: Callable[[], Awaitable[dict[str, Any] | None]],
    *,
    as_json: bool,
    on_interrupt: Callable[[], str | None] | None = None,
) -> None:
    """Run ``job``; print its result as JSON with ``--json``; exit with the code of its error.

    ``on_interrupt`` says, on Ctrl-C, what was going on and how to pick it up again.
    """
    try:
        result = anyio.run(job)
    except KeyboardInterrupt:
        raise _interrupted(on_interrupt) from None
    except BaseException as raised:
        exc = _unwrap(raised)
        if isinstance(exc, KeyboardInterrupt):
            raise _interrupted(on_interrupt) from None
        if isinstance(exc, ImportError) and missing_extra(exc) == "emulator":
            err.print(install_line("emulator", "--emulator"), highlight=False, markup=False)
            raise typer.Exit(_exit.USAGE) from None
        if not isinstance(exc, (NemoError, OSError, ValueError)) or isinstance(raised, typer.Exit):
            raise
        fail(exc, as_json=as_json)
    if as_json and result is not None:
        print(json.dumps(result, ensure_ascii=False, default=str))


def fail(exc: BaseException, *, as_json: bool) -> None:
    code = _exit.exit_code(exc) if isinstance(exc, (NemoError, OSError)) else _exit.USAGE
    complain(_exit.message(exc), _exit.hint(exc), code, as_json=as_json, data=_exit.as_json(exc))


def complain(
    message: str, hint: str | None, code: int, *, as_json: bool, data: dict[str, Any] | None = None
) -> None:
    """``error:`` and ``hint:`` on stderr (and the error as JSON with ``--json``); exit with ``code``."""
    err.print(f"[red]error:[/] {escape(message)}", highlight=False)
    if hint:
        err.print(f"[yellow]hint:[/] {escape(hint)}", highlight=False)
    if as_json:
        fields = data or {"message": message, "hint": hint}
        print(json.dumps({"error": {**fields, "exit_code": code}}, ensure_ascii=False))
    raise typer.Exit(code)


def request_text(prompt: str, script: str | None = None, music: bool = False) -> str:
    """The message for the agent: "Generate <prompt>[ with background music][: <script>]"."""
    text = re.sub(r"\s+", " ", prompt).strip()
    if not re.match(r"(?i)^\W*(?:please\s+)?(?:generate|create|produce|build|make)\b", text):
        first, _, rest = text.partition(" ")
        if first in ("A", "An", "The"):
            text = f"{first.lower()} {rest}"
        text = f"Generate {text}"
    if music and not re.search(r"(?i)\bmusic\b", text):
        head, colon, tail = text.partition(":")
        text = f"{head.rstrip(' .')} with background music{colon}{tail}"
    if script and script.strip():
        text = f"{text.rstrip(' .:')}: {script.strip()}"
    return text


_ASPECT_WORDS = {"16:9": "landscape", "9:16": "portrait", "1:1": "square"}


def _with_aspect(text: str, aspect: AspectChoice | None) -> str:
    if aspect is None:
        return text
    head, colon, tail = text.partition(":")
    words = f"in {_ASPECT_WORDS[aspect.value]} {aspect.value} format"
    return f"{head.rstrip(' .')} {words}{colon}{tail}"


def output_target(output: Path | None, *, force: bool) -> Path:
    """Where the MP4 goes, checked before any credits are spent: a file, or a directory for
    ``<render id>.mp4``. An existing file is refused unless ``--force``."""
    if output is None:
        return Path.cwd()
    if output.is_dir():
        return output
    if not output.parent.is_dir():
        raise FileNotFoundError(2, "the directory to save into does not exist", str(output.parent))
    if output.exists() and not force:
        raise FileExistsError(17, "the file exists (add --force to replace it)", str(output))
    return output


def refuse_empty(prompt: str, example: str) -> None:
    if not prompt.strip():
        raise typer.BadParameter(
            f"the prompt is empty: say what to make, e.g. {example}", param_hint="PROMPT"
        )


async def check_files(files: list[Path]) -> None:
    """Every file checked (exists, readable, a type and size the API takes) before the first request."""
    for item in await _files.prepare(files):
        item.close()


class Progress:
    """What a job is doing, for the message on Ctrl-C: its session and the render it follows."""

    def __init__(self, *, emulator: bool, output: Path | None) -> None:
        self.emulator = emulator
        self.output = output
        self.session_id: str | None = None
        self.steps: _ui.Steps | None = None

    def resume(self) -> str | None:
        render_id = self.steps.render_id if self.steps is not None else None
        if self.session_id is None:
            return None
        if render_id is None:
            return f"session {self.session_id} (nothing was rendered)"
        if self.emulator:
            return (
                f"render {render_id} of session {self.session_id} stopped with the emulator of this "
                "command; run the command again"
            )
        save = f" -o {self.output}" if self.output is not None else ""
        return (
            f"render {render_id} of session {self.session_id} goes on on the server. Resume with:\n"
            f"  nemovideo export {self.session_id} --render-id {render_id}{save}"
        )


# --- generate -----------------------------------------------------------------------------------------

_GENERATE_EXAMPLE = 'nemovideo generate "A 10-second promo video for a bakery" --music -o promo.mp4'


@app.command(epilog=f"Example: {_GENERATE_EXAMPLE}")
def generate(
    prompt: Annotated[
        str,
        typer.Argument(metavar="PROMPT", help='What to make, e.g. "A 10-second promo video for a bakery".'),
    ],
    script: Annotated[
        Path | None,
        typer.Option(
            "--script",
            "-s",
            metavar="FILE",
            help="A text file with the script (narration, one scene per sentence).",
        ),
    ] = None,
    music: Annotated[bool, typer.Option("--music", help="Ask for background music.")] = False,
    files: Annotated[
        list[Path] | None,
        typer.Option(
            "--file", "-f", metavar="FILE", help="A clip, image or audio file to upload first (repeatable)."
        ),
    ] = None,
    output: OutputOpt = None,
    force: ForceOpt = False,
    quality: QualityOpt = QualityChoice.high,
    aspect: Annotated[
        AspectChoice | None,
        typer.Option(
            "--aspect", "-a", help="The frame's shape (asked of the agent). \\[default: its choice]"
        ),
    ] = None,
    language: Annotated[
        str | None,
        typer.Option("--language", metavar="LANG", help="The agent's language, e.g. en, zh-CN."),
    ] = None,
    timeout: TimeoutOpt = READ_TIMEOUT,
    verbose: VerboseOpt = False,
    emulator: EmulatorOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Make a video in one go: upload, ask the agent, show its timeline, export and download the MP4."""
    refuse_empty(prompt, _GENERATE_EXAMPLE)
    preset = _quality(quality)
    script_text = None
    if script is not None:
        try:
            script_text = script.read_text(encoding="utf-8")
        except OSError as exc:
            fail(exc, as_json=as_json)
    message = _with_aspect(request_text(prompt, script_text, music), aspect)
    progress = Progress(emulator=emulator, output=output)
    lang = lang_of(message, language)
    words = WORDS[lang]

    async def job() -> dict[str, Any]:
        target = output_target(output, force=force)
        if files:
            await check_files(files)
        show = out if not as_json else None
        steps = _ui.Steps(err, enabled=not as_json, lang=lang)
        if emulator:
            steps.say(words["emulator"])
        async with open_client(emulator, timeout=timeout_of(timeout)) as nemo:
            with steps:  # the agent's part: one live display, closed before its answer is shown
                async with steps.waiting():
                    session = await nemo.sessions.create(language=language)
                progress.session_id = session.id
                steps.say(words["session"].format(id=session.id))
                uploaded = []
                if files:
                    uploaded = await session.upload(*files, on_progress=steps.upload(len(files)))
                    steps.done(words["uploaded"].format(names=", ".join(f.filename for f in uploaded)))
                steps.generation()
                answer = await session.send(
                    message,
                    on_event=steps.on_event,
                    on_heartbeat=steps.on_heartbeat,
                    timeouts=StreamTimeouts(notice_every=_ui.NOTICE_EVERY),
                )
                spent = answer.credits_spent
                steps.done(words["generated_cost"].format(n=spent) if spent else words["generated"])
            if show is not None:
                _ui.reply(show, answer.text, raw=answer.raw_text if verbose else None)
            if not answer.draft_after.is_ready:
                _no_timeline(session.id, as_json=as_json)
            if show is not None:
                show.print(_ui.timeline_table(answer.draft_after, lang))
            steps = progress.steps = _ui.Steps(err, enabled=not as_json, lang=lang)
            with steps:  # the render's part
                video = await session.export(preset, on_progress=steps.render())
                steps.done(words["rendered"].format(id=video.id))
                path = await video.download(target, overwrite=force, on_progress=steps.download())
                steps.done(words["downloaded"])
            balance = await nemo.credits.balance()
        size = path.stat().st_size
        seconds = video.duration or answer.draft_after.duration_ms / 1000
        if show is not None:
            saved = words["saved"].format(
                path=escape(str(path)), seconds=seconds, size=_ui.size(size), credits=balance.available
            )
            show.print(saved, highlight=False)
        return {
            "path": str(path),
            "duration": seconds,
            "size": size,
            "credits": balance.model_dump(),
            "credits_spent": answer.credits_spent,
            "session_id": session.id,
            "task_id": session.task_id,
            "render_id": video.id,
            "message": message,
            "reply": answer.text,
            "silent": answer.silent,
            "timeline": answer.draft_after.summary(),
            "uploaded": [f.model_dump(mode="json") for f in uploaded],
        }

    run(job, as_json=as_json, on_interrupt=progress.resume)


def _no_timeline(session_id: str, *, as_json: bool) -> None:
    """The agent answered without building a timeline: say what to type next, as a command line."""
    exc = DraftNotReadyError("the agent answered but built no timeline, so there is nothing to export")
    code = _exit.exit_code(exc)
    hint = (
        f"Continue with the agent: `nemovideo chat --session {session_id}`, or run generate again "
        'with what to show, e.g. `nemovideo generate "A 10-second video about tea, three scenes"`.'
    )
    data = {**_exit.as_json(exc), "hint": hint, "session_id": session_id}
    complain(str(exc), hint, code, as_json=as_json, data=data)


# --- chat ---------------------------------------------------------------------------------------------


@app.command(epilog="Example: nemovideo chat --emulator -d videos/")
def chat(
    session: Annotated[
        str | None,
        typer.Option("--session", metavar="SESSION", help="Continue this session instead of starting one."),
    ] = None,
    output_dir: Annotated[
        Path,
        typer.Option(
            "--output-dir", "-d", metavar="DIR", help="Where 'export' saves MP4s (<render id>.mp4)."
        ),
    ] = Path("."),
    quality: QualityOpt = QualityChoice.high,
    language: Annotated[
        str | None, typer.Option("--language", metavar="LANG", help="The agent's language, e.g. en, zh-CN.")
    ] = None,
    timeout: TimeoutOpt = READ_TIMEOUT,
    verbose: VerboseOpt = False,
    emulator: EmulatorOpt = False,
) -> None:
    """Talk to the agent line by line; export, credits, status and upload are done directly.

    Requests and edits go to the agent; [bold]export[/], [bold]credits[/], [bold]status[/] and
    [bold]upload PATH[/] are SDK calls. Ends at [bold]quit[/] or end of input (Ctrl-D).
    """
    from ._chat import chat as chat_loop

    preset = _quality(quality)
    if not output_dir.is_dir():
        fail(FileNotFoundError(2, "no such directory to save videos into", str(output_dir)), as_json=False)

    async def job() -> None:
        if emulator:
            out.print("[dim]Using a local emulator: its agent is a rule-based stand-in, not an AI.[/]")
        async with open_client(emulator, timeout=timeout_of(timeout)) as nemo:
            await chat_loop(
                nemo,
                out,
                session_id=session,
                language=language,
                quality=preset,
                output_dir=output_dir,
                verbose=verbose,
            )

    try:
        run(job, as_json=False)
    except typer.Exit as stop:
        if stop.exit_code != _exit.INTERRUPTED:
            raise
        # Everything is closed by now, but the thread reading the next line is still blocked in input()
        # and would keep the process alive until Enter: leave without waiting for it.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit.INTERRUPTED)


# --- one-shot commands --------------------------------------------------------------------------------


@app.command(epilog="Example: nemovideo credits --json")
def credits(
    emulator: EmulatorOpt = False, timeout: TimeoutOpt = READ_TIMEOUT, as_json: JsonOpt = False
) -> None:
    """Show the credit balance."""

    async def job() -> dict[str, Any]:
        async with (
            open_client(emulator, timeout=timeout_of(timeout)) as nemo,
            _ui.waiting(lambda text: err.print(text, highlight=False)),
        ):
            balance = await nemo.credits.balance()
        if not as_json:
            out.print(str(balance), highlight=False)
        return balance.model_dump()

    run(job, as_json=as_json)


@app.command(epilog="Example: nemovideo state SESSION --json")
def state(session: SessionArg, timeout: TimeoutOpt = READ_TIMEOUT, as_json: JsonOpt = False) -> None:
    """Show a session's timeline and media."""

    async def job() -> dict[str, Any]:
        async with (
            open_client(False, timeout=timeout_of(timeout)) as nemo,
            _ui.waiting(lambda text: err.print(text, highlight=False)),
        ):
            st = await nemo.sessions.get(session).state()
        if not as_json:
            out.print(_ui.timeline_table(st.draft))
            for media in st.video_infos:
                out.print(
                    f"media: {escape(media.filename or '?')} ({media.file_type or 'file'})", highlight=False
                )
        return {
            "session_id": session,
            "timeline": st.draft.summary(),
            "draft": st.draft.to_api(),
            "media": [m.model_dump(mode="json") for m in st.video_infos],
        }

    run(job, as_json=as_json)


@app.command(epilog="Example: nemovideo upload SESSION clip.mp4 logo.png")
def upload(
    session: SessionArg,
    files: Annotated[
        list[Path],
        typer.Argument(metavar="FILE...", help="Clips, images or audio files.", show_default=False),
    ],
    timeout: TimeoutOpt = READ_TIMEOUT,
    as_json: JsonOpt = False,
) -> None:
    """Upload files to a session (checked locally first: type, size, readable)."""

    async def job() -> dict[str, Any]:
        await check_files(files)
        steps = _ui.Steps(err, enabled=not as_json)
        async with open_client(False, timeout=timeout_of(timeout)) as nemo:
            with steps:
                uploaded = await nemo.sessions.get(session).upload(
                    *files, on_progress=steps.upload(len(files))
                )
                steps.done("Uploaded")
        if not as_json:
            for f in uploaded:
                out.print(f"{escape(f.filename)}\t{f.file_type or ''}\t{f.cdn_url or ''}", highlight=False)
        return {"session_id": session, "files": [f.model_dump(mode="json") for f in uploaded]}

    run(job, as_json=as_json)


@app.command(epilog="Example: nemovideo export SESSION -o video.mp4 --quality draft")
def export(
    session: SessionArg,
    output: OutputOpt = None,
    force: ForceOpt = False,
    quality: QualityOpt = QualityChoice.high,
    render_id: Annotated[
        str | None,
        typer.Option(
            "--render-id",
            metavar="RENDER",
            help="Resume a render already started (e.g. after a timeout or Ctrl-C) instead of starting one.",
        ),
    ] = None,
    timeout: TimeoutOpt = READ_TIMEOUT,
    as_json: JsonOpt = False,
) -> None:
    """Render a session's timeline to MP4 and download it."""
    preset = _quality(quality)
    progress = Progress(emulator=False, output=output)
    progress.session_id = session

    async def job() -> dict[str, Any]:
        target = output_target(output, force=force)
        steps = progress.steps = _ui.Steps(err, enabled=not as_json)
        async with open_client(False, timeout=timeout_of(timeout)) as nemo:
            with steps:
                if render_id:
                    steps.render_id = render_id
                    hook = steps.render()
                    job_ = await nemo.render.wait(render_id, on_progress=hook)
                    steps.done(f"Rendered {job_.id}")
                    path = await nemo.render.download(
                        job_, target, overwrite=force, on_progress=steps.download()
                    )
                    rid, seconds = job_.id, job_.duration
                else:
                    sess = nemo.sessions.get(session)
                    video = await sess.export(preset, on_progress=steps.render())
                    steps.done(f"Rendered {video.id}")
                    path = await video.download(target, overwrite=force, on_progress=steps.download())
                    rid = video.id
                    seconds = video.duration or sess.draft.duration_ms / 1000
                steps.done("Downloaded")
        size = path.stat().st_size
        if not as_json:
            shown = f" · {seconds:g} s" if seconds else ""
            out.print(f"[green]Saved[/] {escape(str(path))}{shown} · {_ui.size(size)}", highlight=False)
        return {"session_id": session, "render_id": rid, "path": str(path), "duration": seconds, "size": size}

    run(job, as_json=as_json, on_interrupt=progress.resume)


app.command()(mcp)


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
def emulator(ctx: typer.Context) -> None:
    """Serve the local emulator until Ctrl-C (nemovideo emulator --help lists its flags)."""
    from ..emulator.__main__ import main as serve_main

    raise typer.Exit(serve_main(list(ctx.args)))


# Commands in other modules register here, one line each.
app.command("batch", epilog="Example: nemovideo batch jobs.jsonl --jobs 8")(batch_command)
app.command(epilog="Example: nemovideo login --api-key nmv_usr_...")(login)
app.command(epilog="Example: nemovideo logout")(logout)
app.command(epilog="Example: nemovideo projects --json")(projects)
app.command(epilog="Example: nemovideo usage --from 2026-12-01 --to 2026-12-06")(usage)
