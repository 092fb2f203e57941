"""Draft validation: a draft (JSON data) becomes a `RenderPlan`, or a `DraftError` naming the exact field.

Everything that can be wrong with a draft is caught here, before ffmpeg starts, so a bad draft never surfaces
as an ffmpeg traceback. The plan is plain frozen data; the filter graph is built from it alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from ._errors import DraftError

MAX_SIDE = 1920
MAX_PIXELS = 1920 * 1080
MAX_DURATION_MS = 3_600_000
ASPECTS: dict[str, tuple[int, int]] = {"16:9": (1920, 1080), "9:16": (1080, 1920), "1:1": (1080, 1080)}
DEFAULT_SIZE = (1920, 1080)
DEFAULT_FPS = 30
MUSIC_STYLES = ("lofi", "upbeat", "ambient")
POSITIONS = ("top", "center", "bottom")
TRACK_KINDS: dict[int, tuple[str, ...]] = {0: ("scene", "clip", "image"), 1: ("music", "audio"), 7: ("text",)}
TRACK_NAMES = {0: "video", 1: "audio", 7: "text"}
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")

VisualKind = Literal["scene", "clip", "image"]
SoundKind = Literal["music", "audio"]
Position = Literal["top", "center", "bottom"]


@dataclass(frozen=True)
class Canvas:
    width: int
    height: int
    fps: int
    duration_ms: float

    @property
    def frames(self) -> int:
        return max(1, round(self.duration_ms * self.fps / 1000))

    @property
    def seconds(self) -> float:
        return self.duration_ms / 1000

    def frame(self, ms: float) -> int:
        """The frame a timeline position (ms) falls on; shared by every layer so cuts line up exactly."""
        return min(self.frames, round(ms * self.fps / 1000))


@dataclass(frozen=True)
class Visual:
    """A video-track segment; later tracks, then later segments, cover earlier ones."""

    where: str
    kind: VisualKind
    start_ms: float
    end_ms: float
    layer: int
    text: str = ""
    bg: str = "0x000000"
    bg2: str | None = None
    src: Path | None = None
    in_ms: float = 0.0


@dataclass(frozen=True)
class Text:
    where: str
    start_ms: float
    end_ms: float
    text: str
    position: Position
    size: int | None
    color: str


@dataclass(frozen=True)
class Sound:
    where: str
    kind: SoundKind
    start_ms: float
    end_ms: float
    volume: float
    fade_in_ms: float
    fade_out_ms: float
    style: str = "lofi"
    seed: int = 0
    src: Path | None = None
    in_ms: float = 0.0

    @property
    def duration_ms(self) -> float:
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class RenderPlan:
    """A validated draft: the canvas plus its visual, text and sound segments with local media paths."""

    canvas: Canvas
    visuals: tuple[Visual, ...]
    texts: tuple[Text, ...]
    sounds: tuple[Sound, ...]


def default_resolve_media(src: str) -> Path:
    """Without a resolver, `src` is a local path or a `file://` URL; remote URLs need a resolver."""
    parsed = urlparse(src)
    if parsed.scheme == "file":
        return Path(url2pathname(unquote(parsed.path)))
    if parsed.scheme in ("http", "https"):
        raise DraftError(f"{src!r} is a remote URL; pass resolve_media to map it to a local file")
    return Path(src).expanduser()


def _number(value: object, where: str, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DraftError(f"{where}: {field!r} must be a number, got {value!r}")
    return float(value)


def _int(value: object, where: str, field: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise DraftError(f"{where}: {field!r} must be an integer, got {value!r}")
    return value


def _ms(seg: Mapping[str, Any], where: str, field: str, default: float | None = None) -> float:
    if field not in seg or seg[field] is None:
        if default is None:
            raise DraftError(f"{where}: missing {field!r} (milliseconds)")
        return default
    value = _number(seg[field], where, field)
    if value < 0:
        raise DraftError(f"{where}: {field!r} must not be negative, got {seg[field]!r}")
    return value


def _str(seg: Mapping[str, Any], where: str, field: str, default: str | None = None) -> str:
    value = seg.get(field)
    if value is None:
        if default is None:
            raise DraftError(f"{where}: missing {field!r}")
        return default
    if not isinstance(value, str):
        raise DraftError(f"{where}: {field!r} must be a string, got {value!r}")
    return value


def _colour(seg: Mapping[str, Any], where: str, field: str, default: str | None = None) -> str:
    value = _str(seg, where, field, default)
    if not _COLOUR.fullmatch(value):
        raise DraftError(f"{where}: {field!r} must be a colour like '#1e3a8a', got {value!r}")
    return "0x" + value[1:].lower()


def _choice(
    seg: Mapping[str, Any], where: str, field: str, choices: Sequence[str], default: str | None
) -> str:
    value = _str(seg, where, field, default)
    if value not in choices:
        raise DraftError(f"{where}: {field!r} must be one of {', '.join(choices)}; got {value!r}")
    return value


def _volume(seg: Mapping[str, Any], where: str) -> float:
    volume = _number(seg.get("volume", 100), where, "volume")
    if not 0 <= volume <= 100:
        raise DraftError(f"{where}: 'volume' is a percentage from 0 to 100, got {seg['volume']!r}")
    return volume


def _media(seg: Mapping[str, Any], where: str, resolve: Callable[[str], Path]) -> Path:
    src = _str(seg, where, "src")
    if not src:
        raise DraftError(f"{where}: 'src' is empty")
    try:
        path = Path(resolve(src))
    except DraftError as exc:
        raise DraftError(f"{where}: {exc}") from None
    except Exception as exc:
        raise DraftError(f"{where}: cannot resolve src {src!r}: {exc}") from exc
    if not path.is_file():
        raise DraftError(f"{where}: media {src!r} not found (looked for {str(path)!r})")
    return path.resolve()


def _canvas(draft: Mapping[str, Any]) -> Canvas:
    if "d" not in draft:
        raise DraftError("draft: missing 'd' (total duration in milliseconds)")
    duration = _number(draft["d"], "draft", "d")
    if not 0 < duration <= MAX_DURATION_MS:
        raise DraftError(f"draft: 'd' must be between 1 and {MAX_DURATION_MS} ms, got {draft['d']!r}")
    meta = draft.get("m") or {}
    if not isinstance(meta, Mapping):
        raise DraftError(f"draft: 'm' must be an object, got {meta!r}")
    width, height = meta.get("width"), meta.get("height")
    if width is None and height is None:
        aspect = meta.get("aspect")
        if aspect is None:
            width, height = DEFAULT_SIZE
        elif aspect in ASPECTS:
            width, height = ASPECTS[aspect]
        else:
            raise DraftError(f"draft: m.aspect must be one of {', '.join(ASPECTS)}; got {aspect!r}")
    elif width is None or height is None:
        raise DraftError("draft: m.width and m.height must be given together")
    w, h = _int(width, "draft", "m.width"), _int(height, "draft", "m.height")
    for name, side in (("m.width", w), ("m.height", h)):
        if not 16 <= side <= MAX_SIDE:
            raise DraftError(f"draft: {name} must be between 16 and {MAX_SIDE}, got {side}")
        if side % 2:
            raise DraftError(f"draft: {name} must be even (H.264 4:2:0 needs even sides), got {side}")
    if w * h > MAX_PIXELS:
        raise DraftError(f"draft: canvas {w}x{h} is larger than 1080x1920 / 1920x1080")
    fps = _int(meta.get("fps", DEFAULT_FPS), "draft", "m.fps")
    if not 1 <= fps <= 60:
        raise DraftError(f"draft: m.fps must be between 1 and 60, got {fps}")
    return Canvas(width=w, height=h, fps=fps, duration_ms=duration)


def validate_draft(
    draft: Mapping[str, Any], *, resolve_media: Callable[[str], Path] | None = None
) -> RenderPlan:
    """Check a draft against the emulator's draft format and resolve its media; `DraftError` on any fault.

    Tracks whose `tt` the renderer cannot draw are an error unless they hold no segments, so content is never
    silently dropped from an export.
    """
    if not isinstance(draft, Mapping):
        raise DraftError(f"draft must be an object, got {type(draft).__name__}")
    canvas = _canvas(draft)
    resolve = resolve_media or default_resolve_media
    tracks = draft.get("t")
    if tracks is None:
        raise DraftError("draft: missing 't' (list of tracks)")
    if isinstance(tracks, (str, bytes)) or not isinstance(tracks, Sequence):
        raise DraftError(f"draft: 't' must be a list of tracks, got {tracks!r}")
    visuals: list[Visual] = []
    texts: list[Text] = []
    sounds: list[Sound] = []
    for ti, track in enumerate(tracks):
        if not isinstance(track, Mapping):
            raise DraftError(f"track {ti}: must be an object, got {track!r}")
        if "tt" not in track:
            raise DraftError(f"track {ti}: missing 'tt' (track type: 0 video, 1 audio, 7 text)")
        tt = _int(track["tt"], f"track {ti}", "tt")
        segments = track.get("sg")
        if segments is None:
            raise DraftError(f"track {ti}: missing 'sg' (list of segments)")
        if isinstance(segments, (str, bytes)) or not isinstance(segments, Sequence):
            raise DraftError(f"track {ti}: 'sg' must be a list of segments, got {segments!r}")
        if tt not in TRACK_KINDS:
            if segments:
                raise DraftError(
                    f"track {ti}: unknown track type tt={tt} with {len(segments)} segment(s); "
                    "the renderer draws tt 0 (video), 1 (audio) and 7 (text)"
                )
            continue
        for si, seg in enumerate(segments):
            where = f"track {ti} (tt={tt}) segment {si}"
            if not isinstance(seg, Mapping):
                raise DraftError(f"{where}: must be an object, got {seg!r}")
            if isinstance(seg.get("id"), str):
                where += f" ({seg['id']})"
            kind = seg.get("kind")
            if kind is None:
                raise DraftError(f"{where}: missing 'kind' (one of {', '.join(TRACK_KINDS[tt])})")
            if kind not in TRACK_KINDS[tt]:
                raise DraftError(
                    f"{where}: kind {kind!r} does not belong on a {TRACK_NAMES[tt]} track (tt={tt}); "
                    f"expected one of {', '.join(TRACK_KINDS[tt])}"
                )
            start, end = _ms(seg, where, "start"), _ms(seg, where, "end")
            if start >= end:
                raise DraftError(f"{where}: 'start' ({seg['start']}) must be before 'end' ({seg['end']})")
            if end > canvas.duration_ms:
                raise DraftError(f"{where}: 'end' ({seg['end']}) is beyond the draft duration d={draft['d']}")
            if kind == "scene":
                bg = _colour(seg, where, "bg")
                bg2 = _colour(seg, where, "bg2") if seg.get("bg2") is not None else None
                text = _str(seg, where, "text", "")
                visuals.append(Visual(where, "scene", start, end, len(visuals), text=text, bg=bg, bg2=bg2))
            elif kind in ("clip", "image"):
                src = _media(seg, where, resolve)
                in_ms = _ms(seg, where, "in", 0.0) if kind == "clip" else 0.0
                visuals.append(Visual(where, kind, start, end, len(visuals), src=src, in_ms=in_ms))
            elif kind == "text":
                size = None
                if seg.get("size") is not None:
                    size = round(_number(seg["size"], where, "size"))
                    if not 4 <= size <= canvas.height:
                        raise DraftError(
                            f"{where}: 'size' must be 4..{canvas.height} px, got {seg['size']!r}"
                        )
                texts.append(
                    Text(
                        where,
                        start,
                        end,
                        text=_str(seg, where, "text"),
                        position=_choice(seg, where, "position", POSITIONS, "center"),  # type: ignore[arg-type]
                        size=size,
                        color=_colour(seg, where, "color", "#ffffff"),
                    )
                )
            else:
                fade_in, fade_out = _ms(seg, where, "fade_in", 0.0), _ms(seg, where, "fade_out", 0.0)
                volume = _volume(seg, where)
                if kind == "music":
                    style = _choice(seg, where, "style", MUSIC_STYLES, None)
                    seed = _int(seg.get("seed", 0), where, "seed")
                    sounds.append(Sound(where, "music", start, end, volume, fade_in, fade_out, style, seed))
                else:
                    src = _media(seg, where, resolve)
                    in_ms = _ms(seg, where, "in", 0.0)
                    sounds.append(
                        Sound(where, "audio", start, end, volume, fade_in, fade_out, src=src, in_ms=in_ms)
                    )
    return RenderPlan(canvas, tuple(visuals), tuple(texts), tuple(sounds))
