"""The gateway's wire page names every route the emulator serves for it, and cites the vendor's files."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.routing import Route, WebSocketRoute

from nemovideo.emulator import Clock, Faults, Settings
from nemovideo.emulator._context import Context
from nemovideo.emulator._gateway import gateway_routes
from nemovideo.emulator._log import RequestLog
from nemovideo.emulator._store import Store

from ._blocks import ROOT

DOCS = ROOT / "docs"


def test_every_gateway_route_is_on_the_page(tmp_path: Path) -> None:
    text = (DOCS / "gateway-wire.md").read_text(encoding="utf-8")
    settings, clock = Settings(), Clock()
    ctx = Context(settings, clock, Faults(), RequestLog(), Store(settings, clock, tmp_path), tmp_path)
    routes = gateway_routes(ctx)
    paths = [
        r.path
        for r in routes
        if isinstance(r, Route | WebSocketRoute) and not r.path.startswith("/_emulator")
    ]
    assert len(paths) >= 13
    missing = [p for p in paths if p.split("{")[0] not in text]
    assert missing == []


def test_the_page_cites_the_vendor_files_and_stands_alone() -> None:
    text = (DOCS / "gateway-wire.md").read_text(encoding="utf-8")
    for path in ("src/core/ws.ts", "src/core/client.ts", "src/core/usage-history.ts", "src/core/render.ts"):
        assert f"`{path}`" in text
    links = re.findall(r"\]\(([^)]+)\)", text)
    assert links
    assert [link for link in links if not (DOCS / link.split("#")[0]).is_file()] == []
    assert not re.search(r"API\.md|shared/", text)
