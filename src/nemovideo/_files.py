"""Files to upload: checked locally before anything is sent, then streamed as one multipart body.

An upload that the API would refuse costs a request and, for a big file, minutes of sending; so existence,
readability, type (by extension and by the first bytes, as the API checks them) and size are all settled
here first. The body is an async iterator that reads each file in chunks while httpx sends it, with its
Content-Length known ahead, so memory stays flat whatever the file size and progress has a total.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import tempfile
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, TypeAlias, Union

import anyio
import anyio.to_thread
import httpx

from ._errors import ACCEPTED_FORMATS, FileTooLargeError, UnsupportedFileError

MAX_FILE_SIZE = 500 * 1024 * 1024
"""The API's limit per file (500 MB)."""
CHUNK_SIZE = 512 * 1024
SNIFF_BYTES = 64

FileContent: TypeAlias = bytes | BinaryIO | AsyncIterable[bytes]
FileInput: TypeAlias = Union[str, "os.PathLike[str]", BinaryIO, tuple[str, FileContent]]
"""A path; a binary file with a ``name``; or ``(filename, bytes | binary file | async byte iterator)``."""
ProgressHook = Callable[[int, int], object]

_ALIASES = {"jpeg": "jpg"}
CONTENT_TYPES = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "avi": "video/x-msvideo",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
}


def sniff(head: bytes) -> set[str]:
    """The accepted formats whose signature ``head`` (a file's first bytes) starts with."""
    found: set[str] = set()
    if len(head) >= 12 and head[4:8] == b"ftyp":
        found |= {"mp4", "mov", "m4a"}
    if head.startswith(b"\x00\x00\x00") and b"moov" in head[:16]:
        found |= {"mp4", "mov"}
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        found |= {"webm", "mkv"}
    if head.startswith(b"RIFF") and len(head) >= 12:
        riff = {b"AVI ": "avi", b"WEBP": "webp", b"WAVE": "wav"}.get(head[8:12])
        if riff:
            found.add(riff)
    if head.startswith(b"\xff\xd8\xff"):
        found.add("jpg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        found.add("png")
    if head.startswith((b"GIF87a", b"GIF89a")):
        found.add("gif")
    if head.startswith(b"ID3"):
        found |= {"mp3", "aac"}
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:  # MPEG audio frame sync
        found.add("mp3")
        if head[1] & 0xF6 == 0xF0:  # ADTS
            found.add("aac")
    return found


def check_type(filename: str, head: bytes) -> str:
    """The format of ``filename`` when its extension is accepted and its content agrees; else raise."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    fmt = _ALIASES.get(ext, ext)
    if fmt not in ACCEPTED_FORMATS:
        shown = f"'.{ext}'" if ext else "no extension"
        raise UnsupportedFileError(f"cannot upload {filename!r}: {shown} is not an accepted file type")
    if not head:
        raise UnsupportedFileError(f"cannot upload {filename!r}: the file is empty")
    if fmt not in sniff(head):
        raise UnsupportedFileError(
            f"cannot upload {filename!r}: its content is not {fmt} (the first bytes do not match); "
            "rename it to its real type or convert it"
        )
    return fmt


def _megabytes(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size:,} bytes"
    return f"{size / (1024 * 1024):.1f}".rstrip("0").rstrip(".") + " MB"


def _too_large(filename: str, size: int | None, limit: int) -> FileTooLargeError:
    what = f"it is {size:,} bytes, over" if size is not None else "it is over"
    return FileTooLargeError(
        f"cannot upload {filename!r}: {what} the {_megabytes(limit)} limit per file",
        hint=f"Files may be at most {_megabytes(limit)}: compress or trim it, or split it into parts.",
    )


@dataclass
class LocalFile:
    """A checked file, ready to stream: its name, size, type and where its bytes come from."""

    filename: str
    size: int
    format: str
    data: bytes | None = None
    fileobj: IO[bytes] | None = None
    offset: int = 0
    owned: bool = False
    """A file we opened (a path, a spool), closed when the upload ends."""
    _position: int = 0

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]

    async def rewind(self) -> None:
        """Back to the first byte, for a new attempt of the request."""
        self._position = 0
        if self.fileobj is not None:
            await anyio.to_thread.run_sync(self.fileobj.seek, self.offset)

    async def read(self) -> bytes:
        """The next chunk; ``b""`` once ``size`` bytes were read."""
        want = min(CHUNK_SIZE, self.size - self._position)
        if want <= 0:
            return b""
        if self.data is not None:
            chunk = self.data[self._position : self._position + want]
        else:
            assert self.fileobj is not None
            chunk = await anyio.to_thread.run_sync(self.fileobj.read, want)
            if not chunk:
                raise OSError(
                    errno.EIO,
                    f"{self.filename!r} became shorter while it was being uploaded; upload it again",
                )
        self._position += len(chunk)
        return chunk

    def close(self) -> None:
        if self.owned and self.fileobj is not None:
            self.fileobj.close()


def _base_name(name: str) -> str:
    return os.path.basename(name.replace("\\", "/")) or name


def _open_path(path: Path) -> tuple[IO[bytes], int, bytes]:
    """The open file, its size and first bytes. Opened now, so what was checked is what gets sent."""
    try:
        file = path.open("rb")
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, "no such file to upload", str(path)) from None
    except IsADirectoryError:
        raise IsADirectoryError(errno.EISDIR, "not a regular file, cannot upload it", str(path)) from None
    except PermissionError:
        raise PermissionError(
            errno.EACCES, "cannot read the file to upload (permission denied)", str(path)
        ) from None
    try:
        st = os.fstat(file.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "not a regular file, cannot upload it", str(path))
        head = file.read(SNIFF_BYTES)
    except BaseException:
        file.close()
        raise
    return file, st.st_size, head


def _seekable_size(fileobj: IO[bytes]) -> tuple[int, int, bytes] | None:
    """(offset, size from offset, head) of a seekable file object; None when it cannot seek."""
    try:
        if not fileobj.seekable():
            return None
        offset = fileobj.tell()
        end = fileobj.seek(0, io.SEEK_END)
        fileobj.seek(offset)
        head = fileobj.read(SNIFF_BYTES)
        fileobj.seek(offset)
    except (OSError, AttributeError):
        return None
    return offset, end - offset, head


async def _spool(filename: str, source: AsyncIterator[bytes], limit: int) -> LocalFile:
    """Copy a stream of unknown size to a temporary file, so its size and type are known before sending."""
    spool: IO[bytes] = await anyio.to_thread.run_sync(tempfile.TemporaryFile)
    size = 0
    head = b""
    try:
        async for chunk in source:
            if not isinstance(chunk, (bytes, bytearray, memoryview)):
                raise TypeError(f"the content of {filename!r} must yield bytes, not {type(chunk).__name__}")
            size += len(chunk)
            if size > limit:
                raise _too_large(filename, None, limit)
            if len(head) < SNIFF_BYTES:
                head += bytes(chunk[: SNIFF_BYTES - len(head)])
            await anyio.to_thread.run_sync(spool.write, chunk)
        fmt = check_type(filename, head)
    except BaseException:
        spool.close()
        raise
    return LocalFile(filename, size, fmt, fileobj=spool, owned=True)


async def _iter_fileobj(fileobj: IO[bytes]) -> AsyncIterator[bytes]:
    while chunk := await anyio.to_thread.run_sync(fileobj.read, CHUNK_SIZE):
        yield chunk


async def _prepare_one(item: FileInput, limit: int) -> LocalFile:
    if isinstance(item, (str, os.PathLike)):
        path = Path(item)
        file, size, head = await anyio.to_thread.run_sync(_open_path, path)
        try:
            fmt = check_type(path.name, head)
            if size > limit:
                raise _too_large(path.name, size, limit)
        except BaseException:
            file.close()
            raise
        return LocalFile(path.name, size, fmt, fileobj=file, owned=True)
    if isinstance(item, tuple):
        if len(item) != 2 or not isinstance(item[0], str) or not item[0]:
            raise TypeError("a named upload is a pair (filename, content), e.g. ('clip.mp4', data)")
        filename, content = _base_name(item[0]), item[1]
    else:
        name = getattr(item, "name", None)
        if not isinstance(name, str) or not name:
            raise TypeError(
                f"cannot tell the file name of {type(item).__name__}: pass (filename, content) instead"
            )
        filename, content = _base_name(name), item
    if isinstance(content, (bytes, bytearray, memoryview)):
        data = bytes(content)
        fmt = check_type(filename, data[:SNIFF_BYTES])
        if len(data) > limit:
            raise _too_large(filename, len(data), limit)
        return LocalFile(filename, len(data), fmt, data=data)
    if isinstance(content, io.TextIOBase):
        raise TypeError(f"{filename!r} is open in text mode: open it in binary mode ('rb')")
    if hasattr(content, "read"):
        fileobj: IO[bytes] = content  # type: ignore[assignment]
        known = await anyio.to_thread.run_sync(_seekable_size, fileobj)
        if known is None:
            return await _spool(filename, _iter_fileobj(fileobj), limit)
        offset, size, head = known
        fmt = check_type(filename, head)
        if size > limit:
            raise _too_large(filename, size, limit)
        return LocalFile(filename, size, fmt, fileobj=fileobj, offset=offset)
    if isinstance(content, AsyncIterable):
        return await _spool(filename, aiter(content), limit)
    raise TypeError(
        f"cannot upload {type(content).__name__}: pass a path, bytes, a binary file or an async byte iterator"
    )


async def prepare(files: Sequence[FileInput], *, max_file_size: int = MAX_FILE_SIZE) -> list[LocalFile]:
    """Check every file; raise on the first bad one, having sent nothing."""
    if not files:
        raise ValueError("nothing to upload: pass one or more files")
    prepared: list[LocalFile] = []
    try:
        for item in files:
            prepared.append(await _prepare_one(item, max_file_size))
    except BaseException:
        for done in prepared:
            done.close()
        raise
    return prepared


def _quote(filename: str) -> str:
    """A file name as browsers put it in a Content-Disposition header (WHATWG form encoding)."""
    return filename.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


class MultipartBody(httpx.AsyncByteStream):
    """The ``files`` parts of one upload, with its length known before the first byte goes out.

    A request stream of its own (not a plain async iterable, which httpx would wrap in a generator it
    never closes when the server hangs up mid-body): ``aclose`` always finishes it.
    """

    def __init__(
        self,
        files: list[LocalFile],
        on_progress: ProgressHook | None = None,
        *,
        field: str = "files",
        fields: Mapping[str, str] | None = None,
    ) -> None:
        self.files = files
        self.on_progress = on_progress
        self.field = field
        self.boundary = uuid.uuid4().hex
        self._fields = b"".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quote(k)}"\r\n\r\n{v}\r\n'.encode()
            for k, v in (fields or {}).items()
        )
        """Text fields, sent before the files (the gateway wants ``session_id`` beside ``file``)."""
        self._stream: AsyncGenerator[bytes, None] | None = None

    def _head(self, item: LocalFile) -> bytes:
        return (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{self.field}"; filename="{_quote(item.filename)}"\r\n'
            f"Content-Type: {item.content_type}\r\n\r\n"
        ).encode()

    def _tail(self) -> bytes:
        return f"--{self.boundary}--\r\n".encode()

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def length(self) -> int:
        return (
            len(self._fields) + sum(len(self._head(f)) + f.size + 2 for f in self.files) + len(self._tail())
        )

    def __aiter__(self) -> AsyncIterator[bytes]:
        self._stream = self._parts()
        return self._stream

    async def aclose(self) -> None:
        """Finish the body being read, even when the request broke off mid-body."""
        if self._stream is not None:
            await self._stream.aclose()

    async def _parts(self) -> AsyncGenerator[bytes, None]:
        total = self.length
        sent = 0

        def progressed(n: int) -> None:
            nonlocal sent
            sent += n
            if self.on_progress is not None:
                self.on_progress(sent, total)

        if self._fields:
            yield self._fields
            progressed(len(self._fields))
        for item in self.files:
            head = self._head(item)
            yield head
            progressed(len(head))
            await item.rewind()
            while chunk := await item.read():
                yield chunk
                progressed(len(chunk))
            yield b"\r\n"
            progressed(2)
        tail = self._tail()
        yield tail
        progressed(len(tail))
