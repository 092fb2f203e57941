"""The code blocks of README.md and docs/*.md, and the outputs their comments state.

A block is a fenced ```python or ```bash block. The line `<!-- no-test: reason -->` right before the opening
fence keeps it from running. A python block runs as a script, or, when it has ``await`` at the top level,
as a Jupyter cell runs it (on an asyncio loop); a bash block runs command by command, each in
its own shell (``cd`` and ``export`` do not carry over), and every command must exit 0. The working
directory holds sample files a reader would have: ``clip.mp4``, ``intro.mp4``, ``logo.png``, ``script.txt``
(see ``conftest.py``). Output claims:

- python: a trailing comment on a line that calls ``print(`` is what that print shows
  (``print(balance)  # 100 credits available (0 reserved, 100 total)``);
- bash: a comment line ``# → text`` right after a command is a line that command prints.

In a claim, ``...`` or ``…`` stands for any text, and a file size (``324.2 KB``) for any size. A claim matches
a whole printed line; the claims of one block are found in the output in their order.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).parents[2]
LANGUAGES = ("python", "bash")
NO_TEST = re.compile(r"^\s*<!--\s*no-test:\s*(?P<reason>.*?)\s*-->\s*$")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+|~~~+)\s*(?P<lang>[\w+-]*)")
PRINT_CLAIM = re.compile(r"\bprint\(.*?\)\s*#\s?(?P<claim>.+)$")
BASH_CLAIM = re.compile(r"^#\s*→\s?(?P<claim>.+)$")
SIZE = re.compile(r"\d+(?:\.\d+)? (?:KB|MB)")
"""A file size: the only number normalised. The renderer's x264 output differs by a few hundred bytes
between ffmpeg builds, so a stated size matches any size."""


@dataclass(frozen=True)
class Command:
    """One bash command (continuation lines joined) and the lines it is said to print."""

    line: str
    claims: tuple[str, ...] = ()


@dataclass(frozen=True)
class Block:
    path: Path
    lineno: int
    lang: str
    code: str
    skip_reason: str | None = None
    claims: tuple[str, ...] = field(default=())

    @property
    def is_cell(self) -> bool:
        """A python block with ``await`` at the top level: a notebook cell, not a script."""
        try:
            compile(self.code, str(self.path), "exec")
        except SyntaxError:
            try:
                compile(self.code, str(self.path), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            except SyntaxError:
                return False  # not Python either way: running it as a script reports the error
            return True
        return False

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT).as_posix()}:{self.lineno}"

    def commands(self) -> list[Command]:
        """The bash block's commands, each with the claims that follow it."""
        commands: list[Command] = []
        pending = ""
        for raw in self.code.splitlines():
            line = raw.strip()
            if pending:
                line = f"{pending} {line}"
                pending = ""
            if line.endswith("\\"):
                pending = line[:-1].rstrip()
                continue
            claim = BASH_CLAIM.match(line)
            if claim and commands:
                last = commands[-1]
                commands[-1] = Command(last.line, (*last.claims, claim["claim"].strip()))
            elif line and not line.startswith("#"):
                commands.append(Command(line))
        return commands


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]


def blocks_of(path: Path) -> list[Block]:
    """Every fenced block of a Markdown file in a runnable language, with its no-test reason if any."""
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence, lang = opening["indent"], opening["fence"], opening["lang"]
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i].lstrip())
            i += 1
        i += 1
        if lang not in LANGUAGES:
            continue
        before = NO_TEST.match(lines[start - 1]) if start else None
        code = "\n".join(body) + "\n"
        claims = tuple(m["claim"].strip() for m in map(PRINT_CLAIM.search, body) if m)
        if lang != "python":
            claims = ()
        found.append(Block(path, start + 1, lang, code, before["reason"] if before else None, claims))
    return found


def all_blocks() -> list[Block]:
    return [block for path in markdown_files() for block in blocks_of(path)]


def orphan_no_tests() -> list[str]:
    """`no-test` comments that are not right before a fence (they would silently protect nothing)."""
    orphans: list[str] = []
    for path in markdown_files():
        lines = path.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines):
            if NO_TEST.match(line) and (n + 1 >= len(lines) or not FENCE.match(lines[n + 1])):
                orphans.append(f"{path.relative_to(ROOT)}:{n + 1}")
    return orphans


def claim_pattern(claim: str) -> re.Pattern[str]:
    """A claim as a regular expression over one printed line: `...`/`…` is any text, a size any size."""
    parts = re.split(r"(\.\.\.|…|" + SIZE.pattern + ")", claim)
    any_size = r"\d+(?:\.\d+)? (?:KB|MB)"
    regex = "".join(
        ".*" if part in ("...", "…") else any_size if SIZE.fullmatch(part) else re.escape(part)
        for part in parts
    )
    return re.compile(regex)


def unmatched_claims(claims: tuple[str, ...], output: str) -> list[str]:
    """The claims not found, in order, among the output's lines (an empty list when all are true)."""
    lines = [line.rstrip() for line in output.splitlines()]
    missing: list[str] = []
    at = 0
    for claim in claims:
        pattern = claim_pattern(claim)
        for n in range(at, len(lines)):
            if pattern.fullmatch(lines[n].strip()):
                at = n + 1
                break
        else:
            missing.append(claim)
    return missing
