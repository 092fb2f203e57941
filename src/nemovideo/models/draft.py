"""The draft: a session's timeline, in the API's short keys with readable names.

Segment fields are not documented publicly, so every key the SDK does not know is kept, and
``draft.model_dump(by_alias=True)`` gives back the server's JSON exactly (same keys, same order, same
values, as read): a draft read from state goes back into render unchanged. ``d`` (duration, ms) and ``m``
(metadata) are accepted on the draft, on a track and on a segment, since sources differ on where they live.

The readable fields are a best-effort view: a value of an unexpected type reads as None rather than
failing the whole state, and never changes what is sent back.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import (
    BeforeValidator,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from ._base import Model

if TYPE_CHECKING:
    from typing_extensions import Self


def _number(value: Any) -> Any:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _text(value: Any) -> Any:
    return value if isinstance(value, str) else None


def _mapping(value: Any) -> Any:
    return value if isinstance(value, dict) else None


Number = Annotated[int | float | None, BeforeValidator(_number)]
"""A number, or None for anything else (a string, a bool): the raw value is still sent back as it was."""
Text = Annotated[str | None, BeforeValidator(_text)]
Meta = Annotated[dict[str, Any] | None, BeforeValidator(_mapping)]


class TrackType(enum.IntEnum):
    """Track types: 0 video, 1 audio/BGM, 7 text/title. Unknown values are kept as pseudo-members."""

    VIDEO = 0
    AUDIO = 1
    TEXT = 7

    @classmethod
    def _missing_(cls, value: object) -> TrackType | None:
        if isinstance(value, int) and not isinstance(value, bool):
            member = int.__new__(cls, value)
            member._name_ = f"TYPE_{value}"
            member._value_ = value
            return member
        return None

    @property
    def label(self) -> str:
        return {0: "Video", 1: "BGM", 7: "Title"}.get(int(self), f"Track type {int(self)}")


class _Shaped(Model):
    """Dumps by alias exactly what it read: the same keys in the same order with the same values.

    Nested drafts, tracks and segments dump themselves the same way; every other value is the one read.
    ``model_copy(update=...)`` forgets the original, so an updated copy dumps its fields as they are.
    """

    _nested: ClassVar[frozenset[str]] = frozenset()
    _raw: dict[str, Any] | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _remember(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        obj = handler(data)
        if isinstance(data, dict) and isinstance(obj, _Shaped):
            obj._raw = data
        return obj

    @model_serializer(mode="wrap")
    def _as_read(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
        out = handler(self)
        raw = self._raw
        if info.by_alias and raw is not None and isinstance(out, dict):
            return {key: out[key] if key in self._nested else raw[key] for key in raw}
        return out

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        copy = super().model_copy(update=update, deep=deep)
        if update:
            copy._raw = None
        return copy


class Segment(_Shaped):
    """One piece of a track. Only ``start``/``end`` (ms) and a label are read; the rest is kept as is."""

    id: Text = None
    name: Text = None
    text: Text = None
    kind: Text = None
    start: Number = None
    """Start on the timeline, ms."""
    end: Number = None
    """End on the timeline, ms."""
    volume: Number = None
    """Audio volume, percent."""
    duration_ms: Number = Field(default=None, alias="d")
    metadata: Meta = Field(default=None, alias="m")

    @property
    def start_ms(self) -> float:
        return float(self.start or 0)

    @property
    def end_ms(self) -> float:
        if self.end is not None:
            return float(self.end)
        return self.start_ms + float(self.duration_ms or 0)

    @property
    def label(self) -> str:
        meta = self.metadata or {}
        for candidate in (self.name, self.text, meta.get("name"), meta.get("title"), self.kind, self.id):
            if isinstance(candidate, str) and candidate:
                return candidate
        return "segment"

    @property
    def key(self) -> str | None:
        return self.id


class Track(_Shaped):
    _nested = frozenset({"sg"})

    type: TrackType = Field(alias="tt")
    segments: list[Segment] = Field(default_factory=list, alias="sg")
    duration_ms: Number = Field(default=None, alias="d")
    metadata: Meta = Field(default=None, alias="m")

    @property
    def label(self) -> str:
        name = (self.metadata or {}).get("name")
        return name if isinstance(name, str) and name else self.type.label


class Draft(_Shaped):
    """A timeline. Compare two with ``diff``; print one with ``summary``; render it when ``is_ready``."""

    _nested = frozenset({"t"})

    tracks: list[Track] = Field(default_factory=list, alias="t")
    declared_duration_ms: Number = Field(default=None, alias="d")
    metadata: Meta = Field(default=None, alias="m")

    @property
    def duration_ms(self) -> float:
        """The draft's ``d``, else the end of its last segment."""
        if self.declared_duration_ms is not None:
            return float(self.declared_duration_ms)
        ends = [s.end_ms for t in self.tracks for s in t.segments]
        return max(ends, default=float(max((t.duration_ms or 0 for t in self.tracks), default=0)))

    @property
    def is_ready(self) -> bool:
        """Ready for export: at least one track with segments."""
        return any(track.segments for track in self.tracks)

    @property
    def title(self) -> str | None:
        title = (self.metadata or {}).get("title")
        return title if isinstance(title, str) else None

    def to_api(self) -> dict[str, Any]:
        """The JSON object to send back to the API: exactly what was read."""
        data: dict[str, Any] = json.loads(self.model_dump_json(by_alias=True))
        return data

    def summary(self) -> str:
        """``Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) ...``"""
        if not self.tracks:
            return "Timeline (empty)"
        noun = "track" if len(self.tracks) == 1 else "tracks"
        parts = [f"{i}. {describe_track(t)}" for i, t in enumerate(self.tracks, 1)]
        return f"Timeline ({len(self.tracks)} {noun}): " + " ".join(parts)

    def diff(self, other: Draft) -> DraftDiff:
        """What changed from this draft to ``other``."""
        return _diff(self, other)

    def __str__(self) -> str:
        return self.summary()

    def _repr_svg_(self) -> str:
        from ._svg import draft_svg

        return draft_svg(self)

    def _repr_html_(self) -> str:
        from html import escape

        return f"<figure>{self._repr_svg_()}<figcaption>{escape(self.summary())}</figcaption></figure>"


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.3f}".rstrip("0").rstrip(".")


def describe_segment(track_type: TrackType, segment: Segment) -> str:
    label = f'"{segment.label}"' if track_type == TrackType.TEXT else segment.label
    span = f"{_seconds(segment.start_ms)}-{_seconds(segment.end_ms)}s"
    if segment.volume is not None:
        span += f", {segment.volume:g}%"
    return f"{label} ({span})"


def describe_track(track: Track) -> str:
    if not track.segments:
        return f"{track.label}: (empty)"
    return f"{track.label}: " + ", ".join(describe_segment(track.type, s) for s in track.segments)


# --- diff ------------------------------------------------------------------------------------------

ChangeKind = Literal[
    "track_added", "track_removed", "segment_added", "segment_removed", "segment_changed", "draft_changed"
]


class Change(Model):
    """One difference between two drafts."""

    kind: ChangeKind
    track: str
    """The track's label ("Video", "BGM", "Title", ...), or "draft"."""
    what: str
    """The segment (or track, or draft field) described for a person."""
    before: Any = None
    after: Any = None
    fields: dict[str, tuple[Any, Any]] = Field(default_factory=dict)
    """For ``segment_changed`` and ``draft_changed``: field -> (before, after)."""

    def describe(self, language: Language = "en") -> str:
        """The change in words, in English or (``"zh"``) in Chinese: a silent edit is told in the language
        its message was written in."""
        if language == "zh":
            return self._describe_zh()
        if self.kind == "track_added":
            return f"Added a {self.track} track: {self.what}"
        if self.kind == "track_removed":
            return f"Removed the {self.track} track ({self.what})"
        if self.kind == "segment_added":
            return f"{self.track}: added {self.what}"
        if self.kind == "segment_removed":
            return f"{self.track}: removed {self.what}"
        changes = ", ".join(
            f"{_FIELD_WORDS.get(k, k.replace('_', ' '))} {_show(k, b)} → {_show(k, a)}"
            for k, (b, a) in self.fields.items()
        )
        if self.kind == "draft_changed":
            return f"timeline: {changes}"
        return f"{_TRACK_WORDS.get(self.track, self.track)} {self.what}: {changes}"

    def _describe_zh(self) -> str:
        track = _TRACK_WORDS_ZH.get(self.track, self.track)
        if self.kind == "track_added":
            return f"添加了{track}轨道：{self.what}"
        if self.kind == "track_removed":
            return f"去掉了{track}轨道（{self.what}）"
        if self.kind == "segment_added":
            return f"{track}：添加了{self.what}"
        if self.kind == "segment_removed":
            return f"{track}：去掉了{self.what}"
        changes = "，".join(
            f"{_FIELD_WORDS_ZH.get(k, k.replace('_', ' '))}从{_show(k, b, '无')}改为{_show(k, a, '无')}"
            for k, (b, a) in self.fields.items()
        )
        if self.kind == "draft_changed":
            return f"时间线：{changes}"
        return f"{track} {self.what}：{changes}"


Language = Literal["en", "zh"]
"""The languages a change is told in."""

_TRACK_WORDS = {"BGM": "music", "Video": "video", "Title": "title"}
"""How a change names a track of a known type (a named track keeps its name)."""
_TRACK_WORDS_ZH = {"BGM": "音乐", "Video": "视频", "Title": "标题", "Captions": "字幕", "Text": "文字"}

_FIELD_WORDS = {
    "d": "length",
    "duration": "length",
    "fade_in": "fade-in",
    "fade_out": "fade-out",
    "m": "details",
}
"""Fields in words; the rest by their name, underscores as spaces."""
_FIELD_WORDS_ZH = {
    "d": "时长",
    "duration": "时长",
    "fade_in": "淡入",
    "fade_out": "淡出",
    "m": "详情",
    "title": "标题",
    "volume": "音量",
    "start": "开始",
    "end": "结束",
    "text": "文字",
    "name": "名称",
    "style": "风格",
    "aspect": "画面比例",
    "width": "宽度",
    "height": "高度",
}

_MS_FIELDS = frozenset({"start", "end", "d", "duration", "fade_in", "fade_out"})
"""Fields in milliseconds, shown in seconds."""


def _show(key: str, value: Any, none: str = "none") -> str:
    if value is None or value == "":
        return none
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if key in _MS_FIELDS or key.endswith("_ms"):
            return f"{_seconds(float(value))} s"
        if key == "volume":
            return f"{value:g}%"
        return f"{value:g}"
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else f'"{value}"'


class DraftDiff(Model):
    """The changes from one draft to another; falsy when nothing changed."""

    changes: list[Change] = Field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def summary(self, language: Language = "en") -> str:
        """The changes in words, in English or (``"zh"``) in Chinese."""
        if language == "zh":
            if not self.changes:
                return "时间线没有变化。"
            return "；".join(change.describe("zh") for change in self.changes) + "。"
        if not self.changes:
            return "No changes to the timeline."
        return "; ".join(change.describe() for change in self.changes) + "."


def _segment_fields(segment: Segment) -> dict[str, Any]:
    data = segment.model_dump(by_alias=True, exclude_none=True)
    data.pop("id", None)
    return data


def _match_tracks(before: list[Track], after: list[Track]) -> list[tuple[Track | None, Track | None]]:
    """Pair tracks by type and their rank among tracks of that type (tracks carry no ids)."""

    def ranked(tracks: list[Track]) -> dict[tuple[int, int], Track]:
        seen: dict[int, int] = {}
        out: dict[tuple[int, int], Track] = {}
        for track in tracks:
            rank = seen.get(int(track.type), 0)
            seen[int(track.type)] = rank + 1
            out[(int(track.type), rank)] = track
        return out

    b, a = ranked(before), ranked(after)
    keys = list(b) + [k for k in a if k not in b]
    return [(b.get(k), a.get(k)) for k in keys]


def _match_segments(
    before: list[Segment], after: list[Segment]
) -> list[tuple[Segment | None, Segment | None]]:
    """Pair segments by id where both have ids, else by position."""
    if all(s.key for s in before + after):
        b = {s.key: s for s in before}
        a = {s.key: s for s in after}
        return [(b.get(k), a.get(k)) for k in list(b) + [k for k in a if k not in b]]
    size = max(len(before), len(after))
    return [
        (before[i] if i < len(before) else None, after[i] if i < len(after) else None) for i in range(size)
    ]


def _diff(old: Draft, new: Draft) -> DraftDiff:
    changes: list[Change] = []
    draft_fields: dict[str, tuple[Any, Any]] = {}
    if old.duration_ms != new.duration_ms:
        draft_fields["duration"] = (old.duration_ms, new.duration_ms)
    old_meta, new_meta = old.metadata or {}, new.metadata or {}
    for key in list(old_meta) + [k for k in new_meta if k not in old_meta]:
        if old_meta.get(key) != new_meta.get(key):
            draft_fields[key] = (old_meta.get(key), new_meta.get(key))
    if draft_fields:
        changes.append(Change(kind="draft_changed", track="draft", what="timeline", fields=draft_fields))
    for before, after in _match_tracks(old.tracks, new.tracks):
        if before is None and after is not None:
            changes.append(
                Change(kind="track_added", track=after.label, what=describe_track(after), after=after)
            )
            continue
        if after is None and before is not None:
            changes.append(
                Change(kind="track_removed", track=before.label, what=describe_track(before), before=before)
            )
            continue
        assert before is not None
        assert after is not None
        for seg_b, seg_a in _match_segments(before.segments, after.segments):
            if seg_b is None and seg_a is not None:
                what = describe_segment(after.type, seg_a)
                changes.append(Change(kind="segment_added", track=after.label, what=what, after=seg_a))
            elif seg_a is None and seg_b is not None:
                what = describe_segment(before.type, seg_b)
                changes.append(Change(kind="segment_removed", track=before.label, what=what, before=seg_b))
            elif seg_a is not None and seg_b is not None:
                fb, fa = _segment_fields(seg_b), _segment_fields(seg_a)
                fields = {
                    k: (fb.get(k), fa.get(k))
                    for k in list(fb) + [k for k in fa if k not in fb]
                    if fb.get(k) != fa.get(k)
                }
                if fields:
                    changes.append(
                        Change(
                            kind="segment_changed",
                            track=after.label,
                            what=seg_a.label,
                            before=seg_b,
                            after=seg_a,
                            fields=fields,
                        )
                    )
    return DraftDiff(changes=changes)
