"""pytest plugin (entry point `nemovideo_emulator`): a real emulator on loopback for the test session.

`nemo_emulator` hands each test the session's server, reset (state, faults, log, clock and settings) before
the test. The server starts with test-friendly timings (short generations and heartbeats, draft-quality
renders); a test changes them with `nemo_emulator.configure(...)`. Nothing heavy is imported until a test
asks for the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from nemovideo.emulator import Emulator

TEST_SETTINGS: dict[str, Any] = {
    "generation_seconds": 0.5,
    "heartbeat_interval": 0.1,
    "text_delay": 0.002,
    "render_quality": "draft",
    "tokens_per_client": 1,
    "tokens_per_ip": 10_000,
}
"""Start settings of the session's server (what `reset()` returns to). The per-IP token limit is lifted
because every test client comes from 127.0.0.1; tests of that limit configure it back to 10."""


@pytest.fixture(scope="session")
def nemo_emulator_server() -> Iterator[Emulator]:
    """One emulator for the whole test session (started on first use)."""
    from nemovideo.emulator import Emulator

    emulator = Emulator(**TEST_SETTINGS).start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def nemo_emulator(nemo_emulator_server: Emulator) -> Emulator:
    """The session's emulator, reset to a fresh state for this test (`.url`, `.cdn_url`, `.faults`, ...)."""
    nemo_emulator_server.reset()
    return nemo_emulator_server
