"""Uploads against the emulator: every kind of input, local checks before any request, streaming, no retry
once the body left."""

from __future__ import annotations

import io
import threading
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import nemovideo
from nemovideo import APIConnectionError, FileTooLargeError, ServerError, UnsupportedFileError
from nemovideo._files import MAX_FILE_SIZE
from nemovideo.emulator import Emulator

from ._media import MP4_HEAD, WAV_HEAD, mp4_like, png, session_id
from .conftest import GATEWAY_KEY, requests_to, twin

pytestmark = pytest.mark.anyio

MB = 1024 * 1024


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


class Pipe(io.RawIOBase):
    """A readable stream that cannot seek, like a pipe."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


async def test_every_kind_of_input(
    either: nemovideo.NemoClient, nemo_emulator: Emulator, tmp_path: Path, api: str
) -> None:
    """In one request on the skill API; one request a file on the gateway."""
    nemo = either
    sid = await session_id(nemo)
    clip = mp4_like(tmp_path / "clip.mp4", 3 * MB)
    (tmp_path / "sound.wav").write_bytes(WAV_HEAD + b"\x00" * 1000)
    progress: list[tuple[int, int]] = []
    with (tmp_path / "sound.wav").open("rb") as sound:
        files = await nemo.uploads.upload(
            sid,
            clip,
            sound,
            ("logo.png", png(16, 12)),
            ("stream.mp4", chunks(MP4_HEAD, b"\x00" * 5000)),
            ("pipe.png", io.BufferedReader(Pipe(png(16, 12)))),
            on_progress=lambda sent, total: progress.append((sent, total)),
        )
    assert [f.filename for f in files] == ["clip.mp4", "sound.wav", "logo.png", "stream.mp4", "pipe.png"]
    assert [f.file_type for f in files] == ["video", "audio", "image", "video", "image"]
    assert all(f.cdn_url and f.cdn_url.startswith(nemo_emulator.cdn_url) for f in files)
    assert (files[2].width, files[2].height) == (16, 12)
    assert (files[4].width, files[4].height) == (16, 12)
    sent = [e for e in nemo_emulator.log if e.endpoint == twin(api, "upload")]
    assert len(sent) == (1 if api == "skill" else 5)
    assert not any("transfer-encoding" in e.headers for e in sent)  # each body's length known up front
    if api == "skill":
        assert all(f.hash for f in files)
        total = int(sent[0].headers["content-length"])
        assert progress[-1] == (total, total)
    assert progress[-1][0] == progress[-1][1] > 3 * MB
    assert [sent for sent, _ in progress] == sorted(sent for sent, _ in progress)
    state = await nemo.state.latest(sid)
    assert [m.filename for m in state.video_infos] == [f.filename for f in files]


def _text_file(tmp_path: Path) -> Any:
    (tmp_path / "t.mp4").write_text("text")
    return (tmp_path / "t.mp4").open("r")


BAD_INPUTS: list[tuple[str, Any, type[Exception], str]] = [
    ("missing", lambda p: p / "nope.mp4", FileNotFoundError, "no such file to upload"),
    ("directory", lambda p: p, IsADirectoryError, "not a regular file"),
    (
        "extension",
        lambda p: _write(p / "notes.txt", b"hello"),
        UnsupportedFileError,
        "'.txt' is not an accepted",
    ),
    ("no extension", lambda p: _write(p / "clip", MP4_HEAD), UnsupportedFileError, "no extension"),
    ("content", lambda p: _write(p / "fake.mp4", png()), UnsupportedFileError, "content is not mp4"),
    ("empty", lambda p: _write(p / "empty.png", b""), UnsupportedFileError, "empty"),
    ("too large", lambda p: mp4_like(p / "big.mp4", 500 * MB + 1), FileTooLargeError, "500 MB"),
    ("stream too large", lambda p: ("s.mp4", chunks(MP4_HEAD, b"\x00" * 600)), FileTooLargeError, "limit"),
    ("bad stream", lambda p: ("s.png", chunks(b"GIF89a" + b"\x00" * 60)), UnsupportedFileError, "not png"),
    ("nameless bytes", lambda p: png(), TypeError, "pass \\(filename, content\\)"),
    ("text mode", _text_file, TypeError, "binary mode"),
]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("case", "make", "error", "message"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
async def test_bad_input_is_rejected_before_any_request(
    either: nemovideo.NemoClient,
    nemo_emulator: Emulator,
    tmp_path: Path,
    case: str,
    make: Any,
    error: type[Exception],
    message: str,
) -> None:
    good = mp4_like(tmp_path / "good.mp4", 1000)
    bad = make(tmp_path)
    limit = 500 if case == "stream too large" else MAX_FILE_SIZE
    try:
        with pytest.raises(error, match=message) as raised:
            await either.uploads.upload("1234567890123456789", good, bad, max_file_size=limit)
    finally:
        if hasattr(bad, "close"):
            bad.close()
    assert nemo_emulator.log == []
    if isinstance(raised.value, UnsupportedFileError):
        assert "mp4, mov, avi" in str(raised.value)


async def test_nothing_to_upload(either: nemovideo.NemoClient, nemo_emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="nothing to upload"):
        await either.uploads.upload("1234567890123456789")
    assert nemo_emulator.log == []


@pytest.mark.parametrize("kind", ["drop_before_headers", "status"])
async def test_not_retried_once_the_body_left(
    either: nemovideo.NemoClient,
    nemo_emulator: Emulator,
    tmp_path: Path,
    waits: list[float],
    kind: str,
    api: str,
) -> None:
    sid = await session_id(either)
    nemo_emulator.faults.add(twin(api, "upload"), kind, count=3)
    with pytest.raises((APIConnectionError, ServerError)) as raised:
        await either.uploads.upload(sid, mp4_like(tmp_path / "a.mp4", 4 * MB))
    assert "may have landed" in str(raised.value)
    if isinstance(raised.value, APIConnectionError):
        assert raised.value.sent
    assert requests_to(nemo_emulator, "upload") == 1


class RefuseFirstUpload(httpx.AsyncHTTPTransport):
    """Fails the first upload as a refused connection would: before any byte of it was sent."""

    refused = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "upload" in request.url.path and not self.refused:
            self.refused += 1
            raise httpx.ConnectError("connection refused")
        return await super().handle_async_request(request)


async def test_a_connect_failure_is_retried_with_a_fresh_body(
    nemo_emulator: Emulator, tmp_path: Path, waits: list[float], api: str
) -> None:
    transport = RefuseFirstUpload()
    key = GATEWAY_KEY if api == "gateway" else None
    async with (
        httpx.AsyncClient(transport=transport) as http,
        nemovideo.NemoClient(api_url=nemo_emulator.url, http_client=http, api_key=key) as nemo,
    ):
        sid = await session_id(nemo)
        [uploaded] = await nemo.uploads.upload(sid, ("a.png", png(16, 16)))
    assert transport.refused == 1
    assert uploaded.width == 16
    assert requests_to(nemo_emulator, "upload") == 1


class RssSampler:
    """Peak resident memory of this process (client and the in-process emulator) while running."""

    def __init__(self) -> None:
        self.peak = self.start = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _rss() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self._rss())

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # heavy: one backend is enough
async def test_a_200_mb_upload_streams_from_disk(
    either: nemovideo.NemoClient, nemo_emulator: Emulator, tmp_path: Path
) -> None:
    """Peak memory growth stays far below the file size: measured over the whole process (the emulator
    runs in a thread of it), as Python allocations (tracemalloc) and as resident memory (VmRSS)."""
    nemo = either
    sid = await session_id(nemo)
    big = mp4_like(tmp_path / "big.mp4", 200 * MB)
    progress: list[int] = []
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        with RssSampler() as rss:
            [uploaded] = await nemo.uploads.upload(
                sid, big, on_progress=lambda sent, total: progress.append(sent)
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    python_growth = peak - base
    rss_growth = rss.peak - rss.start
    assert uploaded.size == 200 * MB
    assert progress[-1] > 200 * MB
    assert python_growth < 50 * MB, f"Python heap grew {python_growth / MB:.1f} MB"
    assert rss_growth < 50 * MB, f"RSS grew {rss_growth / MB:.1f} MB"
