"""A local NemoVideo API for tests, examples and offline demos (see docs/emulator.md).

`serve()` / `Emulator` run it; its agent is a deterministic rule-based stand-in, not an AI. Importing this
package is cheap: starlette and uvicorn load only when a server starts.
"""

from ._clock import Clock
from ._faults import ENDPOINTS, KINDS, FaultRule, Faults
from ._log import LogEntry
from ._server import Emulator, serve
from ._settings import Settings

__all__ = ["ENDPOINTS", "KINDS", "Clock", "Emulator", "FaultRule", "Faults", "LogEntry", "Settings", "serve"]
