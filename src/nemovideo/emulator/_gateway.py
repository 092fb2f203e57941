"""The gateway's REST routes (API.md § "The gateway"; the vendor's `src/core/*.ts`), on the API origin.

Auth is an API key (`Authorization: Bearer nmv_usr_...`). Bodies use the envelope of the
`gateway_envelope` setting; errors always carry an HTTP status and the same envelope, as the vendor's
`src/core/client.ts` reads them.
"""

from __future__ import annotations

import math
import shutil
from datetime import date, datetime, timezone
from typing import Any

import anyio
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from . import _jobs
from ._accounts import Account, Project
from ._context import Context
from ._media import SNIFF_BYTES, check_type, probe
from ._store import RenderJob, Session
from ._uploads import safe_name

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
TOP_UP = "Top up at nemovideo.com/dashboard/billing"
STATUS_FOR_CODE = {1010: 401, 1011: 401, 2001: 402, 4001: 415, 4002: 413}


class Refused(Exception):
    """A gateway error: HTTP `status`, envelope `code`, a message for people."""

    def __init__(self, status: int, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = status if code is None else code
        self.message = message


def _entry(request: Request) -> Any:
    return request.scope.get("nemo.log")


class GatewayApi:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # envelope
    def ok(self, data: Any) -> JSONResponse:
        shape = self.ctx.settings.gateway_envelope
        if shape == "code":
            return JSONResponse({"code": 0, "message": "success", "data": data})
        if shape == "success":
            return JSONResponse({"success": True, "data": data})
        return JSONResponse(data)

    def fail(self, exc: Refused) -> JSONResponse:
        if self.ctx.settings.gateway_envelope == "success":
            body: dict[str, Any] = {"success": False, "error": exc.message, "code": exc.code}
        else:
            body = {"code": exc.code, "message": exc.message, "data": None}
        return JSONResponse(body, status_code=exc.status)

    @property
    def gw(self) -> Any:
        return self.ctx.store.gateway

    def account(self, request: Request) -> Account:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        key = value.strip() if scheme.lower() == "bearer" else ""
        account, code, why = self.gw.authenticate(key or None)
        if account is None:
            raise Refused(401, why, code)
        return account  # type: ignore[no-any-return]

    async def body(self, request: Request) -> dict[str, Any]:
        raw = await request.body()
        if not raw:
            return {}
        try:
            import json

            data = json.loads(raw)
        except ValueError as exc:
            raise Refused(400, f"malformed JSON body: {exc}") from None
        if not isinstance(data, dict):
            raise Refused(400, "the JSON body must be an object")
        return data

    def project(self, account: Account, project_id: str) -> Project:
        project = self.gw.project_for(account, project_id)
        if project is None:
            raise Refused(404, f"project not found: {project_id}")
        return project  # type: ignore[no-any-return]

    def first_session(self, project: Project) -> Session | None:
        return self.ctx.store.sessions.get(project.session_ids[0]) if project.session_ids else None

    def handler(self, method: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                return await method(request)  # type: ignore[no-any-return]
            except Refused as exc:
                return self.fail(exc)

        return endpoint

    # views
    def session_view(self, project: Project, session: Session) -> dict[str, Any]:
        from ._accounts import iso

        running = session.session_id in self.gw.turns
        return {
            "session_id": session.session_id,
            "project_id": project.project_id,
            "name": project.name,
            "status": "running" if running else "active",
            "created_at": iso(project.created_at),
            "updated_at": iso(project.updated_at),
        }

    def project_view(self, project: Project) -> dict[str, Any]:
        from ._accounts import iso

        session = self.first_session(project)
        return {
            "project_id": project.project_id,
            "user_id": project.user_id,
            "name": project.name,
            "cover_assets": [],
            "session": None if session is None else self.session_view(project, session),
            "created_at": iso(project.created_at),
            "updated_at": iso(project.updated_at),
            "deleted_at": None,
        }

    # routes
    async def verify(self, request: Request) -> Response:
        body = await self.body(request)
        token = body.get("token")
        if token is not None and not isinstance(token, str):
            raise Refused(400, "'token' must be a string")
        if not token:
            return self.ok(self._verified(self.account(request)))
        account, code, why = self.gw.authenticate(token)
        if account is None:
            raise Refused(401, why, code)
        return self.ok(self._verified(account))

    @staticmethod
    def _verified(account: Account) -> dict[str, Any]:
        return {"user_id": account.user.user_id, "email": account.email, "balance": account.user.available}

    async def projects_create(self, request: Request) -> Response:
        account = self.account(request)
        body = await self.body(request)
        unknown = sorted(set(body) - {"create_session", "name"})
        if unknown:
            raise Refused(400, f"unknown field(s) {unknown}; expected 'create_session' and 'name'")
        with_session = body.get("create_session", True)
        name = body.get("name")
        if not isinstance(with_session, bool):
            raise Refused(400, "'create_session' must be true or false")
        if name is not None and (not isinstance(name, str) or len(name) > 200):
            raise Refused(400, "'name' must be a string of at most 200 characters")
        project = self.gw.create_project(account, name or None, with_session)
        session = self.first_session(project)
        return self.ok(
            {
                "project_id": project.project_id,
                "user_id": project.user_id,
                "session": None
                if session is None
                else {"session_id": session.session_id, "project_id": project.project_id, "status": "active"},
            }
        )

    async def projects_list(self, request: Request) -> Response:
        account = self.account(request)
        mine = [p for p in self.gw.projects.values() if p.user_id == account.user.user_id]
        mine.sort(key=lambda p: p.created_at, reverse=True)
        return self.ok([self.project_view(p) for p in mine])

    async def project_get(self, request: Request) -> Response:
        account = self.account(request)
        return self.ok(self.project_view(self.project(account, request.path_params["pid"])))

    async def project_sessions(self, request: Request) -> Response:
        account = self.account(request)
        project = self.project(account, request.path_params["pid"])
        sessions = [self.ctx.store.sessions[sid] for sid in project.session_ids]
        return self.ok({"sessions": [self.session_view(project, s) for s in sessions]})

    async def frontend_state(self, request: Request) -> Response:
        account = self.account(request)
        project = self.project(account, request.path_params["pid"])
        session = self.first_session(project)
        draft = session.draft if session is not None and session.draft.get("t") else None
        return self.ok(
            {
                "project": {
                    "project_id": project.project_id,
                    "name": project.name,
                    "timeline_draft": draft,
                    "canvas_config": None if session is None else session.canvas_config,
                    "video_infos": [] if session is None else session.video_infos,
                    "generated_media": [] if session is None else session.generated_media,
                },
                "version": 0 if session is None else session.messages,
                "projectName": project.name,
            }
        )

    async def balance(self, request: Request) -> Response:
        account = self.account(request)
        user = account.user
        return self.ok(
            {
                "available": user.available,
                "frozen": user.frozen,
                "total_granted": account.total_granted,
                "total_consumed": account.total_consumed,
            }
        )

    async def usage(self, request: Request) -> Response:
        account = self.account(request)
        q = request.query_params
        page_no = _int(q.get("page_no"), "page_no", 1)
        page_size = _int(q.get("page_size"), "page_size", DEFAULT_PAGE_SIZE)
        if page_no < 1:
            raise Refused(400, "page_no must be 1 or more")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise Refused(400, f"page_size must be within 1..{MAX_PAGE_SIZE}, not {page_size}")
        start = _day(q.get("start_date"), "start_date")
        end = _day(q.get("end_date"), "end_date")
        if start and end and start > end:
            raise Refused(400, "start_date is after end_date")
        rows = [
            u
            for u in reversed(account.ledger)
            if (start is None or _utc_day(u.at) >= start) and (end is None or _utc_day(u.at) <= end)
        ]
        if self.ctx.settings.gateway_usage_shape == "records":
            return self.ok({"records": [u.record() for u in rows], "total": len(rows)})
        total_pages = math.ceil(len(rows) / page_size)
        page = rows[(page_no - 1) * page_size : page_no * page_size]
        return self.ok(
            {
                "items": [u.item() for u in page],
                "total": len(rows),
                "page_no": page_no,
                "page_size": page_size,
                "total_pages": total_pages,
                "has_next": page_no < total_pages,
            }
        )

    async def upload(self, request: Request) -> Response:
        account = self.account(request)
        ctype = request.headers.get("content-type", "")
        if ctype.split(";")[0].strip().lower() != "multipart/form-data":
            raise Refused(415, "upload with multipart/form-data: a field 'file' and a field 'session_id'")
        settings = self.ctx.settings
        async with request.form(max_files=1, max_fields=8) as form:
            upload, session_id = form.get("file"), form.get("session_id")
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise Refused(400, "the multipart body needs one file in the field 'file'")
            if not isinstance(session_id, str) or not session_id:
                raise Refused(400, "the multipart body needs the field 'session_id'")
            found = self.gw.session_for(account, session_id)
            if found is None:
                raise Refused(404, f"session not found: {session_id}")
            project, session = found
            head = await upload.read(SNIFF_BYTES)
            file_type, reason = check_type(upload.filename, head)
            if file_type is None:
                raise Refused(415, reason, 4001)
            if (upload.size or 0) > settings.max_upload_bytes:
                raise Refused(413, f"file too large: {upload.filename!r}", 4002)
            store = self.ctx.store
            dest = (
                store.upload_dir(session.session_id)
                / f"{store.upload_count:04d}_{safe_name(upload.filename)}"
            )
            store.upload_count += 1
            await upload.seek(0)
            await anyio.to_thread.run_sync(_copy, upload.file, dest)
        info = await probe(dest)
        rel = dest.relative_to(self.ctx.data_dir).as_posix()
        url = f"{self.ctx.cdn_url}/{rel}"
        record = {
            "filename": upload.filename,
            "file_type": file_type,
            "cdn_url": url,
            "duration": info.duration if file_type != "image" else None,
            "width": info.width,
            "height": info.height,
            "fps": info.fps if file_type == "video" else None,
            "size": dest.stat().st_size,
        }
        session.video_infos.append(record)
        session.video_analyses[url] = {"file_type": file_type, "summary": f"{file_type} {upload.filename}"}
        project.updated_at = self.gw.now()
        file_id = f"file_{store.hex(16)}"
        return self.ok({"file_id": file_id, "filename": upload.filename, "url": url, **record})

    # render
    async def render_start(self, request: Request) -> Response:
        account = self.account(request)
        body = await self.body(request)
        entry = _entry(request)
        if entry is not None and isinstance(body.get("id"), str):
            entry.render_id = body["id"]  # logged even when the body is refused
        render_id, session_id, project_id, draft, quality = _render_body(body)
        found = self.gw.session_for(account, session_id)
        if found is None:
            raise Refused(404, f"session not found: {session_id}")
        project, _ = found
        if project_id is not None and project_id != project.project_id:
            raise Refused(
                400, f"session {session_id} belongs to project {project.project_id}, not {project_id}"
            )
        store = self.ctx.store
        existing = store.renders.get(render_id)
        if existing is not None:
            if existing.user_id != account.user.user_id:
                raise Refused(409, f"render id {render_id} is taken: send a new id")
            if entry is not None:
                entry.extra["duplicate"] = True
            return self.ok({"render_id": existing.id, "status": existing.status})
        if not any(isinstance(t, dict) and t.get("sg") for t in draft["t"]):
            raise Refused(400, "the draft has no track with segments: nothing to render yet")
        job = RenderJob(
            render_id,
            session_id,
            account.user.user_id,
            draft,
            self.ctx.settings.render_quality or quality,
            _jobs.now_ms(),
        )
        store.renders[render_id] = job
        project.render_ids.append(render_id)
        if self.ctx.settings.job_progression == "immediate":
            await _jobs.run_job(self.ctx, job)
        else:
            assert self.ctx.work is not None
            self.ctx.work.start_soon(_jobs.run_job, self.ctx, job)
        return self.ok({"render_id": job.id, "status": job.status})

    async def render_get(self, request: Request) -> Response:
        account = self.account(request)
        job = self.ctx.store.renders.get(request.path_params["rid"])
        if job is None or job.user_id != account.user.user_id:
            raise Refused(404, f"render not found: {request.path_params['rid']}")
        return self.ok(render_view(job))

    async def render_latest(self, request: Request) -> Response:
        account = self.account(request)
        project = self.project(account, request.path_params["pid"])
        if not project.render_ids:
            raise Refused(404, f"project {project.project_id} has no export yet: render it first")
        return self.ok(render_view(self.ctx.store.renders[project.render_ids[-1]]))


def render_view(job: RenderJob) -> dict[str, Any]:
    out: dict[str, Any] = {"render_id": job.id, "status": job.status, "progress": job.progress}
    if job.status == "completed":
        out["output"] = {"url": job.output_url, "duration": job.duration, "size": job.size}
    if job.error:
        out["error"] = job.error
    return out


def _copy(src: Any, dest: Any) -> None:
    with open(dest, "wb") as fh:
        shutil.copyfileobj(src, fh)


def _int(raw: str | None, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise Refused(400, f"{name} must be an integer, not {raw!r}") from None


def _day(raw: str | None, name: str) -> date | None:
    """`YYYY-MM-DD` or an ISO 8601 time (its UTC day)."""
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw)
        stamp = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Refused(400, f"{name} must be a date such as 2026-03-01, not {raw!r}") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.astimezone(timezone.utc).date()


def _utc_day(seconds: float) -> date:
    return datetime.fromtimestamp(seconds, timezone.utc).date()


def _render_body(body: dict[str, Any]) -> tuple[str, str, str | None, dict[str, Any], str]:
    unknown = sorted(set(body) - {"id", "sessionId", "projectId", "draft", "output"})
    if unknown:
        raise Refused(400, f"unknown field(s) {unknown}; the body is id, sessionId, projectId, draft, output")
    render_id, session_id, project_id, draft = (
        body.get("id"),
        body.get("sessionId"),
        body.get("projectId"),
        body.get("draft"),
    )
    if not isinstance(render_id, str) or not render_id.strip() or "/" in render_id:
        raise Refused(400, "'id' is required: a string such as 'render_<ms>' (no slashes)")
    if not isinstance(session_id, str) or not session_id:
        raise Refused(400, "'sessionId' is required: the session id string")
    if project_id is not None and not isinstance(project_id, str):
        raise Refused(400, "'projectId' must be the project id string")
    if not isinstance(draft, dict) or not isinstance(draft.get("t"), list):
        raise Refused(400, "'draft' is required: the timeline_draft read from state, with its track list 't'")
    output = body.get("output", {})
    if not isinstance(output, dict) or output.get("format", "mp4") != "mp4":
        raise Refused(400, '\'output\' must be an object such as {"format": "mp4", "quality": "high"}')
    quality = output.get("quality", "high")
    if quality not in ("high", "medium", "draft"):
        raise Refused(400, '\'output.quality\' must be "high", "medium" or "draft"')
    return render_id, session_id, project_id, draft, str(quality)


async def add_key(ctx: Context, request: Request) -> Response:
    """`POST /_emulator/gateway/keys` `{"key"?, "credits"?}` -> `{"key"}`: register an API key."""
    try:
        body = await request.json() if await request.body() else {}
        account = ctx.store.gateway.register(body.get("key"), body.get("credits"))
    except (ValueError, TypeError, AttributeError) as exc:
        return JSONResponse({"error": f"bad key request: {exc}"}, status_code=422)
    return JSONResponse({"key": account.key, "user_id": account.user.user_id})


def gateway_routes(ctx: Context) -> list[BaseRoute]:
    from ._ws import chat_route

    api = GatewayApi(ctx)
    h = api.handler

    async def keys(request: Request) -> Response:
        return await add_key(ctx, request)

    return [
        Route("/auth/verify", h(api.verify), methods=["POST"]),
        Route("/projects", h(api.projects_create), methods=["POST"]),
        Route("/projects", h(api.projects_list), methods=["GET"]),
        Route("/projects/{pid}", h(api.project_get), methods=["GET"]),
        Route("/projects/{pid}/sessions", h(api.project_sessions), methods=["GET"]),
        Route("/api/v1/state/frontend/{pid}", h(api.frontend_state), methods=["GET"]),
        Route("/billing/balance", h(api.balance), methods=["GET"]),
        Route("/billing/usage/conversations", h(api.usage), methods=["GET"]),
        Route("/files/upload", h(api.upload), methods=["POST"]),
        Route("/services/v1/render-proxy/lambda", h(api.render_start), methods=["POST"]),
        Route("/services/v1/render-proxy/lambda/{rid}", h(api.render_get), methods=["GET"]),
        Route("/services/v1/render-proxy/{pid}/download", h(api.render_latest), methods=["GET"]),
        Route("/_emulator/gateway/keys", keys, methods=["POST"]),
        chat_route(ctx),
    ]
