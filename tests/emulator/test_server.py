"""Starting and stopping: serve() on asyncio and trio, the sync handle, prompt shutdown, the CLI, imports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx
import pytest

from nemovideo.emulator import Emulator, serve

from ._helpers import GENERATE, login, run_body

pytestmark = pytest.mark.anyio


async def test_serve_context_manager(tmp_path: Path) -> None:
    async with serve(credits=7, data_dir=tmp_path / "d") as emu:
        assert emu.url.startswith("http://127.0.0.1:")
        assert emu.cdn_url != emu.url
        async with httpx.AsyncClient(base_url=emu.url) as c:
            r = await c.post("/api/auth/anonymous-token", headers={"X-Client-Id": "x"})
        assert r.json()["data"]["credits"] == 7
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as c:
            await c.get(emu.url + "/api/credits/balance/simple")
    assert (tmp_path / "d").is_dir(), "a given data dir is kept"


def test_sync_handle_and_bad_settings() -> None:
    with pytest.raises(TypeError, match="unknown emulator setting"):
        Emulator(colour="blue")
    with pytest.raises(ValueError, match="poll_shape"):
        Emulator(poll_shape="weird")
    with Emulator() as emu:
        data_dir = emu.ctx.data_dir
        r = httpx.post(emu.url + "/api/auth/anonymous-token", headers={"X-Client-Id": "x"})
        assert r.json()["code"] == 0
        with pytest.raises(ValueError, match="silent_share"):
            emu.configure(silent_share=2)
        assert emu.configure(generation_seconds=0.5).generation_seconds == 0.5
    assert not data_dir.exists(), "the temporary data dir is removed at stop"


async def test_shutdown_is_prompt_with_a_stream_open() -> None:
    emu = Emulator(generation_seconds=60, heartbeat_interval=0.2)
    await anyio.to_thread.run_sync(emu.start)
    try:
        async with httpx.AsyncClient(base_url=emu.url, timeout=30) as c:
            headers, sid = await login(c)
            async with c.stream("POST", "/run_sse", json=run_body(sid, GENERATE), headers=headers) as r:
                assert r.status_code == 200
                started = time.monotonic()
                await anyio.to_thread.run_sync(emu.stop)
                stop_seconds = time.monotonic() - started
                with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
                    await r.aread()
    finally:
        await anyio.to_thread.run_sync(emu.stop)
    assert stop_seconds < 1.5, f"shutdown with an open stream took {stop_seconds * 1000:.0f} ms"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_prints_urls_and_exits_cleanly(sig: signal.Signals, tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "nemovideo.emulator", "--port", "0", "--credits", "42", "--seed", "3",
         "--silent-share", "0", "--generation-seconds", "0.5"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    ) as proc:  # fmt: skip
        _drive_cli(proc, sig, tmp_path)


def _drive_cli(proc: subprocess.Popen[str], sig: signal.Signals, tmp_path: Path) -> None:
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        cdn = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert cdn.startswith("http://127.0.0.1:")
        r = httpx.post(url + "/api/auth/anonymous-token", headers={"X-Client-Id": "cli"})
        assert r.json()["data"]["credits"] == 42
        assert any(tmp_path.iterdir()), "a temporary data dir while running"
        started = time.monotonic()
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - started < 5
        assert not any(tmp_path.iterdir()), "removed at exit"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_rejects_a_bad_flag() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "nemovideo.emulator", "--silent-share", "3"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "silent_share" in proc.stderr


def test_import_is_cheap() -> None:
    code = (
        "import sys, nemovideo.emulator, nemovideo.emulator.pytest_plugin; "
        "print(sorted(m for m in ('starlette', 'uvicorn', 'python_multipart') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30)
    assert out.stdout.strip() == "[]"


async def test_emulator_sees_no_sdk_import() -> None:
    root = Path(__file__).parents[2] / "src" / "nemovideo" / "emulator"
    for path in root.glob("*.py"):
        text = path.read_text()
        assert "from nemovideo." not in text.replace("from nemovideo.emulator", ""), path
        assert "from .." not in text, path
