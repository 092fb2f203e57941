"""Multipart uploads parsed as a stream straight to disk: memory stays bounded whatever the file size.

python-multipart's push parser gets each chunk of the request body as it arrives; its callbacks write part
data to the open file, hash it, check the first bytes against the extension (4001) and count the size (4002).
A rejection stops reading the body at once and deletes what this request wrote.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from ._media import SNIFF_BYTES, check_type


class UploadRejected(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class SavedFile:
    filename: str
    path: Path
    file_type: str = ""
    size: int = 0
    sha256: str = ""


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    head: bytearray = field(default_factory=bytearray)
    checked: bool = False
    file: IO[bytes] | None = None
    saved: SavedFile | None = None
    hasher: Any = None


def safe_name(filename: str) -> str:
    base = re.split(r"[\\/]", filename)[-1]
    cleaned = re.sub(r"[^\w.\-]+", "_", base).strip("._") or "file"
    return cleaned[:120]


async def save_multipart(
    content_type: str, body: AsyncIterator[bytes], directory: Path, first_index: int, max_bytes: int
) -> list[SavedFile]:
    """Stream every `files` part into `directory`; `UploadRejected` (nothing kept) on a bad part."""
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise UploadRejected(422, "multipart body without a boundary in its Content-Type")
    saved: list[SavedFile] = []
    parts: list[_Part] = []
    field_name: list[bytes] = []
    field_value: list[bytes] = []

    def current() -> _Part:
        return parts[-1]

    def on_part_begin() -> None:
        parts.append(_Part())

    def on_header_field(data: bytes, start: int, end: int) -> None:
        field_name.append(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        field_value.append(data[start:end])

    def on_header_end() -> None:
        current().headers[b"".join(field_name).decode("latin-1").lower()] = b"".join(field_value).decode(
            "utf-8", "replace"
        )
        field_name.clear()
        field_value.clear()

    def on_headers_finished() -> None:
        part = current()
        _, disp = parse_options_header(part.headers.get("content-disposition", ""))
        part.name = disp.get(b"name", b"").decode("utf-8", "replace")
        raw = disp.get(b"filename")
        part.filename = raw.decode("utf-8", "replace") if raw is not None else None
        if part.name != "files":
            raise UploadRejected(
                422, f"unexpected multipart field {part.name!r}: upload files in the repeatable field 'files'"
            )
        if not part.filename:
            raise UploadRejected(422, "a 'files' part has no filename")
        index = first_index + len(saved)
        path = directory / f"{index:04d}_{safe_name(part.filename)}"
        part.saved = SavedFile(part.filename, path)
        saved.append(part.saved)
        part.file = path.open("wb")
        part.hasher = hashlib.sha256()

    def check(part: _Part) -> None:
        assert part.saved is not None
        assert part.filename is not None
        part.checked = True
        file_type, reason = check_type(part.filename, bytes(part.head))
        if file_type is None:
            raise UploadRejected(4001, reason)
        part.saved.file_type = file_type

    def on_part_data(data: bytes, start: int, end: int) -> None:
        part = current()
        assert part.file is not None
        assert part.saved is not None
        chunk = data[start:end]
        part.saved.size += len(chunk)
        if part.saved.size > max_bytes:
            raise UploadRejected(
                4002, f"file too large: {part.filename!r} exceeds the {max_bytes}-byte limit"
            )
        if not part.checked:
            part.head += chunk[: SNIFF_BYTES - len(part.head)]
            if len(part.head) >= SNIFF_BYTES:
                check(part)
        part.hasher.update(chunk)
        part.file.write(chunk)

    def on_part_end() -> None:
        part = current()
        if part.file is None or part.saved is None:
            return
        if not part.checked:
            check(part)
        part.file.close()
        part.saved.sha256 = part.hasher.hexdigest()

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
        },
    )
    try:
        try:
            async for chunk in body:
                parser.write(chunk)
            parser.finalize()
        except FormParserError as exc:
            raise UploadRejected(422, f"malformed multipart body: {exc}") from None
        if not saved:
            raise UploadRejected(422, "no files: send one or more parts in the multipart field 'files'")
        if any(p.file is not None and not p.file.closed for p in parts):
            raise UploadRejected(422, "the multipart body ended in the middle of a part")
    except BaseException:
        for part in parts:
            if part.file is not None:
                part.file.close()
        for item in saved:
            item.path.unlink(missing_ok=True)
        raise
    return saved
