"""Jupyter helpers: progress bars that draw in a notebook, and an HTML5 player for a saved video.

Drafts draw themselves already (``Draft._repr_svg_``); a downloaded ``Video`` shows a player through
``video_html``. Outside a notebook the bars print a line per step of 10 % to stderr, so the same code
works in a script. Nothing here imports IPython unless it is already loaded.

    bar = progress("Rendering")
    video = await session.export(on_progress=bar.job)
    await video.download("promo.mp4", on_progress=progress("Downloading").bytes)
    video                     # the last expression of a cell: a player
"""

from __future__ import annotations

import base64
import html
import importlib
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from .models.render import RenderJob

__all__ = ["EMBED_LIMIT", "ProgressBar", "VideoPlayer", "in_notebook", "progress", "video_html"]

EMBED_LIMIT = 16 * 1024 * 1024
"""Videos up to this size (bytes) are embedded in the notebook as a data URL: they play anywhere the
notebook is opened (JupyterLab, VS Code, a saved HTML copy). Larger ones are referenced by a path relative
to the working directory, which JupyterLab serves when it is at or below the notebook's directory."""


def in_notebook() -> bool:
    """Whether code runs in a Jupyter kernel (IPython with a kernel, not the terminal IPython)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def video_html(path: str | os.PathLike[str], *, embed_limit: int = EMBED_LIMIT, width: int = 480) -> str:
    """A ``<video controls>`` element playing the MP4 at ``path`` (see ``EMBED_LIMIT`` for how)."""
    file = Path(path)
    size = file.stat().st_size
    if size <= embed_limit:
        src = "data:video/mp4;base64," + base64.b64encode(file.read_bytes()).decode("ascii")
    else:
        try:
            src = quote(Path(os.path.relpath(file)).as_posix())
        except ValueError:  # another drive on Windows
            src = file.resolve().as_uri()
    name = html.escape(file.name)
    return (
        f'<figure><video controls width="{width}" src="{src}" title="{name}">'
        f'Your browser cannot play MP4: <a href="{html.escape(src)}">{name}</a></video>'
        f"<figcaption>{name} ({size / 1024:.0f} KB)</figcaption></figure>"
    )


class VideoPlayer:
    """A saved MP4 shown as a player; the last expression of a cell, or ``display(VideoPlayer(path))``."""

    def __init__(self, path: str | os.PathLike[str], *, embed_limit: int = EMBED_LIMIT) -> None:
        self.path = Path(path)
        self.embed_limit = embed_limit

    def _repr_html_(self) -> str:
        return video_html(self.path, embed_limit=self.embed_limit)

    def __repr__(self) -> str:
        return f"VideoPlayer({str(self.path)!r})"


class ProgressBar:
    """One step's progress: an HTML ``<progress>`` updated in place in a notebook, else lines on stderr.

    Its methods are the SDK's progress hooks: ``bytes(done, total)`` for uploads and downloads,
    ``job(render_job)`` for exports.
    """

    def __init__(self, label: str, *, notebook: bool | None = None) -> None:
        self.label = label
        self.notebook = in_notebook() if notebook is None else notebook
        self._handle: Any = None
        self._shown_at = 0.0
        self._last_step = -1

    def update(self, done: float, total: float | None, detail: str = "") -> None:
        fraction = min(done / total, 1.0) if total else None
        if self.notebook:
            self._draw(fraction, detail)
            return
        step = int((fraction or 0) * 10)
        if step != self._last_step or (fraction is None and detail):
            self._last_step = step
            shown = f"{fraction:.0%}" if fraction is not None else ""
            print(f"{self.label}: {shown} {detail}".rstrip(), file=sys.stderr, flush=True)

    def _draw(self, fraction: float | None, detail: str) -> None:
        now = time.monotonic()
        if self._handle is not None and fraction not in (None, 1.0) and now - self._shown_at < 0.1:
            return  # at most ten updates a second: each one is a message to the front end
        self._shown_at = now
        display: Any = importlib.import_module("IPython.display")  # loaded already: in_notebook() said so
        value = f'value="{fraction:.3f}"' if fraction is not None else ""
        body = display.HTML(
            f'<div><span style="display:inline-block;min-width:9em">{html.escape(self.label)}</span>'
            f'<progress {value} max="1" style="width:20em;vertical-align:middle"></progress> '
            f"<span>{html.escape(detail)}</span></div>"
        )
        if self._handle is None:
            self._handle = display.display(body, display_id=True)
        else:
            self._handle.update(body)

    def bytes(self, done: int, total: int | None) -> None:
        shown = f"{done / 1e6:.1f} / {total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
        self.update(done, total, shown)

    def job(self, job: RenderJob) -> None:
        self.update(job.progress, 100, f"{job.progress:.0f}% {job.status.value}")


def progress(label: str) -> ProgressBar:
    """A bar for one step (a notebook bar in Jupyter, stderr lines elsewhere)."""
    return ProgressBar(label)
