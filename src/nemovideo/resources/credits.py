"""``nemo.credits``: the balance."""

from __future__ import annotations

from ..models.credits import Credits
from ._base import Resource

BALANCE_PATH = "/api/credits/balance/simple"


class CreditsResource(Resource):
    async def balance(self) -> Credits:
        """The balance now. Generation costs ~100 credits a clip, editing ~50 a session; export is free."""
        return await self._requestor.request("GET", BALANCE_PATH, Credits)
