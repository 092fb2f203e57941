"""The rule-based agent's phrase table and draft edits, without a server."""

from __future__ import annotations

import pytest

from nemovideo.emulator import _drafts as drafts
from nemovideo.emulator.agent import plan_for
from nemovideo.emulator._media import check_type, parse_ffmpeg_info
from nemovideo.emulator._store import Session


def session() -> Session:
    canvas = drafts.canvas_for("16:9")
    return Session("1" * 19, "task_x", "project", "en", "anon_x", drafts.empty_draft(canvas), canvas)


@pytest.mark.parametrize(
    ("message", "kind", "tools"),
    [
        ("generate a 30-second promotional video from this script: Hello. World.", "generation",
         ["generate_video", "compose_video"]),
        ("Please create a 10 second vertical video with background music: One.", "generation",
         ["generate_video", "compose_video"]),
        ("Make me a video about cats", "generation", ["generate_video", "compose_video"]),
        ("hello?", "text", []),
        ("make it 10 seconds", "text", []),  # empty timeline: explains instead
    ],
)  # fmt: skip
def test_phrases_on_a_new_session(message: str, kind: str, tools: list[str]) -> None:
    plan = plan_for(message, session(), seed=0)
    assert plan.kind == kind
    assert [s.tool for s in plan.steps] == tools


def test_generation_then_edits_apply() -> None:
    s = session()
    for step in plan_for("Generate a 12-second 1:1 video with background music: A. B. C.", s, 0).steps:
        step.apply(s)
    assert (s.draft["d"], s.draft["m"]["width"], s.draft["m"]["height"]) == (12000, 1080, 1080)
    assert (
        drafts.summary(s.draft)
        == 'Timeline (3 tracks): 1. Video: a (0-12s) 2. BGM: Lo-fi (0-12s, 35%) 3. Title: "A" (0-3s)'
    )
    for message, tool in [
        ("Add a title 'Urban Dreams' for 3 seconds", "add_title"),
        ('put a title "Sale" on it', "add_title"),
        ("set the music volume to 20 %", "set_music_volume"),
        ("Make it 6 seconds", "set_duration"),
        ("remove the background music", "remove_background_music"),
        ("add upbeat background music", "set_background_music"),
        ("change the aspect ratio to 16:9", "generate_video"),
    ]:
        plan = plan_for(message, s, 0)
        assert plan.steps, message
        assert plan.steps[0].tool == tool, message
        for step in plan.steps:
            step.apply(s)
    assert s.draft["m"]["title"] == "Sale"
    assert drafts.music_segments(s.draft)[0]["style"] == "upbeat"
    assert (s.draft["m"]["width"], s.draft["d"]) == (1920, 6000)
    for track in s.draft["t"]:
        for seg in track["sg"]:
            assert 0 <= seg["start"] < seg["end"] <= s.draft["d"]
    ids = [seg["id"] for t in s.draft["t"] for seg in t["sg"]]
    assert len(ids) == len(set(ids))


def test_media_checks() -> None:
    assert check_type("a.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 8) == ("image", "")
    assert check_type("a.mp4", b"\0\0\0\x18ftypisom")[0] == "video"
    assert check_type("a.wav", b"RIFF\0\0\0\0WAVEfmt ")[0] == "audio"
    assert check_type("a.webm", b"\x1a\x45\xdf\xa3")[0] == "video"
    assert check_type("a.exe", b"MZ")[0] is None
    assert check_type("a.jpg", b"\x89PNG\r\n\x1a\n")[0] is None
    probe = parse_ffmpeg_info(
        "  Duration: 00:01:02.50, start: 0.000000, bitrate: 1 kb/s\n"
        "  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), "
        "1280x720 [SAR 1:1 DAR 16:9], 29.97 fps, 30 tbr\n"
        "  Stream #0:1[0x2](und): Audio: aac (LC), 44100 Hz, stereo\n"
    )  # fmt: skip
    assert (probe.duration, probe.width, probe.height, probe.fps, probe.has_audio) == (
        62.5,
        1280,
        720,
        29.97,
        True,
    )


def test_probe_reads_tiny_sizes() -> None:
    probe = parse_ffmpeg_info(
        "  Duration: N/A, bitrate: N/A\n  Stream #0:0: Video: png, rgb24(pc), 16x9, 25 fps, 25 tbr, 25 tbn\n"
    )
    assert (probe.width, probe.height) == (16, 9)
