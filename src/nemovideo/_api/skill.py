"""The skill API (the vendor's agent skill): tokens, ``/run_sse``, sessions without projects."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from .base import Api, ChatTurn, Traits

if TYPE_CHECKING:  # imported by the methods using them: a client asking only for credits loads none
    from .._http import Requestor
    from .._sse import EventStream
    from ..models.session import SessionInfo
    from ..models.state import State

CREATE_PATH = "/api/tasks/me/with-session/nemo_agent"
RUN_SSE_PATH = "/run_sse"
RENDER_PATH = "/api/render/proxy/lambda"
APP_NAME = "nemo_agent"


def run_sse_body(session_id: str, text: str) -> dict[str, Any]:
    return {
        "app_name": APP_NAME,
        "user_id": "me",
        "session_id": session_id,
        "new_message": {"role": "user", "parts": [{"text": text}]},
    }


def job_path(job_id: str) -> str:
    return f"{RENDER_PATH}/{quote(job_id, safe='')}"


def download_path(job_id: str) -> str:
    return f"/api/render/proxy/{quote(job_id, safe='')}/download"


class SkillApi(Api):
    name = "skill"
    other = "gateway"
    traits = Traits("code", "render", "/api/credits/balance/simple", RENDER_PATH, "files", None, None, 900.0)

    async def create_session(
        self, requestor: Requestor, *, language: str | None, task_name: str
    ) -> SessionInfo:
        from ..models.session import SessionInfo

        body: dict[str, Any] = {"task_name": task_name}
        if language:
            body["language"] = language
        return await requestor.request("POST", CREATE_PATH, SessionInfo, json=body)

    async def state(self, requestor: Requestor, session_id: str, project_id: str | None) -> State:
        from ..models.state import StateEnvelopeData

        path = f"/api/state/nemo_agent/me/{quote(session_id, safe='')}/latest"
        data = await requestor.request("GET", path, StateEnvelopeData)
        return data.flatten()

    def upload_path(self, session_id: str) -> str:
        return f"/api/upload-video/nemo_agent/me/{quote(session_id, safe='')}"

    def new_render_id(self) -> str:
        return f"render_{uuid.uuid4().hex}"

    def render_cancel_path(self, job_id: str) -> str:
        return f"{job_path(job_id)}/cancel"

    def render_download_path(self, job_id: str) -> str | None:
        return download_path(job_id)

    @asynccontextmanager
    async def chat(self, requestor: Requestor, turn: ChatTurn) -> AsyncIterator[EventStream]:
        """``POST /run_sse``: the message goes out once; only a failure to connect is retried."""
        from .._sse import EventStream, StreamTimeouts

        base = requestor.config.timeout
        request = requestor.build(
            "POST",
            RUN_SSE_PATH,
            json=run_sse_body(turn.session_id, turn.text),
            headers={"Accept": "text/event-stream", "Cache-Control": "no-store"},
            timeout=httpx.Timeout(connect=base.connect, read=None, write=base.write, pool=base.pool),
        )
        async with requestor.stream(request) as response:
            limits = requestor.config
            events = EventStream(
                response,
                timeouts=turn.timeouts or StreamTimeouts(),
                on_heartbeat=turn.on_heartbeat,
                max_event_size=limits.max_event_size,
                max_stream_events=limits.max_stream_events,
                max_stream_bytes=limits.max_stream_bytes,
            )
            try:
                yield events
            finally:
                await events.aclose()
