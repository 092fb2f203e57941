"""SDK benchmarks, each against a baseline measured in the same run.

    .venv/bin/python benchmarks/bench_sdk.py [import] [overhead] [stream] [concurrency] [--json out.json]

- import: `import nemovideo` vs `import httpx, pydantic` (the floor) and `import openai` when installed;
  median of 20 fresh interpreters each.
- overhead: 2,000 `credits.balance()` calls vs the same request with raw httpx + json + the same pydantic
  validation, against an emulator in another process; median and p99 per call.
- stream: a 100,000-event stream through `sessions.stream` vs raw httpx-sse + `json.loads`, from a
  server in another process that replays recorded ADK frames; events per second.
- concurrency: 500 sessions streaming at once on one client against the emulator: all complete, one
  token request, wall time (baseline: one stream alone).

Servers run in their own processes so that they do not share the client's interpreter lock.
Not part of the test suite: numbers, not verdicts.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
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

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "tests" / "fixtures" / "adk-sse"
PY = sys.executable


# --- servers in other processes --------------------------------------------------------------------


@contextlib.contextmanager
def emulator_process(*args: str) -> Iterator[tuple[str, int]]:
    """The emulator in a process of its own: its URL and pid (for its CPU time)."""
    proc = subprocess.Popen(
        [PY, "-m", "nemovideo.emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip(), proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@contextlib.contextmanager
def emulator(*args: str) -> Iterator[str]:
    with emulator_process(*args) as (url, _):
        yield url


STREAM_SERVER = r"""
import sys, json, uvicorn
from pathlib import Path
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route

frames = []
for path in sorted(Path(sys.argv[1]).glob("*.txt")):
    frames += [line + "\n\n" for line in path.read_text().splitlines() if line.startswith("data: {")]
count = int(sys.argv[2])
body = "".join(frames[i % len(frames)] for i in range(count)).encode()

async def run_sse(request):
    async def chunks():
        for i in range(0, len(body), 65536):
            yield body[i : i + 65536]
    return StreamingResponse(chunks(), media_type="text/event-stream")

app = Starlette(routes=[Route("/run_sse", run_sse, methods=["POST"])])
config = uvicorn.Config(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="error")
uvicorn.Server(config).run()
"""


@contextlib.contextmanager
def stream_server(events: int) -> Iterator[str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([PY, "-c", STREAM_SERVER, str(FIXTURES), str(events), str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.post(url + "/nothing", timeout=0.2)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


# --- import ----------------------------------------------------------------------------------------


def _import_time(module: str, runs: int = 20) -> float | None:
    times = []
    for _ in range(runs):
        code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
        out = subprocess.run([PY, "-c", code], capture_output=True, text=True)
        if out.returncode != 0:
            return None
        times.append(float(out.stdout))
    return statistics.median(times)


def bench_import() -> dict[str, Any]:
    sdk = _import_time("nemovideo")
    floor = _import_time("httpx, pydantic")
    openai = _import_time("openai")
    assert sdk is not None
    assert floor is not None
    result = {"nemovideo_s": sdk, "httpx_pydantic_s": floor, "ratio_to_floor": sdk / floor}
    print(
        f"import: nemovideo {sdk * 1000:.0f} ms, httpx+pydantic {floor * 1000:.0f} ms -> x{sdk / floor:.2f}"
    )
    if openai is not None:
        result.update(openai_s=openai, ratio_to_openai=sdk / openai)
        print(f"        openai {openai * 1000:.0f} ms -> nemovideo is x{sdk / openai:.2f} of it")
    else:
        print("        openai is not installed here: no comparison")
    return result


# --- per-call overhead -----------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _overhead(url: str, calls: int) -> dict[str, Any]:
    import nemovideo
    from nemovideo import Credits

    with tempfile.TemporaryDirectory() as config:
        async with nemovideo.NemoClient(api_url=url, config_dir=config) as nemo:
            await nemo.credits.balance()  # token fetched, pool warm
            token = nemo._requestor.auth._token
            assert token is not None
            headers = {
                "Authorization": f"Bearer {token.token.get()}",
                **nemo.config.attribution_headers(),
            }
            sdk, raw = [], []
            async with httpx.AsyncClient() as http:
                await http.get(url + "/api/credits/balance/simple", headers=headers)
                for i in range(calls * 2):  # interleaved, so drift hits both alike
                    t = time.perf_counter()
                    if i % 2:
                        await nemo.credits.balance()
                        sdk.append(time.perf_counter() - t)
                    else:
                        r = await http.get(url + "/api/credits/balance/simple", headers=headers)
                        Credits.model_validate(json.loads(r.content)["data"])
                        raw.append(time.perf_counter() - t)
    med = statistics.median(sdk) / statistics.median(raw)
    p99 = _pct(sdk, 0.99) / _pct(raw, 0.99)
    print(
        f"overhead: {calls} calls; SDK median {statistics.median(sdk) * 1e3:.3f} ms, "
        f"p99 {_pct(sdk, 0.99) * 1e3:.3f} ms; raw httpx median {statistics.median(raw) * 1e3:.3f} ms, "
        f"p99 {_pct(raw, 0.99) * 1e3:.3f} ms -> median x{med:.3f}, p99 x{p99:.3f}"
    )
    return {
        "calls": calls,
        "sdk_median_ms": statistics.median(sdk) * 1e3,
        "sdk_p99_ms": _pct(sdk, 0.99) * 1e3,
        "raw_median_ms": statistics.median(raw) * 1e3,
        "raw_p99_ms": _pct(raw, 0.99) * 1e3,
        "median_ratio": med,
        "p99_ratio": p99,
    }


def bench_overhead(calls: int = 2000) -> dict[str, Any]:
    with emulator("--credits", "100") as url:
        return anyio.run(_overhead, url, calls)


# --- stream parsing --------------------------------------------------------------------------------


async def _stream(url: str, events: int) -> dict[str, Any]:
    from httpx_sse import aconnect_sse

    import nemovideo

    body = {"app_name": "nemo_agent", "user_id": "me", "session_id": "1", "new_message": {"role": "user"}}
    async with httpx.AsyncClient(timeout=None) as http:
        t = time.perf_counter()
        count = 0
        async with aconnect_sse(http, "POST", url + "/run_sse", json=body) as source:
            async for sse in source.aiter_sse():
                json.loads(sse.data)
                count += 1
        raw_s = time.perf_counter() - t
    assert count == events, count
    async with nemovideo.NemoClient(api_url=url, token="nmv_usr_bench") as nemo:
        t = time.perf_counter()
        typed = 0
        async with nemo.sessions.stream("1", "go") as stream:
            async for _ in stream:
                typed += 1
        sdk_s = time.perf_counter() - t
    print(
        f"stream: {events} frames; raw httpx-sse+json {events / raw_s:,.0f} frames/s, "
        f"SDK {events / sdk_s:,.0f} frames/s ({typed} typed events) -> SDK takes x{sdk_s / raw_s:.2f} "
        "the time"
    )
    return {"frames": events, "raw_fps": events / raw_s, "sdk_fps": events / sdk_s, "ratio": sdk_s / raw_s}


def bench_stream(events: int = 100_000) -> dict[str, Any]:
    with stream_server(events) as url:
        return anyio.run(_stream, url, events)


# --- concurrency -----------------------------------------------------------------------------------


def _rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _concurrency(url: str, sessions: int, emulator_pid: int, held: bool) -> dict[str, Any]:
    """``held``: every turn is a generation that streams heartbeats for seconds, on a pool as large as
    the run, so all streams are open at once (RSS per open stream); else short turns on the defaults."""
    import nemovideo

    text = "Generate a 2-second video about the sea" if held else "hello there"
    http = httpx.AsyncClient(limits=httpx.Limits(max_connections=sessions)) if held else None
    with tempfile.TemporaryDirectory() as config:
        async with nemovideo.NemoClient(
            api_url=url, config_dir=config, timeout=300, http_client=http
        ) as nemo:
            made = [await nemo.sessions.create() for _ in range(sessions)]
            t = time.perf_counter()
            await made[0].send(text, track_credits=False)
            single = time.perf_counter() - t
            made[0] = await nemo.sessions.create()
            done = failed = open_now = peak_open = 0
            rss_before = _rss_kb()
            peak_rss = rss_before
            rss_at_peak_open = rss_before

            async def one(session: nemovideo.Session) -> None:
                nonlocal done, failed, open_now, peak_open, rss_at_peak_open
                opened = False
                try:
                    async with session.stream(text) as events:
                        async for _ in events:
                            if not opened:
                                opened = True
                                open_now += 1
                                if open_now > peak_open:
                                    peak_open, rss_at_peak_open = open_now, _rss_kb()
                    done += 1
                except nemovideo.NemoError as exc:
                    failed += 1
                    print(f"  failed: {exc}")
                finally:
                    open_now -= opened

            async def sample() -> None:
                nonlocal peak_rss
                while True:
                    peak_rss = max(peak_rss, _rss_kb())
                    await anyio.sleep(0.05)

            cpu_before = _cpu_s(emulator_pid)
            client_cpu_before = time.process_time()
            t = time.perf_counter()
            async with anyio.create_task_group() as tg:
                tg.start_soon(sample)
                async with anyio.create_task_group() as streams:
                    for session in made:
                        streams.start_soon(one, session)
                tg.cancel_scope.cancel()
            wall = time.perf_counter() - t
            emulator_cpu = _cpu_s(emulator_pid) - cpu_before
            client_cpu = time.process_time() - client_cpu_before
        if http is not None:
            await http.aclose()
        async with httpx.AsyncClient() as plain:
            log = (await plain.get(url + "/_emulator/log")).json()
    entries = log if isinstance(log, list) else log.get("entries", [])
    tokens = sum(1 for e in entries if e.get("endpoint") == "anonymous_token")
    per_stream_kb = (rss_at_peak_open - rss_before) / max(peak_open, 1)
    cores = os.cpu_count() or 1
    print(
        f"concurrency{' (held open)' if held else ''}: {done}/{sessions} sessions streamed at once "
        f"in {wall:.2f} s "
        f"(one alone: {single:.2f} s; x{wall / single:.1f}); token requests: {tokens}; "
        f"peak open streams {peak_open}, client RSS {rss_before / 1024:.1f} MB before, "
        f"+{(rss_at_peak_open - rss_before) / 1024:.1f} MB at the peak ({per_stream_kb:.1f} KB a stream), "
        f"peak {peak_rss / 1024:.1f} MB; CPU: emulator {emulator_cpu:.1f} s "
        f"({emulator_cpu / wall / cores:.0%} of the machine), client {client_cpu:.1f} s "
        f"({client_cpu / wall / cores:.0%})"
    )
    return {
        "held_open": held,
        "pool": sessions if held else "default",
        "sessions": sessions,
        "completed": done,
        "failed": failed,
        "wall_s": wall,
        "single_s": single,
        "token_requests": tokens,
        "peak_open_streams": peak_open,
        "rss_before_kb": rss_before,
        "rss_at_peak_open_kb": rss_at_peak_open,
        "rss_peak_kb": peak_rss,
        "rss_per_open_stream_kb": per_stream_kb,
        "emulator_cpu_s": emulator_cpu,
        "client_cpu_s": client_cpu,
        "cores": cores,
    }


def bench_concurrency(sessions: int = 2000) -> dict[str, Any]:
    with emulator_process("--credits", "1000000", "--silent-share", "0") as (url, pid):
        short = anyio.run(_concurrency, url, sessions, pid, False)
    with emulator_process("--credits", "1000000", "--generation-seconds", "15") as (url, pid):
        held = anyio.run(_concurrency, url, sessions, pid, True)
    return {**short, "held": held}


BENCHES = {
    "import": bench_import,
    "overhead": bench_overhead,
    "stream": bench_stream,
    "concurrency": bench_concurrency,
}


def main() -> None:
    parser = argparse.ArgumentParser(description="SDK benchmarks against same-run baselines")
    parser.add_argument("which", nargs="*", help=f"any of {', '.join(BENCHES)} (default: all)")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    unknown = sorted(set(args.which) - set(BENCHES))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    results = {name: BENCHES[name]() for name in args.which or BENCHES}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
