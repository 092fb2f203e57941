"""Atomic downloads: a file appears at the target path complete, or not at all.

Bytes go to a temporary file beside the target (same directory, so the final rename is atomic), their
count is checked against Content-Length, the file is flushed to disk, then renamed into place. Any failure,
cancellation included, removes the temporary file and leaves the target untouched.

CDN requests are built here, not by the requestor: the requestor stamps ``Authorization`` on everything it
sends, and the bearer token must never reach the CDN host.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing, asynccontextmanager
from pathlib import Path
from typing import IO, cast
from urllib.parse import unquote, urlsplit

import anyio
import anyio.to_thread
import httpx

from ._errors import DownloadError

ProgressHook = Callable[[int, "int | None"], object]
CHUNK_SIZE = 1024 * 1024


def display_url(url: str) -> str:
    """A URL without its query (signed CDN URLs carry credentials there), for messages and logs."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


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
    header = response.headers.get("content-length")
    expected = int(header) if header is not None and header.isdigit() else None
    fd, name = await anyio.to_thread.run_sync(
        lambda: tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    )
    tmp = Path(name)
    raw = os.fdopen(fd, "wb")
    file = anyio.wrap_file(raw)
    try:
        written = 0
        try:
            body = cast("AsyncGenerator[bytes, None]", response.aiter_bytes(CHUNK_SIZE))  # a generator
            async with aclosing(body) as chunks:
                async for chunk in chunks:
                    # Shielded, so a cancellation lands in the next network read and unwinds httpx's
                    # stream from the inside rather than leaving its generators suspended.
                    with anyio.CancelScope(shield=True):
                        await file.write(chunk)
                    written += len(chunk)
                    if on_progress is not None:
                        on_progress(written, expected)
        except httpx.HTTPError as exc:
            raise DownloadError(
                f"the download from {display_url(str(response.url))} broke after {written} bytes "
                f"({type(exc).__name__}: {exc})"
            ) from exc
        received = response.num_bytes_downloaded
        if expected is not None and received != expected:
            raise DownloadError(
                f"the download from {display_url(str(response.url))} ended after {received} of "
                f"{expected} bytes"
            )
        await anyio.to_thread.run_sync(_commit, raw, tmp, target, overwrite)
    except BaseException:
        _discard(raw, tmp)  # synchronous: it must run even when the task is being cancelled
        raise
    return written


@asynccontextmanager
async def open_cdn(
    http: httpx.AsyncClient, url: str, *, http_timeout: httpx.Timeout
) -> AsyncIterator[httpx.Response]:
    """GET a CDN URL with no ``Authorization`` and no attribution headers (not even a client default).

    The request is built by hand rather than by ``http.build_request``, which would merge the client's
    default headers; ``auth=None`` overrides any auth the client carries.
    """
    headers = {"Accept": "video/mp4,*/*"}
    if "user-agent" in http.headers:
        headers["User-Agent"] = http.headers["user-agent"]
    request = httpx.Request("GET", url, headers=headers, extensions={"timeout": http_timeout.as_dict()})
    try:
        response = await http.send(request, auth=None, stream=True, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise DownloadError(f"could not reach {display_url(url)} ({type(exc).__name__}: {exc})") from exc
    try:
        if response.status_code >= 400:
            raise DownloadError(f"{display_url(url)} answered HTTP {response.status_code}")
        if "json" in response.headers.get("content-type", ""):
            # an error body with a success status is not the video: never save it as one
            raise DownloadError(f"{display_url(url)} answered JSON, not a video")
        yield response
    finally:
        await response.aclose()
