"""Downloads against the emulator: atomic, never with the token on the CDN, falling back to the API."""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest

import nemovideo
from nemovideo import DownloadError, RenderError, RenderStatus
from nemovideo._download import save
from nemovideo.emulator import Emulator
from nemovideo.resources import render as render_module

from ._media import rendered, session_id, tiny_draft

pytestmark = pytest.mark.anyio


@pytest.fixture
def immediate(nemo_emulator: Emulator) -> Emulator:
    nemo_emulator.configure(job_progression="immediate")
    return nemo_emulator


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty directory to download into."""
    path = tmp_path / "out"
    path.mkdir()
    return path


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def entries(emulator: Emulator, endpoint: str) -> list[str | None]:
    return [e.fault for e in emulator.log if e.endpoint == endpoint]


async def test_download_from_the_cdn_without_the_token(
    either: nemovideo.NemoClient, immediate: Emulator, out: Path
) -> None:
    job = await rendered(either)
    progress: list[tuple[int, int | None]] = []
    saved = await either.render.download(job, out / "a.mp4", on_progress=lambda n, t: progress.append((n, t)))
    assert saved == out / "a.mp4"
    size = saved.stat().st_size
    assert progress[-1] == (size, size)
    assert saved.read_bytes()[4:8] == b"ftyp"
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(saved.stat().st_mode) == 0o666 & ~umask  # the user's file, not a private temp
    [cdn] = [e for e in immediate.log if e.origin == "cdn"]
    assert cdn.status == 200
    assert not cdn.has_authorization
    assert not [h for h in cdn.headers if h.startswith("x-skill-")]
    assert entries(immediate, "render_download") == []
    assert files_in(out) == ["a.mp4"]


async def test_by_id_by_url_and_into_a_directory(
    either: nemovideo.NemoClient, immediate: Emulator, out: Path
) -> None:
    job = await rendered(either)
    assert job.output_url is not None
    by_id = await either.render.download(job.id, out / "by_id.mp4")
    by_url = await either.render.download(job.output_url, out / "by_url.mp4")
    into = await either.render.download(job, out)
    assert into == out / f"{job.id}.mp4"
    assert by_id.read_bytes() == by_url.read_bytes() == into.read_bytes()
    assert not any(e.has_authorization for e in immediate.log if e.origin == "cdn")


async def test_refuses_to_overwrite_before_any_request(
    either: nemovideo.NemoClient, immediate: Emulator, out: Path
) -> None:
    job = await rendered(either)
    target = out / "mine.mp4"
    target.write_bytes(b"precious")
    immediate.clear_log()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        await either.render.download(job, target)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        await either.render.download(job, out / "no" / "such" / "dir.mp4")
    assert immediate.log == []
    assert target.read_bytes() == b"precious"
    await either.render.download(job, target, overwrite=True)
    assert target.read_bytes()[4:8] == b"ftyp"


async def test_a_cdn_download_cut_at_every_resume_falls_back_to_the_api(
    nemo: nemovideo.NemoClient, immediate: Emulator, out: Path
) -> None:
    job = await rendered(nemo)
    immediate.faults.add("cdn", "drop_after_headers", count=None)
    saved = await nemo.render.download(job, out / "a.mp4")
    assert saved.stat().st_size == job_size(immediate, job.id)
    assert entries(immediate, "cdn") == ["drop_after_headers"] * (1 + render_module.MAX_RESUMES)
    [proxy] = [e for e in immediate.log if e.endpoint == "render_download"]
    assert proxy.has_authorization
    assert proxy.status == 200


async def test_a_refused_cdn_falls_back_to_the_api(
    nemo: nemovideo.NemoClient, immediate: Emulator, out: Path
) -> None:
    job = await rendered(nemo)
    immediate.faults.add("cdn", "status", status=503)
    await nemo.render.download(job, out / "a.mp4")
    assert entries(immediate, "render_download") == [None]


async def test_a_cut_download_leaves_no_file(
    either: nemovideo.NemoClient, immediate: Emulator, out: Path
) -> None:
    job = await rendered(either)
    immediate.faults.add("cdn", "drop_after_headers", count=None)
    immediate.faults.add("render_download", "drop_after_headers")
    with pytest.raises(DownloadError, match="the CDN failed") as raised:
        await either.render.download(job, out / "a.mp4")
    assert "Nothing was saved" in str(raised.value)
    assert files_in(out) == []


async def test_a_cancelled_download_leaves_no_file(
    either: nemovideo.NemoClient, immediate: Emulator, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = await rendered(either)
    monkeypatch.setattr("nemovideo._download.CHUNK_SIZE", 4096)
    with anyio.CancelScope() as scope:
        await either.render.download(job, out / "a.mp4", on_progress=lambda n, t: scope.cancel())
    assert scope.cancelled_caught
    assert files_in(out) == []


async def test_an_unfinished_job_is_not_downloaded(
    either: nemovideo.NemoClient, nemo_emulator: Emulator, out: Path
) -> None:
    nemo_emulator.configure(job_progression="manual")
    job = await either.render.start(await session_id(either), tiny_draft())
    with pytest.raises(RenderError, match=r"is pending .*nemo\.render\.wait"):
        await either.render.download(job, out / "a.mp4")
    assert files_in(out) == []


async def test_video_download_after_export(
    either: nemovideo.NemoClient, immediate: Emulator, out: Path
) -> None:
    video = await either.render.export(
        await session_id(either), tiny_draft(), quality="draft", poll_interval=0.05
    )
    assert video.job.status is RenderStatus.COMPLETED
    assert "token" not in repr(video)
    path = await video.download(out / "v.mp4")
    assert video.path == path


async def test_a_short_body_is_refused(out: Path) -> None:
    """The size is checked against Content-Length (a server that lies, or a proxy that truncates)."""

    async def body() -> AsyncIterator[bytes]:
        yield b"x" * 60

    def short(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": "100"}, content=body())

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(short)) as http,
        http.stream("GET", "https://cdn.example/v.mp4") as response,
    ):
        with pytest.raises(DownloadError, match="60 of 100 bytes"):
            await save(response, out / "v.mp4")
    assert files_in(out) == []


def test_default_names_stay_in_their_directory(out: Path) -> None:
    from nemovideo._download import safe_name, target_path

    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("..%2F..%2Fx.mp4") == "x.mp4"
    assert safe_name("..") == "video.mp4"
    assert target_path(out, "../evil.mp4", overwrite=False) == out / "evil.mp4"


def job_size(emulator: Emulator, render_id: str) -> int:
    path = emulator.ctx.store.renders[render_id].output_path
    assert path is not None
    return path.stat().st_size


def test_render_module_paths_are_quoted() -> None:
    assert render_module.job_path("a/b") == "/api/render/proxy/lambda/a%2Fb"
    assert render_module.download_path("a b") == "/api/render/proxy/a%20b/download"


def cdn_log(emulator: Emulator) -> list[tuple[int | None, str | None, str | None]]:
    """(status, Range, If-Range) of each CDN request."""
    return [
        (e.status, e.headers.get("range"), e.headers.get("if-range"))
        for e in emulator.log
        if e.origin == "cdn"
    ]


async def test_a_cut_download_resumes_from_its_bytes(
    either: nemovideo.NemoClient, immediate: Emulator, out: Path
) -> None:
    job = await rendered(either)
    whole = job_size(immediate, job.id)
    immediate.faults.add("cdn", "cut_body", at=10_000)
    progress: list[int] = []
    saved = await either.render.download(job, out / "a.mp4", on_progress=lambda n, t: progress.append(n))
    output = immediate.ctx.store.renders[job.id].output_path
    assert output is not None
    assert saved.read_bytes() == output.read_bytes()
    [(first, no_range, _), (second, ranged, validator)] = cdn_log(immediate)
    assert (first, no_range, second, ranged) == (200, None, 206, "bytes=10000-")
    assert validator is not None
    assert validator.startswith('"')
    assert entries(immediate, "render_download") == []
    assert 10_000 in progress
    assert progress[-1] == whole
    assert files_in(out) == ["a.mp4"]


async def test_a_file_changed_since_the_cut_is_fetched_whole(
    either: nemovideo.NemoClient, immediate: Emulator, out: Path
) -> None:
    job = await rendered(either)
    output = immediate.ctx.store.renders[job.id].output_path
    assert output is not None
    immediate.faults.add("cdn", "cut_body", at=5_000)
    touched: list[bool] = []

    def change_the_file(received: int, total: int | None) -> None:
        if not touched:  # the origin's file changes while the first transfer runs: a new ETag
            touched.append(True)
            later = output.stat().st_mtime + 60
            os.utime(output, (later, later))

    saved = await either.render.download(job, out / "a.mp4", on_progress=change_the_file)
    assert saved.read_bytes() == output.read_bytes()
    assert [status for status, _, _ in cdn_log(immediate)] == [200, 200]  # If-Range failed: sent whole
    assert files_in(out) == ["a.mp4"]


async def test_a_download_cut_every_time_gives_up_and_leaves_nothing(
    either: nemovideo.NemoClient, immediate: Emulator, out: Path
) -> None:
    job = await rendered(either)
    immediate.faults.add("cdn", "drop_before_headers", count=None)
    immediate.faults.add("render_download", "cut_body", at=3_000, count=None)
    with pytest.raises(DownloadError, match="Nothing was saved"):
        await either.render.download(job, out / "a.mp4")
    assert files_in(out) == []


async def test_a_checksum_that_disagrees_is_refused(out: Path) -> None:
    def served(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="}, content=b"x" * 100)

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(served)) as http,
        http.stream("GET", "https://cdn.example/v.mp4") as response,
    ):
        with pytest.raises(DownloadError, match="checksum"):
            await save(response, out / "v.mp4")
    assert files_in(out) == []


async def test_video_duration_comes_from_the_file_the_poll_or_the_draft(
    either: nemovideo.NemoClient, immediate: Emulator, out: Path
) -> None:
    video = await either.render.export(
        await session_id(either), tiny_draft(), quality="draft", poll_interval=0.05
    )
    assert video.duration == pytest.approx(2.0, abs=0.15)
    bare = render_module.Video(
        video.job.model_copy(update={"duration": None}), either.render, draft_duration=7.0
    )
    assert bare.duration == 7.0  # the draft's, when the poll said nothing
    await bare.download(out / "v.mp4")
    assert bare.duration == pytest.approx(2.0, abs=0.15)  # the file's own, once downloaded
    assert render_module.Video(bare.job, either.render).duration is None
