"""A minimal web front end on the SDK: a prompt box, the agent's words streaming in, a video player.

    python examples/web_app.py --emulator            # then open the printed URL
    python examples/web_app.py --port 8000           # against NEMO_API_URL

Starlette and uvicorn come with the ``emulator`` extra. The first line printed is the page's URL.
Routes: ``GET /`` the page; ``POST /api/sessions`` a new session; ``POST /api/sessions/<id>/messages``
(``{"text": ...}``) the agent's reply as a server-sent event stream (``delta`` events while it writes,
then ``reply`` with the translated text and the timeline, or ``error``); ``POST
/api/sessions/<id>/export`` renders and saves the MP4, answering with its URL under ``/videos/``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import socket
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import anyio
import uvicorn
from _connect import connect
from anyio.abc import ObjectSendStream
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

import nemovideo

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nemovideo</title>
<style>
 body { font: 16px system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem }
 textarea { width: 100%; height: 4.5rem; font: inherit }
 #log p { margin: .4rem 0 } .you { color: #555 } .agent { white-space: pre-wrap } .err { color: #b00 }
 pre { background: #f4f4f4; padding: .5rem; white-space: pre-wrap } video { width: 100%; margin-top: 1rem }
</style></head>
<body>
<h1>nemovideo</h1>
<form id="ask"><textarea id="text">Generate a 10-second video from this script with background music:
Fresh coffee, roasted every morning. Visit us today.</textarea>
<button>Send</button> <button type="button" id="export">Export</button></form>
<div id="log"></div><pre id="timeline">Timeline (empty)</pre>
<video id="player" controls hidden></video>
<script>
let session = null;
const log = document.getElementById("log");
function line(cls, text) { const p = document.createElement("p"); p.className = cls; p.textContent = text;
  log.append(p); return p; }
async function ensureSession() {
  if (!session) session = (await (await fetch("/api/sessions", {method: "POST"})).json()).session_id;
  return session; }
document.getElementById("ask").onsubmit = async (ev) => {
  ev.preventDefault();
  const text = document.getElementById("text").value;
  line("you", "you: " + text);
  const out = line("agent", "");
  const res = await fetch(`/api/sessions/${await ensureSession()}/messages`, {
    method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify({text})});
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buf += value;
    let cut;
    while ((cut = buf.indexOf("\\n\\n")) >= 0) {
      const frame = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      const event = (frame.match(/^event: (.*)$/m) || [])[1];
      const data = JSON.parse(frame.match(/^data: (.*)$/m)[1]);
      if (event === "delta") out.textContent += data.text;
      else if (event === "text") out.textContent += "\\n";
      else if (event === "reply") {
        out.textContent = data.text;
        document.getElementById("timeline").textContent = data.timeline;
      } else if (event === "error") {
        out.className = "err";
        out.textContent = data.message + " " + (data.hint || "");
      }
    }
  }
};
document.getElementById("export").onclick = async () => {
  const status = line("you", "rendering...");
  const res = await fetch(`/api/sessions/${await ensureSession()}/export`, {method: "POST"});
  const data = await res.json();
  if (!res.ok) {
    status.className = "err";
    status.textContent = data.message + " " + (data.hint || "");
    return;
  }
  status.textContent = `saved ${data.duration} s`;
  const player = document.getElementById("player");
  player.src = data.url;
  player.hidden = false;
};
</script></body></html>
"""

Quality = Literal["high", "medium", "draft"]


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def problem(exc: nemovideo.NemoError) -> dict[str, Any]:
    return {
        "type": type(exc).__name__,
        "message": str(getattr(exc, "message", exc)),
        "hint": getattr(exc, "hint", None),
    }


class AgentStream(Response):
    """The agent's turn as server-sent events, written as they come (a task runs the turn, the response
    forwards what it reports)."""

    def __init__(self, session: nemovideo.Session, text: str) -> None:
        super().__init__()
        self.raw_headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
        ]
        self.session = session
        self.text = text

    async def _turn(self, events: ObjectSendStream[bytes]) -> None:
        def on_event(event: nemovideo.Event) -> None:
            if isinstance(event, nemovideo.TextDelta):
                events.send_nowait(sse("delta", {"text": event.text}))
            elif isinstance(event, nemovideo.Text):
                events.send_nowait(sse("text", {"text": event.text}))
            elif isinstance(event, nemovideo.ToolCall):
                events.send_nowait(sse("tool", {"name": event.name}))

        async with events:
            try:
                reply = await self.session.send(self.text, on_event=on_event)
            except nemovideo.NemoError as exc:
                await events.send(sse("error", problem(exc)))
                return
            await events.send(
                sse(
                    "reply",
                    {"text": reply.text, "silent": reply.silent, "timeline": reply.draft_after.summary()},
                )
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        sender, receiver = anyio.create_memory_object_stream[bytes](math.inf)
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._turn, sender)
            async with receiver:
                async for chunk in receiver:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def build_app(nemo: nemovideo.NemoClient, videos: Path, quality: Quality) -> Starlette:
    async def page(request: Request) -> Response:
        return HTMLResponse(PAGE)

    async def new_session(request: Request) -> Response:
        session = await nemo.sessions.create(language="en")
        return JSONResponse({"session_id": session.id})

    async def message(request: Request) -> Response:
        body = await request.json()
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            return JSONResponse({"message": 'send {"text": "..."}'}, status_code=422)
        return AgentStream(nemo.sessions.get(request.path_params["sid"]), text)

    async def export(request: Request) -> Response:
        session = nemo.sessions.get(request.path_params["sid"])
        try:
            video = await session.export(quality)
            path = await video.download(videos, overwrite=True)
        except nemovideo.NemoError as exc:
            return JSONResponse(problem(exc), status_code=409)
        seconds = video.duration or session.draft.duration_ms / 1000
        return JSONResponse({"url": f"/videos/{path.name}", "duration": seconds, "size": path.stat().st_size})

    async def video_file(request: Request) -> Response:
        name = request.path_params["name"]
        path = videos / name
        if not re.fullmatch(r"[\w.-]+\.mp4", name) or not path.is_file():
            return JSONResponse({"message": "no such video"}, status_code=404)
        return FileResponse(path, media_type="video/mp4")

    return Starlette(
        routes=[
            Route("/", page),
            Route("/api/sessions", new_session, methods=["POST"]),
            Route("/api/sessions/{sid}/messages", message, methods=["POST"]),
            Route("/api/sessions/{sid}/export", export, methods=["POST"]),
            Route("/videos/{name}", video_file),
        ]
    )


@asynccontextmanager
async def listening(host: str, port: int) -> AsyncIterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(64)
    try:
        yield sock
    finally:
        sock.close()


async def main(use_emulator: bool, host: str, port: int, quality: Quality) -> None:
    with tempfile.TemporaryDirectory(prefix="nemovideo-web-") as videos:
        async with connect(use_emulator) as nemo, listening(host, port) as sock:
            app = build_app(nemo, Path(videos), quality)
            server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
            print(f"http://{host}:{sock.getsockname()[1]}", flush=True)
            await server.serve(sockets=[sock])


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--emulator", action="store_true", help="run against a local emulator (offline)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")), help="0: a free port")
    p.add_argument("--quality", choices=("high", "medium", "draft"), default="high", help="render quality")
    ns = p.parse_args()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: uvicorn has shut down; end quietly
        anyio.run(main, ns.emulator, ns.host, ns.port, ns.quality, backend="asyncio")  # uvicorn needs asyncio
