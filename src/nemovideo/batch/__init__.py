"""Batches: many videos from one manifest, resumable after a crash, never paid twice.

``load_manifest`` reads and checks the jobs (JSON Lines or CSV); ``run_batch`` runs them with bounded
concurrency on one ``NemoClient``, recording every step in a ``Ledger`` (SQLite), so that a rerun continues
each job from its last recorded step: a message recorded as sent is never sent again, a render id is
resumed, a saved file is kept. See docs/batch.md.
"""

from __future__ import annotations

from ._gate import RateGate
from ._ledger import Entry, Ledger, LedgerError, default_ledger_path
from ._manifest import COLUMNS, Job, ManifestError, load_manifest, shard
from ._runner import Batch, BatchOptions, JobResult, Status, run_batch

__all__ = [
    "COLUMNS",
    "Batch",
    "BatchOptions",
    "Entry",
    "Job",
    "JobResult",
    "Ledger",
    "LedgerError",
    "ManifestError",
    "RateGate",
    "Status",
    "default_ledger_path",
    "load_manifest",
    "run_batch",
    "shard",
]
