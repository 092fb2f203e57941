"""API resources. Each holds a ``Requestor`` and is usable without the ``Session`` handle."""

from .credits import CreditsResource

__all__ = ["CreditsResource"]
