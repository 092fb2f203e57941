"""The MCP server through the real protocol: tools, a generation, an export probed as an MP4, resources,
documented errors as tool errors, and cancellation mid-turn and mid-export checked against the emulator's
request log."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp.client.session import ClientSession

import nemovideo.mcp
from nemovideo import ACCEPTED_FORMATS
from nemovideo.emulator import Emulator

from ..cli._probe import probe
from ..sdk._media import png
from .conftest import SCRIPT, data, error_text

PACKAGE = Path(nemovideo.mcp.__file__).parent
VENDOR_NAMES = {
    "get_credits",
    "create_video_project",
    "get_video_project",
    "upload_asset",
    "render_video",
    "get_render_status",
    "delegate_to_nemo_agent",
    "get_nemo_agent_turn",
    "cancel_nemo_agent_turn",
}
REQUEST = "Generate a 4-second video about a lighthouse"


def test_uses_public_names_only() -> None:
    """The server is built on what any front end can import: no ``nemovideo._*`` module."""
    private = []
    for source in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level > 1:
                    private.append(f"{source.name}: from {'.' * node.level}{node.module or ''}")
                names = [node.module or ""] if node.level == 0 else []
            private += [
                f"{source.name}: {name}"
                for name in names
                if name.split(".")[0] == "nemovideo" and any(p.startswith("_") for p in name.split(".")[1:])
            ]
    assert private == []


@pytest.mark.parametrize("command", [[sys.executable, "-m", "nemovideo.mcp"], [str(SCRIPT), "mcp"]])
def test_missing_extra_says_what_to_install(command: list[str]) -> None:
    blocked = "import sys, runpy; sys.modules['mcp'] = None; "
    if command[0] == sys.executable:
        code = blocked + "runpy.run_module('nemovideo.mcp', run_name='__main__')"
    else:
        code = blocked + "sys.argv = ['nemovideo', 'mcp']; from nemovideo._cli import main; main()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert 'pip install --upgrade "nemovideo[mcp]"' in done.stderr
    assert "Traceback" not in done.stderr


def test_plain_nemovideo_mcp_starts_without_the_command_line_stack(tmp_path: Path) -> None:
    """An assistant spawns ``nemovideo mcp`` at its own start: the plain form skips typer and rich."""
    code = (
        "import sys; sys.modules['typer'] = None; sys.modules['rich'] = None; "
        "sys.argv = ['nemovideo', 'mcp']; from nemovideo._cli import main; main()"
    )
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(initialize) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NEMO_CONFIG_DIR": str(tmp_path)},
    )
    answer = json.loads(done.stdout.splitlines()[0])
    assert answer["id"] == 1, done.stderr
    assert answer["result"]["serverInfo"]["name"]


@pytest.mark.anyio
async def test_make_a_video(mcp_session: ClientSession, api: Emulator, tmp_path: Path) -> None:
    tools = {tool.name: tool for tool in (await mcp_session.list_tools()).tools}
    assert set(tools) == set(nemovideo.mcp.TOOLS)
    assert set(tools) >= VENDOR_NAMES
    assert all(tool.description for tool in tools.values())
    assert tools["export_video"].input_schema["required"] == ["session_id", "path"]

    credits = data(await mcp_session.call_tool("get_credits"))
    assert credits["available"] == 10_000
    project = data(await mcp_session.call_tool("create_video_project", {"language": "en"}))
    session_id = project["session_id"]
    assert project["project_url"].endswith(f"?session={session_id}")

    notes: list[tuple[float, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        notes.append((progress, message))

    turn = data(
        await mcp_session.call_tool(
            "delegate_to_nemo_agent",
            {"session_id": session_id, "message": REQUEST},
            progress_callback=on_progress,
        )
    )
    assert turn["reply"]
    assert turn["timeline"].startswith("Timeline (")
    assert "Added a Video track" in turn["changes"]
    assert turn["credits_spent"] == 100
    assert any(message and message.startswith("agent") for _, message in notes)
    assert [entry.message for entry in api.log if entry.endpoint == "run_sse"] == [REQUEST]

    project_now = data(await mcp_session.call_tool("get_video_project", {"session_id": session_id}))
    assert project_now["summary"] == turn["timeline"]
    assert project_now["duration_seconds"] == 4
    assert project_now["tracks"][0]["type"] == "video"
    assert project_now["aspect"] == "16:9"

    text = await mcp_session.read_resource(f"nemovideo://sessions/{session_id}/timeline")
    assert text.contents[0].text == turn["timeline"]  # type: ignore[union-attr]
    picture = await mcp_session.read_resource(f"nemovideo://sessions/{session_id}/timeline.svg")
    assert picture.contents[0].mime_type == "image/svg+xml"
    assert picture.contents[0].text.startswith("<svg")  # type: ignore[union-attr]

    image = tmp_path / "logo.png"
    image.write_bytes(png())
    uploaded = data(
        await mcp_session.call_tool("upload_asset", {"session_id": session_id, "source": str(image)})
    )
    assert [f["filename"] for f in uploaded["files"]] == ["logo.png"]
    media = data(await mcp_session.call_tool("get_video_project", {"session_id": session_id}))["media"]
    assert "logo.png" in [m.get("filename") for m in media]

    notes.clear()
    target = tmp_path / "out" / "lighthouse.mp4"
    target.parent.mkdir()
    saved = data(
        await mcp_session.call_tool(
            "export_video",
            {"session_id": session_id, "path": str(target), "quality": "draft"},
            progress_callback=on_progress,
        )
    )
    assert saved["path"] == str(target)
    assert saved["size"] == target.stat().st_size
    assert saved["credits_left"] == 10_000 - 100
    video = probe(target)
    assert video.duration == pytest.approx(4, abs=0.3)
    assert saved["duration_seconds"] == pytest.approx(video.duration, abs=0.3)
    assert any(message and message.startswith("rendering") for _, message in notes)
    assert any(message and message.startswith("downloading") for _, message in notes)
    status = data(await mcp_session.call_tool("get_render_status", {"render_id": saved["render_id"]}))
    assert status["status"] == "completed"
    assert [e.render_id for e in api.log if e.endpoint == "render_start"] == [saved["render_id"]]


@pytest.mark.anyio
async def test_errors_are_tool_errors_with_the_hint(
    mcp_session: ClientSession, api: Emulator, tmp_path: Path
) -> None:
    api.configure(credits=0)
    session_id = data(await mcp_session.call_tool("create_video_project"))["session_id"]

    no_credits = error_text(
        await mcp_session.call_tool("delegate_to_nemo_agent", {"session_id": session_id, "message": REQUEST})
    )
    assert "credits" in no_credits
    assert "register?bind=" in no_credits  # 2001 for an anonymous token: where to register

    unknown = error_text(await mcp_session.call_tool("get_video_project", {"session_id": "1" * 19}))
    assert "session" in unknown.lower()
    assert "hint:" in unknown

    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a video")
    wrong_type = error_text(
        await mcp_session.call_tool("upload_asset", {"session_id": session_id, "source": str(text_file)})
    )
    assert ACCEPTED_FORMATS[0] in wrong_type  # 4001: the supported types
    missing = error_text(
        await mcp_session.call_tool(
            "upload_asset", {"session_id": session_id, "source": str(tmp_path / "no.mp4")}
        )
    )
    assert "no such file" in missing
    wrong_url = error_text(
        await mcp_session.call_tool(
            "upload_asset", {"session_id": session_id, "source": "https://example.com/notes.txt?x=1"}
        )
    )
    assert "'txt'" in wrong_url
    assert ACCEPTED_FORMATS[-1] in wrong_url
    assert not [e for e in api.log if e.endpoint == "upload"]  # refused before anything was sent

    empty = error_text(
        await mcp_session.call_tool(
            "export_video", {"session_id": session_id, "path": str(tmp_path / "v.mp4")}
        )
    )
    assert "nothing to export" in empty
    nowhere = error_text(
        await mcp_session.call_tool(
            "export_video", {"session_id": session_id, "path": str(tmp_path / "no" / "dir" / "v.mp4")}
        )
    )
    assert "does not exist" in nowhere
    assert not [e for e in api.log if e.endpoint == "render_start"]

    for tool in ("get_nemo_agent_turn", "cancel_nemo_agent_turn"):
        assert "not supported by this API generation" in error_text(
            await mcp_session.call_tool(tool, {"session_id": session_id})
        )
    listing = error_text(await mcp_session.call_tool("list_video_projects"))
    assert "gateway API only" in listing  # the SDK's own words: which API has it, and how to get there
    assert "NEMO_API_KEY" in listing

    tokens = [e.headers.get("authorization", "") for e in api.log]
    assert all(t in ("", "Bearer <redacted>") for t in tokens)
    config = (tmp_path / "server-config").rglob("*")
    secrets = [p.read_text() for p in config if p.is_file()]
    for message in (no_credits, unknown, wrong_type, missing, empty):
        assert not any("nmv_" in message or (s and s in message) for s in secrets)


@pytest.mark.anyio
async def test_cancelled_turn_and_export_leave_the_session_consistent(
    mcp_session: ClientSession, api: Emulator, tmp_path: Path
) -> None:
    api.configure(generation_seconds=3.0)
    session_id = data(await mcp_session.call_tool("create_video_project"))["session_id"]

    async def call_until_progress(tool: str, arguments: dict[str, str], wanted: str) -> None:
        """Call ``tool`` and cancel the call (the client sends its cancel notification) on the first
        progress message starting with ``wanted``."""
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:

                async def on_progress(progress: float, total: float | None, message: str | None) -> None:
                    if message and message.startswith(wanted):
                        tg.cancel_scope.cancel()

                async def call() -> None:
                    await mcp_session.call_tool(tool, arguments, progress_callback=on_progress)
                    raise AssertionError(f"{tool} finished before it was cancelled")

                tg.start_soon(call)

    await call_until_progress(
        "delegate_to_nemo_agent", {"session_id": session_id, "message": REQUEST}, "agent"
    )
    api.configure(generation_seconds=0.5)
    with anyio.fail_after(10):
        while not (await _ready(mcp_session, session_id)):  # noqa: ASYNC110 - polls another process
            await anyio.sleep(0.2)  # the turn goes on at the server; its result lands in the timeline
    assert [e.message for e in api.log if e.endpoint == "run_sse"] == [REQUEST]  # sent once

    api.configure(job_progression="manual")  # the job waits at "pending" until stepped
    target = tmp_path / "cancelled.mp4"
    await call_until_progress("export_video", {"session_id": session_id, "path": str(target)}, "rendering")
    with anyio.fail_after(10):
        while not [e for e in api.log if e.endpoint == "render_cancel"]:  # noqa: ASYNC110 - the emulator's log
            await anyio.sleep(0.05)
    started = [e.render_id or "" for e in api.log if e.endpoint == "render_start"]
    assert len(started) == 1
    assert [e.render_id for e in api.log if e.endpoint == "render_cancel"] == started
    assert api.render_status(started[0])["error"] == "cancelled"
    status = data(await mcp_session.call_tool("get_render_status", {"render_id": started[0]}))
    assert status["cancelled"] is True
    assert status["done"] is True
    await anyio.sleep(0.3)
    assert not [e for e in api.log if e.endpoint in ("render_download", "cdn")]
    assert _names(tmp_path, "cancelled*") == []  # no file, no partial file
    assert len([e for e in api.log if e.endpoint == "render_start"]) == 1  # never a second render
    assert await _ready(mcp_session, session_id)  # the session still answers, its timeline intact


async def _ready(session: ClientSession, session_id: str) -> bool:
    project = data(await session.call_tool("get_video_project", {"session_id": session_id}))
    return bool(project["ready_to_export"])


def _names(folder: Path, pattern: str) -> list[str]:
    return sorted(p.name for p in folder.glob(pattern))
