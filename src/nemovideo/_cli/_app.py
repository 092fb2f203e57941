"""The commands. Each one runs one async job with ``anyio.run`` and turns a documented error into
``error:``/``hint:`` lines and an exit code (see ``_exit``), never a traceback."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer
from rich.console import Console
from rich.markup import escape

from .._errors import NemoError
from .._sse import StreamTimeouts
from .._version import __version__
from ..resources.render import Quality
from . import _exit, _ui
from ._mcp import mcp
from ._run import open_client

app = typer.Typer(
    name="nemovideo",
    help="Make videos with the NemoVideo AI agent. Add --emulator to work offline against a local emulator.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

out = Console(soft_wrap=True)  # paths and replies stay on one line in logs and pipes
err = Console(stderr=True, soft_wrap=True)

EmulatorOpt = Annotated[
    bool, typer.Option("--emulator", help="Start a local emulator in this process and use it (no account).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout, for scripts.")]
QualityOpt = Annotated[
    str,
    typer.Option(
        "--quality", "-q", help="Render quality: high, medium or draft (fastest).", show_default=True
    ),
]
QUALITIES = ("high", "medium", "draft")


def _quality(value: str) -> Quality:
    if value not in QUALITIES:
        raise typer.BadParameter(f"choose one of {', '.join(QUALITIES)}", param_hint="--quality")
    return value  # type: ignore[return-value]


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


def _unwrap(exc: BaseException) -> BaseException:
    """The one error inside an exception group (task groups wrap what their tasks raise)."""
    inner = getattr(exc, "exceptions", None)
    while inner is not None and len(inner) == 1:
        exc = inner[0]
        inner = getattr(exc, "exceptions", None)
    return exc


def run(job: Callable[[], Awaitable[dict[str, Any] | None]], *, as_json: bool) -> None:
    """Run ``job``; print its result as JSON with ``--json``; exit with the code of its error."""
    try:
        result = anyio.run(job)
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(_exit.INTERRUPTED) from None
    except BaseException as raised:
        exc = _unwrap(raised)
        if isinstance(exc, KeyboardInterrupt):
            err.print("interrupted")
            raise typer.Exit(_exit.INTERRUPTED) from None
        if not isinstance(exc, (NemoError, OSError, ValueError)) or isinstance(raised, typer.Exit):
            raise
        fail(exc, as_json=as_json)
    if as_json and result is not None:
        print(json.dumps(result, ensure_ascii=False, default=str))


def fail(exc: BaseException, *, as_json: bool) -> None:
    code = _exit.exit_code(exc) if isinstance(exc, (NemoError, OSError)) else _exit.USAGE
    err.print(f"[red]error:[/] {escape(_exit.message(exc))}", highlight=False)
    if hint := _exit.hint(exc):
        err.print(f"[yellow]hint:[/] {escape(hint)}", highlight=False)
    if as_json:
        print(json.dumps({"error": {**_exit.as_json(exc), "exit_code": code}}, ensure_ascii=False))
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


def _output_target(output: Path | None) -> Path:
    """Where the MP4 goes, checked before any credits are spent: a file, or a directory for
    ``<render id>.mp4``."""
    if output is None:
        return Path.cwd()
    if output.is_dir():
        return output
    if not output.parent.is_dir():
        raise FileNotFoundError(2, "the directory to save into does not exist", str(output.parent))
    return output


# --- generate -----------------------------------------------------------------------------------------


@app.command()
def generate(
    prompt: Annotated[str, typer.Argument(help='What to make, e.g. "A 10-second promo for a bakery".')],
    script: Annotated[
        Path | None,
        typer.Option(
            "--script", "-s", help="A text file with the script (narration, one scene per sentence)."
        ),
    ] = None,
    music: Annotated[bool, typer.Option("--music", help="Ask for background music.")] = False,
    files: Annotated[
        list[Path] | None,
        typer.Option("--file", "-f", help="A clip, image or audio file to upload first (repeatable)."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Where to save the MP4 (replaced if it exists; default: <render id>.mp4)."
        ),
    ] = None,
    quality: QualityOpt = "high",
    language: Annotated[
        str | None,
        typer.Option("--language", help="The agent's language, e.g. en, zh-CN."),
    ] = None,
    emulator: EmulatorOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Make a video in one go: upload, ask the agent, show its timeline, export and download the MP4."""
    preset = _quality(quality)
    script_text = None
    if script is not None:
        try:
            script_text = script.read_text(encoding="utf-8")
        except OSError as exc:
            fail(exc, as_json=as_json)
    message = request_text(prompt, script_text, music)

    async def job() -> dict[str, Any]:
        target = _output_target(output)
        steps = _ui.Steps(err, enabled=not as_json)
        show = out if not as_json else None
        if emulator:
            steps.say("[dim]Using a local emulator: its agent is a rule-based stand-in, not an AI.[/]")
        async with open_client(emulator) as nemo:
            with steps:
                session = await nemo.sessions.create(language=language)
                steps.say(f"Session {session.id}")
                uploaded = []
                if files:
                    uploaded = await session.upload(*files, on_progress=steps.upload(len(files)))
                    steps.done(f"Uploaded {', '.join(f.filename for f in uploaded)}")
                steps.generation("Generating")
                reply = await session.send(
                    message,
                    on_event=steps.on_event,
                    on_heartbeat=steps.on_heartbeat,
                    timeouts=StreamTimeouts(notice_every=_ui.NOTICE_EVERY),
                )
                steps.done("Generated" + (f" ({reply.credits_spent} credits)" if reply.credits_spent else ""))
                if show is not None:
                    show.print(f"[bold]nemo>[/] {escape(reply.text)}", highlight=False)
                    show.print(_ui.timeline_table(reply.draft_after))
                video = await session.export(preset, on_progress=steps.render())
                steps.done(f"Rendered {video.id}")
                path = await video.download(target, overwrite=True, on_progress=steps.download())
                steps.done("Downloaded")
            balance = await nemo.credits.balance()
        size = path.stat().st_size
        seconds = video.duration or reply.draft_after.duration_ms / 1000
        if show is not None:
            show.print(
                f"[green]Saved[/] {escape(str(path))} · {seconds:g} s · {_ui.size(size)} · "
                f"{balance.available} credits left",
                highlight=False,
            )
        return {
            "path": str(path),
            "duration": seconds,
            "size": size,
            "credits": balance.model_dump(),
            "credits_spent": reply.credits_spent,
            "session_id": session.id,
            "task_id": session.task_id,
            "render_id": video.id,
            "message": message,
            "reply": reply.text,
            "silent": reply.silent,
            "timeline": reply.draft_after.summary(),
            "uploaded": [f.model_dump(mode="json") for f in uploaded],
        }

    run(job, as_json=as_json)


# --- chat ---------------------------------------------------------------------------------------------


@app.command()
def chat(
    session: Annotated[
        str | None,
        typer.Option("--session", help="Continue this session instead of starting a new one."),
    ] = None,
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-d", help="Where 'export' saves MP4s (<render id>.mp4).")
    ] = Path("."),
    quality: QualityOpt = "high",
    language: Annotated[str | None, typer.Option("--language", help="The agent's language.")] = None,
    emulator: EmulatorOpt = False,
) -> None:
    """Talk to the agent line by line: requests and edits go to it; export, credits, status and
    upload <path> are done directly. Ends at 'quit' or end of input (Ctrl-D)."""
    from ._chat import chat as chat_loop

    preset = _quality(quality)
    if not output_dir.is_dir():
        fail(FileNotFoundError(2, "no such directory to save videos into", str(output_dir)), as_json=False)

    async def job() -> None:
        if emulator:
            out.print("[dim]Using a local emulator: its agent is a rule-based stand-in, not an AI.[/]")
        async with open_client(emulator) as nemo:
            await chat_loop(
                nemo, out, session_id=session, language=language, quality=preset, output_dir=output_dir
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


@app.command()
def credits(emulator: EmulatorOpt = False, as_json: JsonOpt = False) -> None:
    """Show the credit balance."""

    async def job() -> dict[str, Any]:
        async with open_client(emulator) as nemo:
            balance = await nemo.credits.balance()
        if not as_json:
            out.print(str(balance), highlight=False)
        return balance.model_dump()

    run(job, as_json=as_json)


@app.command()
def state(
    session: Annotated[str, typer.Argument(help="The session id.")],
    as_json: JsonOpt = False,
) -> None:
    """Show a session's timeline and media."""

    async def job() -> dict[str, Any]:
        async with open_client(False) as nemo:
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


@app.command()
def upload(
    session: Annotated[str, typer.Argument(help="The session id.")],
    files: Annotated[list[Path], typer.Argument(help="Clips, images or audio files.")],
    as_json: JsonOpt = False,
) -> None:
    """Upload files to a session (checked locally first: type, size, readable)."""

    async def job() -> dict[str, Any]:
        steps = _ui.Steps(err, enabled=not as_json)
        async with open_client(False) as nemo:
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


@app.command()
def export(
    session: Annotated[str, typer.Argument(help="The session id.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Where to save the MP4 (replaced if it exists; default: <render id>.mp4)."
        ),
    ] = None,
    quality: QualityOpt = "high",
    render_id: Annotated[
        str | None,
        typer.Option(
            "--render-id",
            help="Resume a render already started (e.g. after a timeout) instead of starting one.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Render a session's timeline to MP4 and download it."""
    preset = _quality(quality)

    async def job() -> dict[str, Any]:
        target = _output_target(output)
        steps = _ui.Steps(err, enabled=not as_json)
        async with open_client(False) as nemo:
            with steps:
                if render_id:
                    hook = steps.render()
                    job_ = await nemo.render.wait(render_id, on_progress=hook)
                    steps.done(f"Rendered {job_.id}")
                    path = await nemo.render.download(
                        job_, target, overwrite=True, on_progress=steps.download()
                    )
                    rid, seconds = job_.id, job_.duration
                else:
                    sess = nemo.sessions.get(session)
                    video = await sess.export(preset, on_progress=steps.render())
                    steps.done(f"Rendered {video.id}")
                    path = await video.download(target, overwrite=True, on_progress=steps.download())
                    rid = video.id
                    seconds = video.duration or sess.draft.duration_ms / 1000
                steps.done("Downloaded")
        size = path.stat().st_size
        if not as_json:
            shown = f" · {seconds:g} s" if seconds else ""
            out.print(f"[green]Saved[/] {escape(str(path))}{shown} · {_ui.size(size)}", highlight=False)
        return {"session_id": session, "render_id": rid, "path": str(path), "duration": seconds, "size": size}

    run(job, as_json=as_json)


app.command()(mcp)


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
def emulator(ctx: typer.Context) -> None:
    """Serve the local emulator until Ctrl-C (flags as `python -m nemovideo.emulator`; --help lists them)."""
    try:
        from ..emulator.__main__ import main as serve_main
    except ImportError:
        fail(
            ImportError("the emulator needs the 'emulator' extra: pip install \"nemovideo[emulator]\""),
            as_json=False,
        )
    raise typer.Exit(serve_main(list(ctx.args)))
