"""Options shared by the commands, so a new command takes the same flags with the same help.

A command module imports what it needs (``from ._options import EmulatorOpt, JsonOpt, TimeoutOpt``) and
registers itself in ``_app`` with one line.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from .._config import DEFAULT_TIMEOUT

READ_TIMEOUT = float(DEFAULT_TIMEOUT.read or 60.0)
CONNECT_TIMEOUT = float(DEFAULT_TIMEOUT.connect or 10.0)


class QualityChoice(str, enum.Enum):
    """Render quality: ``draft`` is the fastest."""

    high = "high"
    medium = "medium"
    draft = "draft"


class AspectChoice(str, enum.Enum):
    """The frame's shape: landscape, portrait (phones) or square."""

    landscape = "16:9"
    portrait = "9:16"
    square = "1:1"


EmulatorOpt = Annotated[
    bool,
    typer.Option("--emulator", help="Start a local emulator in this process and use it (no account needed)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout, for scripts.")]
QualityOpt = Annotated[
    QualityChoice,
    typer.Option("--quality", "-q", help="Render quality (draft is the fastest).", case_sensitive=False),
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Replace the output file if it exists (otherwise refused).")
]
TimeoutOpt = Annotated[
    float,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        min=0.1,
        help=f"How long to wait for each answer of the server (connecting: at most {CONNECT_TIMEOUT:g} s).",
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Save the MP4 here: a file, or a directory for <render id>.mp4. \\[default: ./<render id>.mp4]",
    ),
]
SessionArg = Annotated[
    str, typer.Argument(metavar="SESSION", help="The session id (printed by generate/chat).")
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Also show the agent's raw reply.")]
