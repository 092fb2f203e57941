"""The CDN origin: uploads and renders served without auth, and any request carrying Authorization refused.

A client must never send its bearer token to the CDN host (API.md); refusing such requests with 403 makes a
leak fail loudly in tests, and the request log records it.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from ._context import Context

TYPES = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "avi": "video/x-msvideo",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
}


def build_cdn(ctx: Context) -> Starlette:
    async def serve_file(request: Request) -> Response:
        if "authorization" in request.headers:
            entry = request.scope.get("nemo.log")
            if entry is not None:
                entry.extra["rejected"] = "authorization header"
            return JSONResponse(
                {"error": "this CDN refuses requests with an Authorization header: never send tokens here"},
                status_code=403,
            )
        path = ctx.local_path(f"{ctx.cdn_url}{request.url.path}")
        if path is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        media_type = TYPES.get(path.suffix.lstrip(".").lower(), "application/octet-stream")
        return FileResponse(path, media_type=media_type)

    return Starlette(routes=[Route("/{path:path}", serve_file, methods=["GET", "HEAD"])])
