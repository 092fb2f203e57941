"""Per-call overhead of the sync client, against the async client measured in the same run.

    .venv/bin/python benchmarks/bench_sync.py [--calls 2000] [--json out.json]

- call: ``credits.balance()`` on ``SyncNemoClient`` vs the same call awaited on ``NemoClient``, against an
  emulator in another process; calls interleaved (async, sync, async, ...) so that drift hits both alike;
  median and p99 per call, as a ratio and as a difference in µs (target: the sync client adds ≤ 100 µs).
- blocks: the same call in alternating blocks (a block of async calls, then one of sync calls, six each):
  with no other client's calls in between, each client's threads stay as warm as a script's would.
- bridge: the same number of calls of a coroutine that does nothing, through the sync client's loop
  thread: what the bridge alone costs (hand the call to the loop, wait, hand the result back).

Both clients are warm (token fetched, one connection open) before timing starts. The sync calls are made
from the main thread while its own loop (which times the async calls) waits, as a script calling the sync
client would. Not part of the test suite: numbers, not verdicts.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio

PY = sys.executable
TARGET_US = 100.0


@contextlib.contextmanager
def emulator() -> Iterator[str]:
    proc = subprocess.Popen(
        [PY, "-m", "nemovideo.emulator", "--port", "0", "--credits", "100"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _summary(name: str, sync: list[float], baseline: list[float]) -> dict[str, Any]:
    result = {
        "calls": len(sync),
        "sync_median_us": statistics.median(sync) * 1e6,
        "sync_p99_us": _pct(sync, 0.99) * 1e6,
        "async_median_us": statistics.median(baseline) * 1e6,
        "async_p99_us": _pct(baseline, 0.99) * 1e6,
    }
    result["median_ratio"] = result["sync_median_us"] / result["async_median_us"]
    result["p99_ratio"] = result["sync_p99_us"] / result["async_p99_us"]
    result["median_diff_us"] = result["sync_median_us"] - result["async_median_us"]
    result["p99_diff_us"] = result["sync_p99_us"] - result["async_p99_us"]
    print(
        f"{name}: {len(sync)} calls; sync median {result['sync_median_us']:.0f} µs, "
        f"p99 {result['sync_p99_us']:.0f} µs; async median {result['async_median_us']:.0f} µs, "
        f"p99 {result['async_p99_us']:.0f} µs -> median x{result['median_ratio']:.3f} "
        f"({result['median_diff_us']:+.0f} µs), p99 x{result['p99_ratio']:.3f} "
        f"({result['p99_diff_us']:+.0f} µs)"
    )
    return result


async def _measure(url: str, calls: int) -> dict[str, Any]:
    import nemovideo

    async def nothing() -> None:
        pass

    with tempfile.TemporaryDirectory() as config:
        settings: dict[str, Any] = {"api_url": url, "config_dir": config}
        with nemovideo.SyncNemoClient(**settings) as sync_nemo:
            async with nemovideo.NemoClient(**settings) as nemo:
                sync_nemo.credits.balance()  # loop thread started, token fetched, pool warm
                await nemo.credits.balance()
                sync_calls, async_calls = [], []
                for i in range(calls * 2):
                    t = time.perf_counter()
                    if i % 2:
                        sync_nemo.credits.balance()
                        sync_calls.append(time.perf_counter() - t)
                    else:
                        await nemo.credits.balance()
                        async_calls.append(time.perf_counter() - t)
                block_sync: list[float] = []
                block_async: list[float] = []
                for _ in range(6):  # blocks of 200: each client runs back to back, as a script would
                    for calls_of, timed in ((nemo, block_async), (sync_nemo, block_sync)):
                        for _ in range(max(1, calls // 6)):
                            t = time.perf_counter()
                            if calls_of is nemo:
                                await nemo.credits.balance()
                            else:
                                sync_nemo.credits.balance()
                            timed.append(time.perf_counter() - t)
                runner = sync_nemo._runner
                bridged, direct = [], []
                for i in range(calls * 2):
                    t = time.perf_counter()
                    if i % 2:
                        runner.call(nothing)
                        bridged.append(time.perf_counter() - t)
                    else:
                        await nothing()
                        direct.append(time.perf_counter() - t)
    return {
        "call": _summary("credits.balance()", sync_calls, async_calls),
        "blocks": _summary("credits.balance() in blocks", block_sync, block_async),
        "bridge": _summary("no-op coroutine", bridged, direct),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Per-call overhead of SyncNemoClient vs NemoClient")
    parser.add_argument("--calls", type=int, default=2000, help="timed calls per client (default 2000)")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    with emulator() as url:
        result = anyio.run(_measure, url, args.calls)
    result["target_us"] = TARGET_US
    for kind in ("call", "blocks"):
        verdict = "met" if result[kind]["median_diff_us"] <= TARGET_US else "missed"
        print(f"target ({kind}): the sync client adds ≤ {TARGET_US:.0f} µs per call (median): {verdict}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
