"""``python -m nemovideo._cli``: the same as the ``nemovideo`` script."""

from . import main

main()
