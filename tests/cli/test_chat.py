"""``nemovideo chat`` as a person uses it (a pseudo-terminal) and as a script feeds it (piped input),
each against an emulator started by the command itself (``--emulator``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pexpect

from ..sdk._media import png
from ._probe import SCRIPT, probe

TIMEOUT = 60


def chat_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(NEMO_EMULATOR_GENERATION_SECONDS="0.5", NO_COLOR="1", TERM="dumb", COLUMNS="160")
    return env


def test_generate_edit_export_through_a_terminal(tmp_path: Path) -> None:
    """A pseudo-terminal: the prompt shows, replies stream, edits report their change, export saves."""
    child = pexpect.spawn(
        str(SCRIPT),
        ["chat", "--emulator", "--quality", "draft", "-d", str(tmp_path)],
        cwd=tmp_path,
        env=chat_env(),
        encoding="utf-8",
        timeout=TIMEOUT,
        dimensions=(50, 160),
    )
    try:
        child.expect_exact("you> ")
        child.sendline("generate a 4-second video about tea with background music")
        child.expect_exact("· generate_video")
        child.expect(r"nemo> Done! I made your 4-second video")
        child.expect_exact("BGM")  # the timeline after the change
        child.expect_exact("100 credits spent")
        child.expect_exact("you> ")
        child.sendline("add a title 'Tea time' for 2 seconds")
        child.expect_exact('"Tea time"')
        child.expect_exact("you> ")
        child.sendline("导出")  # export, in Chinese: answered in Chinese
        child.expect(r"已保存 (\S+\.mp4)（4 秒，")
        match = child.match
        assert isinstance(match, re.Match)
        saved = Path(match.group(1))
        child.expect_exact("you> ")
        child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0, child.before
    video = probe(saved if saved.is_absolute() else tmp_path / saved)
    assert abs(video.duration - 4) < 0.5
    assert video.audio


def test_piped_input_routes_commands(tmp_path: Path) -> None:
    """Piped lines: status, credits, upload <path> and its Chinese words are SDK calls, not messages;
    a silent edit is told from the timeline; the session ends at end of input."""
    image = tmp_path / "logo.png"
    image.write_bytes(png(32, 18))
    lines = [
        "状态",
        f"upload {image}",
        "upload",
        "generate a 3-second video about rain",
        "set the music volume to 10%",
        "make it 2 seconds",
        "积分",
        "how are you?",
        "/quit",
        "never sent: the session ended at /quit",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "nemovideo._cli", "chat", "--emulator"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=chat_env(),
        timeout=TIMEOUT,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in out + done.stderr
    assert "时间线 (0 s)" in out  # status of a new session, asked in Chinese: the table is Chinese
    assert "（空）" in out
    assert "Uploaded logo.png (image)" in out
    assert "Which file?" in out
    assert "nemo> Done! I made your 3-second video" in out
    assert re.search(r"可用积分 98[05]0（", out)  # asked in Chinese, answered in Chinese
    assert "I can generate a video" in out  # anything else goes to the agent
    assert "you> " not in out  # no prompt when the input is not a terminal
    assert "never sent" not in out
    assert "/quit" not in out


def test_ctrl_c_at_the_prompt_ends_the_session(tmp_path: Path) -> None:
    child = pexpect.spawn(
        str(SCRIPT), ["chat", "--emulator"], cwd=tmp_path, env=chat_env(), encoding="utf-8", timeout=TIMEOUT
    )
    try:
        child.expect_exact("you> ")
        child.sendintr()
        child.expect_exact("interrupted")
        child.expect(pexpect.EOF, timeout=10)  # not held open by the line being read
    finally:
        child.close()
    assert child.exitstatus == 130
