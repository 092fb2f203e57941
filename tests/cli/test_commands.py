"""The one-shot commands, run in-process against the test emulator as ``NEMO_API_URL``: their output,
their ``--json``, and an exit code with ``error:``/``hint:`` (never a traceback) for each kind of failure."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import anyio
import pytest
from typer.testing import CliRunner, Result

import nemovideo
from nemovideo._cli import _exit
from nemovideo._cli._app import app, request_text
from nemovideo.emulator import Emulator

from ..sdk._media import png
from ._probe import probe

runner = CliRunner()


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


def as_json(result: Result) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def assert_fails(result: Result, code: int, *words: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert "\nerror: " in "\n" + result.stderr, result.stderr
    assert "\nhint: " in result.stderr
    for word in words:
        assert word in result.stderr


def new_session(api: Emulator) -> str:
    async def create() -> str:
        async with nemovideo.NemoClient() as nemo:
            return (await nemo.sessions.create()).id

    return anyio.run(create)


def test_generate_then_state_upload_export_and_credits(api: Emulator, tmp_path: Path) -> None:
    image = tmp_path / "logo.png"
    image.write_bytes(png(64, 36))
    out = tmp_path / "promo.mp4"
    result = invoke(
        "generate",
        "A 4-second video about tea",
        "--music",
        "-f",
        str(image),
        "-q",
        "draft",
        "-o",
        str(out),
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    made = as_json(result)
    assert made["path"] == str(out)
    assert made["message"] == "Generate a 4-second video about tea with background music"
    assert made["uploaded"][0]["filename"] == "logo.png"
    assert "BGM" in made["timeline"]
    assert made["credits"]["available"] == 10_000 - made["credits_spent"]
    video = probe(out)
    assert abs(video.duration - 4) < 0.5
    assert video.audio
    assert made["size"] == out.stat().st_size

    sid = made["session_id"]
    state = as_json(invoke("state", sid, "--json"))
    assert state["timeline"] == made["timeline"]
    assert state["media"][0]["filename"] == "logo.png"
    shown = invoke("state", sid)
    assert shown.exit_code == 0
    assert "BGM" in shown.stdout
    assert "logo.png" in shown.stdout

    uploaded = as_json(invoke("upload", sid, str(image), "--json"))
    assert [f["file_type"] for f in uploaded["files"]] == ["image"]

    again = tmp_path / "again.mp4"
    exported = invoke("export", sid, "-o", str(again), "-q", "draft")
    assert exported.exit_code == 0, exported.stderr
    assert re.search(r"Saved .*again\.mp4 · 4 s · \d", exported.stdout)
    assert probe(again).duration == pytest.approx(video.duration, abs=0.1)

    resumed = as_json(invoke("export", sid, "--render-id", made["render_id"], "-o", str(tmp_path), "--json"))
    assert resumed["path"] == str(tmp_path / f"{made['render_id']}.mp4")

    assert as_json(invoke("credits", "--json"))["available"] == made["credits"]["available"]
    assert "credits available" in invoke("credits").stdout


def test_human_output_of_generate(api: Emulator, tmp_path: Path) -> None:
    result = invoke("generate", "A 3-second video about rain", "-q", "draft", "-o", str(tmp_path / "r.mp4"))
    assert result.exit_code == 0, result.stderr
    assert "nemo> Done!" in result.stdout
    assert "Timeline" in result.stdout
    assert re.search(r"Saved .*r\.mp4 · 3 s · [\d.]+ KB · 9900 credits left", result.stdout)
    for step in ("Generating...", "agent: generate_video", "Rendering...", "Downloading..."):
        assert step in result.stderr  # progress goes to stderr, as plain lines when not on a terminal


def test_a_chinese_request_is_answered_in_chinese_by_the_command_too(api: Emulator, tmp_path: Path) -> None:
    """Not only the agent's reply: the steps, the timeline table and the closing line are Chinese."""
    result = invoke("generate", "做一个3秒的下雨视频", "-q", "draft", "-o", str(tmp_path / "r.mp4"))
    assert result.exit_code == 0, result.stderr
    assert "nemo> 完成！" in result.stdout
    for word in ("时间线", "轨道", "片段"):
        assert word in result.stdout
    assert re.search(r"已保存 .*r\.mp4 · 3 秒 · [\d.]+ KB · 剩余 9900 积分", result.stdout)
    steps = ("正在生成...", "智能体: generate_video", "已生成（花费 100 积分）", "正在渲染...", "正在下载...")
    for step in steps:
        assert step in result.stderr
    for english in ("Saved", "credits left", "Generating", "Rendering", "track", "segment"):
        assert english not in result.stdout + result.stderr


def test_unknown_session(api: Emulator) -> None:
    assert_fails(invoke("state", "1234567890123456789"), 5, "hint: Create a new session")
    result = invoke("state", "1234567890123456789", "--json")
    error = as_json(result)["error"]
    assert error["type"] == "SessionNotFoundError"
    assert error["exit_code"] == 5
    assert error["code"] == 1002


def test_files_are_checked_before_sending(api: Emulator, tmp_path: Path) -> None:
    sid = new_session(api)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video")
    assert_fails(invoke("upload", sid, str(notes)), 9, "not an accepted file type", "Accepted formats")
    assert_fails(invoke("upload", sid, str(tmp_path / "missing.mp4")), 9, "missing.mp4")
    assert not [e for e in api.log if e.endpoint == "upload"]


def test_nothing_is_spent_when_the_output_cannot_be_saved(api: Emulator, tmp_path: Path) -> None:
    result = invoke("generate", "A 3-second video", "-o", str(tmp_path / "no" / "such" / "dir.mp4"))
    assert_fails(result, 9, "does not exist")
    assert not [e for e in api.log if e.endpoint == "run_sse"]


def test_export_of_an_empty_timeline(api: Emulator) -> None:
    assert_fails(invoke("export", new_session(api)), 11, "nothing to export")


def test_not_enough_credits(api: Emulator, tmp_path: Path) -> None:
    api.configure(credits=40)
    result = invoke("generate", "A 3-second video", "-o", str(tmp_path / "x.mp4"))
    assert_fails(result, 6, "register")


def test_refused_token(api: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEMO_TOKEN", "nmv_usr_not-a-real-token")
    result = invoke("credits")
    assert_fails(result, 4, "NEMO_TOKEN")
    assert "not-a-real-token" not in result.stderr + result.stdout


def test_no_api_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEMO_API_URL", "http://127.0.0.1:9")
    assert_fails(invoke("credits", "--json"), 14, "--emulator")


def test_usage_errors() -> None:
    assert invoke("generate", "x", "--quality", "ultra").exit_code == 2
    assert invoke("state").exit_code == 2
    version = invoke("--version")
    assert version.exit_code == 0
    assert version.stdout.strip() == f"nemovideo {nemovideo.__version__}"


def test_an_empty_prompt_is_refused_before_any_request(api: Emulator) -> None:
    result = invoke("generate", "   ")
    assert result.exit_code == 2
    shown = result.stdout + result.stderr
    assert "the prompt is empty" in shown
    assert 'nemovideo generate "A 10-second promo video for a bakery"' in " ".join(shown.split())
    assert "[bold]" not in shown
    assert not api.log


def test_request_text() -> None:
    assert request_text("A 10-second promo for a bakery") == "Generate a 10-second promo for a bakery"
    assert request_text("make me a video", music=True) == "make me a video with background music"
    assert (
        request_text("A promo for tea: Hot. Fresh.", music=True)
        == "Generate a promo for tea with background music: Hot. Fresh."
    )
    assert request_text("Create a video.", "Line one.\nLine two.\n") == "Create a video: Line one.\nLine two."
    assert request_text("A video with music", music=True) == "Generate a video with music"


def test_every_error_class_has_an_exit_code_and_a_hint() -> None:
    errors = [
        getattr(nemovideo, n) for n in nemovideo.__all__ if n.endswith("Error") or n.startswith("Stream")
    ]
    errors = [e for e in errors if isinstance(e, type) and issubclass(e, nemovideo.NemoError)]
    assert len(errors) > 20
    for cls in errors:
        exc = make(cls)
        assert _exit.exit_code(exc) not in (0, 2), cls
        assert _exit.hint(exc), cls
    codes = [code for code, _, _ in _exit.EXIT_CODES]
    assert len(codes) == len(set(codes))


def test_exit_codes_are_documented() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "errors.md").read_text()
    for code, classes, _ in _exit.EXIT_CODES:
        row = next((line for line in docs.splitlines() if line.startswith(f"| {code} |")), None)
        assert row is not None, f"exit code {code} is not in docs/errors.md"
        for cls in classes:
            assert cls.__name__ in row, (code, cls.__name__)


def make(cls: type[nemovideo.NemoError]) -> nemovideo.NemoError:
    if issubclass(cls, nemovideo.APIError):
        return cls("refused", code=400)
    if issubclass(cls, nemovideo.RenderError):
        return cls("render failed", render_id="render_1")
    return cls("failed")
