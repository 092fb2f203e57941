"""``python -m nemovideo``: the ``nemovideo`` command, for when the scripts directory is not on PATH."""

from ._cli import main

main()
