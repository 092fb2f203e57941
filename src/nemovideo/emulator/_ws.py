"""The gateway's chat over a WebSocket: `/ws/chat?token=<api key>&session_id=<sid>`.

Message types and close codes follow the vendor's `src/core/ws.ts`, `src/core/agent.ts` and
`src/core/types.ts`. A turn is the same `Run` that `/run_sse` streams (same agent, same credits): its ADK
events are translated into the gateway's typed messages. The turn runs as background work, so a socket that
closes does not stop it; a socket that connects while it runs follows it from there on.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectSendStream
from starlette.responses import JSONResponse
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from . import _events as ev
from . import agent
from ._accounts import Account, Project
from ._context import Context
from ._faults import CHAT_KINDS, FaultRule
from ._log import LogEntry, redact_headers
from ._runs import Run
from ._store import CreditsShort, Session
from .agent._replies import SUGGEST

CLOSE_INVALID_TOKEN = 4001
CLOSE_MISSING_SESSION = 4002
TURN_TYPES = frozenset(
    {
        "warming_up",
        "status",
        "message_accepted",
        "thinking_start",
        "thinking_chunk",
        "thinking_end",
        "chunk",
        "text",
        "tool_start",
        "tool_end",
        "toolcall_start",
        "toolcall_end",
        "ask_question",
        "done",
        "error",
    }
)
"""Messages that belong to a turn (what the `ws_close` fault counts)."""
_SESSION_FIELDS = ("draft", "canvas_config", "generated_media", "spec", "messages")
"""What the agent's tools change: an aborted turn puts them back (uploads made meanwhile stay)."""


def redact_query(query: str) -> str:
    """The handshake's query string with the API key replaced: it rides in the URL."""
    return re.sub(r"(^|&)token=[^&]*", r"\1token=<redacted>", query)


class Turn:
    """One chat turn: its `Run`, and every message it produced so far (so sockets can follow it)."""

    def __init__(
        self,
        ctx: Context,
        account: Account,
        project: Project,
        session: Session,
        run: Run,
        client_message_id: str,
        text: str,
        cold: bool,
    ) -> None:
        self.ctx = ctx
        self.gw = ctx.store.gateway
        """The store this turn began in: a reset meanwhile makes a new one, which it must not touch."""
        self.account = account
        self.project = project
        self.session = session
        self.run = run
        self.client_message_id = client_message_id
        self.text = text
        self.cold = cold
        self.messages: list[dict[str, Any]] = []
        self.finished = False
        self.delivered = False
        """Whether a socket sent the turn's last message (`done` or `error`) to a client."""
        self.aborted = False
        self.timed_out = False
        self._changed = anyio.Event()
        self._snapshot = {name: copy.deepcopy(getattr(session, name)) for name in _SESSION_FIELDS}
        self._started = ctx.clock.now()

    def push(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        changed, self._changed = self._changed, anyio.Event()
        changed.set()

    async def follow(self, cursor: int) -> AsyncIterator[dict[str, Any]]:
        """The turn's messages from index `cursor` on, until it ends."""
        while True:
            while cursor < len(self.messages):
                cursor += 1
                yield self.messages[cursor - 1]
            if self.finished:
                return
            await self._changed.wait()

    def abort(self) -> None:
        self.aborted = True
        self.run.scope.cancel()

    # driving
    def _keys(self) -> tuple[str, str, str, str]:
        settings = self.ctx.settings
        if settings.gateway_tool_style == "toolcall":
            return settings.gateway_chunk_key, "toolcall_start", "toolcall_end", "tool_name"
        return settings.gateway_chunk_key, "tool_start", "tool_end", "tool"

    async def drive(self) -> None:
        """Run the turn to its end (done, abort, time limit or error), then record what it cost."""
        run = self.run
        sid = self.session.session_id
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._execute)
                if self.cold:
                    self.push({"type": "warming_up", "session_id": sid})
                    self.push(
                        {"type": "status", "status": "sandbox_startup", "sandbox_id": f"sbx_{sid[-8:]}"}
                    )
                self.push(
                    {
                        "type": "message_accepted",
                        "session_id": sid,
                        "client_message_id": self.client_message_id,
                    }
                )
                await self._think()
                async with run.receive:
                    async for kind, data in run.receive:
                        if self.ctx.clock.now() - self._started > self.ctx.settings.gateway_turn_limit:
                            self.timed_out = True
                            run.scope.cancel()
                        self._translate(kind, data)
            self._finish()
        finally:
            if not run.ok:
                self._restore()
            gw = self.gw
            gw.turns.pop(sid, None)
            gw.last_turns[sid] = self
            self.finished = True
            self.push({"type": "_end"})

    async def _execute(self) -> None:
        try:
            await self.run.execute()
        finally:
            self.ctx.runs.discard(self.run)

    async def _think(self) -> None:
        plan = self.run.plan
        tools = ", ".join(step.tool for step in plan.steps) or "a reply"
        thought = f"The request reads as {plan.kind}; plan: {tools}."
        self.push({"type": "thinking_start"})
        for piece in ev.chunks(thought):
            self.push({"type": "thinking_chunk", "text": piece})
            await anyio.sleep(self.ctx.settings.text_delay)
        self.push({"type": "thinking_end"})

    def _translate(self, kind: str, data: bytes) -> None:
        if kind == "heartbeat":
            self.push({"type": "status", "status": "working"})
            return
        event = json.loads(data[len(b"data: ") :])
        text_key, start, end, tool_key = self._keys()
        partial = bool(event.get("partial"))
        for part in event.get("content", {}).get("parts", []):
            if isinstance(part.get("text"), str):
                kind_ = "chunk" if partial else "text"
                self.push({"type": kind_, text_key: part["text"]})
            elif "functionCall" in part:
                call = part["functionCall"]
                self.push(
                    {"type": start, tool_key: call["name"], "tool_call_id": call["id"], "args": call["args"]}
                )
            elif "functionResponse" in part:
                resp = part["functionResponse"]
                self.push(
                    {
                        "type": end,
                        tool_key: resp["name"],
                        "tool_call_id": resp["id"],
                        "result": resp["response"],
                    }
                )

    def _finish(self) -> None:
        run, sid = self.run, self.session.session_id
        if run.ok and run.cost:
            self.gw.charge(
                self.account,
                run.cost,
                {
                    "project_id": self.project.project_id,
                    "session_id": sid,
                    "conversation_id": self.client_message_id,
                    "user_message": self.text,
                    "user_message_hidden": False,
                    "tool_breakdown": [{"tool_key": step.tool} for step in run.plan.steps],
                },
            )
        self.project.updated_at = self.ctx.clock.now()
        charged = run.cost if run.ok else 0
        if self.timed_out:
            limit = self.ctx.settings.gateway_turn_limit
            self.push(
                {
                    "type": "error",
                    "error": f"turn timed out after {limit:g} s"
                    + ("" if charged else "; its credits were released"),
                    "code": "turn_timeout",
                    "credits_charged": charged,
                }
            )
            return
        if not self.aborted and run.plan.choices:
            zh = self.session.language.lower().startswith("zh")
            options = [
                {"id": key, "label": SUGGEST[key][1 if zh else 0].strip('"“”')} for key in run.plan.choices
            ]
            self.push(
                {
                    "type": "ask_question",
                    "questions": [
                        {"id": "q1", "prompt": run.plan.answer, "options": options, "allow_multiple": False}
                    ],
                }
            )
        self.push(
            {
                "type": "done",
                "session_id": sid,
                "client_message_id": self.client_message_id,
                "aborted": self.aborted,
                "credits_charged": charged,
            }
        )

    def _restore(self) -> None:
        """An aborted or failed turn leaves the session as it found it (its credits are released too)."""
        for name, value in self._snapshot.items():
            setattr(self.session, name, value)


Outgoing = tuple["Turn | None", dict[str, Any]]
"""A message for the socket, with the turn it belongs to (if any)."""
END_TYPES = ("done", "error")


async def put(out: MemoryObjectSendStream[Outgoing], message: dict[str, Any]) -> None:
    await out.send((None, message))


class Chat:
    """One socket: reads client messages, writes session_ready, pongs and the turn's messages."""

    def __init__(
        self,
        ctx: Context,
        ws: WebSocket,
        account: Account,
        project: Project,
        session: Session,
        close_rule: FaultRule | None,
    ) -> None:
        self.ctx = ctx
        self.ws = ws
        self.account = account
        self.project = project
        self.session = session
        self.close_rule = close_rule
        self.turn_sent = 0
        self.close_code: int | None = None

    async def serve(self) -> None:
        out, inbox = anyio.create_memory_object_stream[Outgoing](256)
        with out, inbox:
            await self._serve(out, inbox)

    async def _serve(self, out: MemoryObjectSendStream[Outgoing], inbox: Any) -> None:
        sid = self.session.session_id
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._write, inbox, tg)
            await put(
                out, {"type": "session_ready", "session_id": sid, "project_id": self.project.project_id}
            )
            gw = self.ctx.store.gateway
            running = gw.turns.get(sid)
            last = gw.last_turns.get(sid)
            if running is not None:
                await put(out, {"type": "status", "status": "turn_in_progress"})
                tg.start_soon(self._follow, running, len(running.messages), out)
            elif last is not None and not last.delivered:
                # The turn ended while no socket listened: its end is the first thing the next one hears.
                end = next(m for m in reversed(last.messages) if m["type"] in END_TYPES)
                await out.send((last, end))
            while True:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                raw = message.get("text")
                if raw is None:
                    raw = (message.get("bytes") or b"").decode("utf-8", "replace")
                await self._handle(raw, out, tg)
            tg.cancel_scope.cancel()

    async def _write(self, inbox: Any, tg: TaskGroup) -> None:
        rule = self.close_rule
        try:
            async for turn, message in inbox:
                await self.ws.send_json(message)
                if turn is not None and message["type"] in END_TYPES:
                    turn.delivered = True
                if message["type"] in TURN_TYPES:
                    self.turn_sent += 1
                elif message["type"] != "session_ready":
                    continue
                if rule is not None and self.turn_sent >= int(rule.param("after")):
                    self.close_code = int(rule.param("code"))
                    await anyio.sleep(0.02)
                    await self.ws.close(self.close_code, "injected close")
                    break
        except (OSError, RuntimeError, WebSocketDisconnect):
            pass  # the client left
        tg.cancel_scope.cancel()

    async def _follow(self, turn: Turn, cursor: int, out: MemoryObjectSendStream[Outgoing]) -> None:
        async for message in turn.follow(cursor):
            if message["type"] != "_end":
                await out.send((turn, message))  # the writer marks its end delivered

    def _log(self, kind: str, text: str | None) -> LogEntry:
        entry = LogEntry(
            time=self.ctx.clock.now(),
            origin="api",
            method="WS",
            path="/ws/chat",
            query="",
            headers={},
            client="",
            endpoint="ws_message",
            message=text,
            extra={"type": kind, "session_id": self.session.session_id},
        )
        self.ctx.log.append(entry)
        return entry

    async def _handle(self, raw: str, out: MemoryObjectSendStream[Outgoing], tg: TaskGroup) -> None:
        try:
            msg = json.loads(raw)
        except ValueError:
            msg = None
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            self._log("invalid", None)
            await put(
                out, {"type": "error", "error": 'send a JSON object with a "type"', "code": "bad_message"}
            )
            return
        kind = msg["type"]
        content = msg.get("content")
        entry = self._log(kind, content if isinstance(content, str) else None)
        gw = self.ctx.store.gateway
        sid = self.session.session_id
        if kind == "ping":
            await put(out, {"type": "pong"})
        elif kind == "abort":
            running = gw.turns.get(sid)
            entry.extra["aborted"] = running is not None
            if running is not None:
                running.abort()
        elif kind == "message":
            error = self._start(msg, entry, out, tg)
            if error is not None:
                await put(out, error)
        else:
            await put(
                out,
                {
                    "type": "error",
                    "error": f"unknown message type {kind!r}: message, ping or abort",
                    "code": "bad_message",
                },
            )

    def _start(
        self, msg: dict[str, Any], entry: LogEntry, out: MemoryObjectSendStream[Outgoing], tg: TaskGroup
    ) -> dict[str, Any] | None:
        """Start a turn for a `message`, or the `error` message that refuses it."""
        content = msg.get("content")
        metadata = msg.get("metadata", {})
        if not isinstance(content, str) or not content.strip():
            return {
                "type": "error",
                "error": "a message needs a non-empty 'content' string",
                "code": "bad_message",
            }
        if not isinstance(metadata, dict):
            return {"type": "error", "error": "'metadata' must be an object", "code": "bad_message"}
        gw = self.ctx.store.gateway
        sid = self.session.session_id
        if sid in gw.turns:
            return {
                "type": "error",
                "error": "a turn is already running in this session: wait for done, or send abort",
                "code": "turn_busy",
            }
        settings = self.ctx.settings
        plan = agent.plan_for(content, self.session, settings.seed)
        cost = {"generation": settings.generation_cost, "edit": settings.edit_cost}.get(plan.kind, 0)
        if cost:
            try:
                self.account.user.freeze(cost)
            except CreditsShort as exc:
                return {
                    "type": "error",
                    "error": f"insufficient credits: {exc}. Top up at nemovideo.com/dashboard/billing",
                    "code": 2001,
                }
        silent = plan.kind == "edit" and self.ctx.store.silent_rng.random() < settings.silent_share
        run = Run(
            session=self.session,
            user=self.account.user,
            plan=plan,
            cost=cost,
            silent=silent,
            settings=settings,
            clock=self.ctx.clock,
        )
        cmid = metadata.get("client_message_id")
        cmid = cmid if isinstance(cmid, str) and cmid else f"cm_{uuid.uuid4().hex[:16]}"
        cold = sid not in gw.warm
        gw.warm.add(sid)
        turn = Turn(self.ctx, self.account, self.project, self.session, run, cmid, content, cold)
        if self.project.prompt is None:
            self.project.prompt = content
        gw.turns[sid] = turn
        entry.extra.update({"plan": plan.kind, "silent": silent, "client_message_id": cmid})
        self.ctx.runs.add(run)
        assert self.ctx.work is not None
        self.ctx.work.start_soon(turn.drive)
        tg.start_soon(self._follow, turn, 0, out)
        return None


async def _handshake(ctx: Context, ws: WebSocket) -> None:
    scope = ws.scope
    client = scope.get("client") or ("", 0)
    entry = LogEntry(
        time=ctx.clock.now(),
        origin="api",
        method="GET",
        path=scope["path"],
        query=redact_query(scope.get("query_string", b"").decode("latin-1")),
        headers=redact_headers(list(scope.get("headers", []))),
        client=str(client[0]),
        endpoint="ws_chat",
    )
    ctx.log.append(entry)
    close_rule: FaultRule | None = None
    rule = ctx.faults.pick("ws_chat", CHAT_KINDS)
    if rule is not None:
        entry.fault = rule.kind
        if rule.kind == "latency":
            await anyio.sleep(float(rule.param("seconds")))
        elif rule.kind in ("status", "forbidden", "rate_limit"):
            await _deny(ws, entry, rule)
            return
        elif rule.kind == "ws_close":
            close_rule = rule
    token = ws.query_params.get("token")
    session_id = ws.query_params.get("session_id")
    await ws.accept()
    entry.status = 101

    async def close(code: int, reason: str) -> None:
        entry.extra["close_code"] = code
        await ws.close(code, reason)

    if not session_id:
        await close(CLOSE_MISSING_SESSION, "missing session_id")
        return
    gw = ctx.store.gateway
    account, _, why = gw.authenticate(token)
    if account is None:
        await close(CLOSE_INVALID_TOKEN, why or "invalid token")
        return
    found = gw.session_for(account, session_id)
    if found is None:
        await close(CLOSE_MISSING_SESSION, f"session not found: {session_id}")
        return
    chat = Chat(ctx, ws, account, found[0], found[1], close_rule)
    try:
        await chat.serve()
    finally:
        if chat.close_code is not None:
            entry.extra["close_code"] = chat.close_code


async def _deny(ws: WebSocket, entry: LogEntry, rule: FaultRule) -> None:
    """Refuse the handshake with an HTTP response, as a proxy or a busy gateway does; the reason is in the
    JSON body (what the vendor's `ws.ts` reads) and in an `X-Reason` header (for clients that only see the
    response head)."""
    body: dict[str, Any]
    if rule.kind == "forbidden":
        status, body = 403, {"reason": str(rule.param("reason"))}
    elif rule.kind == "rate_limit":
        status, body = 429, {"reason": "rate limit exceeded, retry later"}
    else:
        status = int(rule.param("status"))
        body = {"reason": "service unavailable, retry shortly", "code": status}
    entry.status = status
    with contextlib.suppress(RuntimeError):
        await ws.send_denial_response(
            # the server closes the connection after it: say so, or a client may reuse it from its pool
            JSONResponse(
                body, status_code=status, headers={"x-reason": str(body["reason"]), "connection": "close"}
            )
        )


def chat_route(ctx: Context) -> WebSocketRoute:
    async def endpoint(ws: WebSocket) -> None:
        await _handshake(ctx, ws)

    return WebSocketRoute("/ws/chat", endpoint)
