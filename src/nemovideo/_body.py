"""Reading an answer's body under a cap, wherever it is read (the requestor, and the auth flow that must
see a body's ``code`` before the requestor does)."""

from __future__ import annotations

import codecs
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator

import anyio
import httpx

from ._config import DEFAULT_MAX_BODY_SIZE
from ._decoders import CORRUPT, Decoder, decoder
from ._errors import LimitExceededError, ProtocolError

MAX_BODY = "nemovideo.max_body_size"
"""Request extension: the ``max_body_size`` of the client that sends it (copied to a token request)."""


def _too_big(limit: int, what: str) -> LimitExceededError:
    return LimitExceededError(
        f"the answer grew past {limit} bytes and was abandoned", setting="max_body_size", endpoint=what
    )


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
    inflater = decoder(encoding)
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
                except CORRUPT as exc:
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


async def _unwind(chunks: AsyncIterator[bytes]) -> None:
    """Finish httpx's body iterator and the generators under it: a read in a cancelled scope raises in the
    innermost one, so each of them ends now instead of being left to the garbage collector."""
    with anyio.CancelScope() as scope:
        scope.cancel()
        with contextlib.suppress(StopAsyncIteration, httpx.HTTPError):
            while True:
                await chunks.__anext__()


async def _decoded(response: httpx.Response, decode: Decoder, piece: int) -> AsyncGenerator[bytes, None]:
    """The body decoded here, ``piece`` bytes at most at a time; on a corrupt byte, httpx's generators
    are unwound, then the decoder's error is raised."""
    raw_chunks = response.aiter_raw()
    failure: Exception | None = None
    async for raw in raw_chunks:
        data = raw
        try:
            while True:  # until the input is used and the output did not stop at ``piece`` (more may wait)
                out = decode.decompress(data, piece)
                data = decode.unconsumed_tail
                if out:
                    yield out
                if not data and len(out) < piece:
                    break
        except CORRUPT as exc:
            failure = exc
            break
    if failure is not None:
        await _unwind(raw_chunks)
        raise failure
    if last := decode.flush():
        yield last


async def body_bytes(response: httpx.Response, piece: int = 1024 * 1024) -> AsyncGenerator[bytes, None]:
    """A streamed body's bytes, decoded here when it is encoded (see ``_decoders``); a corrupt one raises
    ``httpx.DecodingError``, as httpx would, but only once its generators are closed."""
    decode = decoder(response.headers.get("content-encoding", ""))
    if decode is None:
        async for chunk in response.aiter_bytes():
            yield chunk
        return
    try:
        async for out in _decoded(response, decode, piece):
            yield out
    except CORRUPT as exc:
        raise httpx.DecodingError(
            f"the body's encoding is corrupt ({exc})", request=response.request
        ) from exc


async def text_chunks(response: httpx.Response, piece: int = 64 * 1024) -> AsyncGenerator[str, None]:
    """A streamed body as text. An encoded body is decoded ``piece`` bytes at a time, so the caps of
    whoever reads it apply before a compressed bomb grows (httpx decodes a whole network read); a corrupt
    one raises ``ProtocolError``."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    decode = decoder(encoding)
    if decode is None:
        async for text in response.aiter_text():
            yield text
        return
    textual = codecs.getincrementaldecoder(response.encoding or "utf-8")(errors="replace")
    try:
        async for out in _decoded(response, decode, piece):
            yield textual.decode(out)
    except CORRUPT as exc:
        request = response.request
        raise ProtocolError(
            f"the event stream's {encoding} encoding is corrupt ({exc}). The agent may still be working: "
            "do not send the message again; read the session state instead.",
            endpoint=f"{request.method} {request.url.path}",
        ) from exc
    if last := textual.decode(b"", final=True):
        yield last
