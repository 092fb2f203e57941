"""Downloads from a hostile CDN and API: every failure is a ``DownloadError`` that leaves nothing behind, and
an error body on the API's download route is read under the body cap like any other answer."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from nemovideo import DownloadError, RenderJob, RenderStatus

from ._server import HostileServer
from .conftest import DEADLINE, SLACK, ClientFactory, bounded, nothing_left_behind

pytestmark = pytest.mark.anyio

MB = 1024 * 1024


def finished(hostile: HostileServer, case: str) -> RenderJob:
    """A finished job whose video is on the hostile server (its CDN and its API are the same case)."""
    return RenderJob(id="r_hostile", status=RenderStatus.COMPLETED, output_url=f"{hostile.url(case)}/r.mp4")


def leftovers(out: Path) -> list[Path]:
    return list(out.iterdir())


async def download_error(
    client_of: ClientFactory, hostile: HostileServer, case: str, out: Path, read_timeout: float | None = None
) -> DownloadError:
    await anyio.Path(out).mkdir()
    async with client_of(case) as nemo:
        with pytest.raises(DownloadError) as caught:
            await nemo.with_options(timeout=read_timeout).render.download(
                finished(hostile, case), out / "v.mp4"
            )
    assert leftovers(out) == []  # no file, no temporary file
    message = str(caught.value)
    assert ": )" not in message  # every failure says why, even where httpx's exception has no words
    return caught.value


async def test_huge_error_body_on_the_download_route_is_capped(
    client_of: ClientFactory, hostile: HostileServer, tmp_path: Path
) -> None:
    with bounded(3.0):
        error = await download_error(client_of, hostile, "huge-json", tmp_path / "out")
    assert "answered JSON, not a video" in str(error)  # the CDN's answer, never saved as the video
    assert "max_body_size" in str(error)  # the API route's, refused at the cap
    assert hostile.sent["huge-json"] < 64 * MB


async def test_huge_error_page_on_the_download_route_is_capped(
    client_of: ClientFactory, hostile: HostileServer, tmp_path: Path
) -> None:
    with bounded(3.0):
        error = await download_error(client_of, hostile, "huge-html-500", tmp_path / "out")
    assert "HTTP 500" in str(error)  # the CDN's answer
    assert "max_body_size" in str(error)  # the API route's error page, refused at the cap
    assert hostile.sent["huge-html-500"] < 64 * MB


@pytest.mark.parametrize("case", ["reset-mid-body", "half-close", "length-long-close", "html-500"])
async def test_broken_downloads_leave_nothing(
    client_of: ClientFactory, hostile: HostileServer, tmp_path: Path, case: str
) -> None:
    with bounded(3.0):
        error = await download_error(client_of, hostile, case, tmp_path / "out")
    assert "could not download render r_hostile" in str(error)
    assert "Nothing was saved" in str(error)


async def test_silent_cdn_and_api_end_within_their_timeouts(
    client_of: ClientFactory, hostile: HostileServer, tmp_path: Path
) -> None:
    with bounded(1.0 + DEADLINE + 2 * SLACK):
        error = await download_error(client_of, hostile, "silent", tmp_path / "out", read_timeout=1.0)
    assert "ReadTimeout" in str(error)  # the CDN: no byte for the read timeout
    assert "timed out" in str(error)  # the API route, the same


RATE, WINDOW = 10_000, 0.5
"""A pace floor the trickle (20 bytes/s after its first 64 KB) falls under within one window."""


async def test_trickling_cdn_gives_up_keeps_its_bytes_and_the_next_call_resumes(
    client_of: ClientFactory, hostile: HostileServer, tmp_path: Path
) -> None:
    from ._cases import FAST_PART, VIDEO, VIDEO_ETAG

    out = tmp_path / "out"
    await anyio.Path(out).mkdir()
    async with client_of("cdn-trickle") as base:
        nemo = base.with_options(min_download_rate=RATE, download_rate_window=WINDOW)
        with bounded(WINDOW + 2 * SLACK), pytest.raises(DownloadError) as caught:
            await nemo.render.download(finished(hostile, "cdn-trickle"), out / "v.mp4")
        error = caught.value
        assert error.setting == "min_download_rate"
        assert "min_download_rate=10000" in str(error)
        assert "download_rate_window=0.5" in str(error)
        assert "the next download to" in str(error)
        assert "resumes" in str(error)
        assert error.partial is not None
        assert error.partial.parent == out
        kept = error.partial.stat().st_size
        assert FAST_PART <= kept < len(VIDEO)
        assert not (out / "v.mp4").exists()
        assert hostile.requests["cdn-trickle"] == 1  # given up, not retried on the API's route

        with bounded(3.0):
            saved = await nemo.render.download(finished(hostile, "cdn-trickle"), out / "v.mp4")
    assert saved.read_bytes() == VIDEO
    assert leftovers(out) == [saved]  # the kept bytes and their notes were taken over
    resumed = hostile.seen["cdn-trickle"][-1].headers
    assert resumed["range"] == f"bytes={kept}-"
    assert resumed["if-range"] == VIDEO_ETAG


async def test_trickling_cdn_that_cannot_resume_keeps_nothing(
    client_of: ClientFactory, hostile: HostileServer, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    await anyio.Path(out).mkdir()
    async with client_of("cdn-trickle-no-ranges") as base:
        nemo = base.with_options(min_download_rate=RATE, download_rate_window=WINDOW)
        with bounded(WINDOW + 2 * SLACK), pytest.raises(DownloadError) as caught:
            await nemo.render.download(finished(hostile, "cdn-trickle-no-ranges"), out / "v.mp4")
    assert caught.value.setting == "min_download_rate"
    assert caught.value.partial is None
    assert "cannot resume it, so nothing was kept" in str(caught.value)
    assert leftovers(out) == []


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("encoding", ["br", "zstd"])
async def test_a_corrupt_brotli_or_zstd_video_leaves_nothing_open(
    client_of: ClientFactory, hostile: HostileServer, tmp_path: Path, encoding: str
) -> None:
    pytest.importorskip("brotli" if encoding == "br" else "zstandard")
    with nothing_left_behind(), bounded(3.0):
        error = await download_error(client_of, hostile, f"cdn-bad-{encoding}", tmp_path / "out")
    assert "the body's encoding is corrupt" in str(error)
    assert "Nothing was saved" in str(error)


async def test_bytes_kept_from_another_file_are_not_resumed(
    client_of: ClientFactory, hostile: HostileServer, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    await anyio.Path(out).mkdir()
    other = RenderJob(
        id="r_other", status=RenderStatus.COMPLETED, output_url=f"{hostile.url('cdn-trickle')}/other.mp4"
    )
    async with client_of("cdn-trickle") as base:
        nemo = base.with_options(min_download_rate=RATE, download_rate_window=WINDOW)
        with pytest.raises(DownloadError):
            await nemo.render.download(finished(hostile, "cdn-trickle"), out / "v.mp4")
        with bounded(WINDOW + 2 * SLACK), pytest.raises(DownloadError) as caught:
            await nemo.render.download(other, out / "v.mp4")  # the same target, another video
    second = hostile.seen["cdn-trickle"][-1]
    assert second.path.endswith("/other.mp4")
    assert "range" not in second.headers  # started over: the kept bytes were another file's
    assert caught.value.partial is not None
    assert sorted(p.name for p in leftovers(out)) == [".v.mp4.part", ".v.mp4.part.json"]
