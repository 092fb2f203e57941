"""What docs/logging.md promises: ``NEMO_LOG`` shows the SDK's requests on stderr, and no token shows."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from nemovideo import _logging
from nemovideo.emulator import Emulator

SCRIPT = """
import anyio, nemovideo

async def main() -> None:
    async with nemovideo.NemoClient() as nemo:
        await nemo.credits.balance()
    try:
        async with nemovideo.NemoClient(token="nmv_usr_0123456789abcdef0123456789abcdef") as nemo:
            await nemo.credits.balance()
    except nemovideo.AuthenticationError as error:
        nemovideo._logging.logger.debug("refused: %r", error)

anyio.run(main)
"""


@pytest.fixture
def restore_logger() -> Iterator[None]:
    level, handlers = _logging.logger.level, list(_logging.logger.handlers)
    yield
    _logging.logger.handlers[:] = handlers
    _logging.logger.setLevel(level)


def test_debug_shows_each_request_and_no_token(nemo_emulator: Emulator, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEMO_")}
    env.update(NEMO_LOG="debug", NEMO_API_URL=nemo_emulator.url, NEMO_CONFIG_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    anonymous = json.loads((tmp_path / "tokens.json").read_text(encoding="utf-8"))[nemo_emulator.url]["token"]
    assert "nemovideo DEBUG] GET /api/credits/balance/simple -> 200" in done.stderr
    assert "refused: AuthenticationError" in done.stderr
    for secret in (anonymous, "0123456789abcdef0123456789abcdef"):
        assert secret not in done.stderr + done.stdout
    assert done.stdout == ""


def test_without_the_variable_the_sdk_adds_no_handler(restore_logger: None) -> None:
    assert _logging.setup_logging("") is None
    assert not any(isinstance(h, _logging._Handler) for h in _logging.logger.handlers)


def test_the_handler_redacts_token_shaped_text(
    restore_logger: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _logging.setup_logging("info")
    _logging.setup_logging("INFO")  # a second setup replaces the handler
    assert sum(isinstance(h, _logging._Handler) for h in _logging.logger.handlers) == 1
    _logging.logger.info("sent %s", "Authorization: Bearer abc.def-123")
    _logging.logger.debug("not shown at info")
    err = capsys.readouterr().err
    assert "Authorization: Bearer <redacted>" in err
    assert "abc.def-123" not in err
    assert "not shown" not in err


def test_an_unknown_level_says_so_and_uses_warning(
    restore_logger: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _logging.setup_logging("verbose")
    assert _logging.logger.level == logging.WARNING
    assert "NEMO_LOG='verbose' is not one of debug, info, warning" in capsys.readouterr().err
