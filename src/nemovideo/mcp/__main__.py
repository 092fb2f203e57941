"""``python -m nemovideo.mcp``: the MCP server over stdio (token from ``NEMO_TOKEN`` or the cached one)."""

from __future__ import annotations

import sys

MISSING = (
    "error: the MCP server needs the 'mcp' extra (the mcp package, 2.3 or later)\n"
    'hint: pip install --upgrade "nemovideo[mcp]"'
)


def is_missing_mcp(exc: ImportError) -> bool:
    """The ``mcp`` package is absent, or too old to have the server this one is built on."""
    return (exc.name or "").split(".")[0] == "mcp"


def main() -> None:
    try:
        from . import run
    except ImportError as exc:
        if not is_missing_mcp(exc):
            raise
        print(MISSING, file=sys.stderr)
        raise SystemExit(2) from None
    run()


if __name__ == "__main__":
    main()
