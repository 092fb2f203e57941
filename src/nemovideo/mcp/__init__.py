"""An MCP server on the SDK's public API, so AI assistants (Claude, Cursor, other MCP clients) make videos
through NemoVideo (extra ``mcp``): ``nemovideo mcp`` or ``python -m nemovideo.mcp`` over stdio.

It uses only public ``nemovideo`` names: a front end needs nothing else. The ``mcp`` package loads when a
name below is first used, so ``python -m nemovideo.mcp`` can say which extra is missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._server import TOOLS, ClientFactory, create_server, run

__all__ = ["TOOLS", "ClientFactory", "create_server", "run"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import _server

    return getattr(_server, name)
