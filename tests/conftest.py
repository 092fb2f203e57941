"""Suite-wide fixtures: every async test runs on asyncio and on trio, in a clean environment."""

from __future__ import annotations

from pathlib import Path

import pytest

_ENV = (
    "NEMO_TOKEN",
    "NEMO_API_URL",
    "NEMO_WEB_URL",
    "NEMO_CLIENT_ID",
    "NEMO_CONFIG_DIR",
    "NEMO_LOG",
    "SKILL_SOURCE",
    "NEMO_API_KEY",
    "NEMO_GATEWAY_URL",
    "NEMO_API",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fault-matrix",
        action="store_true",
        help="print the fault matrix (operation x fault -> outcome) after the run; it is printed anyway "
        "when a test failed",
    )


@pytest.fixture(params=["asyncio", "trio"], scope="session")
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's token or writes to their home directory."""
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NEMO_CONFIG_DIR", str(tmp_path / "config"))
