"""The agent without a server: its stages, its replies in both languages, and any text at all."""

from __future__ import annotations

import copy
import re
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nemovideo.emulator import _drafts as drafts
from nemovideo.emulator._media import check_type, parse_ffmpeg_info
from nemovideo.emulator._store import Session
from nemovideo.emulator.agent import HELP, NEED_DRAFT, plan_for
from nemovideo.emulator.agent._normalise import normalise


def session(language: str = "en") -> Session:
    canvas = drafts.canvas_for("16:9")
    return Session("1" * 19, "task_x", "project", language, "anon_x", drafts.empty_draft(canvas), canvas)


def generated(language: str = "en") -> Session:
    s = session(language)
    for step in plan_for("Generate a 12-second video with background music: A. B. C.", s, 0).steps:
        step.apply(s)
    return s


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("a one-minute video", "a 1-minute video"),
        ("half a minute", "30 seconds"),
        ("a minute and a half", "90 seconds"),
        ("twenty-five percent", "25 percent"),
        ("三十秒", "30秒"),
        ("一分钟", "1分钟"),
        ("半分钟", "30秒"),
        ("一分半", "90秒"),
        ("百分之十", "10%"),
        ("调到１０％", "调到10%"),
        ("one of a kind", "one of a kind"),
        ("小一点", "小一点"),
    ],
)
def test_normalise_spells_numbers_and_units_one_way(typed: str, normal: str) -> None:
    assert normalise(typed) == normal


def test_same_message_and_seed_give_the_same_timeline() -> None:
    drafts_made = []
    for _ in range(2):
        s = session()
        for step in plan_for("Short promo for a pizza place, 8 seconds, upbeat music", s, 3).steps:
            step.apply(s)
        drafts_made.append(s.draft)
    assert drafts_made[0] == drafts_made[1]


@pytest.mark.parametrize(
    ("language", "message", "reply_has"),
    [
        ("zh", "make it 10 seconds", NEED_DRAFT["zh"]),
        ("en", "改成10秒", NEED_DRAFT["zh"]),
        ("en", "make it 10 seconds", NEED_DRAFT["en"]),
        ("zh", "what can you do?", HELP["zh"]),
        ("en", "你能做什么", HELP["zh"]),
        ("en", "help", HELP["en"]),
    ],
)
def test_help_and_empty_timeline_answers_in_the_users_language(
    language: str, message: str, reply_has: str
) -> None:
    plan = plan_for(message, session(language), 0)
    assert (plan.kind, plan.answer) == ("text", reply_has)


def test_chinese_requests_get_chinese_replies() -> None:
    s = session()
    plan = plan_for("帮我生成一个30秒的咖啡店宣传视频，配背景音乐", s, 0)
    assert plan.kind == "generation"
    assert "秒" in plan.intro
    assert "导出" in plan.answer
    for step in plan.steps:
        step.apply(s)
    assert "调到" in plan_for("把背景音乐音量调到10%", s, 0).intro


def test_not_understood_names_the_text_and_the_closest_things() -> None:
    plan = plan_for("make the song sparkle", generated(), 0)
    assert plan.kind == "text"
    assert not plan.steps
    assert "make the song sparkle" in plan.answer
    assert "add upbeat background music" in plan.answer  # "song" is closest to the music edits
    zh = plan_for("让它闪闪发光", generated(), 0)
    assert "让它闪闪发光" in zh.answer
    assert "你可以试试" in zh.answer


def test_questions_answer_from_the_timeline() -> None:
    s = generated()
    before = copy.deepcopy(s.draft)
    assert plan_for("how long is it?", s, 0).answer == "Your video is 12 seconds long."
    assert "Lo-fi" in plan_for("what music is on it?", s, 0).answer
    assert "16:9" in plan_for("what's the aspect ratio?", s, 0).answer
    assert plan_for("现在多长？", s, 0).answer == "你的视频时长12秒。"
    assert s.draft == before


_SLOW_DATA = [HealthCheck.too_slow, HealthCheck.data_too_large]
_CUES = st.sampled_from(
    ["generate", "make it", "music", "title", "'", '"', "「", ":", "：", "%", "10", "1:30", "9:16", "秒",
     "分钟", "音乐", "调到",
     "quieter", "louder", "add", "remove", "called", "for", "at", "by", "?", "  ", "\n", "-",
     "百分之", "三十", "text", "use my clips", "square", "竖屏", "video", "视频", "…", "🎬"]
)  # fmt: skip
_TEXT = st.one_of(
    st.text(max_size=10_000),
    st.lists(st.one_of(_CUES, st.text(max_size=8)), max_size=2_000).map(" ".join).map(lambda t: t[:10_000]),
)
_NONSENSE = st.text(st.sampled_from("!?.,;:-_()[]{}#@&*+=~^<>/|\\ \n\t…—–·•★☆♪😀🎉ωжщфэ"), max_size=10_000)


@settings(deadline=timedelta(milliseconds=50), max_examples=60, suppress_health_check=_SLOW_DATA)
@given(_TEXT)
@example("title '" * 1600)
@example("'a " * 3300)
@example("1" * 10_000)
@example("1:30 " * 2000)
@example("make it 15 seconds and add a title 'Sale' " * 240)
@example("百分之" * 3300)
def test_any_text_gives_a_plan_that_applies_cleanly(text: str) -> None:
    s = generated()
    plan = plan_for(text, s, 0)
    assert plan.kind in ("generation", "edit", "text")
    for step in plan.steps:
        step.apply(s)
    for track in s.draft["t"]:
        for seg in track["sg"]:
            assert 0 <= seg["start"] < seg["end"] <= s.draft["d"]


@settings(deadline=timedelta(milliseconds=50), max_examples=40, suppress_health_check=_SLOW_DATA)
@given(_NONSENSE)
def test_nonsense_changes_nothing(text: str) -> None:
    s = generated("zh")
    before = copy.deepcopy(s.draft)
    plan = plan_for(text, s, 0)
    assert (plan.kind, plan.steps) == ("text", [])
    assert plan.answer
    assert s.draft == before


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


def test_quieter_lowers_the_music_without_muting_it() -> None:
    s = generated()
    levels = []
    messages = ["set the music volume to 10%", "make the music quieter", "quieter", "turn the music up a bit"]
    for message in messages:
        for step in plan_for(message, s, 0).steps:
            step.apply(s)
        levels.append(drafts.music_segments(s.draft)[0]["volume"])
    assert levels[0] == 10
    assert 0 < levels[2] < levels[1] < levels[0]
    assert levels[3] > levels[2]


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


@pytest.mark.parametrize(
    "message",
    [
        "make a video about a flower shop opening with cheerful music",
        "Generate a 20-second video: Our bakery opens at six every morning with fresh bread. Come early.",
        "做一个关于花店开业的视频",
    ],
)
def test_scene_labels_are_whole_or_marked_as_shortened(message: str) -> None:
    """A label is its scene's words, or their start and "…": never a phrase cut off silently."""
    s = session()
    for step in plan_for(message, s, 0).steps:
        step.apply(s)
    video = next(t for t in s.draft["t"] if t["tt"] == drafts.VIDEO)
    for seg in video["sg"]:
        words = " ".join(re.findall(r"[\w'’-]+", seg["text"])).lower()
        label = seg["name"]
        assert label == words or (label.endswith("…") and words.startswith(label[:-1])), seg
