"""Which extra a missing library belongs to, so a missing extra is one line saying what to install.

Imports nothing heavy: ``python -m nemovideo.emulator`` uses it too, where typer may be absent.
"""

from __future__ import annotations

_EXTRAS = {
    "typer": "cli",
    "click": "cli",
    "rich": "cli",
    "starlette": "emulator",
    "uvicorn": "emulator",
    "multipart": "emulator",
    "python_multipart": "emulator",
    "imageio_ffmpeg": "emulator",
    "wsproto": "emulator",
    "httpx_ws": "gateway",
    "mcp": "mcp",
}


def missing_extra(exc: ImportError) -> str | None:
    """The extra whose library ``exc`` failed to import, or None for any other import error."""
    return _EXTRAS.get((exc.name or "").split(".")[0])


def install_line(extra: str, what: str) -> str:
    """``error: <what> needs the '<extra>' extra: pip install "nemovideo[<extra>]"``."""
    return f"error: {what} needs the '{extra}' extra: pip install \"nemovideo[{extra}]\""
