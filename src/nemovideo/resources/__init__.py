"""API resources. Each holds a ``Requestor`` and is usable without the ``Session`` handle."""

from .credits import CreditsResource
from .sessions import SessionsResource
from .state import StateResource

__all__ = ["CreditsResource", "SessionsResource", "StateResource"]
