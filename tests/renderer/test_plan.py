"""Draft validation, layout and music: everything decided before ffmpeg runs."""

from __future__ import annotations

import copy
import io
import wave
from pathlib import Path
from typing import Any

import anyio
import pytest

from nemovideo.emulator.renderer import (
    DraftError,
    default_resolve_media,
    render_draft,
    synthesize_music,
    validate_draft,
)
from nemovideo.emulator.renderer._fonts import BOLD, FONT_DIR, REGULAR, load_metrics, resolve_fonts, wrap_text
from nemovideo.emulator.renderer._graph import _pieces, build_job


def seed_draft() -> dict[str, Any]:
    return {
        "d": 10000,
        "m": {"title": "Urban Dreams", "width": 1920, "height": 1080, "fps": 30, "aspect": "16:9"},
        "t": [
            {"tt": 0, "m": {"name": "Video"}, "sg": [
                {"id": "seg_1", "kind": "scene", "name": "city", "start": 0, "end": 10000,
                 "text": "A city that never sleeps", "bg": "#1e3a8a", "bg2": "#9333ea"}]},
            {"tt": 1, "m": {"name": "BGM"}, "sg": [
                {"id": "seg_2", "kind": "music", "name": "Lo-fi", "start": 0, "end": 10000, "style": "lofi",
                 "seed": 7, "volume": 35, "fade_in": 500, "fade_out": 1500}]},
            {"tt": 7, "m": {"name": "Title"}, "sg": [
                {"id": "seg_3", "kind": "text", "name": "Urban Dreams", "start": 0, "end": 3000,
                 "text": "Urban Dreams", "position": "center"}]},
        ],
    }  # fmt: skip


def test_seed_draft_is_valid() -> None:
    plan = validate_draft(seed_draft())
    assert (plan.canvas.width, plan.canvas.height, plan.canvas.fps, plan.canvas.frames) == (
        1920,
        1080,
        30,
        300,
    )
    assert [v.kind for v in plan.visuals] == ["scene"]
    assert plan.visuals[0].bg == "0x1e3a8a"
    assert plan.visuals[0].bg2 == "0x9333ea"
    assert plan.sounds[0].volume == 35
    assert plan.texts[0].position == "center"


@pytest.mark.parametrize(
    ("aspect", "size"),
    [(None, (1920, 1080)), ("16:9", (1920, 1080)), ("9:16", (1080, 1920)), ("1:1", (1080, 1080))],
)
def test_canvas_defaults(aspect: str | None, size: tuple[int, int]) -> None:
    draft = seed_draft()
    draft["m"] = {} if aspect is None else {"aspect": aspect}
    canvas = validate_draft(draft).canvas
    assert (canvas.width, canvas.height, canvas.fps) == (*size, 30)


def _edit(path: str, value: Any) -> dict[str, Any]:
    """The seed draft with one field replaced (or deleted when value is ...)."""
    draft = seed_draft()
    keys: list[Any] = [int(k) if k.isdigit() else k for k in path.split(".")]
    node: Any = draft
    for key in keys[:-1]:
        node = node[key]
    if value is ...:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return draft


MALFORMED = [
    ("d", ..., "missing 'd'"),
    ("d", -5, "'d' must be between"),
    ("d", "10s", "'d' must be a number"),
    ("t", ..., "missing 't'"),
    ("t", "tracks", "'t' must be a list"),
    ("t.0.tt", ..., "track 0: missing 'tt'"),
    ("t.0.tt", "video", "'tt' must be an integer"),
    ("t.0.sg", ..., "track 0: missing 'sg'"),
    ("t.0.tt", 3, "unknown track type tt=3"),
    ("t.0.sg.0.start", ..., "segment 0 (seg_1): missing 'start'"),
    ("t.0.sg.0.end", ..., "missing 'end'"),
    ("t.0.sg.0.start", -100, "'start' must not be negative"),
    ("t.0.sg.0.start", 10000, "'start' (10000) must be before 'end' (10000)"),
    ("t.0.sg.0.end", 12000, "beyond the draft duration d=10000"),
    ("t.0.sg.0.end", True, "'end' must be a number"),
    ("t.0.sg.0.kind", ..., "missing 'kind'"),
    ("t.0.sg.0.kind", "hologram", "kind 'hologram' does not belong on a video track"),
    ("t.0.sg.0.kind", "text", "kind 'text' does not belong on a video track"),
    ("t.0.sg.0.bg", ..., "missing 'bg'"),
    ("t.0.sg.0.bg", "blue", "'bg' must be a colour"),
    ("t.0.sg.0.bg2", "#12345", "'bg2' must be a colour"),
    ("t.1.sg.0.style", "polka", "'style' must be one of lofi, upbeat, ambient"),
    ("t.1.sg.0.style", ..., "missing 'style'"),
    ("t.1.sg.0.volume", 135, "'volume' is a percentage"),
    ("t.1.sg.0.volume", -1, "'volume' is a percentage"),
    ("t.1.sg.0.fade_in", -10, "'fade_in' must not be negative"),
    ("t.1.sg.0.seed", "abc", "'seed' must be an integer"),
    ("t.2.sg.0.text", ..., "track 2 (tt=7) segment 0 (seg_3): missing 'text'"),
    ("t.2.sg.0.text", 42, "'text' must be a string"),
    ("t.2.sg.0.position", "left", "'position' must be one of top, center, bottom"),
    ("t.2.sg.0.color", "#fff", "'color' must be a colour"),
    ("t.2.sg.0.size", 0, "'size' must be"),
    ("t.2.sg", "none", "'sg' must be a list"),
    ("t.2.sg.0", "text", "must be an object"),
    ("m", "wide", "'m' must be an object"),
    ("m.width", 1921, "m.width must be between 16 and 1920"),
    ("m.height", 1081, "m.height must be even"),
    ("m.width", ..., "m.width and m.height must be given together"),
    ("m.fps", 0, "m.fps must be between 1 and 60"),
]


@pytest.mark.parametrize(("path", "value", "message"), MALFORMED, ids=[f"{p}={v!r}" for p, v, _ in MALFORMED])
def test_malformed_drafts_name_the_field(path: str, value: Any, message: str) -> None:
    with pytest.raises(DraftError) as info:
        validate_draft(_edit(path, value))
    assert message in str(info.value)


def test_too_many_pixels() -> None:
    draft = seed_draft()
    draft["m"] = {"width": 1920, "height": 1920}
    with pytest.raises(DraftError, match="larger than 1080x1920"):
        validate_draft(draft)


def test_unknown_track_type_without_segments_is_ignored() -> None:
    draft = seed_draft()
    draft["t"].append({"tt": 42, "m": {"name": "Effects"}, "sg": []})
    assert len(validate_draft(draft).visuals) == 1


@pytest.mark.parametrize("kind", ["clip", "image"])
def test_missing_media(kind: str, tmp_path: Path) -> None:
    draft = seed_draft()
    draft["t"][0]["sg"][0] = {
        "id": "seg_9",
        "kind": kind,
        "start": 0,
        "end": 1000,
        "src": str(tmp_path / "x"),
    }
    with pytest.raises(DraftError, match=r"segment 0 \(seg_9\): media .* not found"):
        validate_draft(draft)
    del draft["t"][0]["sg"][0]["src"]
    with pytest.raises(DraftError, match="missing 'src'"):
        validate_draft(draft)


def test_remote_media_needs_a_resolver(tmp_path: Path) -> None:
    draft = seed_draft()
    url = "https://cdn.example/u/clip.mp4"
    draft["t"][1]["sg"][0] = {"kind": "audio", "start": 0, "end": 1000, "src": url}
    with pytest.raises(DraftError, match="remote URL; pass resolve_media"):
        validate_draft(draft)
    local = tmp_path / "clip.wav"
    local.write_bytes(b"RIFF")
    plan = validate_draft(draft, resolve_media={url: local}.__getitem__)
    assert plan.sounds[0].src == local.resolve()

    def broken(src: str) -> Path:
        raise KeyError(src)

    with pytest.raises(DraftError, match="cannot resolve src"):
        validate_draft(draft, resolve_media=broken)


def test_default_resolver(tmp_path: Path) -> None:
    assert default_resolve_media((tmp_path / "a b.png").as_uri()) == tmp_path / "a b.png"
    assert default_resolve_media("/x/y.mp4") == Path("/x/y.mp4")


def test_bad_draft_fails_before_ffmpeg_is_looked_for(tmp_path: Path) -> None:
    async def main() -> None:
        await render_draft(_edit("t.0.tt", 9), tmp_path / "out.mp4", ffmpeg=str(tmp_path / "no-ffmpeg"))

    with pytest.raises(DraftError, match="unknown track type"):
        anyio.run(main)
    with pytest.raises(ValueError, match="unknown quality"):
        anyio.run(lambda: render_draft(seed_draft(), tmp_path / "out.mp4", quality="ultra"))
    assert list(tmp_path.iterdir()) == []


def test_top_layer_wins_and_offsets_follow_the_segment() -> None:
    draft = seed_draft()
    draft["t"].insert(1, {"tt": 0, "sg": [{"kind": "scene", "start": 2000, "end": 4000, "bg": "#ff0000"}]})
    plan = validate_draft(draft)
    pieces = [(v.bg if v else None, first, count, offset) for v, first, count, offset in _pieces(plan)]
    assert pieces == [("0x1e3a8a", 0, 60, 0), ("0xff0000", 60, 60, 0), ("0x1e3a8a", 120, 180, 120)]
    draft["t"][0]["sg"][0]["start"] = 1000
    pieces = [
        (v.bg if v else None, first, count, offset)
        for v, first, count, offset in _pieces(validate_draft(draft))
    ]
    assert pieces[0] == (None, 0, 30, 0)


def test_job_uses_plain_names_only() -> None:
    job = build_job(validate_draft(seed_draft()), resolve_fonts())
    assert "gradients=" in job.graph
    assert "enable='between(n,0,89)'" in job.graph
    assert "amix" not in job.graph  # one sound: no mixing stage
    assert "volume=0.3500" in job.graph
    assert set(job.files) == {"scene0.txt", "text0.txt"}
    assert job.files["text0.txt"] == "Urban Dreams"
    assert set(job.music) == {"music0.wav"}


def test_shipped_font_and_licence() -> None:
    assert REGULAR.is_file()
    assert BOLD.is_file()
    assert "Bitstream" in (FONT_DIR / "LICENSE").read_text()
    assert resolve_fonts().title == BOLD


def test_nemo_font_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEMO_FONT", str(REGULAR))
    assert resolve_fonts().title == REGULAR.resolve()
    assert resolve_fonts(BOLD).body == BOLD.resolve()
    monkeypatch.setenv("NEMO_FONT", str(tmp_path / "missing.ttf"))
    with pytest.raises(FileNotFoundError, match="NEMO_FONT"):
        resolve_fonts()


def test_wrapping_stays_within_width() -> None:
    metrics = load_metrics(BOLD)
    text = "A very long headline that certainly does not fit on a single line of a vertical video"
    lines = wrap_text(text, metrics, 80, 900)
    assert len(lines) > 1
    assert " ".join(lines) == text
    assert all(metrics.width(line, 80) <= 900 for line in lines)
    assert metrics.width("iiii", 80) < metrics.width("MMMM", 80)
    cjk = wrap_text("城市从不睡觉的夜晚灯火通明", metrics, 100, 450)
    assert "".join(cjk) == "城市从不睡觉的夜晚灯火通明"
    assert len(cjk) > 1
    assert wrap_text("one\ntwo", metrics, 10, 1000) == ["one", "two"]


def test_music_is_deterministic_per_seed_and_style() -> None:
    first = synthesize_music("upbeat", 3, 2.0)
    assert first == synthesize_music("upbeat", 3, 2.0)
    assert first != synthesize_music("upbeat", 4, 2.0)
    with wave.open(io.BytesIO(first)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 22050)
        assert wav.getnframes() == 44100
        assert max(wav.readframes(44100)) > 0
    with pytest.raises(ValueError, match="unknown music style"):
        synthesize_music("polka", 1, 1.0)


def test_draft_is_not_modified() -> None:
    draft = seed_draft()
    before = copy.deepcopy(draft)
    build_job(validate_draft(draft), resolve_fonts())
    assert draft == before
