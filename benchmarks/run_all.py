"""Run every benchmark in turn and write benchmarks/RESULTS.md from that one run.

    .venv/bin/python benchmarks/run_all.py [--size-mb 500] [--transfer-runs 3] [--out benchmarks/RESULTS.md]

Each script runs as a subprocess of this one (as a user would run it); its JSON is collected:
bench_sdk.py, bench_transfer.py and bench_sync.py write it with --json; bench_renderer.py prints one JSON
line per render with --one <quality> <variant>. Every number goes into the report with its baseline and
the ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PY = sys.executable
QUALITIES = ("draft", "medium", "high")
VARIANTS = ("scenes", "image")
OVERHEAD_TARGET = 1.10


def run(args: list[str]) -> tuple[str, float]:
    print(f"$ {' '.join(Path(a).name if a.endswith('.py') else a for a in args)}", flush=True)
    start = time.perf_counter()
    out = subprocess.run([PY, *args], capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    sys.stdout.write(out.stdout)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"{args[0]} failed with {out.returncode}")
    return out.stdout, took


def with_json(script: str, *args: str) -> tuple[dict[str, Any], float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.json"
        _, took = run([str(HERE / script), *args, "--json", str(path)])
        data: dict[str, Any] = json.loads(path.read_text())
    return data, took


def renderer() -> tuple[list[dict[str, Any]], float]:
    results, total = [], 0.0
    for variant in VARIANTS:
        for quality in QUALITIES:
            out, took = run([str(HERE / "bench_renderer.py"), "--one", quality, variant])
            results.append(json.loads(out.strip().splitlines()[-1]))
            total += took
    return results, total


def machine() -> dict[str, str]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE, check=False
    ).stdout.strip()
    curl = subprocess.run(["curl", "--version"], capture_output=True, text=True, check=False).stdout
    import httpx
    import pydantic

    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "httpx / pydantic": f"{httpx.__version__} / {pydantic.VERSION}",
        "curl": curl.split("\n", 1)[0].split(" (")[0] if curl else "not installed",
        "commit": commit or "unknown",
    }


def ratio(x: float) -> str:
    return f"x{x:.2f}"


def report(
    sdk: dict[str, Any],
    transfer: dict[str, Any],
    renders: list[dict[str, Any]],
    took: dict[str, float],
    size_mb: float,
) -> str:
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# Benchmark results", "", f"One run of `benchmarks/run_all.py`, {when}.", "", "## Machine", ""]
    lines += ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in machine().items()), ""]

    imp, ovh, stream, conc = sdk["import"], sdk["overhead"], sdk["stream"], sdk["concurrency"]
    up, down = transfer["upload"], transfer["download"]
    met = "met" if ovh["median_ratio"] <= OVERHEAD_TARGET else "**missed**"
    p99_met = "met" if ovh["p99_ratio"] <= OVERHEAD_TARGET else "**missed**"
    rows = [
        ("import time (median of 20 fresh interpreters)",
         f"`import nemovideo` {imp['nemovideo_s'] * 1e3:.0f} ms",
         f"`import httpx, pydantic` {imp['httpx_pydantic_s'] * 1e3:.0f} ms", ratio(imp["ratio_to_floor"]),
         "the floor: the SDK cannot import faster than its dependencies"),
    ]  # fmt: skip
    if "openai_s" in imp:
        rows.append(
            ("import time vs another SDK", f"{imp['nemovideo_s'] * 1e3:.0f} ms",
             f"`import openai` {imp['openai_s'] * 1e3:.0f} ms", ratio(imp["ratio_to_openai"]), "")
        )  # fmt: skip
    rows += [
        (f"per-call overhead, median ({ovh['calls']:,} `credits.balance()`)",
         f"{ovh['sdk_median_ms']:.3f} ms",
         f"raw httpx + json + pydantic {ovh['raw_median_ms']:.3f} ms", ratio(ovh["median_ratio"]),
         f"target ≤ x{OVERHEAD_TARGET:.2f}: {met}"),
        ("per-call overhead, p99", f"{ovh['sdk_p99_ms']:.3f} ms", f"{ovh['raw_p99_ms']:.3f} ms",
         ratio(ovh["p99_ratio"]), f"target ≤ x{OVERHEAD_TARGET:.2f}: {p99_met}"),
        (f"stream parsing ({stream['frames']:,} events)", f"{stream['sdk_fps']:,.0f} events/s",
         f"raw httpx-sse + `json.loads` {stream['raw_fps']:,.0f} events/s",
         f"{ratio(stream['raw_fps'] / stream['sdk_fps'])} the time",
         "the SDK also validates and types every event"),
        (f"upload {size_mb:g} MB (median of {up['runs']})", f"{up['sdk_mb_s']:.0f} MB/s",
         f"curl {up['curl_mb_s']:.0f} MB/s", ratio(up["throughput_ratio"]),
         f"runs: SDK {', '.join(f'{x:.0f}' for x in up['sdk_mb_s_all'])}; "
         f"curl {', '.join(f'{x:.0f}' for x in up['curl_mb_s_all'])} MB/s"),
        ("upload: client peak RSS", f"{up['sdk_peak_rss_mb']:.0f} MB (grew {up['sdk_rss_growth_mb']:.1f} MB)",
         f"curl {up['curl_peak_rss_mb']:.0f} MB", ratio(up["sdk_peak_rss_mb"] / up["curl_peak_rss_mb"]),
         "the SDK's total includes the Python interpreter, httpx and pydantic"),
        (f"download {size_mb:g} MB (median of {down['runs']})", f"{down['sdk_mb_s']:.0f} MB/s",
         f"curl {down['curl_mb_s']:.0f} MB/s", ratio(down["throughput_ratio"]),
         f"runs: SDK {', '.join(f'{x:.0f}' for x in down['sdk_mb_s_all'])}; "
         f"curl {', '.join(f'{x:.0f}' for x in down['curl_mb_s_all'])} MB/s"),
        ("download vs curl + fsync", f"{down['sdk_mb_s']:.0f} MB/s",
         f"curl then fsync {down['curl_fsync_mb_s']:.0f} MB/s", ratio(down["throughput_ratio_to_curl_fsync"]),
         "the SDK fsyncs before its atomic rename; plain curl does not"),
        ("download: client peak RSS",
         f"{down['sdk_peak_rss_mb']:.0f} MB (grew {down['sdk_rss_growth_mb']:.1f} MB)",
         f"curl {down['curl_peak_rss_mb']:.0f} MB", ratio(down["sdk_peak_rss_mb"] / down["curl_peak_rss_mb"]),
         ""),
        (f"concurrency: {conc['sessions']} sessions streaming at once, one client",
         f"{conc['completed']}/{conc['sessions']} done in {conc['wall_s']:.2f} s",
         f"one session alone {conc['single_s']:.2f} s", ratio(conc["wall_s"] / conc["single_s"]),
         f"token requests: {conc['token_requests']} (must be 1)"),
    ]  # fmt: skip
    for r in renders:
        rows.append(
            (f"renderer: 30 s 1080x1920 promo, {r['quality']}, {r['variant']}",
             f"{r['wall_s']:.1f} s wall, ffmpeg {r['ffmpeg_peak_rss_mb']:.0f} MB", "real time: 30 s",
             f"RTF {r['rtf']:.2f}", f"{r['size_mb']:.1f} MB file; > 1 is faster than real time")
        )  # fmt: skip
    lines += ["## Numbers", "", "| what | nemovideo | baseline | ratio | notes |", "|---|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    lines += [
        "",
        "Ratios are SDK ÷ baseline: for times and memory, below 1 is better; for throughputs (MB/s),",
        "above 1 is better; stream parsing is given as the SDK's time ÷ the baseline's.",
        "",
        "Wall time of each script in this run: " + ", ".join(f"{k} {v:.0f} s" for k, v in took.items()) + ".",
    ]
    lines += ["", "## What these measure, and what they do not", "", *NOTES]
    lines += ["", "## Targets and shortfalls in this run", ""]
    for label, value in (("median", ovh["median_ratio"]), ("p99", ovh["p99_ratio"])):
        verdict = "met" if value <= OVERHEAD_TARGET else "**missed**"
        lines.append(
            f"- Per-call overhead within {OVERHEAD_TARGET - 1:.0%} of raw httpx, {label}: "
            f"x{value:.2f}, {verdict}."
        )
    if down["throughput_ratio_to_curl_fsync"] < 0.9:
        lines.append(
            f"- Download: the SDK reached x{down['throughput_ratio_to_curl_fsync']:.2f} of curl + fsync. "
            "Its bytes pass through Python (httpx's reader, then a worker thread for each 1 MiB write); "
            "curl's do not. No target was set; it is a gap, not noise."
        )
    if imp["ratio_to_floor"] > 1.5:
        lines.append(
            f"- Import: x{imp['ratio_to_floor']:.2f} of `import httpx, pydantic`. No target was set. Both "
            "numbers include httpx importing its command-line tool's dependencies (rich, click, pygments), "
            "which the SDK's `cli` extra installs; the rest of the gap is the SDK's own modules and models."
        )
    lines.append(
        f"- Concurrency: {conc['completed']} of {conc['sessions']} sessions completed with "
        f"{conc['token_requests']} token request(s)."
    )
    return "\n".join(lines) + "\n"


def sync_section(sync: dict[str, Any]) -> list[str]:
    """The "Sync client" section: ``SyncNemoClient`` against ``NemoClient``, as bench_sync.py measured."""
    call, bridge, target = sync["call"], sync["bridge"], sync["target_us"]
    met = "met" if call["median_diff_us"] <= target else "**missed**"
    rows = [
        (f"`credits.balance()`, median ({call['calls']:,} calls each)", f"{call['sync_median_us']:.0f} µs",
         f"`NemoClient` {call['async_median_us']:.0f} µs", ratio(call["median_ratio"]),
         f"{call['median_diff_us']:+.0f} µs; target ≤ +{target:.0f} µs: {met}"),
        ("`credits.balance()`, p99", f"{call['sync_p99_us']:.0f} µs", f"{call['async_p99_us']:.0f} µs",
         ratio(call["p99_ratio"]), f"{call['p99_diff_us']:+.0f} µs"),
        ("the bridge alone: a no-op coroutine, median", f"{bridge['sync_median_us']:.0f} µs",
         f"awaited in the caller's loop {bridge['async_median_us']:.1f} µs", "",
         f"p99 {bridge['sync_p99_us']:.0f} µs; the handoff to the loop thread and back"),
    ]  # fmt: skip
    return [
        "",
        "## Sync client",
        "",
        "`benchmarks/bench_sync.py`: `SyncNemoClient` vs `NemoClient` against the emulator in another",
        "process, calls interleaved, both warm. The sync client adds the handoff of each call to its loop",
        "thread and back (anyio's blocking portal); the HTTP work is the same code.",
        "",
        "| what | SyncNemoClient | baseline | ratio | notes |",
        "|---|---|---|---|---|",
        *(f"| {' | '.join(row)} |" for row in rows),
    ]


NOTES = [
    "- One run on a shared 2-core virtual machine: expect run-to-run noise of 10-30 % on the transfer "
    "and latency numbers (the upload and download rows list every run so the spread shows). Nothing was "
    "re-run or picked.",
    "- Every server (the emulator, the replay server for stream parsing) runs in its own process, but on the "
    "same 2 cores as the client: server work and client work compete, which favours neither side.",
    "- **Import** is measured in fresh interpreters (`-c 'import ...'`), bytecode already compiled.",
    "- **Per-call overhead** interleaves SDK and raw calls on one warm connection each against the emulator; "
    "both include the emulator's own time, so the ratio understates the SDK's share of its own code. It does "
    "not measure retries, token fetches or cold connections.",
    "- **Stream parsing** replays recorded ADK frames from a local server as fast as it can send them: it "
    "measures parsing, not the agent. The baseline decodes JSON only; the SDK builds typed events.",
    "- **Upload** times run until the API answers, so they include the emulator writing, hashing and probing "
    "the file (the same for both clients). The file is an MP4 header followed by random bytes, read from the "
    "page cache. curl is told not to wait for `100-continue` (`-H 'Expect:'`).",
    "- **Download** reads the uploaded file back from the emulator's CDN origin to local disk. "
    "The SDK writes a temporary file, checks the size, fsyncs and renames; `curl -o` only writes, "
    "so the curl + fsync row is the like-for-like comparison.",
    "- **Peak RSS** is VmHWM from /proc: the SDK's is its whole Python process (interpreter, httpx, "
    "pydantic, the SDK); growth is what the transfer added on top. Streaming keeps memory flat "
    "whatever the file size.",
    "- **Concurrency** is 500 sessions on one client sending a short message at once against the emulator in "
    "another process; the wall time includes the emulator serving 500 streams on the same 2 cores.",
    "- **Renderer** numbers are the emulator's own renderer (ffmpeg), not the SDK; the real service renders "
    "elsewhere.",
]


def main() -> None:
    parser = argparse.ArgumentParser(description="Run every benchmark and write RESULTS.md")
    parser.add_argument("--size-mb", type=float, default=500, help="upload/download size (default 500)")
    parser.add_argument("--transfer-runs", type=int, default=3, help="transfers per client and direction")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    took: dict[str, float] = {}
    # named explicitly: bench_sdk.py's default (all of them) trips argparse's choices check on Python 3.11
    sdk, took["bench_sdk.py"] = with_json("bench_sdk.py", "import", "overhead", "stream", "concurrency")
    transfer, took["bench_transfer.py"] = with_json(
        "bench_transfer.py", "--size-mb", str(args.size_mb), "--runs", str(args.transfer_runs)
    )
    renders, took["bench_renderer.py"] = renderer()
    sync, took["bench_sync.py"] = with_json("bench_sync.py")
    text = report(sdk, transfer, renders, took, args.size_mb) + "\n".join(sync_section(sync)) + "\n"
    args.out.write_text(text)
    print(f"wrote {args.out} ({sum(took.values()):.0f} s of benchmarks)")


if __name__ == "__main__":
    main()
