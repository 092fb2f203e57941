"""Raw-httpx helpers for the emulator tests: no SDK code, only the wire contract."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from nemovideo.emulator import Emulator

ATTRIBUTION = {"X-Skill-Source": "nemovideo-tests", "X-Skill-Version": "0.1", "X-Skill-Platform": "unknown"}
GENERATE = (
    "Generate a 4-second promotional video from this script with background music: "
    "A city that never sleeps. Lights everywhere. Join us tonight."
)


async def new_token(client: httpx.AsyncClient, client_id: str | None = None) -> str:
    r = await client.post(
        "/api/auth/anonymous-token", headers={"X-Client-Id": client_id or str(uuid.uuid4())}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["code"] == 0, body
    return str(body["data"]["token"])


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **ATTRIBUTION}


async def new_session(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    r = await client.post(
        "/api/tasks/me/with-session/nemo_agent", json={"task_name": "project"}, headers=headers
    )
    body = r.json()
    assert body["code"] == 0, body
    return str(body["data"]["session_id"])


async def login(client: httpx.AsyncClient) -> tuple[dict[str, str], str]:
    """A token's headers and a new session id."""
    headers = auth(await new_token(client))
    return headers, await new_session(client, headers)


def run_body(session_id: str, text: str) -> dict[str, Any]:
    return {
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": session_id,
        "new_message": {"role": "user", "parts": [{"text": text}]},
    }


@dataclass
class Frame:
    at: float
    kind: str
    """"event", "empty" (an empty data: line), "comment" or "invalid" (data that is not JSON)."""
    data: dict[str, Any] = field(default_factory=dict)
    raw: str = ""


@dataclass
class Stream:
    status: int
    content_type: str
    frames: list[Frame]
    body: Any = None
    error: Exception | None = None

    @property
    def events(self) -> list[dict[str, Any]]:
        return [f.data for f in self.frames if f.kind == "event"]

    @property
    def heartbeats(self) -> list[Frame]:
        return [f for f in self.frames if f.kind in ("empty", "comment")]

    def texts(self, partial: bool | None = None) -> list[str]:
        out = []
        for e in self.events:
            if partial is not None and bool(e.get("partial", False)) != partial:
                continue
            out += [p["text"] for p in e.get("content", {}).get("parts", []) if "text" in p]
        return out

    def parts(self, key: str) -> list[dict[str, Any]]:
        return [p[key] for e in self.events for p in e.get("content", {}).get("parts", []) if key in p]


async def run(client: httpx.AsyncClient, headers: dict[str, str], session_id: str, text: str) -> Stream:
    """Send a message and read the whole response, timing each frame."""
    start = time.monotonic()
    body = run_body(session_id, text)
    hdrs = {**headers, "Accept": "text/event-stream"}
    async with client.stream("POST", "/run_sse", json=body, headers=hdrs) as resp:
        ctype = resp.headers.get("content-type", "")
        if not ctype.startswith("text/event-stream"):
            await resp.aread()
            return Stream(resp.status_code, ctype, [], resp.json())
        frames: list[Frame] = []
        error: Exception | None = None
        try:
            async for line in resp.aiter_lines():
                at = time.monotonic() - start
                if line.startswith(":"):
                    frames.append(Frame(at, "comment", raw=line))
                elif line.startswith("data:"):
                    payload = line[5:].strip()
                    if not payload:
                        frames.append(Frame(at, "empty", raw=line))
                        continue
                    try:
                        frames.append(Frame(at, "event", json.loads(payload), line))
                    except ValueError:
                        frames.append(Frame(at, "invalid", raw=line))
                elif line:
                    raise AssertionError(f"unexpected SSE line {line!r}")
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            error = exc
        return Stream(resp.status_code, ctype, frames, error=error)


async def state(client: httpx.AsyncClient, headers: dict[str, str], session_id: str) -> dict[str, Any]:
    r = await client.get(f"/api/state/nemo_agent/me/{session_id}/latest", headers=headers)
    body = r.json()
    assert body["code"] == 0, body
    return dict(body["data"]["state"])


async def credits(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, int]:
    r = await client.get("/api/credits/balance/simple", headers=headers)
    return dict(r.json()["data"])


def api(emu: Emulator, **kwargs: Any) -> httpx.AsyncClient:
    kwargs.setdefault("timeout", 30)
    return httpx.AsyncClient(base_url=emu.url, **kwargs)
