"""``python -m nemovideo.mcp``: the MCP server over stdio (token from ``NEMO_TOKEN`` or the cached one)."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from . import run
    except ImportError as exc:
        if (exc.name or "").split(".")[0] != "mcp":
            raise
        print(
            "error: the MCP server needs the 'mcp' extra\nhint: pip install \"nemovideo[mcp]\"",
            file=sys.stderr,
        )
        raise SystemExit(2) from None
    run()


if __name__ == "__main__":
    main()
