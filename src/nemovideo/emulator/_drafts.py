"""Draft (timeline) construction and edits, in the format docs/draft-format.md describes.

The segment fields (`id`, `kind`, `name`, `start`, `end`, `text`, `bg`, `src`, `volume`, ...) are the
emulator's own: the vendor does not publish its own, and the renderer reads exactly these.
"""

from __future__ import annotations

import copy
import random
import re
from typing import Any

VIDEO, AUDIO, TEXT = 0, 1, 7
ASPECTS: dict[str, tuple[int, int]] = {"16:9": (1920, 1080), "9:16": (1080, 1920), "1:1": (1080, 1080)}
PALETTE: tuple[tuple[str, str], ...] = (
    ("#1e3a8a", "#9333ea"),
    ("#0f766e", "#22d3ee"),
    ("#7c2d12", "#f59e0b"),
    ("#111827", "#4b5563"),
    ("#831843", "#f472b6"),
    ("#14532d", "#84cc16"),
    ("#312e81", "#06b6d4"),
    ("#7f1d1d", "#fb7185"),
)
MUSIC_NAMES = {"lofi": "Lo-fi", "upbeat": "Upbeat", "ambient": "Ambient"}
TITLE_MS = 3000


def canvas_for(aspect: str) -> dict[str, Any]:
    width, height = ASPECTS[aspect]
    return {"width": width, "height": height, "aspect": aspect, "fps": 30}


def empty_draft(canvas: dict[str, Any]) -> dict[str, Any]:
    """A new session's draft: no tracks, zero duration, the canvas in `m`."""
    return {"t": [], "d": 0, "m": {"title": "", **canvas}}


def _next_id(draft: dict[str, Any]) -> str:
    numbers = [
        int(m[1])
        for track in draft.get("t", [])
        for seg in track.get("sg", [])
        if (m := re.fullmatch(r"seg_(\d+)", str(seg.get("id", ""))))
    ]
    return f"seg_{max(numbers, default=0) + 1}"


def _track(draft: dict[str, Any], tt: int) -> dict[str, Any] | None:
    return next((t for t in draft["t"] if t.get("tt") == tt), None)


def _ensure_track(draft: dict[str, Any], tt: int, name: str) -> dict[str, Any]:
    track = _track(draft, tt)
    if track is None:
        track = {"tt": tt, "m": {"name": name}, "sg": []}
        draft["t"].append(track)
        draft["t"].sort(key=lambda t: {VIDEO: 0, AUDIO: 1, TEXT: 2}.get(t.get("tt"), 3))
    return track


def short_name(sentence: str, words: int = 6) -> str:
    """A segment's label: the sentence's words, or its first ones and "…" (never cut silently
    mid-phrase, which reads as a different phrase)."""
    parts = re.findall(r"[\w'’-]+", sentence)
    if not parts:
        return "scene"
    if len(parts) <= words:
        return " ".join(parts).lower()
    return " ".join(parts[: words - 1]).lower() + "…"


def _slots(total_ms: int, n: int) -> list[tuple[int, int]]:
    edges = [round(total_ms * i / n) for i in range(n + 1)]
    return [(edges[i], edges[i + 1]) for i in range(n)]


def build_raw(
    *,
    duration_ms: int,
    canvas: dict[str, Any],
    title: str,
    sentences: list[str],
    media: list[dict[str, Any]],
    seed: int,
) -> dict[str, Any]:
    """Stage one of a generation: the video track (scenes from the sentences, or the uploaded media, whose
    sentences then become captions)."""
    rng = random.Random(seed)
    draft = empty_draft(canvas)
    draft["d"] = duration_ms
    draft["m"]["title"] = title
    video = _ensure_track(draft, VIDEO, "Video")
    sentences = sentences or [title]
    if media:
        for (start, end), info in zip(_slots(duration_ms, len(media)), media, strict=True):
            seg: dict[str, Any] = {
                "id": _next_id(draft),
                "kind": "clip" if info["file_type"] == "video" else "image",
                "name": info["filename"],
                "start": start,
                "end": end,
                "src": info["cdn_url"],
            }
            if seg["kind"] == "clip":
                seg["in"] = 0
            video["sg"].append(seg)
        captions = _ensure_track(draft, TEXT, "Captions")
        for (start, end), sentence in zip(_slots(duration_ms, len(sentences)), sentences, strict=True):
            captions["sg"].append(
                {
                    "id": _next_id(draft),
                    "kind": "text",
                    "name": short_name(sentence),
                    "start": start,
                    "end": end,
                    "text": sentence,
                    "position": "bottom",
                }
            )
    else:
        offset = rng.randrange(len(PALETTE))
        for i, ((start, end), sentence) in enumerate(
            zip(_slots(duration_ms, len(sentences)), sentences, strict=True)
        ):
            bg, bg2 = PALETTE[(offset + i) % len(PALETTE)]
            video["sg"].append(
                {
                    "id": _next_id(draft),
                    "kind": "scene",
                    "name": short_name(sentence),
                    "start": start,
                    "end": end,
                    "text": sentence,
                    "bg": bg,
                    "bg2": bg2,
                }
            )
    return draft


def with_title(draft: dict[str, Any], text: str, seconds: float | None = None) -> dict[str, Any]:
    """Put (or replace) the title: a text segment from 0 at the top of the frame, on the "Title" track
    (scene text is centred and captions sit at the bottom, so the top keeps them apart)."""
    draft = copy.deepcopy(draft)
    end = min(round((seconds if seconds is not None else TITLE_MS / 1000) * 1000), draft["d"])
    titles = next(
        (t for t in draft["t"] if t.get("tt") == TEXT and t.get("m", {}).get("name") == "Title"), None
    )
    if titles is None:
        titles = {"tt": TEXT, "m": {"name": "Title"}, "sg": []}
        draft["t"].append(titles)
    titles["sg"] = [
        {"id": _next_id(draft), "kind": "text", "name": text, "start": 0, "end": max(end, 1), "text": text}
        | {"position": "top"}
    ]
    draft["m"]["title"] = text
    return draft


def with_text(draft: dict[str, Any], text: str, start_s: float, seconds: float) -> dict[str, Any]:
    """Add a text overlay from `start_s` for `seconds` (clamped to the draft), on the "Text" track."""
    draft = copy.deepcopy(draft)
    start = min(max(round(start_s * 1000), 0), max(draft["d"] - 1, 0))
    end = min(start + max(round(seconds * 1000), 1), draft["d"])
    track = next(
        (t for t in draft["t"] if t.get("tt") == TEXT and t.get("m", {}).get("name") == "Text"), None
    )
    if track is None:
        track = {"tt": TEXT, "m": {"name": "Text"}, "sg": []}
        draft["t"].append(track)
    seg = {"id": _next_id(draft), "kind": "text", "name": text, "start": start, "end": end, "text": text}
    track["sg"].append(seg | {"position": "center"})
    return draft


def with_music(
    draft: dict[str, Any], *, style: str = "lofi", seed: int = 7, volume: int = 35
) -> dict[str, Any]:
    """Background music over the whole draft (replacing any), at `volume` percent."""
    draft = copy.deepcopy(draft)
    track = _ensure_track(draft, AUDIO, "BGM")
    track["sg"] = [
        {
            "id": _next_id(draft),
            "kind": "music",
            "name": MUSIC_NAMES.get(style, style.title()),
            "start": 0,
            "end": draft["d"],
            "style": style,
            "seed": seed,
            "volume": volume,
            "fade_in": min(500, draft["d"] // 4),
            "fade_out": min(1500, draft["d"] // 4),
        }
    ]
    return draft


def without_music(draft: dict[str, Any]) -> tuple[dict[str, Any], int]:
    draft = copy.deepcopy(draft)
    before = len(draft["t"])
    draft["t"] = [t for t in draft["t"] if t.get("tt") != AUDIO]
    return draft, before - len(draft["t"])


def _is_title(track: dict[str, Any]) -> bool:
    return bool(track.get("tt") == TEXT and track.get("m", {}).get("name") == "Title")


def title_track(draft: dict[str, Any]) -> dict[str, Any] | None:
    return next((t for t in draft["t"] if _is_title(t)), None)


def without_title(draft: dict[str, Any]) -> dict[str, Any]:
    draft = copy.deepcopy(draft)
    draft["t"] = [t for t in draft["t"] if not _is_title(t)]
    draft["m"]["title"] = ""
    return draft


def music_segments(draft: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s for t in draft["t"] if t.get("tt") == AUDIO for s in t.get("sg", []) if s.get("kind") == "music"
    ]


def with_volume(draft: dict[str, Any], volume: int) -> dict[str, Any]:
    draft = copy.deepcopy(draft)
    for seg in music_segments(draft):
        seg["volume"] = volume
    return draft


def with_duration(draft: dict[str, Any], duration_ms: int) -> dict[str, Any]:
    """Stretch or shrink the timeline: video and caption segments scale with it, titles keep their length
    (clamped), music covers the new length."""
    draft = copy.deepcopy(draft)
    old = draft["d"] or duration_ms
    ratio = duration_ms / old
    for track in draft["t"]:
        for seg in track.get("sg", []):
            if seg.get("kind") == "music":
                seg["start"], seg["end"] = 0, duration_ms
                seg["fade_in"] = min(int(seg.get("fade_in", 0)), duration_ms // 4)
                seg["fade_out"] = min(int(seg.get("fade_out", 0)), duration_ms // 4)
            elif track.get("m", {}).get("name") == "Title":
                seg["end"] = min(int(seg["end"]), duration_ms)
            else:
                seg["start"], seg["end"] = round(seg["start"] * ratio), round(seg["end"] * ratio)
        track["sg"] = [s for s in track.get("sg", []) if s["end"] > s["start"]]
    draft["d"] = duration_ms
    return draft


def with_media(
    draft: dict[str, Any], media: list[dict[str, Any]], sentences: list[str], seed: int
) -> dict[str, Any]:
    """Replace the video track with the uploaded media, keeping music and title."""
    title_tracks = [t for t in draft["t"] if t.get("tt") == TEXT and t.get("m", {}).get("name") == "Title"]
    music = music_segments(draft)
    canvas = {k: draft["m"][k] for k in ("width", "height", "aspect", "fps") if k in draft["m"]}
    new = build_raw(
        duration_ms=draft["d"] or 10000,
        canvas=canvas,
        title=draft["m"].get("title", ""),
        sentences=sentences,
        media=media,
        seed=seed,
    )
    if title_tracks:
        new = with_title(new, title_tracks[0]["sg"][0]["text"], (title_tracks[0]["sg"][0]["end"]) / 1000)
    if music:
        new = with_music(
            new,
            style=music[0].get("style", "lofi"),
            seed=music[0].get("seed", 7),
            volume=music[0].get("volume", 35),
        )
    return new


def summary(draft: dict[str, Any]) -> str:
    """The seed's one-line track summary, e.g. `Timeline (3 tracks): 1. Video: city timelapse (0-10s) ...`."""
    labels = {VIDEO: "Video", AUDIO: "BGM", TEXT: "Title"}
    parts = []
    for i, track in enumerate(draft["t"], 1):
        segs = track.get("sg", [])
        if not segs:
            continue
        first = segs[0]
        label = track.get("m", {}).get("name") or labels.get(track.get("tt"), "Track")
        span = f"{first['start'] // 1000}-{segs[-1]['end'] // 1000}s"
        if track.get("tt") == AUDIO:
            parts.append(f"{i}. {label}: {first['name']} ({span}, {first.get('volume', 100)}%)")
        elif track.get("tt") == TEXT:
            parts.append(f'{i}. {label}: "{first["name"]}" ({span})')
        else:
            parts.append(f"{i}. {label}: {first['name']} ({span})")
    return f"Timeline ({len(parts)} tracks): " + " ".join(parts)
