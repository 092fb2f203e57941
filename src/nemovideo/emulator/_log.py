"""The request log: what each origin received, so tests can prove what a client did and did not send."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class LogEntry:
    """One request. Header names are lower-cased; an Authorization value is replaced by
    "Bearer <redacted>" (its presence is what tests check, never its value)."""

    time: float
    origin: str
    """"api" or "cdn"."""
    method: str
    path: str
    query: str
    headers: dict[str, str]
    client: str
    endpoint: str | None = None
    """The fault/endpoint name ("run_sse", "render_start", ...) or None for an unknown path."""
    status: int | None = None
    """Response status; None when the connection was dropped before any response."""
    message: str | None = None
    """/run_sse: the text of the user's message."""
    render_id: str | None = None
    """Render start: the id in the body; render get/cancel/download: the id in the path."""
    fault: str | None = None
    """The fault kind applied to this request, if any."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def has_authorization(self) -> bool:
        return "authorization" in self.headers

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def redact_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name_b, value_b in raw:
        name = name_b.decode("latin-1").lower()
        value = value_b.decode("latin-1")
        if name in ("authorization", "proxy-authorization"):
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} <redacted>".strip()
        headers[name] = value
    return headers


class RequestLog:
    """Append-only, thread-safe; `entries()` returns a snapshot."""

    def __init__(self) -> None:
        self._entries: list[LogEntry] = []
        self._lock = threading.Lock()

    def append(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[LogEntry]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
