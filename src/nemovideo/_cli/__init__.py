"""The ``nemovideo`` command: make a video, chat with the agent, script the API (extra ``cli``).

Nothing here is imported by ``import nemovideo``; typer and rich load only when the command runs.
"""

from __future__ import annotations

import sys

__all__ = ["main"]

_CLI_LIBRARIES = {"typer", "click", "rich"}


def main() -> None:
    """Entry point of the ``nemovideo`` script."""
    try:
        from ._app import app
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in _CLI_LIBRARIES:
            raise
        print(
            "error: the nemovideo command needs the 'cli' extra\n"
            'hint: pip install "nemovideo[cli]"  (add ",emulator" to work offline with --emulator)',
            file=sys.stderr,
        )
        raise SystemExit(2) from None
    app()
