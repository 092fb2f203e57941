"""Uploads: multipart streamed to disk, probing, 4001/4002, URL uploads from our CDN only, bounded memory."""

from __future__ import annotations

import re
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nemovideo.emulator import Emulator, serve

from ._helpers import api, login, state

pytestmark = pytest.mark.anyio


def _url(sid: str) -> str:
    return f"/api/upload-video/nemo_agent/me/{sid}"


async def test_multipart_upload_probes_and_lists(nemo_emulator: Emulator, media_dir: Path) -> None:
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        files = [
            ("files", ("clip.mp4", (media_dir / "clip.mp4").read_bytes(), "video/mp4")),
            ("files", ("still.png", (media_dir / "still.png").read_bytes(), "image/png")),
            ("files", ("tone.wav", (media_dir / "tone.wav").read_bytes(), "audio/wav")),
        ]
        r = await c.post(_url(sid), files=files, headers=headers)
        body = r.json()
        assert body["code"] == 0, body
        assert body["data"]["session_state_applied"] is True
        video, image, audio = body["data"]["files"]
        assert (video["filename"], video["file_type"], video["width"], video["height"]) == (
            "clip.mp4",
            "video",
            320,
            180,
        )
        assert video["duration"] == pytest.approx(2.0, abs=0.1)
        assert video["fps"] == 25
        assert re.fullmatch(r"[0-9a-f]{64}", video["hash"])
        assert (image["file_type"], image["width"], image["height"], image["duration"]) == (
            "image",
            64,
            48,
            None,
        )
        assert audio["file_type"] == "audio"
        assert audio["duration"] == pytest.approx(1.0, abs=0.1)
        assert audio["width"] is None
        st = await state(c, headers, sid)
        assert [v["filename"] for v in st["video_infos"]] == ["clip.mp4", "still.png", "tone.wav"]
        assert set(st["video_analyses"]) == {f["cdn_url"] for f in body["data"]["files"]}
        # The CDN serves the stored bytes, without auth.
        async with api(nemo_emulator) as cdn:
            got = await cdn.get(video["cdn_url"])
        assert got.status_code == 200
        assert got.content == (media_dir / "clip.mp4").read_bytes()
        assert got.headers["content-type"] == "video/mp4"


async def test_unsupported_type_by_extension_and_content_is_4001(
    nemo_emulator: Emulator, media_dir: Path
) -> None:
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        by_ext = await c.post(_url(sid), files={"files": ("notes.txt", b"hello")}, headers=headers)
        by_content = await c.post(
            _url(sid), files={"files": ("fake.mp4", b"<html>not a video</html>" * 10)}, headers=headers
        )
        png_as_mp4 = await c.post(
            _url(sid), files={"files": ("x.mp4", (media_dir / "still.png").read_bytes())}, headers=headers
        )
        st = await state(c, headers, sid)
    for r in (by_ext, by_content, png_as_mp4):
        assert r.status_code == 200
        assert r.json()["code"] == 4001, r.json()
    assert "accepted" in by_ext.json()["msg"]
    assert st["video_infos"] == []


async def test_too_large_is_4002_and_nothing_is_kept(nemo_emulator: Emulator, media_dir: Path) -> None:
    nemo_emulator.configure(max_upload_bytes=10_000)
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        big = (media_dir / "clip.mp4").read_bytes()
        assert len(big) > 10_000
        r = await c.post(_url(sid), files={"files": ("clip.mp4", big)}, headers=headers)
        st = await state(c, headers, sid)
    assert r.json()["code"] == 4002
    assert st["video_infos"] == []
    assert not any((nemo_emulator.ctx.data_dir / "uploads" / sid).iterdir())


async def test_http_transport_statuses_for_upload_codes(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(error_transport="http", max_upload_bytes=10)
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        r4001 = await c.post(_url(sid), files={"files": ("a.txt", b"x")}, headers=headers)
        r4002 = await c.post(
            _url(sid), files={"files": ("a.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100)}, headers=headers
        )
    assert (r4001.status_code, r4001.json()["code"]) == (415, 4001)
    assert (r4002.status_code, r4002.json()["code"]) == (413, 4002)


async def test_bad_upload_requests(nemo_emulator: Emulator, media_dir: Path) -> None:
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        wrong_field = await c.post(_url(sid), files={"file": ("clip.mp4", b"x")}, headers=headers)
        no_type = await c.post(_url(sid), content=b"raw", headers=headers)
        unknown = await c.post(_url("1234567890123456789"), files={"files": ("a.png", b"x")}, headers=headers)
    assert wrong_field.status_code == 422
    assert "'files'" in wrong_field.json()["msg"]
    assert no_type.status_code == 415
    assert unknown.json()["code"] == 1002


async def test_url_upload_only_from_our_cdn(nemo_emulator: Emulator, media_dir: Path) -> None:
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        r = await c.post(
            _url(sid), files={"files": ("clip.mp4", (media_dir / "clip.mp4").read_bytes())}, headers=headers
        )
        cdn_url = r.json()["data"]["files"][0]["cdn_url"]
        ok = await c.post(_url(sid), json={"urls": [cdn_url], "source_type": "url"}, headers=headers)
        foreign = await c.post(
            _url(sid), json={"urls": ["https://example.com/a.mp4"], "source_type": "url"}, headers=headers
        )
        bad_shape = await c.post(_url(sid), json={"url": cdn_url}, headers=headers)
    assert ok.json()["code"] == 0
    assert ok.json()["data"]["files"][0]["width"] == 320
    assert foreign.status_code == 422
    assert "no internet" in foreign.json()["msg"]
    assert nemo_emulator.cdn_url in foreign.json()["msg"]
    assert bad_shape.status_code == 422


def _vm_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


async def test_300_mb_upload_streams_with_bounded_memory(tmp_path: Path, anyio_backend: str) -> None:
    """Peak memory of the whole process (server thread and client) while 300 MB stream in."""
    if anyio_backend == "trio":
        pytest.skip("one backend is enough to measure memory")
    size = 300 * 1024 * 1024
    path = tmp_path / "big.mp4"
    with path.open("wb") as fh:  # an MP4 signature, then a sparse hole
        fh.write(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2")
        fh.truncate(size)
    boundary = "----nemovideo-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    async def body() -> AsyncIterator[bytes]:
        yield head
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                yield chunk
        yield tail

    async with serve(data_dir=tmp_path / "data") as emu, api(emu, timeout=120) as c:
        headers, sid = await login(c)
        tracemalloc.start()
        try:
            Path("/proc/self/clear_refs").write_text("5")  # noqa: ASYNC240 (resets the VmHWM peak)
            rss_before = _vm_kib("VmRSS")
            started = time.monotonic()
            r = await c.post(
                _url(sid),
                content=body(),
                headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            )
            elapsed = time.monotonic() - started
            traced_peak = tracemalloc.get_traced_memory()[1]
            rss_growth = (_vm_kib("VmHWM") - rss_before) * 1024
        finally:
            tracemalloc.stop()
        info = r.json()["data"]["files"][0]
        stored = emu.ctx.data_dir / "uploads" / sid
        assert [p.stat().st_size for p in stored.iterdir()] == [size]
    assert info["size"] == size
    measured = f"{elapsed:.1f} s, RSS +{rss_growth / 2**20:.1f} MiB, traced {traced_peak / 2**20:.1f} MiB"
    assert traced_peak < 32 * 2**20, measured
    assert rss_growth < 64 * 2**20, measured
