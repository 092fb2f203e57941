"""Upload and download throughput and client memory: the SDK vs curl on the same endpoints.

    .venv/bin/python benchmarks/bench_transfer.py [--size-mb 500] [--runs 3] [--json out.json]

The emulator runs in its own process (`python -m nemovideo.emulator`). Each transfer runs in a fresh child
process, SDK and curl alternately, `--runs` times each:

- upload: one file of `--size-mb` MB (an MP4 header, then incompressible bytes) to
  `POST /api/upload-video/...` as multipart field `files`, with the same bearer token and attribution
  headers. The time runs until the API's answer arrives, so it includes the emulator's own work on the file
  (writing it to disk, hashing it, probing it with ffmpeg): both clients pay it alike.
- download: the uploaded file from its `cdn_url` on the emulator's CDN origin, to a file on disk
  (`nemo.render.download(url, path)`: temporary file, size check, fsync, rename; curl: `-o path`, and
  also curl followed by an fsync of its file, the same durability as the SDK's).

Memory: the SDK child reports its peak RSS (VmHWM) and its RSS just before the transfer (after imports,
client, token and a warm connection), so "growth" is what the transfer itself cost. curl's peak RSS is its
VmHWM sampled every 10 ms while it runs. (`ru_maxrss` is not used: after a fork it counts the parent's
memory, which made a 10 MB curl look like the 55 MB Python process that started it.)
Not part of the test suite: numbers, not verdicts.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx

PY = sys.executable
MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
MB = 1_000_000


def status_kb(field: str, pid: int | str = "self") -> int:
    """A memory line of /proc/<pid>/status, in kB (0 once the process is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# --- the SDK side, in a child process ---------------------------------------------------------------


async def _child(op: str, api_url: str, config_dir: str, arg: str, path: str) -> dict[str, Any]:
    import nemovideo

    async with (
        nemovideo.NemoClient(api_url=api_url, config_dir=config_dir, timeout=600) as nemo,
        httpx.AsyncClient(timeout=600) as http,  # made before the clock starts, as the SDK's
    ):
        await nemo.credits.balance()  # the cached token, a warm connection
        before = status_kb("VmRSS")
        start = time.perf_counter()
        if op == "upload":
            [uploaded] = await nemo.uploads.upload(arg, path)
            size, url = uploaded.size, uploaded.cdn_url
        elif op == "httpx-download":
            size, url = await _httpx_download(http, arg, Path(path)), arg
        else:
            saved = await nemo.render.download(arg, path)
            size, url = saved.stat().st_size, arg
        seconds = time.perf_counter() - start
    peak = status_kb("VmHWM")  # this program's peak RSS (ru_maxrss would count the parent's, from fork)
    return {"seconds": seconds, "bytes": size, "rss_before_kb": before, "peak_rss_kb": peak, "cdn_url": url}


async def _httpx_download(http: httpx.AsyncClient, url: str, path: Path) -> int:
    """The floor under the SDK's download: httpx's own stream into a file, fsynced, and no SDK code (no
    temporary file, size check or rename); a write in a worker thread per 1 MiB, as an async program must
    not block its loop on a disk."""
    size = held = 0
    pending: list[bytes] = []
    with path.open("wb") as file:
        async with http.stream("GET", url, headers={"Accept-Encoding": "identity"}) as response:
            assert response.status_code == 200, response.status_code
            async for chunk in response.aiter_raw():
                pending.append(chunk)
                held += len(chunk)
                if held >= 1 << 20:
                    await anyio.to_thread.run_sync(file.write, b"".join(pending))
                    size, held = size + held, 0
                    pending.clear()
        await anyio.to_thread.run_sync(file.write, b"".join(pending))
        await anyio.to_thread.run_sync(file.flush)
        await anyio.to_thread.run_sync(os.fsync, file.fileno())
    return size + held


def run_sdk(op: str, api_url: str, config_dir: Path, arg: str, path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [PY, __file__, "--child", op, api_url, str(config_dir), arg, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    result["growth_kb"] = result["peak_rss_kb"] - result["rss_before_kb"]
    return result


# --- the curl side ----------------------------------------------------------------------------------


def run_curl(args: list[str]) -> tuple[str, int]:
    """Run curl; (its stdout, its peak RSS in kB, sampled from /proc while it runs).

    Not ``wait4``'s ``ru_maxrss``: that counts the forking Python parent's memory too.
    """
    with tempfile.TemporaryFile() as stdout:
        proc = subprocess.Popen(["curl", "-sS", *args], stdout=stdout)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, status_kb("VmHWM", proc.pid))
            time.sleep(0.01)
        if proc.returncode != 0:
            raise RuntimeError(f"curl failed with {proc.returncode}: {args}")
        stdout.seek(0)
        return stdout.read().decode(), peak


def curl_upload(url: str, headers: dict[str, str], path: Path, body_file: Path) -> dict[str, Any]:
    header_args = [a for k, v in headers.items() for a in ("-H", f"{k}: {v}")]
    out, peak = run_curl(
        [*header_args, "-H", "Expect:", "-F", f"files=@{path};filename={path.name};type=video/mp4",
         "-o", str(body_file), "-w", "%{http_code} %{time_total}", url]
    )  # fmt: skip
    status, seconds = out.split()
    body = json.loads(body_file.read_text())
    if status != "200" or body.get("code") != 0:
        raise RuntimeError(f"curl upload failed: {status} {body}")
    [file] = body["data"]["files"]
    return {"seconds": float(seconds), "bytes": file["size"], "peak_rss_kb": peak}


def curl_download(url: str, path: Path) -> dict[str, Any]:
    out, peak = run_curl(["-o", str(path), "-w", "%{http_code} %{time_total} %{size_download}", url])
    status, seconds, size = out.split()
    if status != "200":
        raise RuntimeError(f"curl download failed: {status}")
    start = time.perf_counter()
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)  # what the SDK does before its rename, so the file survives a crash
    finally:
        os.close(fd)
    fsync = time.perf_counter() - start
    return {"seconds": float(seconds), "fsync_seconds": fsync, "bytes": int(size), "peak_rss_kb": peak}


# --- the run ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def emulator(data_dir: Path, max_upload_mb: float) -> Iterator[tuple[str, str]]:
    proc = subprocess.Popen(
        [PY, "-m", "nemovideo.emulator", "--port", "0", "--data-dir", str(data_dir),
         "--max-upload-mb", str(max_upload_mb)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        api, cdn = proc.stdout.readline().strip(), proc.stdout.readline().strip()
        yield api, cdn
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def make_file(path: Path, size: int) -> None:
    block = os.urandom(1 << 20)
    with path.open("wb") as f:
        f.write(MP4_HEAD)
        left = size - len(MP4_HEAD)
        while left > 0:
            f.write(block[: min(left, len(block))])
            left -= len(block)


async def _setup(api: str, config_dir: Path) -> tuple[str, dict[str, str]]:
    """A session, and the headers curl sends: the same token and attribution as the SDK's."""
    import nemovideo
    from nemovideo._auth import TokenStore

    async with nemovideo.NemoClient(api_url=api, config_dir=config_dir) as nemo:
        session = await nemo.sessions.create()
        token = TokenStore(config_dir, nemo.config.api_url).load()
        assert token is not None
        headers = {"Authorization": f"Bearer {token.token.get()}", **nemo.config.attribution_headers()}
    return session.id, headers


def summary(
    label: str,
    sdk: list[dict[str, Any]],
    curl: list[dict[str, Any]],
    httpx: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    def mbps(runs: list[dict[str, Any]]) -> list[float]:
        return [r["bytes"] / MB / r["seconds"] for r in runs]

    sdk_mbps, curl_mbps = statistics.median(mbps(sdk)), statistics.median(mbps(curl))
    fsynced: dict[str, float] = {}
    if "fsync_seconds" in curl[0]:
        durable = statistics.median(r["bytes"] / MB / (r["seconds"] + r["fsync_seconds"]) for r in curl)
        fsynced = {"curl_fsync_mb_s": durable, "throughput_ratio_to_curl_fsync": sdk_mbps / durable}
    floor: dict[str, Any] = {}
    if httpx:
        raw = statistics.median(mbps(httpx))
        floor = {
            "httpx_mb_s": raw,
            "httpx_mb_s_all": mbps(httpx),
            "throughput_ratio_to_httpx": sdk_mbps / raw,
            "httpx_to_curl_fsync": raw / fsynced["curl_fsync_mb_s"] if fsynced else None,
        }
    result = {
        "bytes": sdk[0]["bytes"],
        "runs": len(sdk),
        "sdk_mb_s": sdk_mbps,
        "curl_mb_s": curl_mbps,
        "sdk_mb_s_all": mbps(sdk),
        "curl_mb_s_all": mbps(curl),
        "throughput_ratio": sdk_mbps / curl_mbps,
        **fsynced,
        **floor,
        "sdk_peak_rss_mb": max(r["peak_rss_kb"] for r in sdk) / 1024,
        "sdk_rss_growth_mb": max(r["growth_kb"] for r in sdk) / 1024,
        "curl_peak_rss_mb": max(r["peak_rss_kb"] for r in curl) / 1024,
    }
    print(
        f"{label}: {result['bytes'] / MB:.0f} MB x {len(sdk)} runs; SDK {sdk_mbps:.0f} MB/s, curl "
        f"{curl_mbps:.0f} MB/s (medians) -> SDK x{result['throughput_ratio']:.2f} of curl; peak RSS: SDK "
        f"{result['sdk_peak_rss_mb']:.1f} MB (growth in the transfer {result['sdk_rss_growth_mb']:.1f} MB), "
        f"curl {result['curl_peak_rss_mb']:.1f} MB"
    )
    if fsynced:
        print(
            f"          curl + fsync (the SDK's durability) {fsynced['curl_fsync_mb_s']:.0f} MB/s -> SDK "
            f"x{fsynced['throughput_ratio_to_curl_fsync']:.2f} of it"
        )
    if floor:
        print(
            f"          httpx alone, stream to file + fsync {floor['httpx_mb_s']:.0f} MB/s -> SDK "
            f"x{floor['throughput_ratio_to_httpx']:.2f} of it (runs: "
            f"{', '.join(f'{v:.0f}' for v in floor['httpx_mb_s_all'])} MB/s)"
        )
    return result


def bench(size_mb: float, runs: int) -> dict[str, Any]:
    if shutil.which("curl") is None:
        raise SystemExit("curl is not installed: no baseline")
    size = int(size_mb * MB)
    with tempfile.TemporaryDirectory(prefix="nemo-bench-") as tmp:
        root = Path(tmp)
        source = root / "big.mp4"
        make_file(source, size)
        config = root / "config"
        with emulator(root / "data", max_upload_mb=size_mb + 10) as (api, _cdn):
            session_id, headers = anyio.run(_setup, api, config)
            upload_url = f"{api}/api/upload-video/nemo_agent/me/{session_id}"
            uploads: dict[str, list[dict[str, Any]]] = {"sdk": [], "curl": []}
            downloads: dict[str, list[dict[str, Any]]] = {"sdk": [], "curl": [], "httpx": []}
            cdn_url = ""
            for _ in range(runs):
                up = run_sdk("upload", api, config, session_id, source)
                cdn_url = up["cdn_url"]
                uploads["sdk"].append(up)
                uploads["curl"].append(curl_upload(upload_url, headers, source, root / "body.json"))
            for _ in range(runs):
                target = root / "down.mp4"
                downloads["sdk"].append(run_sdk("download", api, config, cdn_url, target))
                target.unlink()
                downloads["curl"].append(curl_download(cdn_url, target))
                target.unlink()
                downloads["httpx"].append(run_sdk("httpx-download", api, config, cdn_url, target))
                target.unlink()
        for runs_of in (*uploads.values(), *downloads.values()):
            assert all(r["bytes"] == size for r in runs_of), "a transfer was short"
    return {
        "upload": summary("upload", uploads["sdk"], uploads["curl"]),
        "download": summary("download", downloads["sdk"], downloads["curl"], downloads["httpx"]),
    }


def main() -> None:
    if len(sys.argv) == 7 and sys.argv[1] == "--child":
        print(json.dumps(anyio.run(_child, *sys.argv[2:])))
        return
    parser = argparse.ArgumentParser(description="Upload/download: the SDK vs curl against the emulator")
    parser.add_argument("--size-mb", type=float, default=500, help="file size in MB (default 500)")
    parser.add_argument("--runs", type=int, default=3, help="transfers per client and direction (default 3)")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    results = bench(args.size_mb, args.runs)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
