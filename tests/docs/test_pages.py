"""The pages people look things up in stay complete as the code changes."""

from __future__ import annotations

import re

import nemovideo
from nemovideo._cli._exit import EXIT_CODES, INTERRUPTED, USAGE

from ._blocks import ROOT

DOCS = ROOT / "docs"


def page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_troubleshooting_has_a_section_per_exit_code_and_names_every_error() -> None:
    text = page("troubleshooting.md")
    sections = {int(n) for n in re.findall(r"^## Exit (\d+)", text, re.M)}
    assert sections >= {code for code, _, _ in EXIT_CODES if code != 1} | {INTERRUPTED}
    table = {int(n) for n in re.findall(r"^\| (\d+) \|", text, re.M)}
    assert table == {code for code, _, _ in EXIT_CODES} | {USAGE, INTERRUPTED}
    exported = [getattr(nemovideo, name) for name in nemovideo.__all__]
    errors = [o.__name__ for o in exported if isinstance(o, type) and issubclass(o, nemovideo.NemoError)]
    assert [name for name in errors if f"`{name}`" not in text] == []


def test_the_wire_page_stands_alone() -> None:
    text = page("wire.md")
    links = re.findall(r"\]\(([^)]+)\)", text)
    assert links
    assert [link for link in links if not (DOCS / link.split("#")[0]).is_file()] == []
    assert not re.search(r"API\.md|shared/", text)
    for endpoint in ("/api/auth/anonymous-token", "/run_sse", "/api/render/proxy/lambda", "/api/credits"):
        assert endpoint in text


def test_no_page_refers_to_files_outside_the_repository() -> None:
    outside = {p.name: re.findall(r"\.\./shared|\bAPI\.md\b", page(p.name)) for p in DOCS.glob("*.md")}
    assert {name: refs for name, refs in outside.items() if refs and name != "emulator.md"} == {}


def test_every_page_is_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = [p.relative_to(DOCS).as_posix() for p in DOCS.glob("**/*.md")]
    assert [name for name in pages if f" {name}" not in nav] == []
