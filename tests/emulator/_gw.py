"""Raw helpers for the gateway tests: httpx for REST, httpx-ws for the chat; no SDK code."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from typing import Any, cast

import httpx
from httpx_ws import AsyncWebSocketSession, aconnect_ws

from nemovideo.emulator import Emulator

END = ("done", "error")


def new_key() -> str:
    return f"nmv_usr_{uuid.uuid4().hex}"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def data(r: httpx.Response) -> Any:
    """The `data` of a successful `{code: 0, message, data}` body."""
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["code"] == 0, body
    return body["data"]


async def new_project(c: httpx.AsyncClient, key: str, name: str | None = "promo") -> tuple[str, str]:
    """(project_id, session_id) of a new project with its session."""
    body: dict[str, Any] = {"create_session": True}
    if name is not None:
        body["name"] = name
    made = data(await c.post("/projects", json=body, headers=bearer(key)))
    return str(made["project_id"]), str(made["session"]["session_id"])


def ws_url(emu: Emulator, key: str | None, session_id: str | None) -> str:
    params = httpx.QueryParams(
        {k: v for k, v in (("token", key), ("session_id", session_id)) if v is not None}
    )
    return emu.url.replace("http://", "ws://") + f"/ws/chat?{params}"


def connect(url: str, client: httpx.AsyncClient) -> AbstractAsyncContextManager[AsyncWebSocketSession]:
    """`aconnect_ws`, typed (its decorator hides the session type from mypy)."""
    return cast("AbstractAsyncContextManager[AsyncWebSocketSession]", aconnect_ws(url, client))


async def until(
    ws: AsyncWebSocketSession, types: Iterable[str] = END, timeout: float = 20
) -> list[dict[str, Any]]:
    """Every message up to and including the first of `types`."""
    wanted = set(types)
    out: list[dict[str, Any]] = []
    while True:
        message = await ws.receive_json(timeout=timeout)
        out.append(message)
        if message["type"] in wanted:
            return out


async def say(ws: AsyncWebSocketSession, text: str, **metadata: Any) -> list[dict[str, Any]]:
    """Send a message and read its turn to the end."""
    await ws.send_json({"type": "message", "content": text, "metadata": metadata})
    return await until(ws)


def types(messages: list[dict[str, Any]]) -> list[str]:
    return [m["type"] for m in messages]


def squeeze(messages: list[dict[str, Any]]) -> list[str]:
    """The types with heartbeat statuses dropped and runs collapsed (chunk, chunk, chunk -> chunk)."""
    out: list[str] = []
    for m in messages:
        if m["type"] == "status" and m.get("status") == "working":
            continue
        if not out or out[-1] != m["type"]:
            out.append(m["type"])
    return out
