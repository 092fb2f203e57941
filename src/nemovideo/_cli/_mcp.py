"""``nemovideo mcp``: the MCP server (``nemovideo.mcp``) over stdio, for AI assistants."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Annotated

import typer

from .._client import NemoClient
from ..mcp.__main__ import MISSING, is_missing_mcp
from ._run import open_client


def mcp(
    emulator: Annotated[
        bool,
        typer.Option("--emulator", help="Start a local emulator in this process and use it (no account)."),
    ] = False,
) -> None:
    """Serve the MCP tools over stdio for an AI assistant (Claude, Cursor, ...); see docs/mcp.md."""
    try:
        from ..mcp import run
    except ImportError as exc:
        if not is_missing_mcp(exc):
            raise
        typer.echo(MISSING, err=True)
        raise typer.Exit(2) from None

    def client() -> AbstractAsyncContextManager[NemoClient]:
        return open_client(emulator)

    run(client)
