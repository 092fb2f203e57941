"""The MCP server as an assistant runs it: ``nemovideo mcp`` in a subprocess, driven over stdio by the
``mcp`` package's own client, against the test emulator as ``NEMO_API_URL``."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.types import CallToolResult

from nemovideo.emulator import Emulator

SCRIPT = Path(sys.executable).with_name("nemovideo")


@asynccontextmanager
async def connect(api_url: str, config_dir: Path, errlog: Path) -> AsyncIterator[ClientSession]:
    """A client session with a fresh ``nemovideo mcp`` server (its stderr goes to ``errlog``)."""
    params = StdioServerParameters(
        command=str(SCRIPT),
        args=["mcp"],
        env={"NEMO_API_URL": api_url, "NEMO_CONFIG_DIR": str(config_dir)},
    )
    with errlog.open("w") as log:
        async with stdio_client(params, errlog=log) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            yield session


@pytest.fixture
def api(nemo_emulator: Emulator) -> Emulator:
    nemo_emulator.configure(credits=10_000)
    return nemo_emulator


@pytest.fixture
async def mcp_session(api: Emulator, tmp_path: Path) -> AsyncIterator[ClientSession]:
    async with connect(api.url, tmp_path / "server-config", tmp_path / "server.log") as session:
        yield session
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log, log


def data(result: CallToolResult) -> Any:
    """A successful tool call's structured result."""
    assert not result.is_error, result.content
    if result.structured_content is not None:
        content = result.structured_content
        return content.get("result", content) if set(content) == {"result"} else content
    text = result.content[0]
    assert text.type == "text"
    return json.loads(text.text)


def error_text(result: CallToolResult) -> str:
    """A failed tool call's message (never a traceback)."""
    assert result.is_error, result.content
    text = result.content[0]
    assert text.type == "text"
    assert "Traceback" not in text.text
    return text.text
