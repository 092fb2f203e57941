"""What every resource shares: the requestor, and nothing of the client."""

from __future__ import annotations

from .._http import Requestor


class Resource:
    def __init__(self, requestor: Requestor) -> None:
        self._requestor = requestor
