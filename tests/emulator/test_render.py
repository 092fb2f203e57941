"""Render jobs: validation, 402/409, the life cycle (manual progression), cancel, poll shapes, a real MP4."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from nemovideo.emulator import Emulator
from nemovideo.emulator._media import ffmpeg_exe, parse_ffmpeg_info

from ._helpers import ATTRIBUTION, api, login

pytestmark = pytest.mark.anyio
START = "/api/render/proxy/lambda"


def small_draft(src: str | None = None) -> dict[str, Any]:
    video: dict[str, Any] = {"id": "seg_1", "kind": "scene", "name": "intro", "start": 0, "end": 2000,
                             "text": "Hello", "bg": "#1e3a8a", "bg2": "#9333ea"}  # fmt: skip
    if src is not None:
        video = {"id": "seg_1", "kind": "clip", "name": "clip", "start": 0, "end": 2000, "src": src, "in": 0}
    return {
        "d": 2000,
        "m": {"title": "Test", "width": 320, "height": 180, "fps": 25, "aspect": "16:9"},
        "t": [
            {"tt": 0, "m": {"name": "Video"}, "sg": [video]},
            {"tt": 1, "m": {"name": "BGM"}, "sg": [{"id": "seg_2", "kind": "music", "name": "Lo-fi",
              "start": 0, "end": 2000, "style": "lofi", "seed": 7, "volume": 35, "fade_in": 200,
              "fade_out": 500}]},
            {"tt": 7, "m": {"name": "Title"}, "sg": [{"id": "seg_3", "kind": "text", "name": "Hi", "start": 0,
              "end": 1000, "text": "Hi", "position": "center"}]},
        ],
    }  # fmt: skip


def render_body(sid: str, draft: dict[str, Any], rid: str | None = None) -> dict[str, Any]:
    return {"id": rid or f"render_{uuid.uuid4().hex}", "sessionId": sid, "draft": draft,
            "output": {"format": "mp4", "quality": "draft"}}  # fmt: skip


async def test_render_start_checks(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(job_progression="manual")
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        bare = {"Authorization": headers["Authorization"]}
        no_attr = await c.post(START, json=render_body(sid, small_draft()), headers=bare)
        empty = await c.post(
            START, json=render_body(sid, {"t": [{"tt": 0, "sg": []}], "d": 0}), headers=headers
        )
        snake = await c.post(
            START, json={"id": "render_1", "session_id": sid, "draft": small_draft()}, headers=headers
        )
        no_id = await c.post(START, json={"sessionId": sid, "draft": small_draft()}, headers=headers)
        bad_quality = await c.post(
            START, json={**render_body(sid, small_draft()), "output": {"quality": "ultra"}}, headers=headers
        )
        unknown = await c.post(START, json=render_body("1234567890123456789", small_draft()), headers=headers)
        unauth = await c.post(
            START, json=render_body(sid, small_draft()), headers={**ATTRIBUTION, "Authorization": "Bearer x"}
        )
        first = await c.post(START, json=render_body(sid, small_draft(), "render_dup"), headers=headers)
        dup = await c.post(START, json=render_body(sid, small_draft(), "render_dup"), headers=headers)
    assert no_attr.status_code == 402
    assert no_attr.json()["success"] is False
    assert no_attr.json()["code"] == 402
    assert "x-skill-source" in no_attr.json()["error"]
    for r in (empty, snake, no_id, bad_quality):
        assert r.status_code == 400, r.text
        assert r.json()["success"] is False
    assert "nothing to export" in empty.json()["error"]
    assert "sessionId" in snake.json()["error"]
    assert unknown.json()["code"] == 1002
    assert unauth.json()["code"] == 1001
    assert first.json() == {"success": True, "data": {"id": "render_dup", "status": "pending", "progress": 5}}
    assert dup.status_code == 409
    assert dup.json() == {"success": False, "error": "duplicate render id: render_dup"}
    starts = [e for e in nemo_emulator.log if e.endpoint == "render_start"]
    assert [e.render_id for e in starts][-2:] == ["render_dup", "render_dup"]


async def _poll(c: httpx.AsyncClient, headers: dict[str, str], rid: str) -> dict[str, Any]:
    r = await c.get(f"{START}/{rid}", headers=headers)
    return dict(r.json())


async def test_manual_life_cycle_and_cancel(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(job_progression="manual")
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        await c.post(START, json=render_body(sid, small_draft(), "render_a"), headers=headers)
        assert (await _poll(c, headers, "render_a"))["data"]["status"] == "pending"
        assert nemo_emulator.step_render("render_a") in ("pending", "processing")
        with anyio.fail_after(5):
            while (await _poll(c, headers, "render_a"))["data"]["status"] != "processing":  # noqa: ASYNC110
                await anyio.sleep(0.02)
        cancel = await c.post(f"{START}/render_a/cancel", headers=headers)
        assert cancel.json()["data"]["status"] == "failed"
        data = (await _poll(c, headers, "render_a"))["data"]
        assert (data["status"], data["error"]) == ("failed", "cancelled")
        again = await c.post(f"{START}/render_a/cancel", headers=headers)
        assert again.status_code == 409
        missing = await c.get(f"{START}/render_nope", headers=headers)
        assert missing.status_code == 404
        download = await c.get("/api/render/proxy/render_a/download", headers=headers)
        assert download.status_code == 409


async def test_failed_render_reports_an_error(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(job_progression="immediate", poll_shape="output")
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        draft = small_draft(src="https://elsewhere.example/clip.mp4")
        await c.post(START, json=render_body(sid, draft, "render_bad"), headers=headers)
        body = await _poll(c, headers, "render_bad")
    assert body["taskId"] == "render_bad"
    assert body["status"] == "failed"
    assert body["error"]
    assert "output" not in body


def _probe(path: Path) -> str:
    out = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True, check=False
    )
    return out.stderr


async def test_real_render_served_by_the_cdn(
    nemo_emulator: Emulator, media_dir: Path, tmp_path: Path
) -> None:
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        up = await c.post(
            f"/api/upload-video/nemo_agent/me/{sid}",
            files={"files": ("clip.mp4", (media_dir / "clip.mp4").read_bytes())},
            headers=headers,
        )
        src = up.json()["data"]["files"][0]["cdn_url"]
        start = await c.post(START, json=render_body(sid, small_draft(src), "render_real"), headers=headers)
        assert start.json()["success"] is True
        progress = []
        with anyio.fail_after(60):
            while (data := (await _poll(c, headers, "render_real"))["data"])["status"] not in (
                "completed",
                "failed",
            ):
                progress.append(data["progress"])
                await anyio.sleep(0.05)
        assert data["status"] == "completed", data
        assert data["progress"] == 100
        assert data["outputUrl"] == f"{nemo_emulator.cdn_url}/renders/render_real.mp4"
        assert data["completedAt"] >= data["createdAt"]
        assert progress == sorted(progress)
        async with httpx.AsyncClient() as cdn:
            video = await cdn.get(data["outputUrl"])
            ranged = await cdn.get(data["outputUrl"], headers={"Range": "bytes=0-99"})
        fallback = await c.get("/api/render/proxy/render_real/download", headers=headers)
        nemo_emulator.configure(poll_shape="output")
        other = await _poll(c, headers, "render_real")
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    assert int(video.headers["content-length"]) == len(video.content)
    assert ranged.status_code == 206
    assert len(ranged.content) == 100
    assert fallback.content == video.content
    out = tmp_path / "out.mp4"
    out.write_bytes(video.content)
    info = _probe(out)
    probe = parse_ffmpeg_info(info)
    assert "h264" in info
    assert "aac" in info
    assert (probe.width, probe.height) == (320, 180)
    assert probe.duration == pytest.approx(2.0, abs=0.1)
    assert other["output"] == {
        "url": data["outputUrl"],
        "duration": pytest.approx(2.0, abs=0.1),
        "size": len(video.content),
    }
    cdn_entries = [e for e in nemo_emulator.log if e.origin == "cdn"]
    assert cdn_entries
    assert not any(e.has_authorization for e in cdn_entries)
