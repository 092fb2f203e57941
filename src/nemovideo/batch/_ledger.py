"""The ledger: what each job has done, written before and after every step that costs or cannot be repeated.

One SQLite file (the standard library's ``sqlite3``) in WAL mode with ``synchronous=FULL``: each step is a
committed transaction, so a process killed at any instant leaves every step either recorded or not, never
half. A job's row is keyed by its output path and carries the fingerprint of its inputs, so a rerun knows
whether the job is the same one. Calls run in a worker thread (``anyio.to_thread``): the event loop never
waits on the disk.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    output TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    row INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    session_id TEXT,
    task_id TEXT,
    upload_started INTEGER NOT NULL DEFAULT 0,
    uploaded INTEGER NOT NULL DEFAULT 0,
    sent INTEGER NOT NULL DEFAULT 0,
    replied INTEGER NOT NULL DEFAULT 0,
    draft_before TEXT,
    render_id TEXT,
    render_attempts INTEGER NOT NULL DEFAULT 0,
    rendered INTEGER NOT NULL DEFAULT 0,
    saved INTEGER NOT NULL DEFAULT 0,
    size INTEGER,
    duration REAL,
    credits INTEGER,
    error TEXT,
    hint TEXT,
    updated REAL NOT NULL
)
"""
LOCK_TIMEOUT = 10.0
"""Seconds to wait for another process holding the ledger before giving up."""


class LedgerError(OSError):
    """The ledger file cannot be opened or written (a missing directory, a full disk, another process)."""


@dataclass(frozen=True)
class Entry:
    """A job's row: the steps it has recorded.

    ``sent`` counts messages whose request may have left (recorded before sending), ``replied`` those whose
    outcome is known; ``sent > replied`` means a message is in flight, or was when the process stopped.
    ``render_id`` is recorded before the render request that uses it.
    """

    output: str
    fingerprint: str
    row: int
    status: str = "pending"
    session_id: str | None = None
    task_id: str | None = None
    upload_started: int = 0
    uploaded: int = 0
    sent: int = 0
    replied: int = 0
    draft_before: str | None = None
    render_id: str | None = None
    render_attempts: int = 0
    rendered: int = 0
    saved: int = 0
    size: int | None = None
    duration: float | None = None
    credits: int | None = None
    error: str | None = None
    hint: str | None = None
    updated: float = 0.0

    @property
    def started(self) -> bool:
        """Whether anything was sent for this job yet."""
        return self.session_id is not None


_COLUMNS = tuple(f.name for f in fields(Entry))


def default_ledger_path(manifest: str | os.PathLike[str]) -> Path:
    """``<manifest>.ledger.sqlite``, next to the manifest."""
    path = Path(manifest)
    return path.with_name(path.name + ".ledger.sqlite")


class Ledger:
    """The progress of a batch, one row a job, safe across crashes (see the module's docstring).

    ``async with Ledger(path) as ledger:``; one process at a time should write a ledger (a shard has
    its own).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    async def __aenter__(self) -> Ledger:
        await anyio.to_thread.run_sync(self._open)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _open(self) -> None:
        try:
            db = sqlite3.connect(
                self.path, timeout=LOCK_TIMEOUT, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise LedgerError(0, f"the ledger cannot be opened ({exc})", str(self.path)) from exc
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute(SCHEMA)
        except sqlite3.Error as exc:
            db.close()
            raise LedgerError(0, f"the ledger cannot be used ({exc})", str(self.path)) from exc
        self._db = db

    async def aclose(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            await anyio.to_thread.run_sync(db.close)

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self._db is None:
            raise RuntimeError("the ledger is closed: use it inside `async with Ledger(path)`")
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise LedgerError(
                    0, f"the ledger cannot be written ({exc}; waited {LOCK_TIMEOUT:g} s)", str(self.path)
                ) from exc

    async def _call(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return await anyio.to_thread.run_sync(self._run, sql, params)

    async def get(self, output: str) -> Entry | None:
        rows = await self._call(f"SELECT {', '.join(_COLUMNS)} FROM jobs WHERE output = ?", (output,))
        return Entry(*rows[0]) if rows else None

    async def entries(self) -> list[Entry]:
        rows = await self._call(f"SELECT {', '.join(_COLUMNS)} FROM jobs ORDER BY row")
        return [Entry(*row) for row in rows]

    async def begin(self, output: str, fingerprint: str, row: int) -> Entry:
        """A fresh row for a job (replacing any earlier one: its inputs changed, or it is redone)."""
        now = time.time()
        await self._call(
            "INSERT OR REPLACE INTO jobs (output, fingerprint, row, updated) VALUES (?, ?, ?, ?)",
            (output, fingerprint, row, now),
        )
        return Entry(output=output, fingerprint=fingerprint, row=row, updated=now)

    async def record(self, entry: Entry, **changes: Any) -> Entry:
        """Commit ``changes`` to the job's row (durably, before returning) and give the new row."""
        unknown = set(changes) - set(_COLUMNS) | {"output"} & set(changes)
        if unknown:
            raise ValueError(f"not a ledger column: {', '.join(sorted(unknown))}")
        changes["updated"] = time.time()
        names = ", ".join(f"{name} = ?" for name in changes)
        await self._call(f"UPDATE jobs SET {names} WHERE output = ?", (*changes.values(), entry.output))
        values = {**{name: getattr(entry, name) for name in _COLUMNS}, **changes}
        return Entry(**values)
