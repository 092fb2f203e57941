"""The ``Session`` handle: talk to the agent and see what it did to the timeline.

It holds the resources it needs, handed in by ``nemo.sessions``; it imports models only, so no import
circle forms between the client, the resources and the handle.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from ._download import target_path
from ._errors import (
    DOCUMENTED_CODES,
    AgentError,
    APIConnectionError,
    NemoError,
    StreamDisconnected,
    StreamTimeout,
    error_for,
)
from ._router import language_of, translate
from .models.credits import Credits
from .models.draft import Draft, Language
from .models.events import Event, Question, StreamError, Text, TextDelta, ToolCall, ToolResult
from .models.render import RenderJob
from .models.reply import Reply
from .models.session import SessionInfo
from .models.state import State
from .models.upload import UploadedFile

if TYPE_CHECKING:
    from ._files import FileInput, ProgressHook
    from ._sse import EventStream, StreamTimeouts
    from .resources.credits import CreditsResource
    from .resources.render import Quality, RenderResource, Video
    from .resources.sessions import SessionsResource
    from .resources.state import StateResource
    from .resources.uploads import UploadsResource

EXPORT_DEADLINE = 300.0


@dataclass(frozen=True)
class Recovery:
    """How a broken stream is recovered without re-sending: read state until the draft changes."""

    first_wait: float = 30.0
    wait: float = 60.0
    max_reads: int = 5


class Session:
    """One editing session: a timeline that the agent edits, message by message."""

    def __init__(
        self,
        info: SessionInfo,
        *,
        sessions: SessionsResource,
        state: StateResource,
        credits: CreditsResource,
        uploads: UploadsResource,
        render: RenderResource,
        web_url: str,
    ) -> None:
        self.info = info
        self._sessions = sessions
        self._state = state
        self._credits = credits
        self._uploads = uploads
        self._render = render
        self._web_url = web_url
        self._draft: Draft | None = None

    @property
    def id(self) -> str:
        return self.info.session_id

    @property
    def task_id(self) -> str | None:
        return self.info.task_id

    @property
    def user_id(self) -> str | None:
        return self.info.user_id

    @property
    def project_id(self) -> str | None:
        """The gateway's project holding this session (None on the skill API)."""
        return self.info.project_id

    @property
    def project_url(self) -> str | None:
        """The session in the web app."""
        if not self.task_id:
            return None
        return f"{self._web_url}/workspace/task/{self.task_id}?session={self.id}"

    @property
    def draft(self) -> Draft:
        """The draft as last read (by ``state()``, ``send()`` or ``export()``); empty before any read."""
        return self._draft if self._draft is not None else Draft()

    def __repr__(self) -> str:
        if self.project_id:
            return f"Session(id={self.id!r}, project_id={self.project_id!r})"
        return f"Session(id={self.id!r}, task_id={self.task_id!r})"

    async def state(self) -> State:
        state = await self._state.latest(self.id, project_id=self.project_id)
        self._draft = state.draft
        return state

    async def upload(self, *files: FileInput, on_progress: ProgressHook | None = None) -> list[UploadedFile]:
        """Add media to this session (see ``nemo.uploads.upload``): checked locally first, then streamed."""
        return await self._uploads.upload(self.id, *files, on_progress=on_progress)

    async def export(
        self,
        quality: Quality = "high",
        *,
        on_progress: Callable[[RenderJob], object] | None = None,
        poll_interval: float | None = None,
        deadline: float | None = EXPORT_DEADLINE,
        cancel_on_timeout: bool = False,
        download_to: str | os.PathLike[str] | None = None,
        overwrite: bool = False,
    ) -> Video:
        """Render the current timeline to MP4: read state, start, wait (see ``nemo.render.export``).

        Returns a ``Video``; ``await video.download(path)`` saves it, or pass ``download_to`` to save it
        here. A timeline with nothing on it raises ``DraftNotReadyError`` before any render starts, and so
        does a ``download_to`` that cannot be saved to (an existing file without ``overwrite``): no credits
        are spent on a render that could not be saved.
        """
        if download_to is not None:
            target_path(download_to, "video.mp4", overwrite=overwrite)
        draft = (await self.state()).draft
        video = await self._render.export(
            self.id,
            draft,
            quality=quality,
            on_progress=on_progress,
            poll_interval=poll_interval,
            deadline=deadline,
            cancel_on_timeout=cancel_on_timeout,
            project_id=self.project_id,
        )
        if download_to is not None:
            await video.download(download_to, overwrite=overwrite)
        return video

    @asynccontextmanager
    async def stream(
        self,
        text: str,
        *,
        timeouts: StreamTimeouts | None = None,
        on_heartbeat: Callable[[float], object] | None = None,
    ) -> AsyncIterator[EventStream]:
        """Send a message and iterate the agent's typed events (see ``nemo.sessions.stream``)."""
        async with self._sessions.stream(
            self.id, text, timeouts=timeouts, on_heartbeat=on_heartbeat
        ) as events:
            yield events

    async def cancel(self) -> bool:
        """Stop the agent's running turn (gateway only; the skill API raises ``UnsupportedOnThisAPI``):
        sends ``abort`` and waits for the turn to end. Returns whether a turn of this client was running."""
        return await self._sessions.cancel(self.id)

    async def send(
        self,
        text: str,
        *,
        on_event: Callable[[Event], object] | None = None,
        on_heartbeat: Callable[[float], object] | None = None,
        timeouts: StreamTimeouts | None = None,
        recovery: Recovery | None = None,
        track_credits: bool = True,
    ) -> Reply:
        """Send a message, run the stream to its end and say what happened.

        The message is never re-sent. If the connection breaks after the request left (before or during
        the stream) or the stream times out, the outcome is read from the session state
        as the vendor documents (wait, read, compare with the draft before; up to ``max_reads`` reads);
        if nothing changed, ``StreamDisconnected`` is raised.
        """
        before = self._draft if self._draft is not None else (await self.state()).draft
        balance_before = await self._balance() if track_credits else None
        events: list[Event] = []
        broken: NemoError | None = None
        aborted = resumed = False
        try:
            async with self.stream(text, timeouts=timeouts, on_heartbeat=on_heartbeat) as stream:
                async for event in stream:
                    events.append(event)
                    if on_event is not None:
                        on_event(event)
                aborted = stream.aborted
                resumed = getattr(stream, "resumed", False)  # the gateway's chat: a reconnect mid-turn
        except StreamTimeout as exc:
            broken = exc
        except APIConnectionError as exc:
            if not exc.sent:
                raise  # it never arrived: nothing to recover, safe for the caller to send again
            broken = exc
        failures = [e for e in events if isinstance(e, StreamError)]
        if failures and broken is None and not aborted:
            await self.state()
            raise _agent_error(failures[-1])
        if broken is None and resumed and not aborted:
            broken = StreamDisconnected(
                "The chat reconnected after the message left, so what the agent did meanwhile is missing.",
                sent=True,
            )
        after = await self._recover(before, recovery or Recovery(), broken) if broken else await self.state()
        balance_after = await self._balance() if track_credits else None
        return _reply(
            events,
            before,
            after.draft,
            balance_before,
            balance_after,
            recovered=broken is not None,
            language="zh" if language_of(text) == "zh" else "en",
        )

    async def _balance(self) -> Credits | None:
        try:
            return await self._credits.balance()
        except NemoError:
            return None  # the spend is then unknown; the turn itself goes on

    async def _recover(self, before: Draft, recovery: Recovery, cause: NemoError) -> State:
        await anyio.sleep(recovery.first_wait)
        for read in range(1, recovery.max_reads + 1):
            state = await self.state()
            if state.draft.to_api() != before.to_api():
                return state
            if read < recovery.max_reads:
                await anyio.sleep(recovery.wait)
        raise StreamDisconnected(
            f"{cause} The timeline did not change in {recovery.max_reads} reads of the session state, so the "
            "message most likely failed. It was not re-sent; send it again yourself if you want to retry.",
            sent=True,
        ) from cause


def _agent_error(failure: StreamError) -> NemoError:
    """A turn's error frame; one naming a documented code (the gateway's 2001) raises that code's class."""
    code = failure.code or ""
    if code.isdigit() and int(code) in DOCUMENTED_CODES:
        return error_for(failure.message, code=int(code), http_status=None)
    return AgentError(failure.message, code=failure.code)


_NO_REPLY = {
    "en": "The agent finished without a reply; the timeline is unchanged.",
    "zh": "智能体没有回复就结束了，时间线没有变化。",
}


def _reply(
    events: list[Event],
    before: Draft,
    after: Draft,
    balance_before: Credits | None,
    balance_after: Credits | None,
    *,
    recovered: bool,
    language: Language = "en",
) -> Reply:
    texts = [e.text for e in events if isinstance(e, Text) and e.author != "user"]
    raw = texts[-1] if texts else None
    if raw is None and not recovered:
        raw = "".join(e.text for e in events if isinstance(e, TextDelta)) or None
    changes = before.diff(after)
    if raw and raw.strip():
        text, actions = translate(raw)
    else:
        text = changes.summary(language) if changes else _NO_REPLY[language]
        actions = []
    spent = None
    if balance_before is not None and balance_after is not None:
        spent = max(balance_before.total - balance_after.total, 0)
    return Reply(
        text=text,
        raw_text=raw,
        texts=texts,
        suggested_actions=actions,
        tool_calls=[e for e in events if isinstance(e, ToolCall)],
        tool_results=[e for e in events if isinstance(e, ToolResult)],
        questions=[q for e in events if isinstance(e, Question) for q in e.questions],
        draft_before=before,
        draft_after=after,
        changes=changes,
        credits_spent=spent,
        silent=not (raw and raw.strip()),
        recovered=recovered,
    )
