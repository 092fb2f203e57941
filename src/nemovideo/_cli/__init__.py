"""The ``nemovideo`` command: make a video, chat with the agent, script the API (extra ``cli``).

Nothing here is imported by ``import nemovideo``; typer and rich load only when the command runs.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Entry point of the ``nemovideo`` script."""
    if sys.argv[1:] == ["mcp"]:
        # An assistant spawns the server at its own start: skip loading the command line (typer,
        # rich), ~0.15 s, for the plain form; options and --help go through the full command.
        from ..mcp.__main__ import main as serve

        serve()
        return
    from ._extras import install_line, missing_extra

    try:
        import typer

        from ._app import app
        from ._help import tidy
    except ImportError as exc:
        if missing_extra(exc) != "cli":
            raise
        print(install_line("cli", "the nemovideo command"), file=sys.stderr)
        raise SystemExit(2) from None
    tidy(typer.main.get_command(app))(prog_name="nemovideo")
