"""Reading an answer's body under a cap, wherever it is read (the requestor, and the auth flow that must
see a body's ``code`` before the requestor does)."""

from __future__ import annotations

import codecs
import zlib
from collections.abc import AsyncGenerator

import anyio
import httpx

from ._config import DEFAULT_MAX_BODY_SIZE
from ._errors import LimitExceededError, ProtocolError

MAX_BODY = "nemovideo.max_body_size"
"""Request extension: the ``max_body_size`` of the client that sends it (copied to a token request)."""


def _too_big(limit: int, what: str) -> LimitExceededError:
    return LimitExceededError(
        f"the answer grew past {limit} bytes and was abandoned", setting="max_body_size", endpoint=what
    )


def _inflater(encoding: str) -> zlib._Decompress | None:
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    return None


async def read_limited(response: httpx.Response, limit: int | None = None) -> None:
    """Read a streamed body into ``response.content``, refusing more than ``limit`` bytes once decoded.

    A gzip body is inflated here, never more than the bytes still allowed at a time (httpx inflates each
    network read whole: 64 KiB of a bomb would become 64 MB before any cap could look). Without ``limit``,
    the request's ``MAX_BODY`` extension, else the default.
    """
    request = response.request
    if limit is None:
        limit = int(request.extensions.get(MAX_BODY, DEFAULT_MAX_BODY_SIZE))
    what = f"{request.method} {request.url.path}"
    if hasattr(response, "_content"):  # read already (by the auth flow), under the same cap
        if len(response.content) > limit:
            raise _too_big(limit, what)
        return
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise LimitExceededError(
            f"the answer declares {int(declared)} bytes, more than the {limit} allowed; nothing was read",
            setting="max_body_size",
            endpoint=what,
        )
    encoding = response.headers.get("content-encoding", "").strip().lower()
    inflater = _inflater(encoding)
    chunks: list[bytes] = []
    size = 0
    corrupt: Exception | None = None
    # Past the limit (or at a corrupt byte), the scope is cancelled rather than the loop left: the
    # cancellation lands in httpx's next network read and unwinds its nested generators from the inside
    # (left suspended, they would be finalised by the garbage collector, which trio reports).
    try:
        with anyio.CancelScope() as stop:
            async for chunk in response.aiter_raw() if inflater else response.aiter_bytes():
                if stop.cancel_called:
                    continue
                try:
                    part = inflater.decompress(chunk, limit + 1 - size) if inflater else chunk
                except zlib.error as exc:
                    corrupt = exc
                    stop.cancel()
                    continue
                size += len(part)
                if size > limit:
                    stop.cancel()
                else:
                    chunks.append(part)
        if inflater is not None and corrupt is None and size <= limit:
            chunks.append(inflater.flush())
            size += len(chunks[-1])
    except httpx.DecodingError as exc:  # an encoding httpx decodes itself (brotli, zstd)
        corrupt = exc
    if corrupt is not None:
        raise ProtocolError(
            f"the answer's {encoding or 'content'} encoding is corrupt ({corrupt})", endpoint=what
        ) from corrupt
    if size > limit:
        raise _too_big(limit, what)
    response._content = b"".join(chunks)  # what ``aread`` would set, so ``.content`` works as usual


async def text_chunks(response: httpx.Response, piece: int = 64 * 1024) -> AsyncGenerator[str, None]:
    """A streamed body as text. A gzip or deflate body is inflated ``piece`` bytes at a time, so the caps
    of whoever reads it apply before a compressed bomb grows (httpx inflates a whole network read)."""
    inflater = _inflater(response.headers.get("content-encoding", "").strip().lower())
    if inflater is None:
        async for text in response.aiter_text():
            yield text
        return
    decoder = codecs.getincrementaldecoder(response.encoding or "utf-8")(errors="replace")
    async for raw in response.aiter_raw():
        data = raw
        while True:  # until the input is used and the output did not stop at ``piece`` (more may wait)
            out = inflater.decompress(data, piece)
            data = inflater.unconsumed_tail
            if out:
                yield decoder.decode(out)
            if not data and len(out) < piece:
                break
    if last := decoder.decode(inflater.flush(), final=True):
        yield last
