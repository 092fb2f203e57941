"""The agent's reply as a terminal shows it: wrapped on words in English, at the width in Chinese."""

from __future__ import annotations

import io

from rich.cells import cell_len
from rich.console import Console

from nemovideo._cli._ui import reply


def _shown(text: str, width: int = 40) -> list[str]:
    out = io.StringIO()
    reply(Console(file=out, width=width, color_system=None), text)
    return [line.rstrip() for line in out.getvalue().rstrip("\n").splitlines()]


def test_chinese_starts_on_the_prompt_line_and_fills_each_line() -> None:
    text = "完成！标题「深夜拉面」会在开头显示3秒。告诉我就能移动它或修改样式。"
    lines = _shown(text)
    assert lines[0].startswith("nemo> 完成")
    assert "".join(lines).replace("nemo> ", "", 1) == text  # nothing lost or added
    assert all(cell_len(line) <= 40 for line in lines)
    assert cell_len(lines[0]) >= 38  # full, not one long word pushed below the prompt


def test_english_still_wraps_on_words() -> None:
    lines = _shown("Done! The title now shows for the first 3 seconds of the video.")
    assert lines[0] == "nemo> Done! The title now shows for the"
    assert lines[1] == "first 3 seconds of the video."
