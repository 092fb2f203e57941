"""The ledger keeps every recorded step across processes: committed at once, in WAL mode, one row a job."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from nemovideo.batch import Ledger, default_ledger_path

pytestmark = pytest.mark.anyio


async def test_steps_are_committed_and_read_back_after_reopening(tmp_path: Path) -> None:
    path = default_ledger_path(tmp_path / "jobs.jsonl")
    assert path.name == "jobs.jsonl.ledger.sqlite"
    async with Ledger(path) as ledger:
        entry = await ledger.begin("/out/a.mp4", "f1", 1)
        entry = await ledger.record(entry, session_id="s1", sent=1, draft_before="d0")
        assert entry.sent == 1
        assert entry.replied == 0
        # another connection (another process would do the same) sees it before the ledger closes
        with sqlite3.connect(path) as other:
            assert other.execute("SELECT session_id, sent FROM jobs").fetchall() == [("s1", 1)]
            assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    async with Ledger(path) as again:
        found = await again.get("/out/a.mp4")
        assert found is not None
        assert (found.session_id, found.sent, found.replied, found.draft_before) == ("s1", 1, 0, "d0")
        assert found.started
        fresh = await again.begin("/out/a.mp4", "f2", 1)  # inputs changed: the row starts over
        assert (await again.get("/out/a.mp4")) == fresh
        assert [e.output for e in await again.entries()] == ["/out/a.mp4"]
        with pytest.raises(ValueError, match="not a ledger column"):
            await again.record(fresh, colour="red")
