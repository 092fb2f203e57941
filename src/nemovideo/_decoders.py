"""Content decoders the SDK runs itself instead of leaving them to httpx, for two reasons.

A cap: httpx decodes a whole network read at once (64 KiB of a bomb becomes gigabytes before any cap could
look); these give at most about ``max_length`` bytes a call. And a clean failure: a corrupt byte raised
inside httpx's ``aiter_bytes`` leaves the generators under it suspended, for the garbage collector to
finalise (trio reports each one); raised here, the reader can unwind them from the inside first.

gzip and deflate come from zlib; brotli and zstd only when their packages are installed (which is also
when httpx offers them in ``Accept-Encoding``).
"""

from __future__ import annotations

import importlib
import zlib
from typing import Any, Protocol


class CorruptEncoding(Exception):
    """The body is not valid in its ``Content-Encoding``."""


CORRUPT = (zlib.error, CorruptEncoding)
"""What a decoder raises on a corrupt body."""


class Decoder(Protocol):
    """The part of ``zlib.decompressobj()`` the readers use."""

    @property
    def unconsumed_tail(self) -> bytes: ...

    def decompress(self, data: bytes, max_length: int = ..., /) -> bytes: ...

    def flush(self) -> bytes: ...


class _Brotli:
    """brotli >= 1.2, whose ``output_buffer_limit`` holds the output back (the rest stays inside)."""

    unconsumed_tail = b""

    def __init__(self, module: Any) -> None:
        self._module = module
        self._inner = module.Decompressor()

    def decompress(self, data: bytes, max_length: int = 0, /) -> bytes:
        inner = self._inner
        try:
            if not inner.can_accept_more_data():  # output of earlier input is still held back
                self.unconsumed_tail = data
                return bytes(inner.process(b"", output_buffer_limit=max_length or None))
            self.unconsumed_tail = b""
            return bytes(inner.process(data, output_buffer_limit=max_length or None))
        except self._module.error as exc:
            raise CorruptEncoding(str(exc) or "brotli: the decoder failed") from exc

    def flush(self) -> bytes:
        return b""


class _Zstd:
    """zstandard, fed a slice at a time so one call's output stays near ``max_length`` (a zstd block of
    a few bytes can stand for 128 KiB), over as many frames as the body holds."""

    SLICE = 256

    def __init__(self, module: Any) -> None:
        self._module = module
        self._inner = module.ZstdDecompressor().decompressobj()
        self._seen = False
        self.unconsumed_tail = b""

    def decompress(self, data: bytes, max_length: int = 0, /) -> bytes:
        out: list[bytes] = []
        size = pos = 0
        try:
            while pos < len(data) and not (max_length and size >= max_length):
                piece = data[pos : pos + self.SLICE]
                pos += len(piece)
                self._seen = True
                part = self._inner.decompress(piece)
                while self._inner.eof and self._inner.unused_data:  # the next frame
                    rest = self._inner.unused_data
                    self._inner = self._module.ZstdDecompressor().decompressobj()
                    part += self._inner.decompress(rest)
                out.append(part)
                size += len(part)
        except self._module.ZstdError as exc:
            raise CorruptEncoding(f"zstd: {exc}") from exc
        self.unconsumed_tail = data[pos:]
        return b"".join(out)

    def flush(self) -> bytes:
        if self._seen and not self._inner.eof:
            raise CorruptEncoding("zstd: the body ended inside a frame")
        return b""


def _module(name: str) -> Any | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def decoder(encoding: str) -> Decoder | None:
    """A decoder for one ``Content-Encoding`` value; ``None`` for identity, or one this cannot decode
    (then httpx's own decoding applies, as before)."""
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    if encoding == "br":
        brotli = _module("brotli")
        if brotli is not None and hasattr(brotli.Decompressor, "can_accept_more_data"):
            return _Brotli(brotli)
    if encoding == "zstd":
        zstandard = _module("zstandard")
        if zstandard is not None:
            return _Zstd(zstandard)
    return None
