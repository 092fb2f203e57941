"""Font choice and text wrapping.

drawtext cannot wrap, so lines are broken here. Widths come from the font's own `hmtx`/`cmap`
tables (read with `struct`, no font library needed), so wrapping matches what ffmpeg draws for any
TrueType/OpenType font or collection, including CJK fonts whose lines have no spaces.
"""

from __future__ import annotations

import functools
import os
import struct
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

FONT_DIR = Path(__file__).parent / "fonts"
REGULAR = FONT_DIR / "DejaVuSans.ttf"
BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"


@dataclass(frozen=True)
class Fonts:
    """The font files for titles (text segments) and for scene cards."""

    title: Path
    body: Path


def resolve_fonts(font: str | os.PathLike[str] | None = None) -> Fonts:
    """An explicit font wins, then `NEMO_FONT`, then the shipped DejaVu Sans (bold for titles)."""
    chosen = font if font is not None else (os.environ.get("NEMO_FONT") or None)
    if chosen is None:
        return Fonts(title=BOLD, body=REGULAR)
    path = Path(chosen).expanduser()
    if not path.is_file():
        source = "font argument" if font is not None else "NEMO_FONT"
        raise FileNotFoundError(f"font file {str(path)!r} (from {source}) does not exist")
    path = path.resolve()
    return Fonts(title=path, body=path)


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


class FontMetrics:
    """Advance widths (in em) of one font, read lazily per character."""

    def __init__(self, advance: Callable[[str], float]) -> None:
        self._advance = advance
        self._cache: dict[str, float] = {}

    def advance(self, ch: str) -> float:
        width = self._cache.get(ch)
        if width is None:
            width = self._cache[ch] = self._advance(ch)
        return width

    def width(self, text: str, size: float) -> float:
        return sum(self.advance(ch) for ch in text) * size


def _estimate(ch: str) -> float:
    return 1.0 if _is_wide(ch) else 0.62


@functools.lru_cache(maxsize=16)
def load_metrics(path: Path) -> FontMetrics:
    """Parse the font once; an unreadable font falls back to a generous estimate rather than failing."""
    try:
        return FontMetrics(_parse_sfnt(path.read_bytes()))
    except (OSError, struct.error, ValueError, KeyError):
        return FontMetrics(_estimate)


def _parse_sfnt(data: bytes) -> Callable[[str], float]:
    base = 0
    if data[:4] == b"ttcf":
        (base,) = struct.unpack_from(">I", data, 12)
    (num_tables,) = struct.unpack_from(">H", data, base + 4)
    tables: dict[bytes, int] = {}
    for i in range(num_tables):
        tag, _checksum, offset, _length = struct.unpack_from(">4sIII", data, base + 12 + 16 * i)
        tables[tag] = offset
    (units_per_em,) = struct.unpack_from(">H", data, tables[b"head"] + 18)
    (num_hmetrics,) = struct.unpack_from(">H", data, tables[b"hhea"] + 34)
    if units_per_em == 0 or num_hmetrics == 0:
        raise ValueError("bad font header")
    hmtx = tables[b"hmtx"]
    glyph = _parse_cmap(data, tables[b"cmap"])

    def advance(ch: str) -> float:
        if ch in "\n\r":
            return 0.0
        gid = min(glyph(ord(ch)), num_hmetrics - 1)
        (width,) = struct.unpack_from(">H", data, hmtx + 4 * gid)
        return float(width) / units_per_em if width else _estimate(ch)

    return advance


def _parse_cmap(data: bytes, cmap: int) -> Callable[[int], int]:
    (num,) = struct.unpack_from(">H", data, cmap + 2)
    subtables: dict[tuple[int, int], int] = {}
    for i in range(num):
        platform, encoding, offset = struct.unpack_from(">HHI", data, cmap + 4 + 8 * i)
        subtables[(platform, encoding)] = cmap + offset
    for key in ((3, 10), (0, 4), (0, 6), (0, 3), (3, 1), (0, 1)):
        if key not in subtables:
            continue
        at = subtables[key]
        (fmt,) = struct.unpack_from(">H", data, at)
        if fmt == 12:
            return _cmap12(data, at)
        if fmt == 4:
            return _cmap4(data, at)
    raise ValueError("no usable cmap")


def _cmap12(data: bytes, at: int) -> Callable[[int], int]:
    (groups,) = struct.unpack_from(">I", data, at + 12)
    ranges = [struct.unpack_from(">III", data, at + 16 + 12 * i) for i in range(groups)]

    def glyph(code: int) -> int:
        for start, end, first in ranges:
            if start <= code <= end:
                return int(first + code - start)
        return 0

    return glyph


def _cmap4(data: bytes, at: int) -> Callable[[int], int]:
    (seg_x2,) = struct.unpack_from(">H", data, at + 6)
    segs = seg_x2 // 2
    ends = struct.unpack_from(f">{segs}H", data, at + 14)
    starts = struct.unpack_from(f">{segs}H", data, at + 16 + seg_x2)
    deltas = struct.unpack_from(f">{segs}h", data, at + 16 + 2 * seg_x2)
    range_at = at + 16 + 3 * seg_x2
    offsets = struct.unpack_from(f">{segs}H", data, range_at)

    def glyph(code: int) -> int:
        if code > 0xFFFF:
            return 0
        for i in range(segs):
            if starts[i] <= code <= ends[i]:
                if offsets[i] == 0:
                    return (code + int(deltas[i])) & 0xFFFF
                (gid,) = struct.unpack_from(
                    ">H", data, range_at + 2 * i + offsets[i] + 2 * (code - starts[i])
                )
                return (int(gid) + deltas[i]) & 0xFFFF if gid else 0
        return 0

    return glyph


def _tokens(paragraph: str) -> list[tuple[str, bool]]:
    """Words and single wide (CJK) characters, each with whether a space precedes it."""
    tokens: list[tuple[str, bool]] = []
    word = ""
    space = False
    for ch in paragraph:
        if ch.isspace():
            if word:
                tokens.append((word, space))
                word = ""
            space = True
        elif _is_wide(ch):
            if word:
                tokens.append((word, space))
                word, space = "", False
            tokens.append((ch, space))
            space = False
        else:
            word += ch
    if word:
        tokens.append((word, space))
    return tokens


def wrap_text(text: str, metrics: FontMetrics, size: float, max_width: float) -> list[str]:
    """Greedy line breaking at spaces and between wide characters; over-long words break anywhere."""
    lines: list[str] = []
    for paragraph in text.replace("\r\n", "\n").split("\n"):
        line = ""
        for token, space in _tokens(paragraph):
            candidate = f"{line} {token}" if (line and space) else line + token
            if metrics.width(candidate, size) <= max_width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            for ch in token:
                if line and metrics.width(line + ch, size) > max_width:
                    lines.append(line)
                    line = ""
                line += ch
        lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def fit_text(
    text: str, metrics: FontMetrics, size: int, max_width: float, max_height: float, spacing: float = 0.25
) -> tuple[list[str], int]:
    """Wrap, shrinking the size until the block fits `max_height`, so a long script never leaves the frame."""
    while True:
        lines = wrap_text(text, metrics, size, max_width)
        height = len(lines) * size * (1 + spacing)
        if height <= max_height or size <= 12:
            return lines, size
        size = max(12, int(size * 0.9))
