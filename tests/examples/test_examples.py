"""Every example runs offline against the emulator, as a reader would run it, and makes a real MP4."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ..cli._probe import probe

EXAMPLES = Path(__file__).parents[2] / "examples"
TIMEOUT = 120


def env() -> dict[str, str]:
    return {**os.environ, "NEMO_EMULATOR_GENERATION_SECONDS": "0.5", "PYTHONUNBUFFERED": "1"}


def run(script: str, *args: str, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--emulator", "--quality", "draft", *args],
        cwd=cwd,
        env=env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def test_quickstart(tmp_path: Path) -> None:
    out = run("quickstart.py", cwd=tmp_path)
    assert "Timeline (3 tracks): 1. Video:" in out
    assert "Credits spent: 100" in out
    assert "Rendering: 100% (completed)" in out
    video = probe(tmp_path / "quickstart.mp4")
    assert abs(video.duration - 10) < 0.5
    assert video.audio


def test_editing(tmp_path: Path) -> None:
    out = run("editing.py", "-o", "edited.mp4", cwd=tmp_path)
    assert out.count("you: ") == 5
    assert "- music Upbeat: volume 35% → 20%" in out
    assert 'Title: "Bakery Days" (0-2s)' in out
    assert "Saved" in out
    assert abs(probe(tmp_path / "edited.mp4").duration - 5) < 0.5


def test_batch_runs_concurrently_within_the_limit(tmp_path: Path) -> None:
    out = run("batch.py", "-o", "videos", "--limit", "2", cwd=tmp_path)
    assert "3 videos:" in out
    running = [line for line in out.splitlines() if "running)" in line]
    assert len(running) == 3
    assert all("of 2 running" in line for line in running)
    # the third starts only after one of the first two saved its video
    lines = out.splitlines()
    third = next(i for i, line in enumerate(lines) if line.startswith("sample3.mp4: started"))
    assert any(": saved " in line for line in lines[:third])
    for n in (1, 2, 3):
        assert abs(probe(tmp_path / "videos" / f"sample{n}-video.mp4").duration - 5) < 0.5


def test_resume_render_in_a_new_process(tmp_path: Path) -> None:
    out = run("resume_render.py", "--id-file", "render.json", "-o", "resumed.mp4", cwd=tmp_path)
    saved = json.loads((tmp_path / "render.json").read_text())
    assert f"[start] render {saved['render_id']} is" in out
    assert f"[resume] waiting for render {saved['render_id']}" in out
    assert "[resume] saved" in out
    assert abs(probe(tmp_path / "resumed.mp4").duration - 5) < 0.5


@pytest.fixture
def web_app(tmp_path: Path) -> Iterator[str]:
    """The web example on a free loopback port; its first line of output is its URL."""
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "web_app.py"), "--emulator", "--port", "0", "--quality", "draft"],
        cwd=tmp_path,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), process.stderr.read() if process.stderr else ""
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            # uvicorn shuts down, then re-raises the signal: the process ends by SIGINT, quietly
            assert process.wait(timeout=20) in (0, -signal.SIGINT)
        finally:
            process.kill()
            _, errors = process.communicate()
        assert "Traceback" not in errors


def test_web_app_streams_the_reply_and_serves_the_video(web_app: str, tmp_path: Path) -> None:
    with httpx.Client(base_url=web_app, timeout=60) as http:
        page = http.get("/")
        assert page.status_code == 200
        assert "<video" in page.text
        assert "<textarea" in page.text
        sid = http.post("/api/sessions").json()["session_id"]
        events: list[tuple[str, dict[str, object]]] = []
        text = "Generate a 4-second video about tea with background music"
        with http.stream("POST", f"/api/sessions/{sid}/messages", json={"text": text}) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            for frame in response.iter_text():
                for block in frame.split("\n\n"):
                    if block.strip():
                        lines = dict(line.split(": ", 1) for line in block.splitlines())
                        events.append((lines["event"], json.loads(lines["data"])))
        kinds = [kind for kind, _ in events]
        assert kinds.count("delta") > 3  # the text arrives in pieces, as the agent writes it
        assert kinds[-1] == "reply"
        reply = events[-1][1]
        assert "BGM" in str(reply["timeline"])
        assert "Export button" not in str(reply["text"])  # GUI talk translated
        exported = http.post(f"/api/sessions/{sid}/export")
        assert exported.status_code == 200, exported.text
        video = http.get(str(exported.json()["url"]))
        assert video.headers["content-type"] == "video/mp4"
        (tmp_path / "web.mp4").write_bytes(video.content)
        assert abs(probe(tmp_path / "web.mp4").duration - 4) < 0.5
        assert http.post("/api/sessions/1/messages", json={}).status_code == 422
        assert http.get("/videos/..%2Fsecret.mp4").status_code == 404
