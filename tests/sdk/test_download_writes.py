"""The download's writes: every byte lands once and in order, however the system splits a write."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nemovideo import _download

CHUNKS = [bytes([i % 251]) * (i % 7 + 1) for i in range(1500)]  # more buffers than one writev takes
EXPECTED = b"".join(CHUNKS)


def write_through(path: Path, chunks: list[bytes]) -> bytes:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        _download._write_all(fd, chunks, 0)
    finally:
        os.close(fd)
    return path.read_bytes()


@pytest.mark.skipif(not hasattr(os, "writev"), reason="os.writev is POSIX")
def test_chunks_are_written_whole_and_in_order(tmp_path: Path) -> None:
    assert write_through(tmp_path / "f", [b"", *CHUNKS, b""]) == EXPECTED


@pytest.mark.skipif(not hasattr(os, "writev"), reason="os.writev is POSIX")
def test_short_writes_go_on_where_they_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.writev
    calls: list[int] = []

    def short(fd: int, buffers: list[bytes | memoryview]) -> int:
        """As a system may: take a few bytes of the first buffer only."""
        calls.append(len(buffers))
        return real(fd, [memoryview(buffers[0])[:3]])

    monkeypatch.setattr(os, "writev", short)
    assert write_through(tmp_path / "f", CHUNKS[:40]) == b"".join(CHUNKS[:40])
    assert len(calls) > 40  # it did go on, a piece at a time


def test_without_writev_the_chunks_are_joined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "writev", raising=False)  # as on Windows
    assert write_through(tmp_path / "f", CHUNKS) == EXPECTED
