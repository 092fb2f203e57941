"""Every ```python and ```bash block of README.md and docs/*.md runs, against a real emulator, and prints what
its comments say it prints (see `_blocks` for the conventions)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nemovideo.emulator import Emulator

from ._blocks import ROOT, Block, all_blocks, blocks_of, claim_pattern, orphan_no_tests, unmatched_claims

BLOCKS = all_blocks()
RUNNABLE = [block for block in BLOCKS if block.skip_reason is None]
TIMEOUT = 120
AS_CELL = """
import ast, asyncio, sys
code = compile(open(sys.argv[1]).read(), sys.argv[1], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
result = eval(code, {"__name__": "__main__"})
if asyncio.iscoroutine(result):
    asyncio.run(result)
"""
"""Runs a block the way a notebook runs a cell: top-level ``await`` on an asyncio loop."""


def block_env(emulator: Emulator, tmp_path: Path) -> dict[str, str]:
    """The user's environment without their settings, pointed at the emulator; the `nemovideo` and `python`
    of this interpreter first on PATH; the CLI's in-process emulator generating quickly."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEMO_", "SKILL_SOURCE"))}
    env.update(
        NEMO_API_URL=emulator.url,
        NEMO_CONFIG_DIR=str(tmp_path / "config"),
        NEMO_EMULATOR_GENERATION_SECONDS="0.5",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def run(args: list[str] | str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        args,
        shell=isinstance(args, str),
        executable="/bin/bash" if isinstance(args, str) else None,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.mark.parametrize("block", RUNNABLE, ids=lambda block: block.id)
def test_block_runs_and_prints_what_it_says(
    block: Block, nemo_emulator: Emulator, sample_files: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    shutil.copytree(sample_files, work)
    env = block_env(nemo_emulator, tmp_path)
    if block.lang == "python":
        (work / "block.py").write_text(block.code, encoding="utf-8")
        output = run([sys.executable, *(("-c", AS_CELL) if block.is_cell else ()), "block.py"], work, env)
        missing = unmatched_claims(block.claims, output)
    elif any(command.line.endswith("&") for command in block.commands()):
        # A block that serves something in the background runs as one script, as a reader would paste it;
        # its jobs are stopped when it ends so the pipes close.
        script = f"set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n{block.code}"
        output = run(script, work, env)
        missing = unmatched_claims(tuple(c for command in block.commands() for c in command.claims), output)
    else:
        missing = []
        for command in block.commands():
            output = run(command.line, work, env)
            missing += unmatched_claims(command.claims, output)
    assert not missing, f"{block.id} does not print {missing}; it printed:\n{output}"


def test_the_docs_have_blocks_to_run() -> None:
    """The collection itself: a block per README example, and no-test only with a reason."""
    assert {block.path.name for block in RUNNABLE} >= {"README.md", "quickstart.md", "index.md"}
    assert all(block.skip_reason for block in BLOCKS if block.skip_reason is not None)
    assert orphan_no_tests() == []


def test_a_no_test_comment_keeps_its_block_from_running(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- no-test: serves forever -->\n```bash\nnemovideo emulator\n```\n\n"
        "```python\nprint(1)  # 1\n```\n```json\n{}\n```\n",
        encoding="utf-8",
    )
    served, printed = blocks_of(page)
    assert (served.skip_reason, served.lineno, printed.skip_reason) == ("serves forever", 2, None)
    assert printed.claims == ("1",)


def test_a_claim_is_a_whole_line_with_ellipses_and_sizes_free() -> None:
    saved = claim_pattern("Saved promo.mp4 · 10 s · 324.2 KB · 9900 credits left")
    assert saved.fullmatch("Saved promo.mp4 · 10 s · 330.1 KB · 9900 credits left")
    assert not saved.fullmatch("Saved promo.mp4 · 9 s · 324.2 KB · 9900 credits left")
    assert claim_pattern("Timeline (3 tracks): ...").fullmatch("Timeline (3 tracks): 1. Video: a, b")
    assert not claim_pattern("Credits(available=100, frozen=0, total=100)").fullmatch(
        "Credits(available=0, frozen=0, total=100)"
    )
    assert unmatched_claims(("b", "a"), "a\nb\n") == ["a"]


def test_bash_claims_follow_their_command(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```bash\necho one \\\n  two\n# → one two\n# a remark\necho 3\n```\n", encoding="utf-8")
    (block,) = blocks_of(page)
    commands = [(c.line, c.claims) for c in block.commands()]
    assert commands == [("echo one two", ("one two",)), ("echo 3", ())]


def test_the_readme_saved_line_is_the_quickstart_claim() -> None:
    """The README's main command cannot run here (it installs the package), so its stated result must be the
    quickstart's, whose identical command runs above."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quickstart = next(b for b in RUNNABLE if b.path.name == "quickstart.md" and b.lang == "bash")
    (command,) = [c for c in quickstart.commands() if c.line.startswith("nemovideo generate")]
    assert command.line in readme
    assert command.claims
    assert all(f"`{claim}`" in readme for claim in command.claims)


def test_a_block_with_top_level_await_is_a_cell(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```python\nx = await f()\n```\n```python\nasync def f(): ...\n```\n```python\nx y\n```")
    cell, script, broken = blocks_of(page)
    assert (cell.is_cell, script.is_cell, broken.is_cell) == (True, False, False)
