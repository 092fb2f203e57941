"""``nemo.credits``: the balance, and (gateway) the history of what was charged and granted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime

from ..models.credits import Credits
from ..models.usage import UsagePage, UsageRecord
from ._base import Resource

HISTORY_PATH = "/billing/usage/conversations"
PAGE_SIZE = 100
"""The most the gateway serves per page."""
MAX_PAGES = 10_000
"""A bound on one history walk (a million records), against a server whose ``has_next`` never ends."""


def _day(value: date | datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()


class CreditsResource(Resource):
    async def balance(self) -> Credits:
        """The balance now. Generation costs ~100 credits a clip, editing ~50 a session; export is free.
        On the gateway it carries ``total_granted`` and ``total_consumed`` too."""
        api = self._requestor.api
        return await self._requestor.request(
            "GET", api.traits.balance_path, Credits, envelope=api.traits.envelope
        )

    async def history(
        self,
        *,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> AsyncIterator[UsageRecord]:
        """Every charge, grant and expiry between ``start`` and ``end`` (dates, inclusive), newest first,
        page after page (gateway only). ``page_size`` is capped at 100, the gateway's limit."""
        api = self._requestor.api
        api.require("credits.history()", "gateway")
        size = max(1, min(page_size, PAGE_SIZE))
        params = {"page_size": str(size)}
        for name, value in (("start_date", _day(start)), ("end_date", _day(end))):
            if value:
                params[name] = value
        for page_no in range(1, MAX_PAGES + 1):
            page = await self._requestor.request(
                "GET",
                HISTORY_PATH,
                UsagePage,
                params={**params, "page_no": str(page_no)},
                envelope=api.traits.envelope,
            )
            for record in page.items:
                yield record
            if not _more(page, page_no, size):
                return


def _more(page: UsagePage, page_no: int, size: int) -> bool:
    """Whether a page follows: ``has_next`` where sent, else ``total_pages``, else a full page (the older
    ``{records, total}`` shape)."""
    if page.has_next is not None:
        return page.has_next
    if page.total_pages is not None:
        return page_no < page.total_pages
    if page.total is not None:
        return page_no * size < page.total
    return len(page.items) >= size
