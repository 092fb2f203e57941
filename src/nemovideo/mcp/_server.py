"""The tools and resources. One ``NemoClient`` lives as long as the server; every documented error comes
back as a tool error with the SDK's hint, never a traceback or a token."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager, suppress
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

import anyio
from anyio.streams.memory import MemoryObjectSendStream
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from pydantic import Field

import nemovideo
from nemovideo import (
    ACCEPTED_FORMATS,
    Draft,
    DraftNotReadyError,
    Event,
    NemoClient,
    NemoError,
    RenderJob,
    RenderTimeoutError,
    Session,
    SessionNotFoundError,
    StreamDisconnected,
    StreamTimeout,
    Text,
    TextDelta,
    ToolCall,
    UnsupportedFileError,
)
from nemovideo.models.draft import describe_segment

ClientFactory = Callable[[], AbstractAsyncContextManager[NemoClient]]
"""Opens the server's one client (``NemoClient()`` by default: ``NEMO_TOKEN`` or the cached token)."""

Quality = Literal["high", "medium", "draft"]
SessionId = Annotated[str, Field(description="The session id from create_video_project.")]

MAX_SESSIONS = 256
"""Sessions remembered (with their last-read timeline) for the server's lifetime; older ones are read anew."""
PROGRESS_BUFFER = 64
"""Progress notifications waiting to be sent; more are dropped (progress is lossy, the result is not)."""
CANCEL_DEADLINE = 10.0
"""Seconds allowed to cancel a render job after the client cancelled its export."""

TOOLS = (
    "cancel_nemo_agent_turn",
    "create_video_project",
    "delegate_to_nemo_agent",
    "export_video",
    "get_credits",
    "get_nemo_agent_turn",
    "get_render_status",
    "get_video_project",
    "list_video_projects",
    "render_video",
    "upload_asset",
)
"""Tool names; those the vendor's remote MCP server also has keep its names."""

INSTRUCTIONS = (
    "NemoVideo makes and edits videos with an AI agent. Start with create_video_project, ask for a video "
    "with delegate_to_nemo_agent (e.g. 'Generate a 10-second promo for a bakery'), look at the timeline with "
    "get_video_project, then export_video to save an MP4 locally. Generations cost credits (get_credits)."
)


@contextmanager
def _tool_errors(kind: type[Exception] = ToolError) -> Iterator[None]:
    """A documented failure becomes a tool (or resource) error: what happened, then what to do."""
    try:
        yield
    except (NemoError, OSError, ValueError) as exc:
        raise kind(_describe(exc)) from None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    hint = getattr(exc, "hint", None)
    if isinstance(hint, str) and hint:
        text = text.replace(f" — {hint}", "")
    hint = next((h for cls, h in _HINTS if isinstance(exc, cls)), hint)
    if isinstance(exc, UnsupportedFileError) and "accepted" not in f"{text} {hint}".lower():
        text += f" (supported types: {', '.join(ACCEPTED_FORMATS)})"
    return f"{text}\nhint: {hint}" if hint else text


_HINTS: tuple[tuple[type[BaseException], str], ...] = (
    (SessionNotFoundError, "Start a new project with create_video_project and continue there."),
    (DraftNotReadyError, "Ask the agent for a video first with delegate_to_nemo_agent."),
    (
        RenderTimeoutError,
        "The render may still finish: follow it with get_render_status, or export again later.",
    ),
    (StreamDisconnected, "The message was not re-sent: check get_video_project before asking again."),
    (StreamTimeout, "The agent may still finish: check get_video_project in a minute."),
    (OSError, "Check the path: it must be readable (upload) or inside an existing directory (export)."),
)
"""Hints in the tools' own words where the SDK's speak of Python calls; the others are the SDK's."""


class _Progress:
    """Synchronous SDK callbacks in, MCP progress notifications out (through a bounded buffer)."""

    def __init__(self, send: MemoryObjectSendStream[tuple[float, float | None, str | None]]) -> None:
        self._send = send
        self.count = 0

    def __call__(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        with suppress(anyio.WouldBlock):
            self._send.send_nowait((progress, total, message))


@asynccontextmanager
async def _progress(ctx: Context) -> AsyncIterator[_Progress]:
    send, receive = anyio.create_memory_object_stream[tuple[float, float | None, str | None]](PROGRESS_BUFFER)

    async def forward() -> None:
        async with receive:
            async for progress, total, message in receive:
                await ctx.report_progress(progress, total, message)

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(forward)
            async with send:
                yield _Progress(send)
    except BaseException as raised:
        inner = _only(raised)
        if inner is raised:
            raise
        raise inner from None  # the body's own error, not a group around it


def _only(exc: BaseException) -> BaseException:
    """The one error inside an exception group (a task group wraps what its body raises)."""
    inner = getattr(exc, "exceptions", None)
    while inner is not None and len(inner) == 1:
        exc = inner[0]
        inner = getattr(exc, "exceptions", None)
    return exc


def _draft_facts(draft: Draft) -> dict[str, Any]:
    meta = draft.metadata or {}
    aspect = next((meta[k] for k in ("aspect", "aspect_ratio", "ratio") if meta.get(k)), None)
    width, height = meta.get("width"), meta.get("height")
    size = None
    if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        size = f"{width}x{height}"
        if aspect is None:
            common = math.gcd(width, height)
            aspect = f"{width // common}:{height // common}"
    return {
        "summary": draft.summary(),
        "title": draft.title,
        "duration_seconds": draft.duration_ms / 1000,
        "aspect": aspect,
        "size": size,
        "ready_to_export": draft.is_ready,
        "tracks": [
            {
                "type": track.type.name.lower(),
                "label": track.label,
                "segments": [
                    {
                        "start_seconds": seg.start_ms / 1000,
                        "end_seconds": seg.end_ms / 1000,
                        "what": describe_segment(track.type, seg),
                    }
                    for seg in track.segments
                ],
            }
            for track in draft.tracks
        ],
    }


def _job_facts(job: RenderJob) -> dict[str, Any]:
    return {
        "render_id": job.id,
        "status": job.status.value,
        "progress": job.progress,
        "done": job.done,
        "cancelled": job.cancelled,
        "duration_seconds": job.duration,
        "output_url": job.output_url,
        "error": job.error,
    }


def _supported(obj: object, *path: str) -> Any:
    """The SDK's method at ``path``, or None when this API generation lacks it."""
    for name in path:
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj


def _unsupported(tool: str) -> ToolError:
    return ToolError(
        f"{tool} is not supported by this API generation (the skill API has no such operation); "
        "use get_video_project to see what a turn did"
    )


def _local_file(source: str) -> Path:
    path = Path(source).expanduser()
    if not path.is_file():
        raise ToolError(
            f"no such file: {source} (give an absolute path or an http(s) URL; "
            f"supported types: {', '.join(ACCEPTED_FORMATS)})"
        )
    return path


def _checked_url(url: str) -> str:
    """A URL whose name shows a type the API refuses is refused here, before it is sent."""
    suffix = PurePosixPath(unquote(urlsplit(url).path)).suffix.lower().lstrip(".")
    if suffix and suffix not in ACCEPTED_FORMATS:
        raise ToolError(
            f"unsupported file type {suffix!r} in {url}; supported types: {', '.join(ACCEPTED_FORMATS)}"
        )
    return url


def _save_target(path: str) -> Path:
    """Checked before a render starts: an existing directory, or a file in one."""
    target = Path(path).expanduser()
    if not target.is_dir() and not target.parent.is_dir():
        raise ToolError(
            f"the directory to save into does not exist: {target.parent}; create it or choose another path"
        )
    return target


async def _default_client() -> AsyncIterator[NemoClient]:
    async with NemoClient() as nemo:
        yield nemo


def create_server(client: ClientFactory | None = None) -> MCPServer[Any]:
    """The MCP server; ``client`` opens its one ``NemoClient`` (default: settings from the environment)."""
    open_client = client or asynccontextmanager(_default_client)
    holder: dict[str, NemoClient] = {}
    sessions: OrderedDict[str, Session] = OrderedDict()

    @asynccontextmanager
    async def lifespan(_: MCPServer[Any]) -> AsyncIterator[None]:
        async with open_client() as nemo:
            holder["nemo"] = nemo
            yield

    server: MCPServer[Any] = MCPServer(
        "nemovideo",
        instructions=INSTRUCTIONS,
        version=nemovideo.__version__,
        lifespan=lifespan,
        log_level="WARNING",
    )

    def nemo() -> NemoClient:
        return holder["nemo"]

    def remember(session: Session) -> Session:
        sessions[session.id] = session
        sessions.move_to_end(session.id)
        while len(sessions) > MAX_SESSIONS:
            sessions.popitem(last=False)
        return session

    def session_for(session_id: str) -> Session:
        if not session_id.strip():
            raise ToolError("session_id is empty: create one with create_video_project")
        found = sessions.get(session_id)
        return found if found is not None else remember(nemo().sessions.get(session_id))

    @server.tool()
    async def get_credits() -> dict[str, Any]:
        """The account's credit balance: available, frozen (held by running work) and total."""
        with _tool_errors():
            balance = await nemo().credits.balance()
        return balance.model_dump()

    @server.tool()
    async def create_video_project(
        language: Annotated[
            str | None, Field(description="The agent's language, e.g. en, zh-CN, ja; default: the API's.")
        ] = None,
    ) -> dict[str, Any]:
        """Start a new video project (an editing session with the agent). Returns its session_id, which
        every other tool takes, and a link to open it in the web app."""
        with _tool_errors():
            session = remember(await nemo().sessions.create(language=language))
        return {"session_id": session.id, "task_id": session.task_id, "project_url": session.project_url}

    @server.tool()
    async def delegate_to_nemo_agent(
        session_id: SessionId,
        message: Annotated[
            str,
            Field(
                description="What to ask the agent, in plain words: 'Generate a 10-second video about ...', "
                "'make the title bigger', 'add background music'.",
                min_length=1,
            ),
        ],
        ctx: Context,
    ) -> dict[str, Any]:
        """Send one message to the NemoVideo agent and wait for its turn to end (a generation takes a
        minute or more; progress is reported). Returns its reply, the timeline after the turn and what
        changed. The message is sent once, never repeated; if cancelled, check get_video_project before
        asking again."""
        session = session_for(session_id)
        chars = 0

        async with _progress(ctx) as report:

            def on_event(event: Event) -> None:
                nonlocal chars
                report.count += 1
                if isinstance(event, ToolCall):
                    report(report.count, None, f"agent: {event.name}")
                elif isinstance(event, (TextDelta, Text)):
                    chars += len(event.text)
                    report(report.count, None, f"agent is writing ({chars} characters)")

            def on_heartbeat(elapsed: float) -> None:
                report.count += 1
                report(report.count, None, f"agent working ({elapsed:.0f} s)")

            try:
                with _tool_errors():
                    reply = await session.send(message, on_event=on_event, on_heartbeat=on_heartbeat)
            except anyio.get_cancelled_exc_class():
                sessions.pop(session.id, None)  # the turn may still finish: read the timeline anew next time
                raise
        return {
            "reply": reply.text,
            "silent": reply.silent,
            "timeline": reply.draft_after.summary(),
            "changes": reply.changes.summary(),
            "credits_spent": reply.credits_spent,
            "ready_to_export": reply.draft_after.is_ready,
        }

    @server.tool()
    async def get_nemo_agent_turn(session_id: SessionId) -> dict[str, Any]:
        """The agent's current turn in a session (running or finished), where the API tracks turns."""
        method = _supported(nemo(), "turns", "get")
        if method is None:
            raise _unsupported("get_nemo_agent_turn")
        with _tool_errors():
            turn = await method(session_id)
        return dict(turn.model_dump(mode="json"))

    @server.tool()
    async def cancel_nemo_agent_turn(session_id: SessionId) -> dict[str, Any]:
        """Stop the agent's running turn in a session, where the API can cancel turns."""
        method = _supported(nemo(), "turns", "cancel")
        if method is None:
            raise _unsupported("cancel_nemo_agent_turn")
        with _tool_errors():
            turn = await method(session_id)
        sessions.pop(session_id, None)
        return dict(turn.model_dump(mode="json"))

    @server.tool()
    async def list_video_projects() -> list[dict[str, Any]]:
        """The account's video projects, where the API lists them."""
        method = _supported(nemo(), "projects", "list")
        if method is None:
            raise _unsupported("list_video_projects")
        with _tool_errors():
            projects = await method()
        return [dict(p.model_dump(mode="json")) for p in projects]

    @server.tool()
    async def get_video_project(session_id: SessionId) -> dict[str, Any]:
        """The project's timeline as it is now: a one-line summary, duration, aspect, its tracks and
        segments, and the uploaded media."""
        session = session_for(session_id)
        with _tool_errors():
            state = await session.state()
        return {
            "session_id": session.id,
            **_draft_facts(state.draft),
            "media": [m.model_dump(mode="json", exclude_none=True) for m in state.video_infos],
        }

    @server.tool()
    async def upload_asset(
        session_id: SessionId,
        source: Annotated[
            str,
            Field(
                description="A local file path (clip, image or audio) or an http(s) URL the API fetches.",
                min_length=1,
            ),
        ],
        ctx: Context,
    ) -> dict[str, Any]:
        """Add a clip, image or audio file to the project, from a local path or a URL, so the agent can use
        it. The file is checked first (exists, a supported type, not too large): nothing is sent otherwise."""
        session = session_for(session_id)
        with _tool_errors():
            if source.startswith(("http://", "https://")):
                uploaded = await nemo().uploads.from_urls(session.id, [_checked_url(source)])
            else:
                path = _local_file(source)
                async with _progress(ctx) as report:
                    uploaded = await session.upload(
                        path, on_progress=lambda done, total: report(done, total, "uploading")
                    )
        return {"session_id": session.id, "files": [f.model_dump(mode="json") for f in uploaded]}

    @server.tool()
    async def render_video(
        session_id: SessionId,
        quality: Annotated[Quality, Field(description="high, medium or draft (fastest).")] = "high",
    ) -> dict[str, Any]:
        """Start rendering the project's current timeline to MP4 and return at once with its render_id;
        follow it with get_render_status. (export_video renders, waits and saves in one go.)"""
        session = session_for(session_id)
        with _tool_errors():
            draft = (await session.state()).draft
            job = await nemo().render.start(session.id, draft, quality)
        return _job_facts(job)

    @server.tool()
    async def get_render_status(
        render_id: Annotated[str, Field(description="The render_id from render_video.", min_length=1)],
    ) -> dict[str, Any]:
        """A render's status and progress (0-100); when done, its duration and download URL."""
        with _tool_errors():
            job = await nemo().render.get(render_id)
        return _job_facts(job)

    @server.tool()
    async def export_video(
        session_id: SessionId,
        path: Annotated[
            str,
            Field(
                description="Where to save the MP4: a file path (replaced if it exists) or an existing "
                "directory (saved as <render id>.mp4 there).",
                min_length=1,
            ),
        ],
        ctx: Context,
        quality: Annotated[Quality, Field(description="high, medium or draft (fastest).")] = "high",
    ) -> dict[str, Any]:
        """Render the project's timeline, wait for it and save the MP4 locally (progress is reported).
        Returns the file, its size and duration, and the credits left. If cancelled, the render is
        cancelled too and no file is left behind."""
        session = session_for(session_id)
        target = _save_target(path)
        with _tool_errors():
            draft = (await session.state()).draft
            job = await nemo().render.start(session.id, draft, quality)
        rendered = False
        try:
            async with _progress(ctx) as report:
                with _tool_errors():
                    job = await nemo().render.wait(
                        job.id,
                        on_progress=lambda j: report(
                            j.progress / 2, 100, f"rendering {j.progress:g}% ({j.status.value})"
                        ),
                    )
                    rendered = True
                    saved = await nemo().render.download(
                        job,
                        target,
                        overwrite=True,
                        on_progress=lambda done, total: report(
                            50 + (50 * done / total if total else 0), 100, f"downloading {done} bytes"
                        ),
                    )
        except anyio.get_cancelled_exc_class():
            if not rendered:
                # If cancelling fails the job finishes on its own; nothing is downloaded either way.
                with anyio.CancelScope(shield=True) as shielded, suppress(NemoError):
                    shielded.deadline = anyio.current_time() + CANCEL_DEADLINE
                    await nemo().render.cancel(job.id)
            raise
        with _tool_errors():
            balance = await nemo().credits.balance()
        seconds = job.duration if job.duration is not None else draft.duration_ms / 1000
        return {
            "path": str(saved),
            "size": saved.stat().st_size,
            "duration_seconds": None if seconds is None or math.isnan(seconds) else seconds,
            "render_id": job.id,
            "credits_left": balance.available,
        }

    @server.resource(
        "nemovideo://sessions/{session_id}/timeline",
        name="timeline",
        description="A session's timeline as text (tracks and segments).",
        mime_type="text/plain",
    )
    async def timeline_text(session_id: str) -> str:
        with _tool_errors(ResourceError):
            draft = (await session_for(session_id).state()).draft
        return draft.summary()

    @server.resource(
        "nemovideo://sessions/{session_id}/timeline.svg",
        name="timeline-picture",
        description="A session's timeline drawn as an SVG picture (one lane per track).",
        mime_type="image/svg+xml",
    )
    async def timeline_svg(session_id: str) -> str:
        with _tool_errors(ResourceError):
            draft = (await session_for(session_id).state()).draft
        return draft._repr_svg_()

    return server


def run(client: ClientFactory | None = None) -> None:
    """Serve over stdio until the client closes the connection."""
    create_server(client).run("stdio")
