"""Atomic downloads: a file appears at the target path complete, or not at all.

Bytes go to a temporary file beside the target (same directory, so the final rename is atomic), their
count is checked against Content-Length, the file is flushed to disk, then renamed into place. Any failure,
cancellation included, removes the temporary file and leaves the target untouched. A transfer cut
midway resumes from the bytes already in the temporary file (``Range`` with ``If-Range``, so a changed
file is sent whole instead), see ``Transfer``.

CDN requests are built here, not by the requestor: the requestor stamps ``Authorization`` on everything it
sends, and the bearer token must never reach the CDN host.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import json
import logging
import os
import re
import struct
import tempfile
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from contextlib import aclosing, asynccontextmanager
from pathlib import Path
from typing import IO, cast
from urllib.parse import unquote, urlsplit

import anyio
import anyio.to_thread
import httpx

from ._body import body_bytes
from ._errors import DownloadError
from ._pace import RateFloor

log = logging.getLogger("nemovideo")

ProgressHook = Callable[[int, "int | None"], object]
CHUNK_SIZE = 1024 * 1024
"""Bytes gathered before one write in a worker thread. Measured against 256 KiB to 8 MiB: larger writes
hold up the reads behind them (the loop waits for each), smaller ones cost more thread hops."""
PROGRESS_EVERY = 0.25
"""Seconds: on a slow network, what arrived is written (and reported to ``on_progress``) this often."""
_IOV_MAX = 512  # buffers per os.writev call, below every system's IOV_MAX


def _write_all(fd: int, chunks: list[bytes], since: int) -> None:
    """Write ``chunks`` in order, without joining them into one copy first (``os.writev``; a short write,
    rare on a regular file, goes on where it stopped). Then the disk is asked to start writing what the
    file holds from offset ``since`` on: the final fsync finds little left to do, and the pages already on
    disk leave the page cache (``posix_fadvise``; on Linux it starts the write-back and drops clean pages),
    so a large download neither waits at its end nor fills the machine's memory with its cache."""
    if not hasattr(os, "writev"):  # Windows
        left = memoryview(b"".join(chunks))
        while left:
            left = left[os.write(fd, left) :]
        return
    for first in range(0, len(chunks), _IOV_MAX):
        group: list[bytes | memoryview] = [c for c in chunks[first : first + _IOV_MAX] if c]
        while group:
            done = os.writev(fd, group)
            if done == 0:
                raise OSError(errno.EIO, "the file took no bytes")
            while group and done >= len(group[0]):
                done -= len(group.pop(0))
            if done:
                group[0] = memoryview(group[0])[done:]
    if hasattr(os, "posix_fadvise"):
        with contextlib.suppress(OSError):  # only advice: a file system may not take it
            os.posix_fadvise(fd, since, 0, os.POSIX_FADV_DONTNEED)


def display_url(url: str) -> str:
    """A URL without its query (signed CDN URLs carry credentials there), for messages and logs."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def reason(exc: BaseException) -> str:
    """The first non-empty message down an exception's chain (on trio a TLS failure's own is empty)."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            break
        if str(seen):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    return type(exc).__name__


def failure(exc: BaseException) -> str:
    """An exception's class and its reason in words, e.g. ``ReadError: [Errno 104] Connection reset``."""
    why = reason(exc)
    return type(exc).__name__ if why == type(exc).__name__ else f"{type(exc).__name__}: {why}"


def safe_name(name: str, fallback: str = "video.mp4") -> str:
    """A file name that stays inside its directory: no separators, no dot-names, no odd characters."""
    base = re.split(r"[\\/]", unquote(name))[-1]
    cleaned = re.sub(r"[^\w.\-]+", "_", base).strip("._ ")
    return cleaned[:200] or fallback


def target_path(path: str | os.PathLike[str], default_name: str, *, overwrite: bool) -> Path:
    """Where to save: ``path``, or ``path/<default_name>`` when ``path`` is a directory. Checked before
    any request: the directory exists, and an existing file is only replaced with ``overwrite``."""
    target = Path(path)
    if target.is_dir():
        target = target / safe_name(default_name)
        if target.resolve().parent != Path(path).resolve():
            raise ValueError(f"refusing to save outside {path}: {default_name!r}")
    if not target.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "the directory to save into does not exist", str(target.parent))
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "a directory is in the way of the download", str(target))
    if target.exists() and not overwrite:
        raise FileExistsError(
            errno.EEXIST, "a file is already there: pass overwrite=True to replace it", str(target)
        )
    return target


def mp4_duration(path: Path) -> float | None:
    """Seconds, from the MP4's ``moov/mvhd`` box; ``None`` when the file is not an MP4 this can read."""
    try:
        with path.open("rb") as file:
            end = os.fstat(file.fileno()).st_size
            pos, stop = 0, end
            while pos + 8 <= stop:
                file.seek(pos)
                size, kind = struct.unpack(">I4s", file.read(8))
                header = 8
                if size == 1:
                    (size,) = struct.unpack(">Q", file.read(8))
                    header = 16
                elif size == 0:
                    size = stop - pos
                if size < header:
                    return None
                if kind == b"moov":
                    pos, stop = pos + header, pos + size  # descend
                    continue
                if kind == b"mvhd":
                    version = file.read(4)[0]
                    if version == 1:
                        scale, length = struct.unpack(">16xIQ", file.read(28))
                    else:
                        scale, length = struct.unpack(">8xII", file.read(16))
                    return length / scale if scale else None
                pos += size
    except (OSError, struct.error, IndexError):
        return None
    return None


def _file_mode() -> int:
    """The mode a new file gets here (0o666 less the umask), read without changing the umask."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o644


def _commit(file: IO[bytes], tmp: Path, target: Path, overwrite: bool) -> None:
    os.fchmod(file.fileno(), _file_mode())  # a temp file starts private; the video is the user's file
    file.flush()
    os.fsync(file.fileno())
    file.close()
    if overwrite:
        os.replace(tmp, target)
    else:
        try:
            os.link(tmp, target)  # fails if a file appeared there meanwhile: never clobber it
        except FileExistsError:
            raise FileExistsError(
                errno.EEXIST, "a file appeared there during the download; it was left alone", str(target)
            ) from None
        except OSError:  # no hard links on this file system
            if target.exists():
                raise FileExistsError(
                    errno.EEXIST, "a file appeared there during the download; it was left alone", str(target)
                ) from None
            os.replace(tmp, target)
        tmp.unlink(missing_ok=True)
    try:
        dir_fd = os.open(target.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _discard(file: IO[bytes], tmp: Path) -> None:
    file.close()
    tmp.unlink(missing_ok=True)


_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class Transfer:
    """One download into a temporary file beside ``target``, fed by one response or several: after a cut,
    ``resume_headers()`` asks for the rest (``Range`` + ``If-Range``), and ``receive`` appends a 206 that
    continues where the file ends or starts over on a 200. ``commit`` checks the size (and a checksum the
    server gave) and renames into place; ``discard`` (always call it, e.g. in ``finally``) removes the rest.
    """

    def __init__(
        self,
        target: Path,
        *,
        overwrite: bool = False,
        on_progress: ProgressHook | None = None,
        min_rate: int | None = None,
        rate_window: float = 30.0,
    ) -> None:
        self.target = target
        self.overwrite = overwrite
        self.on_progress = on_progress
        self.min_rate = min_rate
        self.rate_window = rate_window
        self.written = 0
        self.total: int | None = None
        self.validator: str | None = None
        self.resumable = False
        self.checksum: tuple[str, str] | None = None
        self._raw: IO[bytes] | None = None
        self._tmp: Path | None = None

    def resume_headers(self) -> dict[str, str]:
        if not (self.written and self.resumable and self.validator):
            return {}
        return {"Range": f"bytes={self.written}-", "If-Range": self.validator}

    async def _open(self) -> IO[bytes]:
        if self._raw is None:
            target = self.target
            fd, name = await anyio.to_thread.run_sync(
                lambda: tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
            )
            self._tmp, self._raw = Path(name), os.fdopen(fd, "wb")
        return self._raw

    async def _restart(self, raw: IO[bytes]) -> None:
        await anyio.to_thread.run_sync(lambda: (raw.seek(0), raw.truncate()))
        self.written = 0

    def _learn(self, response: httpx.Response) -> None:
        """Validators, size and checksum from a fresh (200) answer."""
        headers = response.headers
        etag = headers.get("etag")
        strong = etag if etag and not etag.startswith("W/") else None  # If-Range needs a strong one
        self.validator = strong or headers.get("last-modified")
        # offsets count decoded bytes: an encoded body cannot be resumed by them
        self.resumable = (
            headers.get("accept-ranges", "").lower() == "bytes" and "content-encoding" not in headers
        )
        length = headers.get("content-length", "")
        self.total = int(length) if length.isdigit() and "content-encoding" not in headers else None
        md5 = headers.get("content-md5")
        self.checksum = ("md5", md5) if md5 else None

    async def receive(self, response: httpx.Response) -> None:
        """Write ``response``'s body on; raises ``DownloadError`` if it breaks or disagrees with its size."""
        raw = await self._open()
        shown = display_url(str(response.url))
        if response.status_code == 206:
            match = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", "").strip())
            if match is None or int(match[1]) != self.written:
                raise DownloadError(f"{shown} answered a range that does not continue the download")
            expected: int | None = int(match[2]) - int(match[1]) + 1
            if match[3] != "*":
                self.total = int(match[3])
        else:
            if self.written:
                log.info(
                    "%s sent the whole file again (the file changed, or no ranges): starting over", shown
                )
                await self._restart(raw)
            self._learn(response)
            expected = self.total
        fd = raw.fileno()  # written with os.writev: ``raw`` itself never buffers a byte
        start = self.written
        pending: list[bytes] = []  # gathered up to CHUNK_SIZE per write; kept on a cut, for the resume
        held = 0
        flushed = time.monotonic()
        written_back = self.written

        async def write() -> None:
            nonlocal held, flushed, written_back
            # Shielded, so a cancellation lands in the next network read and unwinds httpx's
            # stream from the inside rather than leaving its generators suspended.
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(_write_all, fd, pending, written_back)
            written_back = self.written  # this batch's pages go to disk with the next one's
            self.written += held
            pending.clear()
            held = 0
            flushed = time.monotonic()
            if self.on_progress is not None:
                self.on_progress(self.written, self.total)

        floor = RateFloor(self.min_rate, self.rate_window)
        as_sent = (
            response.headers.get("content-encoding", "identity").strip().lower() == "identity"
            and not response.is_stream_consumed  # (a body read already is only in .content)
        )
        try:
            # The network's bytes as they are when nothing needs decoding (one generator layer less);
            # else decoded here (a corrupt encoding raises once httpx's generators are closed).
            body = (
                cast("AsyncGenerator[bytes, None]", response.aiter_raw()) if as_sent else body_bytes(response)
            )
            with floor:
                async with aclosing(body) as chunks:
                    async for chunk in chunks:
                        pending.append(chunk)
                        held += len(chunk)
                        floor.progress(self.written + held - start)
                        if held >= CHUNK_SIZE or time.monotonic() - flushed >= PROGRESS_EVERY:
                            await write()
            if pending:
                await write()
        except httpx.HTTPError as exc:
            if pending:
                await write()
            raise DownloadError(
                f"the download from {shown} broke after {self.written} bytes ({failure(exc)})"
            ) from exc
        if floor.tripped:
            raise await self._too_slow(shown, floor)
        received = self.written - start
        if expected is not None and received != expected:
            raise DownloadError(f"the download from {shown} ended after {received} of {expected} bytes")

    async def commit(self) -> int:
        """Check and rename into place; returns the size."""
        raw = await self._open()
        if self.total is not None and self.written != self.total:
            raise DownloadError(f"the downloaded file has {self.written} of {self.total} bytes")
        await anyio.to_thread.run_sync(self._verify, raw)
        assert self._tmp is not None
        await anyio.to_thread.run_sync(_commit, raw, self._tmp, self.target, self.overwrite)
        self._raw = self._tmp = None
        return self.written

    def _verify(self, raw: IO[bytes]) -> None:
        if self.checksum is None or self._tmp is None:
            return
        raw.flush()
        digest = hashlib.md5(usedforsecurity=False)
        with self._tmp.open("rb") as file:
            for block in iter(lambda: file.read(CHUNK_SIZE), b""):
                digest.update(block)
        if base64.b64encode(digest.digest()).decode() != self.checksum[1].strip():
            raise DownloadError(
                "the downloaded file does not match the checksum (Content-MD5) the server sent"
            )

    # --- a transfer too slow to finish: its bytes kept beside the target for the next call ---------------

    def kept_paths(self) -> tuple[Path, Path]:
        """The kept partial file and its notes (validator, size, source), hidden beside the target."""
        parent, name = self.target.parent, self.target.name
        return parent / f".{name}.part", parent / f".{name}.part.json"

    async def _too_slow(self, shown: str, floor: RateFloor) -> DownloadError:
        """Keep the bytes (when a resume can use them) and say so; the transfer is then done with."""
        of = f" of {self.total}" if self.total is not None else ""
        message = f"the download from {shown} was too slow: {floor.words()}"
        raw, tmp = self._raw, self._tmp
        if not (self.written and self.resumable and self.validator) or raw is None or tmp is None:
            self.discard()
            return DownloadError(
                f"{message}. The server cannot resume it, so nothing was kept; try again later.",
                setting="min_download_rate",
            )
        notes: dict[str, object] = {
            "source": shown,
            "validator": self.validator,
            "total": self.total,
            "checksum": self.checksum,
        }
        part = await anyio.to_thread.run_sync(self._park, raw, tmp, notes)
        self._raw = self._tmp = None
        return DownloadError(
            f"{message}. {self.written}{of} bytes are kept in {part}: the next download to {self.target} "
            "resumes from there.",
            setting="min_download_rate",
            partial=part,
        )

    def _park(self, raw: IO[bytes], tmp: Path, notes: dict[str, object]) -> Path:
        part, meta = self.kept_paths()
        raw.flush()
        raw.close()
        os.replace(tmp, part)
        fd, name = tempfile.mkstemp(dir=part.parent, prefix=f"{meta.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(notes, file)
        os.replace(name, meta)
        return part

    async def reclaim(self, source: str) -> None:
        """Take over the bytes a too-slow transfer to the same target kept, if they came from ``source``
        (the next request then asks for the rest); kept bytes of another source are removed."""
        if self._raw is None:
            await anyio.to_thread.run_sync(self._reclaim, display_url(source))

    def _reclaim(self, source: str) -> None:
        part, meta = self.kept_paths()
        try:
            notes = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # nothing kept (a part without notes is another transfer's, being parked)
        fd, name = tempfile.mkstemp(dir=part.parent, prefix=f".{self.target.name}.", suffix=".part")
        os.close(fd)
        try:
            os.replace(part, name)  # claimed: a concurrent download to this target cannot take it too
        except OSError:
            Path(name).unlink(missing_ok=True)
            return
        finally:
            meta.unlink(missing_ok=True)
        raw = open(name, "r+b")  # noqa: SIM115 (kept open for the transfer, closed by commit or discard)
        self._tmp, self._raw = Path(name), raw
        usable = isinstance(notes, dict) and notes.get("source") == source and notes.get("validator")
        if not usable:
            raw.truncate()
            return
        total, checksum = notes.get("total"), notes.get("checksum")
        self.written = raw.seek(0, os.SEEK_END)
        self.validator = str(notes["validator"])
        self.resumable = True
        self.total = total if isinstance(total, int) else None
        self.checksum = (str(checksum[0]), str(checksum[1])) if isinstance(checksum, list) else None
        log.info(
            "resuming the download to %s from byte %d (kept by an earlier, too slow one)",
            self.target,
            self.written,
        )

    def discard(self) -> None:
        """Remove the temporary file, if any is left. Synchronous: it must run under cancellation too."""
        if self._raw is not None and self._tmp is not None:
            _discard(self._raw, self._tmp)
        self._raw = self._tmp = None


async def save(
    response: httpx.Response,
    target: Path,
    *,
    overwrite: bool = False,
    on_progress: ProgressHook | None = None,
) -> int:
    """Stream ``response``'s body into ``target`` atomically; returns the number of bytes saved.

    Raises ``DownloadError`` when the connection breaks or the size disagrees with Content-Length.
    """
    transfer = Transfer(target, overwrite=overwrite, on_progress=on_progress)
    try:
        await transfer.receive(response)
        return await transfer.commit()
    finally:
        transfer.discard()


@asynccontextmanager
async def open_cdn(
    http: httpx.AsyncClient,
    url: str,
    *,
    http_timeout: httpx.Timeout,
    headers: Mapping[str, str] | None = None,
) -> AsyncIterator[httpx.Response]:
    """GET a CDN URL with no ``Authorization`` and no attribution headers (not even a client default).

    The request is built by hand rather than by ``http.build_request``, which would merge the client's
    default headers; ``auth=None`` overrides any auth the client carries.
    """
    sent = {"Accept": "video/mp4,*/*", "Accept-Encoding": "identity", **(headers or {})}  # offsets are bytes
    if "user-agent" in http.headers:
        sent["User-Agent"] = http.headers["user-agent"]
    request = httpx.Request("GET", url, headers=sent, extensions={"timeout": http_timeout.as_dict()})
    try:
        response = await http.send(request, auth=None, stream=True, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise DownloadError(f"could not reach {display_url(url)} ({failure(exc)})") from exc
    try:
        if response.status_code >= 400:
            raise DownloadError(f"{display_url(url)} answered HTTP {response.status_code}")
        if "json" in response.headers.get("content-type", ""):
            # an error body with a success status is not the video: never save it as one
            raise DownloadError(f"{display_url(url)} answered JSON, not a video")
        yield response
    finally:
        await response.aclose()
