"""Real renders through ffmpeg. Heavy renders run once (sync tests on anyio.run); the process handling
(progress, cancellation, failures) runs on both backends with tiny canvases."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import av
import pytest

from nemovideo.emulator.renderer import (
    DraftError,
    FFmpegUnavailable,
    RenderError,
    RenderResult,
    check_ffmpeg,
    render_draft,
)

from ._media import audio_rms, frame_rgb, make_media, region_max_luma, region_rgb, top_level_boxes


@pytest.fixture(autouse=True)
def _private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The renderer's scratch files go to a directory each test can check is left empty."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    yield scratch
    assert list(scratch.iterdir()) == []


def promo_draft() -> dict[str, Any]:
    """A 30 s vertical promo: three scene cards, a title, a call to action and BGM at 35 %."""
    return {
        "d": 30000,
        "m": {"title": "Urban Dreams", "width": 1080, "height": 1920, "fps": 30, "aspect": "9:16"},
        "t": [
            {"tt": 0, "m": {"name": "Video"}, "sg": [
                {"id": "seg_1", "kind": "scene", "name": "open", "start": 0, "end": 10000,
                 "text": "A city that never sleeps, told in thirty seconds of light and motion",
                 "bg": "#1e3a8a", "bg2": "#9333ea"},
                {"id": "seg_2", "kind": "scene", "name": "middle", "start": 10000, "end": 20000,
                 "text": "Neon streets", "bg": "#0f172a"},
                {"id": "seg_3", "kind": "scene", "name": "end", "start": 20000, "end": 30000,
                 "text": "Dream big", "bg": "#fde68a", "bg2": "#f97316"}]},
            {"tt": 1, "m": {"name": "BGM"}, "sg": [
                {"id": "seg_4", "kind": "music", "name": "Lo-fi", "start": 0, "end": 30000, "style": "lofi",
                 "seed": 7, "volume": 35, "fade_in": 500, "fade_out": 1500}]},
            {"tt": 7, "m": {"name": "Title"}, "sg": [
                {"id": "seg_5", "kind": "text", "name": "Urban Dreams", "start": 0, "end": 3000,
                 "text": "Urban Dreams", "position": "top"},
                {"id": "seg_6", "kind": "text", "name": "CTA", "start": 26000, "end": 30000,
                 "text": "Follow for more", "position": "bottom", "color": "#facc15"}]},
        ],
    }  # fmt: skip


def tiny_draft(seconds: float = 2.0) -> dict[str, Any]:
    ms = int(seconds * 1000)
    return {
        "d": ms,
        "m": {"width": 160, "height": 90, "fps": 15},
        "t": [{"tt": 0, "sg": [{"kind": "scene", "start": 0, "end": ms, "bg": "#336699", "text": "hi"}]}],
    }


def test_promo_renders_to_spec(tmp_path: Path) -> None:
    target = tmp_path / "promo.mp4"
    result = anyio.run(lambda: render_draft(promo_draft(), target, quality="draft"))
    assert result == RenderResult(target, 30.0, 1080, 1920, target.stat().st_size)
    with av.open(str(target)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert video.codec_context.name == "h264"
        assert video.codec_context.pix_fmt == "yuv420p"
        assert (video.codec_context.width, video.codec_context.height) == (1080, 1920)
        assert audio.codec_context.name == "aac"
        assert container.duration is not None
        assert abs(container.duration / 1e6 - 30.0) <= 0.1
    assert top_level_boxes(target).index("moov") < top_level_boxes(target).index("mdat")
    assert audio_rms(target, 5.0, 12.0) > 0.005
    gradient = frame_rgb(target, 5.0)
    top, bottom = region_rgb(gradient, 0, 0, 0.05, 0.05), region_rgb(gradient, 0, 0.95, 0.05, 1)
    assert top[2] > top[0]  # blue at the top
    assert bottom[0] > top[0] + 50  # purple at the bottom


def test_clip_image_and_audio_land_on_the_timeline(tmp_path: Path) -> None:
    clip = make_media(
        tmp_path / "red.mp4",
        *("-f", "lavfi", "-i", "color=c=red:s=320x240:r=25:d=2", "-f", "lavfi", "-i", "sine=f=300:d=2"),
        *("-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"),
    )
    make_media(tmp_path / "green.png", "-f", "lavfi", "-i", "color=c=0x00ff00:s=200x200", "-frames:v", "1")
    make_media(tmp_path / "tone.wav", "-f", "lavfi", "-i", "sine=f=440:d=5")
    draft = {
        "d": 6000,
        "m": {"width": 640, "height": 360, "fps": 25},
        "t": [
            {"tt": 0, "sg": [
                {"kind": "scene", "start": 0, "end": 6000, "bg": "#0000ff"},
                {"kind": "clip", "start": 1000, "end": 3000, "src": clip.as_uri(), "in": 500},
                {"kind": "image", "start": 4000, "end": 5000, "src": "green.png"}]},
            {"tt": 1, "sg": [{"kind": "audio", "start": 1000, "end": 2000, "src": "tone.wav", "volume": 80,
                              "fade_in": 100, "fade_out": 100}]},
        ],
    }  # fmt: skip
    target = tmp_path / "out.mp4"

    def resolve(src: str) -> Path:
        return clip if src.startswith("file:") else tmp_path / src

    anyio.run(lambda: render_draft(draft, target, quality="draft", resolve_media=resolve))
    blue, red, green = (0, 0, 255), (255, 0, 0), (0, 255, 0)

    def close(colour: tuple[float, float, float], expected: tuple[int, int, int]) -> bool:
        return all(abs(a - b) < 40 for a, b in zip(colour, expected, strict=True))

    assert close(region_rgb(frame_rgb(target, 0.5), 0.4, 0.4, 0.6, 0.6), blue)
    during = frame_rgb(target, 1.6)
    assert close(region_rgb(during, 0.4, 0.4, 0.6, 0.6), red)
    assert close(region_rgb(during, 0.0, 0.4, 0.05, 0.6), (0, 0, 0))  # 4:3 clip padded on a 16:9 canvas
    # the clip runs out at 2.5 s and holds its last frame
    assert close(region_rgb(frame_rgb(target, 2.8), 0.4, 0.4, 0.6, 0.6), red)
    assert close(region_rgb(frame_rgb(target, 3.5), 0.4, 0.4, 0.6, 0.6), blue)
    assert close(region_rgb(frame_rgb(target, 4.5), 0.0, 0.0, 1.0, 1.0), green)  # image covers the canvas
    assert close(region_rgb(frame_rgb(target, 5.5), 0.4, 0.4, 0.6, 0.6), blue)
    assert audio_rms(target, 1.2, 1.8) > 0.02  # lavfi sine is at 1/8 full scale
    assert audio_rms(target, 2.2, 5.8) < 0.001  # the clip's own audio is not mixed in


def test_a_clip_with_nothing_left_after_its_in_point_keeps_later_pieces_in_place(tmp_path: Path) -> None:
    clip = make_media(
        tmp_path / "short.mp4",
        *("-f", "lavfi", "-i", "color=c=red:s=160x120:r=25:d=1", "-c:v", "libx264", "-pix_fmt", "yuv420p"),
    )
    make_media(tmp_path / "green.png", "-f", "lavfi", "-i", "color=c=0x00ff00:s=64x64", "-frames:v", "1")
    draft = {
        "d": 3000,
        "m": {"width": 320, "height": 180, "fps": 25},
        "t": [{"tt": 0, "sg": [
            {"kind": "scene", "start": 0, "end": 1000, "bg": "#0000ff"},
            {"kind": "clip", "start": 1000, "end": 2000, "src": "short.mp4", "in": 5000},
            {"kind": "image", "start": 2000, "end": 3000, "src": "green.png"}]}],
    }  # fmt: skip
    target = tmp_path / "out.mp4"
    anyio.run(lambda: render_draft(draft, target, quality="draft", resolve_media=lambda src: tmp_path / src))

    def close(colour: tuple[float, float, float], expected: tuple[int, int, int]) -> bool:
        return all(abs(a - b) < 40 for a, b in zip(colour, expected, strict=True))

    assert clip.exists()
    assert close(region_rgb(frame_rgb(target, 1.5), 0.3, 0.3, 0.7, 0.7), (0, 0, 0))
    assert close(region_rgb(frame_rgb(target, 2.5), 0.3, 0.3, 0.7, 0.7), (0, 255, 0))


def test_title_is_drawn_at_its_time_and_not_after(tmp_path: Path) -> None:
    draft = {
        "d": 3000,
        "m": {"width": 360, "height": 640, "fps": 20},
        "t": [
            {"tt": 0, "sg": [{"kind": "scene", "start": 0, "end": 3000, "bg": "#202020"}]},
            {"tt": 7, "sg": [{"kind": "text", "start": 0, "end": 1000, "text": "HELLO", "size": 80}]},
            {"tt": 1, "sg": [
                {"kind": "music", "style": "upbeat", "seed": 1, "start": 0, "end": 3000, "volume": 20},
                {"kind": "music", "style": "ambient", "seed": 2, "start": 1000, "end": 3000, "volume": 30}]},
        ],
    }  # fmt: skip
    target = tmp_path / "title.mp4"
    anyio.run(lambda: render_draft(draft, target, quality="draft"))
    middle = (0.1, 0.4, 0.9, 0.6)
    assert region_max_luma(frame_rgb(target, 0.5), *middle) > 200
    after = frame_rgb(target, 1.5)
    assert region_max_luma(after, *middle) < 60
    assert after == frame_rgb(target, 2.5)
    assert audio_rms(target, 1.5, 2.5) > 0.005  # two music segments mixed


@pytest.mark.anyio
async def test_progress_arrives_and_ends_at_100(tmp_path: Path) -> None:
    seen: list[float] = []

    async def on_progress(value: float) -> None:
        seen.append(value)

    result = await render_draft(tiny_draft(), tmp_path / "p.mp4", quality="draft", on_progress=on_progress)
    assert result.size > 0
    assert seen
    assert seen == sorted(seen)
    assert seen[-1] == 100.0
    assert all(0 <= v <= 100 for v in seen)


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _children() -> set[int]:
    """Live (or zombie) children of this process, from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid():
                found.add(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.anyio
async def test_cancellation_kills_ffmpeg_and_leaves_no_file(tmp_path: Path) -> None:
    draft = promo_draft()
    draft["d"] = 120000
    for track in draft["t"]:
        for seg in track["sg"]:
            seg["end"] = min(seg["end"] * 4, 120000)
            seg["start"] = min(seg["start"] * 4, seg["end"] - 1000)
    before = _children()
    running: set[int] = set()
    with anyio.CancelScope() as scope:

        def on_progress(value: float) -> None:
            running.update(_children() - before)
            scope.cancel()

        await render_draft(draft, tmp_path / "never.mp4", quality="high", on_progress=on_progress)
    assert scope.cancelled_caught
    assert running  # ffmpeg was running when the scope was cancelled
    assert not (_children() & running)
    assert _names(tmp_path) == ["scratch"]


@pytest.mark.anyio
async def test_ffmpeg_failure_is_a_render_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_text("not a video")
    draft = tiny_draft()
    draft["t"][0]["sg"].append({"kind": "clip", "start": 0, "end": 1000, "src": str(broken)})
    with pytest.raises(RenderError, match="ffmpeg exited with status") as info:
        await render_draft(draft, tmp_path / "out.mp4", quality="draft")
    assert "broken.mp4" in str(info.value)
    assert _names(tmp_path) == ["broken.mp4", "scratch"]


def _fake_ffmpeg(tmp_path: Path) -> Path:
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\necho ' .. drawtext  V->V  Draw text'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return fake


def test_check_ffmpeg_names_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = check_ffmpeg()
    assert Path(path).is_file()
    assert check_ffmpeg(path) == path
    with pytest.raises(FFmpegUnavailable, match="not found"):
        check_ffmpeg(str(tmp_path / "nothing"))
    fake = _fake_ffmpeg(tmp_path)
    with pytest.raises(FFmpegUnavailable) as info:
        check_ffmpeg(str(fake))
    assert "encoder libx264" in str(info.value)
    assert "filter zoompan" in str(info.value)
    assert "filter drawtext" not in str(info.value)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(fake))
    with pytest.raises(FFmpegUnavailable, match="encoder aac"):
        anyio.run(lambda: render_draft(tiny_draft(), tmp_path / "x.mp4"))


def test_missing_output_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="output directory"):
        anyio.run(lambda: render_draft(tiny_draft(), tmp_path / "no" / "x.mp4"))


def test_draft_error_is_a_value_error() -> None:
    assert issubclass(DraftError, ValueError)
