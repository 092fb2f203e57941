"""What every route needs: settings, state, clock, faults, log, and the task group background work runs in."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from anyio.abc import TaskGroup

from ._clock import Clock
from ._faults import Faults
from ._log import RequestLog
from ._runs import Run
from ._settings import Settings
from ._store import Store


@dataclass
class Context:
    settings: Settings
    clock: Clock
    faults: Faults
    log: RequestLog
    store: Store
    data_dir: Path
    url: str = ""
    cdn_url: str = ""
    work: TaskGroup | None = None
    runs: set[Run] = field(default_factory=set)

    def local_path(self, url: str) -> Path | None:
        """The file behind a URL of our CDN origin, or None for any other URL (or a missing file)."""
        if not url.startswith(self.cdn_url + "/"):
            return None
        rel = unquote(urlsplit(url).path).lstrip("/")
        if not rel.startswith(("uploads/", "renders/")):
            return None
        root = self.data_dir.resolve()
        path = (root / rel).resolve()
        if root not in path.parents or not path.is_file():
            return None
        return path
