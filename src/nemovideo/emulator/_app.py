"""The API origin's routes (API.md) and the emulator's control routes (`/_emulator/...`)."""

from __future__ import annotations

import json
import math
import shutil
from datetime import datetime, timezone
from typing import Any

import anyio
import anyio.lowlevel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from . import _jobs, agent
from ._context import Context
from ._faults import FaultRule
from ._gateway import gateway_routes
from ._log import LogEntry
from ._media import check_type, probe
from ._runs import Run
from ._sse import SSEResponse
from ._store import CreditsShort, RenderJob, Session, User
from ._uploads import SavedFile, UploadRejected, safe_name, save_multipart

HTTP_STATUS_FOR_CODE = {1001: 401, 1002: 404, 2001: 402, 4001: 415, 4002: 413}
"""With `error_transport="http"`: the HTTP status each documented JSON code travels with."""
MESSAGES = {
    2001: "insufficient credits",
    402: "Register or upgrade your plan to unlock export.",
}
ATTRIBUTION = ("x-skill-source", "x-skill-version", "x-skill-platform")


class Invalid(Exception):
    """A request body or header that does not follow API.md."""


def _entry(request: Request) -> LogEntry | None:
    entry = request.scope.get("nemo.log")
    return entry if isinstance(entry, LogEntry) else None


class Api:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # responses
    def error(self, code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        """A REST error: documented JSON codes in a 200 body (or with an HTTP status, per `error_transport`);
        400/402/429 and validation errors (422, 415) always as HTTP statuses."""
        if code in HTTP_STATUS_FOR_CODE:
            status = HTTP_STATUS_FOR_CODE[code] if self.ctx.settings.error_transport == "http" else 200
        else:
            status = code
        return JSONResponse(
            {"code": code, self.ctx.settings.message_key: message}, status_code=status, headers=headers
        )

    def render_error(self, status: int, message: str, code: int | None = None) -> JSONResponse:
        """Render endpoints answer `{"success": false, "error": ...}`; a documented code rides in `code`."""
        body: dict[str, Any] = {"success": False, "error": message}
        if code is not None:
            body["code"] = code
            body[self.ctx.settings.message_key] = message
            if code in HTTP_STATUS_FOR_CODE and self.ctx.settings.error_transport == "json":
                status = 200
        return JSONResponse(body, status_code=status)

    @staticmethod
    def ok(data: dict[str, Any]) -> JSONResponse:
        return JSONResponse({"code": 0, "data": data})

    def authenticate(self, request: Request) -> User | str:
        user, why = self.ctx.store.authenticate(request.headers.get("authorization"))
        return user if user is not None else why

    async def json_body(self, request: Request) -> dict[str, Any]:
        ctype = request.headers.get("content-type", "")
        if ctype.split(";")[0].strip().lower() != "application/json":
            raise Invalid(f"expected Content-Type application/json, got {ctype or 'none'!r}")
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise Invalid(f"malformed JSON body: {exc}") from None
        if not isinstance(body, dict):
            raise Invalid("the JSON body must be an object")
        return body

    # endpoints
    async def anonymous_token(self, request: Request) -> Response:
        client_id = request.headers.get("x-client-id", "").strip()
        if not client_id:
            return self.error(400, "missing X-Client-Id header")
        if len(client_id) > 64:
            return self.error(400, "X-Client-Id must be at most 64 characters")
        ip = request.client.host if request.client else ""
        token = self.ctx.store.issue_token(client_id, ip)
        if token is None:
            retry = str(math.ceil(self.ctx.settings.retry_after))
            return self.error(
                429,
                "rate limit: 1 anonymous token per client and 10 per IP every 7 days",
                {"Retry-After": retry},
            )
        expires = datetime.fromtimestamp(token.expires_at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        user = self.ctx.store.users[token.user_id]
        return self.ok(
            {"token": token.value, "credits": user.available, "user_id": user.user_id, "expires_at": expires}
        )

    async def create_session(self, request: Request) -> Response:
        user = self.authenticate(request)
        if isinstance(user, str):
            return self.error(1001, user)
        if request.path_params["app"] != "nemo_agent":
            return self.error(404, f"unknown app {request.path_params['app']!r}; use nemo_agent")
        try:
            body = await self.json_body(request)
            _only(body, {"task_name", "language"})
            task_name = body.get("task_name")
            if not isinstance(task_name, str) or not task_name.strip():
                raise Invalid("'task_name' is required and must be a non-empty string")
            language = body.get("language", "en")
            if not isinstance(language, str) or not language:
                raise Invalid("'language' must be a non-empty string such as 'en' or 'zh-CN'")
        except Invalid as exc:
            return self.error(422, str(exc))
        session = self.ctx.store.create_session(user, task_name, language)
        return self.ok(
            {"task_id": session.task_id, "session_id": session.session_id, "user_id": user.user_id}
        )

    async def claim_token(self, request: Request) -> Response:
        user = self.authenticate(request)
        if isinstance(user, str):
            return self.error(1001, user)
        try:
            body = await self.json_body(request)
            _only(body, {"task_id", "session_id"})
            if not all(isinstance(body.get(k), str) for k in ("task_id", "session_id")):
                raise Invalid("'task_id' and 'session_id' are required strings")
        except Invalid as exc:
            return self.error(422, str(exc))
        session = self.ctx.store.session_for(user, body["session_id"])
        if session is None or session.task_id != body["task_id"]:
            return self.error(1002, "session not found")
        return self.ok({"claim_token": f"clm_{self.ctx.store.hex(24)}", "expires_in": 604800})

    async def credits(self, request: Request) -> Response:
        user = self.authenticate(request)
        if isinstance(user, str):
            return self.error(1001, user)
        return self.ok(
            {"available": user.available, "frozen": user.frozen, "total": user.available + user.frozen}
        )

    def _session(self, request: Request, user: User) -> Session | None:
        if request.path_params.get("app", "nemo_agent") != "nemo_agent":
            return None
        return self.ctx.store.session_for(user, request.path_params["sid"])

    async def state(self, request: Request) -> Response:
        user = self.authenticate(request)
        if isinstance(user, str):
            return self.error(1001, user)
        session = self._session(request, user)
        if session is None:
            return self.error(1002, "session not found")
        return self.ok(
            {
                "session_id": session.session_id,
                "task_id": session.task_id,
                "task_name": session.task_name,
                "state": session.state(),
            }
        )

    async def run_sse(self, request: Request) -> Response:
        user = self.authenticate(request)
        if isinstance(user, str):
            return self.error(1001, user)
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            return _detail(
                422, [{"type": "json_invalid", "loc": ["body"], "msg": "JSON decode error", "input": {}}]
            )
        problems, fields = _run_body(body)
        if problems:
            return _detail(422, problems)
        entry = _entry(request)
        if entry is not None:
            entry.message = fields["text"]
        if fields["app_name"] != "nemo_agent":
            return _detail(404, f"App not found: {fields['app_name']}")
        session = self.ctx.store.session_for(user, fields["session_id"])
        if session is None:
            return _detail(404, "Session not found")
        settings = self.ctx.settings
        plan = agent.plan_for(fields["text"], session, settings.seed)
        cost = {"generation": settings.generation_cost, "edit": settings.edit_cost}.get(plan.kind, 0)
        if cost:
            try:
                user.freeze(cost)
            except CreditsShort as exc:
                return self.error(2001, f"{MESSAGES[2001]}: {exc}")
        silent = plan.kind == "edit" and self.ctx.store.silent_rng.random() < settings.silent_share
        run = Run(
            session=session,
            user=user,
            plan=plan,
            cost=cost,
            silent=silent,
            settings=settings,
            clock=self.ctx.clock,
        )
        if entry is not None:
            entry.extra.update({"plan": plan.kind, "silent": silent, "invocation_id": run.invocation_id})
        assert self.ctx.work is not None
        self.ctx.runs.add(run)
        self.ctx.work.start_soon(self._execute, run)
        return SSEResponse(run, request.scope.get("nemo.fault"), request.scope.get("nemo.abort"), settings)

    async def _execute(self, run: Run) -> None:
        try:
            await run.execute()
        finally:
            self.ctx.runs.discard(run)

    async def upload(self, request: Request) -> Response:
        user = self.authenticate(request)
        if isinstance(user, str):
            return self.error(1001, user)
        session = self._session(request, user)
        if session is None:
            return self.error(1002, "session not found")
        ctype = request.headers.get("content-type", "")
        kind = ctype.split(";")[0].strip().lower()
        directory = self.ctx.store.upload_dir(session.session_id)
        settings = self.ctx.settings
        try:
            if kind == "multipart/form-data":
                saved = await save_multipart(
                    ctype, request.stream(), directory, self.ctx.store.upload_count, settings.max_upload_bytes
                )
            elif kind == "application/json":
                saved = await self._from_urls(request, directory)
            else:
                return self.error(
                    415,
                    "upload with multipart/form-data (field 'files') or JSON URLs, "
                    f"not {ctype or 'no Content-Type'!r}",
                )
        except Invalid as exc:
            return self.error(422, str(exc))
        except UploadRejected as exc:
            return self.error(exc.code, exc.message)
        self.ctx.store.upload_count += len(saved)
        files = []
        for item in saved:
            info = await self._describe(session, item)
            files.append(info)
        session.video_infos.extend(files)
        for info in files:
            session.video_analyses[info["cdn_url"]] = {
                "file_type": info["file_type"],
                "summary": _analysis(info),
            }
        return self.ok({"files": files, "session_state_applied": True})

    async def _from_urls(self, request: Request, directory: Any) -> list[SavedFile]:
        body = await self.json_body(request)
        _only(body, {"urls", "source_type"})
        urls = body.get("urls")
        if body.get("source_type") != "url":
            raise Invalid("'source_type' must be \"url\" for a JSON upload")
        if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
            raise Invalid("'urls' must be a non-empty list of strings")
        saved = []
        for i, url in enumerate(urls):
            src = self.ctx.local_path(url)
            if src is None:
                raise Invalid(
                    f"cannot fetch {url!r}: this emulator has no internet access and only accepts URLs "
                    "of its own "
                    f"CDN origin ({self.ctx.cdn_url}/uploads/... or /renders/...) that exist"
                )
            name = src.name.split("_", 1)[-1] if src.parent.parent.name == "uploads" else src.name
            with src.open("rb") as fh:
                head = fh.read(64)
            file_type, reason = check_type(name, head)
            if file_type is None:
                raise UploadRejected(4001, reason)
            if src.stat().st_size > self.ctx.settings.max_upload_bytes:
                raise UploadRejected(4002, f"file too large: {name!r}")
            dest = directory / f"{self.ctx.store.upload_count + i:04d}_{safe_name(name)}"
            await anyio.to_thread.run_sync(shutil.copyfile, src, dest)
            item = SavedFile(name, dest, file_type, dest.stat().st_size)
            item.sha256 = await anyio.to_thread.run_sync(_sha256, dest)
            saved.append(item)
        return saved

    async def _describe(self, session: Session, item: SavedFile) -> dict[str, Any]:
        info = await probe(item.path)
        rel = item.path.relative_to(self.ctx.data_dir).as_posix()
        duration = info.duration if item.file_type != "image" else None
        return {
            "filename": item.filename,
            "file_type": item.file_type,
            "cdn_url": f"{self.ctx.cdn_url}/{rel}",
            "duration": duration,
            "width": info.width,
            "height": info.height,
            "fps": info.fps if item.file_type == "video" else None,
            "hash": item.sha256,
            "size": item.size,
        }

    # render
    async def render_start(self, request: Request) -> Response:
        user = self.authenticate(request)
        if isinstance(user, str):
            return self.render_error(401, user, 1001)
        missing = [h for h in ATTRIBUTION if not request.headers.get(h)]
        if missing:
            return self.render_error(402, f"{MESSAGES[402]} (missing {', '.join(missing)})", 402)
        try:
            body = await self.json_body(request)
            render_id, session_id, draft, output = _render_body(body)
        except Invalid as exc:
            return self.render_error(400, str(exc))
        entry = _entry(request)
        if entry is not None:
            entry.render_id = render_id
        if not any(isinstance(t, dict) and t.get("sg") for t in draft["t"]):
            return self.render_error(400, "the draft has no track with segments: nothing to export yet")
        session = self.ctx.store.session_for(user, session_id)
        if session is None:
            return self.render_error(404, "session not found", 1002)
        if render_id in self.ctx.store.renders:
            return self.render_error(409, f"duplicate render id: {render_id}")
        quality = self.ctx.settings.render_quality or output.get("quality", "high")
        job = RenderJob(render_id, session_id, user.user_id, draft, quality, _jobs.now_ms())
        self.ctx.store.renders[render_id] = job
        if self.ctx.settings.job_progression == "immediate":
            await _jobs.run_job(self.ctx, job)
        else:
            assert self.ctx.work is not None
            self.ctx.work.start_soon(_jobs.run_job, self.ctx, job)
        return JSONResponse(
            {"success": True, "data": {"id": job.id, "status": job.status, "progress": job.progress}}
        )

    def _job(self, request: Request, user: User) -> RenderJob | None:
        job = self.ctx.store.renders.get(request.path_params["rid"])
        return job if job is not None and job.user_id == user.user_id else None

    async def render_get(self, request: Request) -> Response:
        user = self.authenticate(request)
        if isinstance(user, str):
            return self.render_error(401, user, 1001)
        job = self._job(request, user)
        if job is None:
            return self.render_error(404, f"render not found: {request.path_params['rid']}")
        return JSONResponse(_jobs.poll_body(job, self.ctx.settings.poll_shape))

    async def render_cancel(self, request: Request) -> Response:
        user = self.authenticate(request)
        if isinstance(user, str):
            return self.render_error(401, user, 1001)
        job = self._job(request, user)
        if job is None:
            return self.render_error(404, f"render not found: {request.path_params['rid']}")
        if job.status in ("completed", "failed"):
            return self.render_error(409, f"render {job.id} already {job.status}")
        job.scope.cancel()
        job.status, job.error, job.completed_at = "failed", "cancelled", _jobs.now_ms()
        return JSONResponse(
            {"success": True, "data": {"id": job.id, "status": job.status, "error": job.error}}
        )

    async def render_download(self, request: Request) -> Response:
        user = self.authenticate(request)
        if isinstance(user, str):
            return self.render_error(401, user, 1001)
        job = self._job(request, user)
        if job is None:
            return self.render_error(404, f"render not found: {request.path_params['rid']}")
        if job.status != "completed" or job.output_path is None or not job.output_path.is_file():
            return self.render_error(409, f"render {job.id} is {job.status}, nothing to download")
        return FileResponse(job.output_path, media_type="video/mp4", filename=f"{job.id}.mp4")


def _only(body: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(body) - allowed)
    if extra:
        raise Invalid(f"unknown field(s) {', '.join(map(repr, extra))}; expected {sorted(allowed)}")


def _detail(status: int, detail: Any) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _pick(body: dict[str, Any], snake: str, camel: str) -> Any:
    return body[snake] if snake in body else body.get(camel)


def _run_body(body: Any) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Validate a /run_sse body as ADK does (snake_case or camelCase): FastAPI-style problems, or fields."""

    def problem(loc: list[Any], msg: str, kind: str = "missing") -> dict[str, Any]:
        return {"type": kind, "loc": ["body", *loc], "msg": msg}

    if not isinstance(body, dict):
        return [problem([], "Input should be a valid dictionary or object", "model_type")], {}
    problems = []
    allowed = {
        "app_name",
        "appName",
        "user_id",
        "userId",
        "session_id",
        "sessionId",
        "new_message",
        "newMessage",
        "streaming",
        "state_delta",
        "stateDelta",
        "invocation_id",
        "invocationId",
    }
    for key in sorted(set(body) - allowed):
        problems.append(problem([key], "Extra inputs are not permitted", "extra_forbidden"))
    fields: dict[str, str] = {}
    for snake, camel in (("app_name", "appName"), ("user_id", "userId"), ("session_id", "sessionId")):
        value = _pick(body, snake, camel)
        if value is None:
            problems.append(problem([snake], "Field required"))
        elif not isinstance(value, str):
            problems.append(problem([snake], "Input should be a valid string", "string_type"))
        else:
            fields[snake] = value
    if "streaming" in body and not isinstance(body["streaming"], bool):
        problems.append(problem(["streaming"], "Input should be a valid boolean", "bool_type"))
    message = _pick(body, "new_message", "newMessage")
    if message is None:
        problems.append(problem(["new_message"], "Field required"))
    elif not isinstance(message, dict):
        problems.append(
            problem(["new_message"], "Input should be a valid dictionary or object", "model_type")
        )
    else:
        if message.get("role") != "user":
            problems.append(problem(["new_message", "role"], "role must be 'user'", "value_error"))
        parts = message.get("parts")
        if not isinstance(parts, list) or not parts or not all(isinstance(p, dict) for p in parts):
            problems.append(
                problem(["new_message", "parts"], "parts must be a non-empty list of objects", "value_error")
            )
        else:
            texts = [p["text"] for p in parts if isinstance(p.get("text"), str)]
            if not "".join(texts).strip():
                problems.append(
                    problem(["new_message", "parts", 0, "text"], "the message has no text", "value_error")
                )
            fields["text"] = "\n".join(texts)
    return problems, fields


def _render_body(body: dict[str, Any]) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    if "session_id" in body and "sessionId" not in body:
        raise Invalid("unknown field 'session_id': the render body spells it camelCase, 'sessionId'")
    _only(body, {"id", "sessionId", "draft", "output"})
    render_id, session_id, draft = body.get("id"), body.get("sessionId"), body.get("draft")
    if not isinstance(render_id, str) or not render_id.strip() or "/" in render_id:
        raise Invalid("'id' is required: a string such as 'render_<timestamp>' (no slashes)")
    if not isinstance(session_id, str) or not session_id:
        raise Invalid("'sessionId' is required: the session id string")
    if not isinstance(draft, dict):
        raise Invalid("'draft' is required: the draft object read from state")
    if not isinstance(draft.get("t"), list):
        raise Invalid("the draft has no track list 't'")
    output = body.get("output", {})
    if not isinstance(output, dict):
        raise Invalid('\'output\' must be an object such as {"format": "mp4", "quality": "high"}')
    if output.get("format", "mp4") != "mp4":
        raise Invalid("'output.format' must be \"mp4\"")
    if output.get("quality", "high") not in ("high", "medium", "draft"):
        raise Invalid('\'output.quality\' must be "high", "medium" or "draft"')
    return render_id, session_id, draft, output


def _sha256(path: Any) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _analysis(info: dict[str, Any]) -> str:
    size = f"{info['width']}x{info['height']}" if info.get("width") else "unknown size"
    length = f", {info['duration']:g} s" if info.get("duration") else ""
    return f"{info['file_type']} {info['filename']} ({size}{length})"


class Control:
    """`/_emulator/...`: faults, reset, log, settings, clock and manual render steps over HTTP."""

    def __init__(self, ctx: Context, emulator: Any) -> None:
        self.ctx = ctx
        self.emulator = emulator

    async def faults_get(self, request: Request) -> Response:
        return JSONResponse({"rules": [r.as_dict() for r in self.ctx.faults.rules]})

    async def faults_add(self, request: Request) -> Response:
        try:
            body = await request.json()
            items = (
                body
                if isinstance(body, list)
                else body.get("rules", [body])
                if isinstance(body, dict)
                else None
            )
            if items is None:
                raise ValueError('send a rule object, a list of them, or {"rules": [...]}')
            rules = []
            for item in items:
                item = dict(item)
                endpoint, kind = item.pop("endpoint"), item.pop("kind")
                count = item.pop("count", 1)
                probability = item.pop("probability", 1.0)
                params = {**item.pop("params", {}), **item}
                rules.append(FaultRule(endpoint, kind, count, probability, params))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return JSONResponse({"error": f"bad fault rule: {exc}"}, status_code=422)
        for rule in rules:
            self.ctx.faults.add(
                rule.endpoint, rule.kind, count=rule.count, probability=rule.probability, **rule.params
            )
        return JSONResponse({"rules": [r.as_dict() for r in self.ctx.faults.rules]})

    async def faults_clear(self, request: Request) -> Response:
        self.ctx.faults.clear()
        return JSONResponse({"rules": []})

    async def reset(self, request: Request) -> Response:
        await self.emulator._reset_in_loop()
        return JSONResponse({"ok": True})

    async def log(self, request: Request) -> Response:
        return JSONResponse({"entries": [e.as_dict() for e in self.ctx.log.entries()]})

    async def config(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                self.emulator._configure_in_loop(**(await request.json()))
            except (ValueError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=422)
        return JSONResponse({"settings": self.ctx.settings.as_dict()})

    async def clock(self, request: Request) -> Response:
        try:
            self.ctx.clock.advance(float((await request.json())["seconds"]))
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": f'send {{"seconds": N}}: {exc}'}, status_code=422)
        return JSONResponse({"now": self.ctx.clock.now()})

    async def step(self, request: Request) -> Response:
        job = self.ctx.store.renders.get(request.path_params["rid"])
        if job is None:
            return JSONResponse({"error": "render not found"}, status_code=404)
        _jobs.step(job)
        await anyio.lowlevel.checkpoint()
        return JSONResponse({"id": job.id, "status": job.status, "progress": job.progress})


def build_api(ctx: Context, emulator: Any) -> Starlette:
    api = Api(ctx)
    control = Control(ctx, emulator)
    routes = [
        Route("/api/auth/anonymous-token", api.anonymous_token, methods=["POST"]),
        Route("/api/auth/claim-token", api.claim_token, methods=["POST"]),
        Route("/api/tasks/me/with-session/{app}", api.create_session, methods=["POST"]),
        Route("/run_sse", api.run_sse, methods=["POST"]),
        Route("/api/upload-video/{app}/me/{sid}", api.upload, methods=["POST"]),
        Route("/api/credits/balance/simple", api.credits, methods=["GET"]),
        Route("/api/state/{app}/me/{sid}/latest", api.state, methods=["GET"]),
        Route("/api/render/proxy/lambda", api.render_start, methods=["POST"]),
        Route("/api/render/proxy/lambda/{rid}", api.render_get, methods=["GET"]),
        Route("/api/render/proxy/lambda/{rid}/cancel", api.render_cancel, methods=["POST"]),
        Route("/api/render/proxy/{rid}/download", api.render_download, methods=["GET"]),
        Route("/_emulator/faults", control.faults_get, methods=["GET"]),
        Route("/_emulator/faults", control.faults_add, methods=["POST"]),
        Route("/_emulator/faults", control.faults_clear, methods=["DELETE"]),
        Route("/_emulator/reset", control.reset, methods=["POST"]),
        Route("/_emulator/log", control.log, methods=["GET"]),
        Route("/_emulator/config", control.config, methods=["GET", "POST"]),
        Route("/_emulator/clock/advance", control.clock, methods=["POST"]),
        Route("/_emulator/renders/{rid}/step", control.step, methods=["POST"]),
        *gateway_routes(ctx),
    ]
    return Starlette(routes=routes)
