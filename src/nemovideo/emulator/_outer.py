"""The outermost ASGI layer of both origins: it logs each request and applies fault rules.

It sits right under uvicorn so that it holds uvicorn's own `send` (a bound method of the request cycle, which
owns the transport): that is how a fault can close a connection with no response at all, which no
application-level response can express.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

import anyio

from ._faults import cutting_send
from ._log import LogEntry, redact_headers

if TYPE_CHECKING:
    from ._context import Context

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_API_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("POST", r"/api/auth/anonymous-token", "anonymous_token"),
    ("POST", r"/api/auth/claim-token", "claim_token"),
    ("POST", r"/api/tasks/me/with-session/[^/]+", "create_session"),
    ("POST", r"/run_sse", "run_sse"),
    ("POST", r"/api/upload-video/[^/]+/[^/]+/[^/]+", "upload"),
    ("GET", r"/api/credits/balance/simple", "credits"),
    ("GET", r"/api/state/[^/]+/[^/]+/[^/]+/latest", "state"),
    ("POST", r"/api/render/proxy/lambda", "render_start"),
    ("GET", r"/api/render/proxy/lambda/(?P<id>[^/]+)", "render_get"),
    ("POST", r"/api/render/proxy/lambda/(?P<id>[^/]+)/cancel", "render_cancel"),
    ("GET", r"/api/render/proxy/(?P<id>[^/]+)/download", "render_download"),
    # the gateway (API.md § "The gateway")
    ("POST", r"/auth/verify", "gw_verify"),
    ("POST", r"/projects", "gw_project_create"),
    ("GET", r"/projects", "gw_projects"),
    ("GET", r"/projects/[^/]+", "gw_project"),
    ("GET", r"/projects/[^/]+/sessions", "gw_sessions"),
    ("GET", r"/api/v1/state/frontend/[^/]+", "gw_state"),
    ("GET", r"/billing/balance", "gw_balance"),
    ("GET", r"/billing/usage/conversations", "gw_usage"),
    ("POST", r"/files/upload", "gw_upload"),
    ("POST", r"/services/v1/render-proxy/lambda", "gw_render_start"),
    ("GET", r"/services/v1/render-proxy/lambda/(?P<id>[^/]+)", "gw_render_get"),
    ("GET", r"/services/v1/render-proxy/[^/]+/download", "gw_render_download"),
)


def endpoint_of(method: str, path: str) -> tuple[str | None, str | None]:
    """(endpoint name, render id in the path) for an API request."""
    for verb, pattern, name in _API_ROUTES:
        if m := re.fullmatch(pattern, path):
            if verb != method and not (verb == "GET" and method == "HEAD"):
                continue  # the same path may be routed for another verb
            return name, m.groupdict().get("id")
    return None, None


def find_transport(send: Send) -> tuple[Any, Any]:
    """uvicorn's request cycle and its transport, reached through the bound `send` it hands the app."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    return cycle, transport


def make_abort(send: Send) -> Callable[[], None]:
    cycle, transport = find_transport(send)

    def abort() -> None:
        if transport is None:
            raise RuntimeError(
                "dropping a connection needs uvicorn's transport, which this server does not expose"
            )
        cycle.disconnected = True  # uvicorn then sends no 500 and writes nothing more
        transport.close()

    return abort


class Outer:
    def __init__(self, app: ASGIApp, ctx: Context, origin: str) -> None:
        self.app = app
        self.ctx = ctx
        self.origin = origin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/_emulator/"):
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        endpoint: str | None = "cdn"
        render_id: str | None = None
        if self.origin != "cdn":
            endpoint, render_id = endpoint_of(method, path)
        client = scope.get("client") or ("", 0)
        entry = LogEntry(
            time=self.ctx.clock.now(),
            origin=self.origin,
            method=method,
            path=path,
            query=scope.get("query_string", b"").decode("latin-1"),
            headers=redact_headers(list(scope.get("headers", []))),
            client=str(client[0]),
            endpoint=endpoint,
            render_id=render_id,
        )
        self.ctx.log.append(entry)
        abort = make_abort(send)
        scope["nemo.log"] = entry
        scope["nemo.abort"] = abort

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = int(message["status"])
            await send(message)

        rule = self.ctx.faults.pick(endpoint) if endpoint else None
        if rule is None:
            await self.app(scope, receive, logged_send)
            return
        entry.fault = rule.kind
        kind = rule.kind
        if endpoint in ("run_sse", "render_start", "gw_render_start"):
            receive = await _note_body(entry, receive)
        if kind == "latency":
            await anyio.sleep(float(rule.param("seconds")))
        elif kind == "status":
            status = int(rule.param("status"))
            await _json(
                logged_send, status, {"code": status, self.ctx.settings.message_key: "injected server error"}
            )
            return
        elif kind == "rate_limit":
            retry = str(max(0, math.ceil(float(rule.param("retry_after")))))
            body = {"code": 429, self.ctx.settings.message_key: "rate limit exceeded, retry later"}
            await _json(logged_send, 429, body, [(b"retry-after", retry.encode())])
            return
        elif kind == "drop_before_headers":
            abort()
            return
        elif kind == "expire_token":
            auth = dict(scope.get("headers", [])).get(b"authorization")
            self.ctx.store.expire(auth.decode("latin-1") if auth else None)
        elif kind == "malformed_json" and endpoint != "run_sse":
            await _raw(logged_send, 200, b'{"code":0,"data":{"trunc', b"application/json")
            return
        elif kind == "drop_after_headers":
            await self.app(scope, receive, _dropping_send(logged_send, abort))
            return
        elif kind == "cut_body":
            await self.app(scope, receive, cutting_send(logged_send, abort, int(rule.param("at"))))
            return
        # cut_stream, heartbeats_only and malformed_json on run_sse act inside the stream.
        scope["nemo.fault"] = rule
        await self.app(scope, receive, logged_send)


async def _note_body(entry: LogEntry, receive: Receive) -> Receive:
    """Read a small JSON body before a fault answers, so the log still shows the message or render id."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        if isinstance(data.get("id"), str):
            entry.render_id = data["id"]
        new_message = data.get("new_message") or data.get("newMessage")
        if isinstance(new_message, dict) and isinstance(new_message.get("parts"), list):
            texts = [p.get("text") for p in new_message["parts"] if isinstance(p, dict)]
            entry.message = "".join(t for t in texts if isinstance(t, str))
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _dropping_send(send: Send, abort: Callable[[], None]) -> Send:
    """Pass the headers, then close the connection in the middle of the first body bytes."""
    state = {"dropped": False}

    async def dropping(message: Message) -> None:
        if state["dropped"]:
            return
        if message["type"] == "http.response.body":
            body: bytes = message.get("body", b"")
            if not body and message.get("more_body", False):
                return
            state["dropped"] = True
            if len(body) > 1:
                await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
            await anyio.sleep(0.05)
            abort()
            return
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"]
            message = {**message, "headers": headers}
        await send(message)

    return dropping


async def _json(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await _raw(send, status, json.dumps(body).encode(), b"application/json", headers)


async def _raw(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    all_headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        *(headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": body})
