"""A draft drawn as an SVG timeline, for notebooks: a lane per track, segments to scale."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .draft import Draft

WIDTH = 760
LABEL = 90
LANE = 30
GAP = 6
AXIS = 22
COLOURS = {0: "#3b82f6", 1: "#10b981", 7: "#f59e0b"}
OTHER = "#8b5cf6"


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.3f}".rstrip("0").rstrip(".")


def draft_svg(draft: Draft) -> str:
    total = max(draft.duration_ms, 1.0)
    scale = (WIDTH - LABEL - 10) / total
    height = AXIS + max(len(draft.tracks), 1) * (LANE + GAP) + 4
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(draft.summary())}</title>",
    ]
    for i in range(6):  # time axis
        x = LABEL + i * (WIDTH - LABEL - 10) / 5
        out.append(f'<line x1="{x:.1f}" y1="{AXIS - 6}" x2="{x:.1f}" y2="{height}" stroke="#e5e7eb"/>')
        out.append(f'<text x="{x:.1f}" y="{AXIS - 9}" text-anchor="middle" fill="#6b7280">'
                   f"{_seconds(total * i / 5)}s</text>")  # fmt: skip
    if not draft.tracks:
        out.append(f'<text x="{LABEL}" y="{AXIS + 18}" fill="#6b7280">empty timeline</text>')
    for row, track in enumerate(draft.tracks):
        y = AXIS + row * (LANE + GAP)
        colour = COLOURS.get(int(track.type), OTHER)
        out.append(f'<text x="4" y="{y + LANE / 2 + 4}" fill="#111827">{escape(track.label)}</text>')
        out.append(f'<rect x="{LABEL}" y="{y}" width="{WIDTH - LABEL - 10}" height="{LANE}" fill="#f9fafb"/>')
        for seg in track.segments:
            x = LABEL + seg.start_ms * scale
            w = max((seg.end_ms - seg.start_ms) * scale, 2.0)
            text = seg.label + (f" · {seg.volume:g}%" if seg.volume is not None else "")
            tip = f"{seg.label} ({_seconds(seg.start_ms)}-{_seconds(seg.end_ms)}s)"
            out.append(
                f'<g><title>{escape(tip)}</title><rect x="{x:.1f}" y="{y + 2}" width="{w:.1f}" '
                f'height="{LANE - 4}" rx="4" fill="{colour}" fill-opacity="0.85"/>'
                f'<svg x="{x:.1f}" y="{y}" width="{w:.1f}" height="{LANE}"><text x="5" y="{LANE / 2 + 4}" '
                f'fill="white">{escape(text)}</text></svg></g>'
            )
    out.append("</svg>")
    return "".join(out)
