"""``NEMO_LOG=debug|info|warning``: a stderr handler for the ``nemovideo`` logger, set up on import.

Without the variable the SDK adds no handler (a library leaves that to the program). With it, a script shows
each request (``debug``) or the retries and token renewals (``info``) without writing any logging code. The
handler redacts anything shaped like a token, as a second guard behind the SDK never logging one.
"""

from __future__ import annotations

import logging
import os
import sys

from ._errors import redact

ENV = "NEMO_LOG"
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
FORMAT = "[%(asctime)s %(name)s %(levelname)s] %(message)s"

logger = logging.getLogger("nemovideo")


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then replaces token-shaped text (in the message, its arguments and tracebacks)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler this module installs; marked so a second setup replaces it instead of adding one."""


def setup_logging(value: str | None = None) -> logging.Handler | None:
    """Install the stderr handler at the level named by ``value`` (default: ``$NEMO_LOG``).

    Returns the handler, or ``None`` when the variable is unset or empty. An unknown level is shown once, as
    a warning, and ``warning`` is used.
    """
    value = (os.environ.get(ENV, "") if value is None else value).strip().lower()
    if not value:
        return None
    for old in [h for h in logger.handlers if isinstance(h, _Handler)]:
        logger.removeHandler(old)
    handler = _Handler(sys.stderr)
    handler.setFormatter(RedactingFormatter(FORMAT))
    logger.addHandler(handler)
    level = LEVELS.get(value)
    logger.setLevel(level or logging.WARNING)
    if level is None:
        logger.warning("%s=%r is not one of %s; using warning", ENV, value, ", ".join(LEVELS))
    return handler


setup_logging()
