"""Each misbehaviour of the hostile server, by name (the first segment of the request's path)."""

from __future__ import annotations

import gzip
import importlib
import itertools
import random
from collections.abc import Callable, Iterator

import anyio

from ._server import Connection, Handler, Request, gzip_of_zeros

JSON = ("Content-Type", "application/json")
SSE = ("Content-Type", "text/event-stream")
ENVELOPE = b'{"code":0,"data":{"available":5,"frozen":0,"total":5}}'
"""A well-formed answer to ``credits.balance()``."""
MB = 1024 * 1024

CASES: dict[str, Handler] = {}


def case(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        CASES[name] = handler
        return handler

    return register


def _repeat(chunk: bytes, total: int) -> Iterator[bytes]:
    for _ in range(total // len(chunk)):
        yield chunk


# --- bodies too big, too slow, or never coming ------------------------------------------------------


@case("huge-json")
async def huge_json(conn: Connection, request: Request) -> None:
    """200 MB of JSON, close-delimited (no Content-Length to refuse early), sent until the client leaves."""
    if await conn.head("200 OK", [JSON, ("Connection", "close")]):
        await conn.send(b'{"code":0,"data":{"available":5,"frozen":0,"total":5,"pad":"')
        await conn.send_all(_repeat(b"a" * 65536, 200 * MB))


@case("huge-json-declared")
async def huge_json_declared(conn: Connection, request: Request) -> None:
    """200 MB announced by Content-Length: refused before the body is read."""
    if await conn.head("200 OK", [JSON, ("Content-Length", str(200 * MB))]):
        await conn.send_all(_repeat(b" " * 65536, 200 * MB))


@case("huge-html-500")
async def huge_html_500(conn: Connection, request: Request) -> None:
    """A 500 whose HTML page never ends (a proxy's error page gone wrong)."""
    if await conn.head("500 Internal Server Error", [("Content-Type", "text/html"), ("Connection", "close")]):
        await conn.send_all(_repeat(b"<p>" + b"e" * 65533, 200 * MB))


@case("trickle")
async def trickle(conn: Connection, request: Request) -> None:
    """A valid answer, one byte per second."""
    await conn.head("200 OK", [JSON, ("Content-Length", str(len(ENVELOPE)))])
    await conn.send_all((bytes([b]) for b in ENVELOPE), pause=1.0)


@case("trickle-head")
async def trickle_head(conn: Connection, request: Request) -> None:
    """Even the status line comes one byte per second."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n"
    await conn.send_all((bytes([b]) for b in head), pause=1.0)


@case("silent")
async def silent(conn: Connection, request: Request) -> None:
    """Accepts, reads the request, never answers."""
    await conn.wait_closed()


# --- answers that are not the envelope --------------------------------------------------------------


@case("redirect")
async def redirect(conn: Connection, request: Request) -> None:
    await conn.answer(
        "302 Found",
        b"<a href='https://elsewhere.example/api'>moved</a>",
        [("Location", "https://elsewhere.example/api/credits?sig=secret"), ("Content-Type", "text/html")],
    )


@case("truncated-json")
async def truncated_json(conn: Connection, request: Request) -> None:
    await conn.answer("200 OK", ENVELOPE[:25])


@case("bad-utf8-json")
async def bad_utf8_json(conn: Connection, request: Request) -> None:
    await conn.answer("200 OK", b'{"code":0,"data":{"available":5,"frozen":0,"total":5,"x":"\xff\xfe\xc3"}}')


@case("html")
async def html(conn: Connection, request: Request) -> None:
    await conn.answer(
        "200 OK", b"<!doctype html><html><body>Gateway login</body></html>", [("Content-Type", "text/html")]
    )


@case("html-500")
async def html_500(conn: Connection, request: Request) -> None:
    await conn.answer(
        "500 Internal Server Error", b"<html><body>oops</body></html>", [("Content-Type", "text/html")]
    )


@case("empty")
async def empty(conn: Connection, request: Request) -> None:
    await conn.answer("200 OK", b"")


@case("wrong-type")
async def wrong_type(conn: Connection, request: Request) -> None:
    await conn.answer("200 OK", b"available=5", [("Content-Type", "text/plain")])


@case("not-envelope")
async def not_envelope(conn: Connection, request: Request) -> None:
    await conn.answer("200 OK", b'{"available":5,"frozen":0,"total":5}')


@case("gzip-bomb")
async def gzip_bomb(conn: Connection, request: Request) -> None:
    """1 GB of zeros as ``Content-Encoding: gzip`` (about 1 MB on the wire), made as it is sent."""
    if await conn.head("200 OK", [JSON, ("Content-Encoding", "gzip"), ("Connection", "close")]):
        await conn.send_all(gzip_of_zeros(1024 * MB))


@case("bad-gzip")
async def bad_gzip(conn: Connection, request: Request) -> None:
    """``Content-Encoding: gzip`` on bytes that are not gzip."""
    await conn.answer(
        "200 OK", b"\x1f\x8b\x08\x00 certainly not deflate", [JSON, ("Content-Encoding", "gzip")]
    )


@case("good-gzip")
async def good_gzip(conn: Connection, request: Request) -> None:
    await conn.answer("200 OK", gzip.compress(ENVELOPE), [JSON, ("Content-Encoding", "gzip")])


# --- broken framing and sockets -------------------------------------------------------------------


@case("reset-mid-body")
async def reset_mid_body(conn: Connection, request: Request) -> None:
    await conn.head("200 OK", [JSON, ("Content-Length", str(len(ENVELOPE)))])
    await conn.send(ENVELOPE[:20])
    await anyio.sleep(0.05)
    conn.reset()


@case("half-close")
async def half_close(conn: Connection, request: Request) -> None:
    """Half the body, then FIN on our side while still reading theirs."""
    await conn.head("200 OK", [JSON, ("Content-Length", str(len(ENVELOPE)))])
    await conn.send(ENVELOPE[:20])
    await conn.half_close()


@case("half-close-before-answer")
async def half_close_before_answer(conn: Connection, request: Request) -> None:
    await conn.half_close()


@case("length-short")
async def length_short(conn: Connection, request: Request) -> None:
    """Content-Length says 10; the whole envelope follows."""
    await conn.head("200 OK", [JSON, ("Content-Length", "10")])
    await conn.send(ENVELOPE)
    await conn.wait_closed()


@case("length-long-close")
async def length_long_close(conn: Connection, request: Request) -> None:
    """Content-Length promises more than comes, then the connection closes."""
    await conn.head("200 OK", [JSON, ("Content-Length", str(len(ENVELOPE) + 100))])
    await conn.send(ENVELOPE)


@case("length-long-idle")
async def length_long_idle(conn: Connection, request: Request) -> None:
    """Content-Length promises more than comes, and the connection stays open, silent."""
    await conn.head("200 OK", [JSON, ("Content-Length", str(len(ENVELOPE) + 100))])
    await conn.send(ENVELOPE)
    await conn.wait_closed()


@case("conflicting-length")
async def conflicting_length(conn: Connection, request: Request) -> None:
    await conn.head(
        "200 OK",
        [JSON, ("Content-Length", str(len(ENVELOPE))), ("Content-Length", "7"), ("Connection", "close")],
    )
    await conn.send(ENVELOPE)


@case("duplicate-length")
async def duplicate_length(conn: Connection, request: Request) -> None:
    """The same Content-Length twice: RFC 9110 lets a recipient accept it."""
    size = str(len(ENVELOPE))
    await conn.head(
        "200 OK", [JSON, ("Content-Length", size), ("Content-Length", size), ("Connection", "close")]
    )
    await conn.send(ENVELOPE)


@case("conflicting-type")
async def conflicting_type(conn: Connection, request: Request) -> None:
    """Two Content-Type headers that disagree, and a good envelope."""
    await conn.answer("200 OK", ENVELOPE, [("Content-Type", "text/html"), JSON])


@case("conflicting-retry-after")
async def conflicting_retry_after(conn: Connection, request: Request) -> None:
    """A 429 whose two Retry-After headers disagree."""
    await conn.answer(
        "429 Too Many Requests",
        b'{"code":429,"msg":"slow down"}',
        [JSON, ("Retry-After", "1"), ("Retry-After", "999999")],
    )


@case("conflicting-location")
async def conflicting_location(conn: Connection, request: Request) -> None:
    await conn.answer(
        "301 Moved Permanently",
        b"",
        [("Location", "https://one.example/"), ("Location", "https://two.example/")],
    )


# --- event streams ----------------------------------------------------------------------------------

STREAM_HEAD = [SSE, ("Cache-Control", "no-store"), ("Connection", "close")]
TEXT_FRAME = b'data: {"content":{"role":"model","parts":[{"text":"hello"}]},"author":"nemo_agent"}\n\n'


@case("sse-bad-utf8")
async def sse_bad_utf8(conn: Connection, request: Request) -> None:
    """A text frame with bytes that are not UTF-8 inside its JSON string, then a good frame."""
    bad = b'data: {"content":{"role":"model","parts":[{"text":"caf\xe9 \xff"}]},"author":"nemo_agent"}\n\n'
    if await conn.head("200 OK", STREAM_HEAD):
        await conn.send(bad + TEXT_FRAME)


@case("sse-heartbeats")
async def sse_heartbeats(conn: Connection, request: Request) -> None:
    """Heartbeats (comments and empty data lines) every 50 ms, forever."""
    if await conn.head("200 OK", STREAM_HEAD):
        beats = itertools.cycle([b": ping\n\n", b"data:\n\n"])
        await conn.send_all(beats, pause=0.05)


@case("sse-html")
async def sse_html(conn: Connection, request: Request) -> None:
    """A login page where the event stream should be (a captive portal, a gateway)."""
    await conn.answer(
        "200 OK", b"<!doctype html><html><body>Sign in</body></html>", [("Content-Type", "text/html")]
    )


@case("sse-gzip-bomb")
async def sse_gzip_bomb(conn: Connection, request: Request) -> None:
    """An event stream as ``Content-Encoding: gzip`` of 1 GB of zeros: one event that never ends."""
    head = [SSE, ("Content-Encoding", "gzip"), ("Connection", "close")]
    if await conn.head("200 OK", head):
        await conn.send_all(gzip_of_zeros(1024 * MB))


@case("sse-trickle")
async def sse_trickle(conn: Connection, request: Request) -> None:
    """One event, then a byte every 50 ms of a next one that never ends: bytes come, events do not."""
    if await conn.head("200 OK", STREAM_HEAD):
        await conn.send(TEXT_FRAME)
        await conn.send(b"data: ")
        await conn.send_all(itertools.repeat(b"x"), pause=0.05)


@case("sse-tiny-events")
async def sse_tiny_events(conn: Connection, request: Request) -> None:
    """10^6 tiny events, a thousand per write."""
    if await conn.head("200 OK", STREAM_HEAD):
        await conn.send_all(_repeat(b"data: {}\n\n" * 1000, 10**6 * 10))


@case("sse-huge-event")
async def sse_huge_event(conn: Connection, request: Request) -> None:
    """One 50 MB event: a data line that does not end."""
    if await conn.head("200 OK", STREAM_HEAD):
        await conn.send(b'data: {"content":{"parts":[{"text":"')
        await conn.send_all(_repeat(b"x" * 65536, 50 * MB))
        await conn.send(b'"}]}}\n\n')


@case("sse-huge-line-breaks")
async def sse_huge_line_breaks(conn: Connection, request: Request) -> None:
    """One 50 MB event made of many ``data:`` lines (a frame ends only at a blank line)."""
    if await conn.head("200 OK", STREAM_HEAD):
        await conn.send_all(_repeat(b"data: " + b"y" * 1000 + b"\n", 50 * MB))


@case("sse-reset")
async def sse_reset(conn: Connection, request: Request) -> None:
    """Two events, then a TCP reset."""
    if await conn.head("200 OK", STREAM_HEAD):
        await conn.send(TEXT_FRAME * 2)
        await anyio.sleep(0.05)
        conn.reset()


@case("sse-half-close")
async def sse_half_close(conn: Connection, request: Request) -> None:
    """Events in a chunked body, then FIN mid-chunk: the body never ends properly."""
    head = [SSE, ("Cache-Control", "no-store"), ("Transfer-Encoding", "chunked")]
    if await conn.head("200 OK", head):
        await conn.send(f"{len(TEXT_FRAME) + 50:x}\r\n".encode() + TEXT_FRAME)
        await conn.half_close()


# --- a CDN that trickles ----------------------------------------------------------------------------

VIDEO = bytes(range(256)) * 1024
"""The CDN cases' 256 KB file."""
VIDEO_ETAG = '"v1"'
FAST_PART = 64 * 1024
"""Bytes sent at full speed before the trickle starts."""


async def _trickle_video(conn: Connection, request: Request, *, ranges: bool) -> None:
    """``FAST_PART`` bytes at once, then 20 bytes a second until the client leaves. A request for the
    rest (``Range`` with the right ``If-Range``) is answered at full speed, as a healthy CDN edge would."""
    size = len(VIDEO)
    head = [("Content-Type", "video/mp4"), ("Connection", "close")]
    if ranges:
        head += [("Accept-Ranges", "bytes"), ("ETag", VIDEO_ETAG)]
    wanted = request.headers.get("range", "")
    if ranges and wanted.startswith("bytes=") and request.headers.get("if-range") == VIDEO_ETAG:
        start = int(wanted.removeprefix("bytes=").rstrip("-"))
        rest = [("Content-Range", f"bytes {start}-{size - 1}/{size}"), ("Content-Length", str(size - start))]
        await conn.answer("206 Partial Content", VIDEO[start:], head + rest)
        return
    if await conn.head("200 OK", [*head, ("Content-Length", str(size))]) and await conn.send(
        VIDEO[:FAST_PART]
    ):
        await conn.send_all((VIDEO[i : i + 1] for i in range(FAST_PART, size)), pause=0.05)


@case("cdn-trickle")
async def cdn_trickle(conn: Connection, request: Request) -> None:
    await _trickle_video(conn, request, ranges=True)


@case("cdn-trickle-no-ranges")
async def cdn_trickle_no_ranges(conn: Connection, request: Request) -> None:
    """The same trickle from a server that cannot resume (no ``Accept-Ranges``, no validator)."""
    await _trickle_video(conn, request, ranges=False)


# --- corrupt brotli and zstd bodies (encodings httpx decodes itself, when their packages are installed) ---


def corrupt_body(encoding: str) -> list[bytes]:
    """200 KB compressed as ``encoding`` with garbage in the middle, in 16 KB writes: the decoder fails
    mid-body, after several network reads (where a reader left suspended would show)."""
    payload = random.Random(16).randbytes(100_000).hex().encode()
    if encoding == "br":
        brotli = importlib.import_module("brotli")  # untyped; imported when a case needs it

        packed: bytes = brotli.compress(payload, quality=4)
    else:
        import zstandard

        packed = zstandard.ZstdCompressor(level=3).compress(payload)
    half = len(packed) // 2
    body = packed[:half] + b"\x00garbage\xff" * 64 + packed[half:]
    return [body[i : i + 16384] for i in range(0, len(body), 16384)]


def _corrupt(content_type: str, encoding: str) -> Handler:
    async def handler(conn: Connection, request: Request) -> None:
        head = [("Content-Type", content_type), ("Content-Encoding", encoding), ("Connection", "close")]
        if await conn.head("200 OK", head):
            await conn.send_all(corrupt_body(encoding), pause=0.01)

    return handler


for _encoding in ("br", "zstd"):
    CASES[f"bad-{_encoding}"] = _corrupt("application/json", _encoding)
    CASES[f"sse-bad-{_encoding}"] = _corrupt("text/event-stream", _encoding)
    CASES[f"cdn-bad-{_encoding}"] = _corrupt("video/mp4", _encoding)


def packed_zeros(encoding: str, total: int = 1024 * MB) -> Iterator[bytes]:
    """``total`` zero bytes compressed as ``encoding``, a megabyte at a time (about 200 KB or 32 KB)."""
    zeros = bytes(MB)
    if encoding == "br":
        brotli = importlib.import_module("brotli")  # untyped; imported when a case needs it

        brotli_packer = brotli.Compressor(quality=1)
        for _ in range(total // MB):
            yield brotli_packer.process(zeros)
        yield brotli_packer.finish()
    else:
        import zstandard

        zstd_packer = zstandard.ZstdCompressor(level=1).compressobj()
        for _ in range(total // MB):
            yield zstd_packer.compress(zeros)
        yield zstd_packer.flush()


def _packed(encoding: str) -> bytes:
    if encoding == "br":
        brotli = importlib.import_module("brotli")  # untyped; imported when a case needs it

        return bytes(brotli.compress(ENVELOPE))
    import zstandard

    return zstandard.ZstdCompressor().compress(ENVELOPE)


def _good(encoding: str) -> Handler:
    async def handler(conn: Connection, request: Request) -> None:
        await conn.answer("200 OK", _packed(encoding), [JSON, ("Content-Encoding", encoding)])

    return handler


def _bomb(encoding: str) -> Handler:
    async def handler(conn: Connection, request: Request) -> None:
        if await conn.head("200 OK", [JSON, ("Content-Encoding", encoding), ("Connection", "close")]):
            await conn.send_all(chunk for chunk in packed_zeros(encoding) if chunk)

    return handler


for _encoding in ("br", "zstd"):
    CASES[f"good-{_encoding}"] = _good(_encoding)
    CASES[f"{_encoding}-bomb"] = _bomb(_encoding)
