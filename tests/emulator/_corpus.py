"""The agent corpus: the requests in agent_corpus.json, plus every prompt the project shows people (README,
docs, examples, the notebook, the CLI's --help texts and the agent's own help texts), collected afresh on each
run so they cannot drift; and the check of a timeline against a case's expected facts."""

from __future__ import annotations

import ast
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).with_name("agent_corpus.json")
ROUTER_WORDS = {
    "export",
    "导出",
    "download",
    "credits",
    "积分",
    "balance",
    "status",
    "状态",
    "show tracks",
    "quit",
}
_ROUTER_PREFIX = ("upload ", "上传 ", "exit")
_FLAGS = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


@dataclass
class Case:
    intent: str
    lang: str
    setup: str
    say: str
    expect: dict[str, Any]
    source: str = "corpus"


@dataclass
class Corpus:
    setups: dict[str, dict[str, Any]]
    cases: list[Case] = field(default_factory=list)


def load() -> Corpus:
    data = json.loads(CORPUS.read_text(encoding="utf-8"))
    return Corpus(data["setups"], [Case(**c) for c in data["cases"]])


# -- collection ------------------------------------------------------------------------------------------


def _strings(node: ast.AST, names: dict[str, list[str]]) -> list[str]:
    """The string values an expression can have: a literal, a name bound to literals, a list of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Name):
        return names.get(node.id, [])
    if isinstance(node, (ast.List, ast.Tuple)):
        return [s for elt in node.elts for s in _strings(elt, names)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [a + b for a in _strings(node.left, names) for b in _strings(node.right, names)]
    return []


def _from_python(source: str) -> list[str]:
    """Messages passed to `<session>.send(...)`, resolving module constants and `for x in CONSTANT` loops."""
    try:
        tree = compile(source, "<prompt>", "exec", flags=_FLAGS)
    except SyntaxError:
        return re.findall(r"""\.send\(\s*["']([^"'\n]{4,})["']""", source)
    names: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            values = _strings(node.value, names)
            for target in node.targets:
                if isinstance(target, ast.Name) and values:
                    names[target.id] = values
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            values = _strings(node.iter, names)
            if isinstance(node.iter, ast.Call) and node.iter.args:  # enumerate(STEPS, 1)
                values = _strings(node.iter.args[0], names)
            for bound in ast.walk(node.target):
                if isinstance(bound, ast.Name) and values:
                    names.setdefault(bound.id, values)
    found: list[str] = []
    for node in ast.walk(tree):
        sends = (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "send"
        )
        if sends and isinstance(node, ast.Call) and node.args:
            found += _strings(node.args[0], names)
    return found


def _from_shell(text: str) -> list[str]:
    """`nemovideo generate "<prompt>" [--music]` lines (with `\\` continuations) and `you> ...` chat lines."""
    from nemovideo._cli._app import request_text

    found: list[str] = []
    joined = re.sub(r"\\\n\s*", " ", text)
    for line in joined.splitlines():
        line = line.strip().removeprefix("$ ")
        if line.startswith("you> "):
            said = line[5:].strip()
            if said and said.lower() not in ROUTER_WORDS and not said.lower().startswith(_ROUTER_PREFIX):
                found.append(said)
            continue
        if "nemovideo generate" not in line:
            continue
        try:
            words = shlex.split(line[line.index("nemovideo generate") :].split("|")[0])
        except ValueError:
            continue
        args = words[2:]
        prompt = next(
            (
                w
                for i, w in enumerate(args)
                if not w.startswith("-") and (i == 0 or not _takes_value(args[i - 1]))
            ),
            None,
        )
        if prompt:
            found.append(request_text(prompt, None, "--music" in args))
    return found


def _takes_value(option: str) -> bool:
    return option in ("--script", "-s", "--file", "-f", "--output", "-o", "--quality", "-q", "--language")


def _from_markdown(text: str) -> list[str]:
    found: list[str] = []
    for m in re.finditer(r"```(\w*)[^\n]*\n(.*?)```", text, re.S):
        lang, body = m[1].lower(), m[2]
        if lang in ("python", "py", "pycon"):
            found += _from_python(body)
        elif lang in ("bash", "sh", "console", "shell", "text", ""):
            found += _from_shell(body)
    outside = re.sub(r"```.*?```", "", text, flags=re.S)
    found += re.findall(r"""\.send\(\s*["']([^"'\n]{4,})["']\s*\)""", outside)
    found += _from_shell("\n".join(re.findall(r"`(nemovideo generate [^`]+)`", outside)))
    return found


def _from_notebook(path: Path) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    code = [c for c in cells if c.get("cell_type") == "code"]
    found: list[str] = []
    for cell in code:
        source = "".join(cell.get("source", []))
        found += _from_python(
            "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        )
    return found


def _quoted_examples(text: str) -> list[str]:
    """Example requests quoted in a help text ("try: "..."", 'e.g. "..."')."""
    return [
        q.strip()
        for q in re.findall(r"[\"“]([^\"“”]{6,}?)[\"”]", text)
        if len(q.split()) >= 2 or not q.isascii()
    ]


def _from_cli_help() -> list[str]:
    """The quoted examples of `nemovideo --help` and of each command's --help, as the CLI would send them."""
    from typer.testing import CliRunner

    from nemovideo._cli._app import app, request_text

    runner = CliRunner(env={"COLUMNS": "400", "NO_COLOR": "1", "TERM": "dumb"})
    names = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    found: list[str] = []
    for name in ["", *names]:
        result = runner.invoke(app, [name, "--help"] if name else ["--help"])
        flat = re.sub(r"[\s│|]+", " ", result.output)
        for example in _quoted_examples(flat):
            found.append(request_text(example) if name == "generate" else example)
    return found


def _from_agent_help() -> list[str]:
    from nemovideo.emulator.agent import _replies

    texts = [*_replies.HELP.values(), *_replies.NEED_DRAFT.values()]
    texts += [s for pair in _replies.SUGGEST.values() for s in pair]
    found = []
    for text in texts:
        found += [q for q in re.findall(r"[\"“]([^\"“”]{4,}?)[\"”]", text) if any(c.isalnum() for c in q)]
    return found


def collected() -> list[Case]:
    """Every prompt shown to people, each with the facts its own words promise."""
    sources: list[tuple[str, list[str]]] = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        sources.append((path.relative_to(ROOT).as_posix(), _from_markdown(path.read_text(encoding="utf-8"))))
    for path in sorted((ROOT / "examples").glob("*.py")):
        sources.append((path.relative_to(ROOT).as_posix(), _from_python(path.read_text(encoding="utf-8"))))
    for path in sorted((ROOT / "examples").glob("*.ipynb")):
        sources.append((path.relative_to(ROOT).as_posix(), _from_notebook(path)))
    sources.append(("nemovideo --help", _from_cli_help()))
    sources.append(("agent help", _from_agent_help()))
    cases: list[Case] = []
    seen: set[str] = set()
    for source, prompts in sources:
        for prompt in prompts:
            prompt = prompt.strip()
            if not prompt or prompt in seen or re.fullmatch(r"[\W_]*", prompt):
                continue
            seen.add(prompt)
            cases.append(promised(prompt, source))
    return cases


def promised(prompt: str, source: str) -> Case:
    """A shown prompt as a case: what its words say, read plainly (not by the agent's code)."""
    head = re.split(r"(?<!\d):(?!\d)|：", prompt, maxsplit=1)[0].lower()
    expect: dict[str, Any] = {}
    length = r"(?<!for )(?<!at )(?<!第)(?<!显示)(?<!\d)(\d+(?:\.\d+)?)\s*-?\s*(?:seconds?|secs?|s\b|秒)"
    if m := re.search(length, head):
        expect["d"] = float(m[1])
    if re.search(r"\b(?:no|without)\s+(?:background\s+)?music|不要音乐|去掉|remove", head):
        expect["music"] = False
    elif re.search(r"music|soundtrack|音乐|配乐", head) and not re.search(
        r"volume|音量|quieter|louder|小|大", head
    ):
        expect["music"] = True
    if m := re.search(r"(\d+)\s*%", head):
        expect["volume"] = int(m[1])
    for aspect, words in (
        ("9:16", r"9:16|vertical|portrait|竖屏"),
        ("1:1", r"1:1|square|方形"),
        ("16:9", r"16:9|landscape|横屏"),
    ):
        if re.search(words, head):
            expect["aspect"] = aspect
    if m := re.search(r"""(?:title|标题)\D{0,12}?['"“「]([^'"”」]+)['"”」]""", prompt, re.I):
        expect["title"] = m[1]
    if re.search(r"upload|footage|clips?\b|上传", head):
        expect["media"] = True
    asks = bool(re.search(r"^\s*(?:what|how|is|does)\b|[?？]\s*$", prompt.lower()))
    if asks:
        expect = {"same": True}
    intent = "shown:" + source
    generates = re.search(r"\b(?:generate|create|produce|make (?:a|an|me)\b)|生成|制作", head)
    setup = (
        ("uploads" if expect.get("media") else "new")
        if generates
        else ("base_uploads" if expect.get("media") else "base")
    )
    return Case(
        intent, "zh" if re.search(r"[\u3400-\u9fff]", prompt) else "en", setup, prompt, expect, source
    )


# -- the check -------------------------------------------------------------------------------------------


def _texts(draft: dict[str, Any]) -> str:
    return " ".join(str(seg.get("text", "")) for t in draft.get("t", []) for seg in t.get("sg", [])).lower()


def _music(draft: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s for t in draft.get("t", []) if t.get("tt") == 1 for s in t.get("sg", []) if s.get("kind") == "music"
    ]


def misses(expect: dict[str, Any], before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What in the timeline `after` differs from the facts expected (empty: all well)."""
    out: list[str] = []
    if expect.get("same"):
        if after != before:
            out.append("the timeline changed")
        return out
    if expect.get("ready", True) and not after["draft"].get("t"):
        return ["the timeline is empty"]
    draft = after["draft"]
    if "d" in expect and abs(draft["d"] / 1000 - expect["d"]) > expect["d"] * 0.1:
        out.append(f"duration {draft['d'] / 1000:g} s, expected {expect['d']:g} s")
    if "aspect" in expect and after["canvas_config"].get("aspect") != expect["aspect"]:
        out.append(f"aspect {after['canvas_config'].get('aspect')}, expected {expect['aspect']}")
    music = _music(draft)
    if "music" in expect and bool(music) != expect["music"]:
        out.append(f"music {'on' if music else 'off'}, expected {'on' if expect['music'] else 'off'}")
    if "style" in expect and (not music or music[0].get("style") != expect["style"]):
        out.append(f"music style {music[0].get('style') if music else None}, expected {expect['style']}")
    if "volume" in expect and (not music or music[0].get("volume") != expect["volume"]):
        out.append(f"volume {music[0].get('volume') if music else None}, expected {expect['volume']}")
    if "vol" in expect:
        was = _music(before["draft"])
        old = was[0].get("volume") if was else None
        new = music[0].get("volume") if music else None
        if old is None or new is None or (new > old) != (expect["vol"] == "up") or new == old:
            out.append(f"volume {old} → {new}, expected {expect['vol']}")
    if "title" in expect and expect["title"].lower() not in str(draft["m"].get("title", "")).lower():
        out.append(f"title {draft['m'].get('title')!r}, expected {expect['title']!r}")
    for word in expect.get("words", []):
        if word.lower() not in _texts(draft):
            out.append(f"{word!r} not in the timeline")
    if "text_at" in expect:
        text, at = expect["text_at"]
        starts = [s["start"] for t in draft["t"] for s in t.get("sg", []) if s.get("text") == text]
        if not starts or abs(starts[0] - at * 1000) > 100:
            out.append(f"text {text!r} starts at {starts}, expected {at} s")
    if expect.get("no_title") and (
        draft["m"].get("title") or any(t.get("m", {}).get("name") == "Title" for t in draft["t"])
    ):
        out.append(f"a title {draft['m'].get('title')!r} is on the timeline, expected none")
    if expect.get("media") and not any(
        s.get("kind") in ("clip", "image") for t in draft["t"] for s in t.get("sg", [])
    ):
        out.append("the uploaded media are not on the video track")
    if not expect and after == before:
        out.append("nothing changed")
    return out
