"""The draft model: exact round trips, the seed's summary, diffs."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from nemovideo import Draft, TrackType

SEED_TIMELINE: dict[str, Any] = {
    "d": 10000,
    "m": {"title": "Urban Dreams", "width": 1920, "height": 1080},
    "t": [
        {
            "tt": 0,
            "m": {"name": "Video"},
            "sg": [{"id": "s1", "name": "city timelapse", "start": 0, "end": 10000}],
        },
        {
            "tt": 1,
            "m": {"name": "BGM"},
            "sg": [{"id": "s2", "name": "Lo-fi", "start": 0, "end": 10000, "volume": 35}],
        },
        {
            "tt": 7,
            "m": {"name": "Title"},
            "sg": [{"id": "s3", "text": "Urban Dreams", "start": 0, "end": 3000}],
        },
    ],
}

ODD_DRAFTS: list[dict[str, Any]] = [
    SEED_TIMELINE,
    {},
    {"t": []},
    {  # keys in another order, unknown keys at every level, d/m on every level, floats, nulls, an unknown tt
        "transitions": [{"type": "fade", "at": 5000.0}],
        "t": [
            {
                "sg": [
                    {
                        "zz": {"deep": [1, 2, {"x": None}]},
                        "end": 2500.5,
                        "start": 0,
                        "d": 2500.5,
                        "m": {"k": "v"},
                    }
                ],
                "tt": 42,
                "d": 2500,
                "m": {"name": "Effects", "extra": True},
                "locked": False,
            },
            {"tt": 1, "sg": []},
        ],
        "m": {"width": 1080, "height": 1920, "title": "标题 ✓"},
        "d": 2500,
        "version": "7",
    },
]


@pytest.mark.parametrize("raw", ODD_DRAFTS)
def test_round_trip_is_exact(raw: dict[str, Any]) -> None:
    draft = Draft.model_validate(raw)
    assert json.dumps(draft.model_dump(by_alias=True), ensure_ascii=False) == json.dumps(
        raw, ensure_ascii=False
    )
    again = Draft.model_validate_json(json.dumps(raw))
    assert again.model_dump_json(by_alias=True) == json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
    assert draft.to_api() == raw


def test_readable_names_and_unknown_track_types() -> None:
    draft = Draft.model_validate(ODD_DRAFTS[3])
    track = draft.tracks[0]
    assert track.type == 42
    assert track.type.name == "TYPE_42"
    assert track.label == "Effects"
    assert draft.duration_ms == 2500
    assert draft.metadata == {"width": 1080, "height": 1920, "title": "标题 ✓"}
    assert draft.tracks[1].type is TrackType.AUDIO
    assert draft.is_ready


def test_summary_matches_the_seed() -> None:
    assert Draft.model_validate(SEED_TIMELINE).summary() == (
        "Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) "
        '3. Title: "Urban Dreams" (0-3s)'
    )
    assert Draft().summary() == "Timeline (empty)"


def test_is_ready_needs_a_segment() -> None:
    assert not Draft.model_validate({"t": [{"tt": 0, "sg": []}]}).is_ready
    assert Draft.model_validate(SEED_TIMELINE).is_ready


def test_diff_names_what_changed() -> None:
    before = Draft.model_validate(SEED_TIMELINE)
    raw = copy.deepcopy(SEED_TIMELINE)
    raw["t"][1]["sg"][0]["volume"] = 60
    raw["t"][2]["sg"].append({"id": "s4", "text": "Visit us", "start": 8000, "end": 10000})
    del raw["t"][0]
    raw["d"] = 12000
    after = Draft.model_validate(raw)
    diff = before.diff(after)
    described = [c.describe() for c in diff.changes]
    assert described == [
        "timeline: length 10 s → 12 s",
        "Removed the Video track (Video: city timelapse (0-10s))",
        "music Lo-fi: volume 35% → 60%",
        'Title: added "Visit us" (8-10s)',
    ]
    assert [c.describe("zh") for c in diff.changes] == [
        "时间线：时长从10 s改为12 s",
        "去掉了视频轨道（Video: city timelapse (0-10s)）",
        "音乐 Lo-fi：音量从35%改为60%",
        '标题：添加了"Visit us" (8-10s)',
    ]
    assert not before.diff(Draft.model_validate(copy.deepcopy(SEED_TIMELINE)))
    assert before.diff(before).summary() == "No changes to the timeline."
    assert before.diff(before).summary("zh") == "时间线没有变化。"


def test_segments_without_ids_match_by_position() -> None:
    a = Draft.model_validate({"t": [{"tt": 0, "sg": [{"name": "a", "start": 0, "end": 1000}]}]})
    b = Draft.model_validate(
        {"t": [{"tt": 0, "sg": [{"name": "a", "start": 0, "end": 2000}, {"name": "b"}]}]}
    )
    kinds = [c.kind for c in a.diff(b).changes]
    assert kinds == ["draft_changed", "segment_changed", "segment_added"]


def test_notebook_picture_has_a_lane_per_track_and_segments_to_scale() -> None:
    import xml.etree.ElementTree as ET

    draft = Draft.model_validate(SEED_TIMELINE)
    svg = ET.fromstring(draft._repr_svg_())
    ns = "{http://www.w3.org/2000/svg}"
    bars = [r for r in svg.iter(f"{ns}rect") if r.get("rx") == "4"]
    assert len(bars) == 3
    widths = sorted(float(r.get("width", 0)) for r in bars)
    assert widths[0] == pytest.approx(widths[2] * 0.3, rel=0.01)  # the 3 s title against 10 s tracks
    texts = [t.text for t in svg.iter(f"{ns}text")]
    assert {"Video", "BGM", "Title", "Lo-fi · 35%", "Urban Dreams"} <= set(texts)
    assert "<figcaption>Timeline (3 tracks)" in draft._repr_html_()


def test_unexpected_types_read_as_none_and_go_back_unchanged() -> None:
    raw = {
        "t": [{"tt": 1, "m": "Music", "sg": [{"start": "0", "end": True, "volume": "35%", "name": 7}]}],
        "d": "10s",
    }
    draft = Draft.model_validate(raw)
    segment = draft.tracks[0].segments[0]
    assert (segment.start, segment.end, segment.volume, segment.name) == (None, None, None, None)
    assert draft.tracks[0].metadata is None
    assert draft.to_api() == raw
    assert json.dumps(draft.model_dump(by_alias=True)) == json.dumps(raw)


def test_an_updated_copy_dumps_its_new_values() -> None:
    draft = Draft.model_validate(SEED_TIMELINE)
    longer = draft.model_copy(update={"declared_duration_ms": 20000})
    assert longer.to_api()["d"] == 20000
    assert draft.to_api()["d"] == 10000
