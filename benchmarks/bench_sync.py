"""Per-call overhead of the sync client, against the async client measured in the same run.

    .venv/bin/python benchmarks/bench_sync.py [--calls 2000] [--json out.json]

- call: ``credits.balance()`` on ``SyncNemoClient`` vs the same call awaited on ``NemoClient``, against an
  emulator in another process; calls interleaved (async, sync, async, ...) so that drift hits both alike;
  median and p99 per call, as a ratio and as a difference in µs (target: the sync client adds ≤ 100 µs).
- blocks: the same call in alternating blocks (a block of async calls, one of sync calls, one through the
  floor bridge; six each): with no other client's calls in between, each client's threads stay as warm as
  a script's would.
- floor: the same async call through the least any thread bridge does (a plain asyncio loop in a thread,
  one ``call_soon_threadsafe`` in, one queue ``put`` out, nothing else): what two thread hand-offs cost on
  this machine, whatever the bridge. The sync client's own part is its difference from the floor.
- bridge: the same number of calls of a coroutine that does nothing, through the sync client's loop
  thread: what the bridge alone costs (hand the call to the loop, wait, hand the result back).

Both clients are warm (token fetched, one connection open) before timing starts. The sync calls are made
from the main thread while its own loop (which times the async calls) waits, as a script calling the sync
client would. Not part of the test suite: numbers, not verdicts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from queue import SimpleQueue
from typing import Any, TypeVar

import anyio

PY = sys.executable
TARGET_US = 100.0
T = TypeVar("T")


class Floor:
    """The least a bridge from a thread to an event loop in another thread does: no task group, no cancel
    scope, no hooks, no interrupts; one hand-off in, one out."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.done: SimpleQueue[asyncio.Future[Any]] = SimpleQueue()

    def call(self, func: Callable[[], Awaitable[T]]) -> T:
        async def run() -> T:
            return await func()

        def start() -> None:
            self.loop.create_task(run()).add_done_callback(self.done.put)

        self.loop.call_soon_threadsafe(start)
        result: T = self.done.get().result()
        return result

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


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


def _summary(name: str, sync: list[float], baseline: list[float], label: str = "sync") -> dict[str, Any]:
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
        f"{name}: {len(sync)} calls; {label} median {result['sync_median_us']:.0f} µs, "
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
                floor = Floor()
                floor_nemo = nemovideo.NemoClient(**settings)
                floor.call(floor_nemo.__aenter__)
                floor.call(floor_nemo.credits.balance)  # warm, as the others
                block_sync: list[float] = []
                block_async: list[float] = []
                block_floor: list[float] = []
                kinds = {"async": block_async, "sync": block_sync, "floor": block_floor}
                for _ in range(6):  # blocks: each client runs back to back, as a script would
                    for kind, timed in kinds.items():
                        for _ in range(max(1, calls // 6)):
                            t = time.perf_counter()
                            if kind == "async":
                                await nemo.credits.balance()
                            elif kind == "sync":
                                sync_nemo.credits.balance()
                            else:
                                floor.call(floor_nemo.credits.balance)
                            timed.append(time.perf_counter() - t)
                floor.call(floor_nemo.aclose)
                floor.close()
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
        "floor": _summary("credits.balance() through the floor bridge", block_floor, block_async, "floor"),
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
    own = result["blocks"]["sync_median_us"] - result["floor"]["sync_median_us"]
    result["over_floor_us"] = own
    print(
        f"floor: any thread bridge adds {result['floor']['median_diff_us']:+.0f} µs here; "
        f"the sync client {own:+.0f} µs more than that (median, in blocks)"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
