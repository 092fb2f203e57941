"""Reading an answer's body under a cap, wherever it is read (the requestor, and the auth flow that must
see a body's ``code`` before the requestor does)."""

from __future__ import annotations

import anyio
import httpx

from ._config import DEFAULT_MAX_BODY_SIZE
from ._errors import LimitExceededError

MAX_BODY = "nemovideo.max_body_size"
"""Request extension: the ``max_body_size`` of the client that sends it (copied to a token request)."""


async def read_limited(response: httpx.Response, limit: int | None = None) -> None:
    """Read a streamed body into ``response.content``, refusing more than ``limit`` bytes (decoded, so a
    compressed bomb is stopped at the limit, not inflated whole). Without ``limit``, the request's
    ``MAX_BODY`` extension, else the default."""
    request = response.request
    if limit is None:
        limit = int(request.extensions.get(MAX_BODY, DEFAULT_MAX_BODY_SIZE))
    what = f"{request.method} {request.url.path}"
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise LimitExceededError(
            f"the answer declares {int(declared)} bytes, more than the {limit} allowed; nothing was read",
            setting="max_body_size",
            endpoint=what,
        )
    chunks: list[bytes] = []
    size = 0
    # Past the limit, the scope is cancelled rather than the loop left: the cancellation lands in httpx's
    # next network read and unwinds its nested generators from the inside (left suspended, they would be
    # finalised by the garbage collector, which trio reports).
    with anyio.CancelScope() as stop:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                stop.cancel()
            else:
                chunks.append(chunk)
    if size > limit:
        raise LimitExceededError(
            f"the answer grew past {limit} bytes and was abandoned", setting="max_body_size", endpoint=what
        )
    response._content = b"".join(chunks)  # what ``aread`` would set, so ``.content`` works as usual
