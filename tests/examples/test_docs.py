"""The documentation builds strictly (a broken link, a missing page or a bad reference fails it), and the
API reference has an entry (heading, signature, docstring) for every public name."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import nemovideo

ROOT = Path(__file__).parents[2]
REFERENCE = ROOT / "docs" / "reference"


def test_docs_build_strictly(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs", reason="mkdocs is installed by the docs session, which builds them there")
    pytest.importorskip("mkdocstrings")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    site = tmp_path / "site"
    pages = ("quickstart", "concepts", "cli", "notebooks", "examples", "errors", "wire", "troubleshooting")
    for page in pages:
        assert (site / page / "index.html").is_file(), page
    html = "".join(p.read_text(encoding="utf-8") for p in (site / "reference").glob("*/index.html"))
    headings = set(re.findall(r'<h[2-6] id="([\w.]+)"', html))
    public = {f"nemovideo.{name}" for name in nemovideo.__all__ if name != "__version__"}
    assert public - headings == set()
    methods = {"nemovideo.NemoClient.with_options", "nemovideo.Session.send", "nemovideo.Session.export"}
    assert methods <= headings
    assert 'class="doc-signature' in html  # each entry's signature, on its own line


def test_every_reference_page_is_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = {f"reference/{page.name}" for page in REFERENCE.glob("*.md")}
    assert {page for page in pages if page not in nav} == set()
