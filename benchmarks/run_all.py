"""Run every benchmark in turn and write benchmarks/RESULTS.md from that one run.

    .venv/bin/python benchmarks/run_all.py [--size-mb 500] [--repeats 7] [--out benchmarks/RESULTS.md]

Each script runs as a subprocess of this one (as a user would run it); its JSON is collected:
bench_import.py, bench_sdk.py, bench_transfer.py, bench_peers.py and bench_sync.py write it with --json;
bench_renderer.py prints one JSON line per render with --one <quality> <variant>. Every ratio is the
median of ``--repeats`` repeats (at least 7) and every repeat is listed; each target is marked met or
missed. Nothing is re-run or picked.
"""

# ruff: noqa: E501  (table rows: one cell a line reads better than wrapped f-strings)
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
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


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def listed(values: list[float], fmt: str = "{:.2f}") -> str:
    return ", ".join(fmt.format(v) for v in values)


TARGETS = {
    "import": 1.3,
    "overhead_median": 1.10,
    "overhead_p99": 1.3,
    "stream": 1.25,
    "download_curl_fsync": 0.95,
    "download_curl": 0.9,
    "sessions": 2000,
    "kb_per_stream": 50.0,
}


def report(
    runs: dict[str, Any],
    renders: list[dict[str, Any]],
    took: dict[str, float],
    size_mb: float,
) -> str:
    """The numbers of this one run, with every repeat listed and each issue target marked."""
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# Benchmark results", "", f"One run of `benchmarks/run_all.py`, {when}.", "", "## Machine", ""]
    lines += ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in machine().items()), ""]
    rows: list[tuple[str, ...]] = []
    verdicts: list[str] = []

    imp = runs["import"]
    cases = imp["cases"]
    floor = cases["floor"]
    rows.append(("import: the floor, `import httpx, httpx_sse, pydantic, anyio, tenacity`",
                 f"{floor['median_ms']:.0f} ms", "", "", f"runs: {listed(floor['runs_ms'], '{:.0f}')} ms"))  # fmt: skip
    for name in ("import nemovideo", "from nemovideo import NemoClient"):
        case = cases[name]
        ok = case["ratio_to_floor"] <= TARGETS["import"]
        rows.append((f"import: `{name}`", f"{case['median_ms']:.0f} ms", f"floor {floor['median_ms']:.0f} ms",
                     ratio(case["ratio_to_floor"]), f"target ≤ x{TARGETS['import']}: {verdict(ok)}; runs: "
                     f"{listed(case['runs_ms'], '{:.0f}')} ms"))  # fmt: skip
        verdicts.append(f"- Import, `{name}`: x{case['ratio_to_floor']:.2f} the floor, {verdict(ok)}.")

    ovh = runs["overhead"]
    med = statistics.median(r["median_ratio"] for r in ovh)
    p99 = statistics.median(r["p99_ratio"] for r in ovh)
    ok_med, ok_p99 = med <= TARGETS["overhead_median"], p99 <= TARGETS["overhead_p99"]
    sdk_med = statistics.median(r["sdk_median_ms"] for r in ovh)
    raw_med = statistics.median(r["raw_median_ms"] for r in ovh)
    sdk_p99 = statistics.median(r["sdk_p99_ms"] for r in ovh)
    raw_p99 = statistics.median(r["raw_p99_ms"] for r in ovh)
    rows += [
        (f"per call, median (`credits.balance()`, {len(ovh)} repeats of {ovh[0]['calls']:,} calls)",
         f"{sdk_med:.3f} ms", f"raw httpx + json + pydantic {raw_med:.3f} ms", ratio(med),
         f"target ≤ x{TARGETS['overhead_median']:.2f}: {verdict(ok_med)}; repeats: "
         f"{listed([r['median_ratio'] for r in ovh])}"),
        ("per call, p99", f"{sdk_p99:.3f} ms", f"{raw_p99:.3f} ms", ratio(p99),
         f"target ≤ x{TARGETS['overhead_p99']:.2f}: {verdict(ok_p99)}; repeats: "
         f"{listed([r['p99_ratio'] for r in ovh])}"),
    ]  # fmt: skip
    verdicts += [f"- Per call, median: x{med:.2f} raw httpx, {verdict(ok_med)}.",
                 f"- Per call, p99: x{p99:.2f} raw httpx, {verdict(ok_p99)}."]  # fmt: skip

    stream = runs["stream"]
    ok = stream["ratio"] <= TARGETS["stream"]
    rounds = [r["ratio"] for r in stream.get("runs", [])]
    rows.append((f"stream parsing ({stream['frames']:,} events, median of {len(rounds) or 1} rounds)",
                 f"{stream['sdk_fps']:,.0f} events/s", f"raw httpx-sse + `json.loads` {stream['raw_fps']:,.0f} "
                 "events/s", f"{ratio(stream['ratio'])} the time",
                 f"target ≤ x{TARGETS['stream']}: {verdict(ok)}; every event typed; rounds: {listed(rounds)}"))  # fmt: skip
    verdicts.append(
        f"- Stream parsing: x{stream['ratio']:.2f} the time of raw httpx-sse + json, {verdict(ok)}."
    )

    up, down = runs["transfer"]["upload"], runs["transfer"]["download"]
    rows.append((f"upload {size_mb:g} MB (median of {up['runs']})", f"{up['sdk_mb_s']:.0f} MB/s",
                 f"curl {up['curl_mb_s']:.0f} MB/s", ratio(up["throughput_ratio"]),
                 f"runs: SDK {listed(up['sdk_mb_s_all'], '{:.0f}')}; curl {listed(up['curl_mb_s_all'], '{:.0f}')}"
                 " MB/s"))  # fmt: skip
    ok_c, ok_f = (
        down["throughput_ratio"] >= TARGETS["download_curl"],
        (down["throughput_ratio_to_curl_fsync"] >= TARGETS["download_curl_fsync"]),
    )
    rows += [
        (f"download {size_mb:g} MB (median of {down['runs']})", f"{down['sdk_mb_s']:.0f} MB/s",
         f"curl {down['curl_mb_s']:.0f} MB/s", ratio(down["throughput_ratio"]),
         f"target ≥ x{TARGETS['download_curl']}: {verdict(ok_c)}; runs: SDK "
         f"{listed(down['sdk_mb_s_all'], '{:.0f}')}; curl {listed(down['curl_mb_s_all'], '{:.0f}')} MB/s"),
        ("download vs curl + fsync", f"{down['sdk_mb_s']:.0f} MB/s",
         f"curl then fsync {down['curl_fsync_mb_s']:.0f} MB/s", ratio(down["throughput_ratio_to_curl_fsync"]),
         f"target ≥ x{TARGETS['download_curl_fsync']}: {verdict(ok_f)}; the SDK fsyncs before its atomic "
         "rename"),
    ]  # fmt: skip
    if "httpx_mb_s" in down:
        rows.append(("download vs httpx alone (stream to file + fsync)", f"{down['sdk_mb_s']:.0f} MB/s",
                     f"httpx {down['httpx_mb_s']:.0f} MB/s", ratio(down["throughput_ratio_to_httpx"]),
                     f"runs: httpx {listed(down['httpx_mb_s_all'], '{:.0f}')} MB/s"))  # fmt: skip
    rows += [
        ("upload / download: client peak RSS",
         f"{up['sdk_peak_rss_mb']:.0f} / {down['sdk_peak_rss_mb']:.0f} MB (grew {up['sdk_rss_growth_mb']:.1f} / "
         f"{down['sdk_rss_growth_mb']:.1f} MB)", f"curl {up['curl_peak_rss_mb']:.0f} / "
         f"{down['curl_peak_rss_mb']:.0f} MB", "", "the SDK's total includes Python, httpx and pydantic"),
    ]  # fmt: skip
    verdicts += [f"- Download: x{down['throughput_ratio']:.2f} curl, {verdict(ok_c)}; "
                 f"x{down['throughput_ratio_to_curl_fsync']:.2f} curl + fsync, {verdict(ok_f)}."]  # fmt: skip

    conc = runs["concurrency"]
    held = conc["held"]
    for c, what in ((conc, "short turns, default pool"), (held, f"held open, a pool of {held['pool']}")):
        cpu_share = c["emulator_cpu_s"] / c["wall_s"] / c["cores"]
        rows.append((f"concurrency: {c['sessions']:,} streaming sessions on one client ({what})",
                     f"{c['completed']:,}/{c['sessions']:,} done in {c['wall_s']:.1f} s",
                     f"one alone {c['single_s']:.2f} s", ratio(c["wall_s"] / c["single_s"]),
                     f"token requests {c['token_requests']}; peak open streams {c['peak_open_streams']:,}; "
                     f"client RSS +{(c['rss_at_peak_open_kb'] - c['rss_before_kb']) / 1024:.1f} MB at the peak "
                     f"({c['rss_per_open_stream_kb']:.1f} KB a stream); CPU: emulator {c['emulator_cpu_s']:.1f} s "
                     f"({cpu_share:.0%} of the machine), client {c['client_cpu_s']:.1f} s"))  # fmt: skip
    ok_n = all(c["completed"] >= TARGETS["sessions"] and c["token_requests"] == 1 for c in (conc, held))
    ok_kb = held["rss_per_open_stream_kb"] <= TARGETS["kb_per_stream"]
    verdicts += [
        f"- Concurrency: {conc['completed']:,} and {held['completed']:,} of {TARGETS['sessions']:,} sessions "
        f"completed, one token request each run: {verdict(ok_n)}.",
        f"- Client RSS per open stream ({held['peak_open_streams']:,} open at once): "
        f"{held['rss_per_open_stream_kb']:.1f} KB, target ≤ {TARGETS['kb_per_stream']:.0f} KB: {verdict(ok_kb)}.",
    ]

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
    lines += peers_section(runs.get("peers"))
    lines += ["", "## Targets in this run", "", *verdicts]
    lines += ["", "## What these measure, and what they do not", "", *NOTES]
    return "\n".join(lines) + "\n"


def peers_section(peers: dict[str, Any] | None) -> list[str]:
    """The SDKs a user would pick instead, each in a venv of its own (bench_peers.py)."""
    lines = ["", "## Peers", ""]
    if not peers:
        return [*lines, "bench_peers.py did not run."]
    floor_ms, ours_ms = peers["import_ms"]["floor"], peers["import_ms"]["nemovideo"]
    lines += [
        "`benchmarks/bench_peers.py`: each SDK in a venv of its own, installed by the script. Import: median "
        "of fresh interpreters (`import x` timed inside the interpreter, bytecode cached), against its own "
        f"measurement of the floor in nemovideo's runtime-only venv, {floor_ms:.0f} ms (bench_import.py's "
        "numbers above time the same statements another way).",
        "",
        "| SDK | import | ÷ floor | ÷ nemovideo | runs (ms) |",
        "|---|---|---|---|---|",
    ]
    for name, ms in peers["import_ms"].items():
        if name == "floor":
            continue
        every = peers.get("import_runs_ms", {}).get(name, [])
        lines.append(f"| {name} | {ms:.0f} ms | {ratio(ms / floor_ms)} | {ratio(ms / ours_ms)} | "
                     f"{listed(every, '{:.0f}')} |")  # fmt: skip
    lines += [f"| {n} | not installed | | | |" for n in peers.get("skipped", [])]
    lines += ["", "Per call (`credits.balance()` through nemovideo, the generic `get` of the others, the same "
              "pydantic model), each against raw httpx in its own venv, one warm connection:", "",
              "| SDK | median | ÷ raw httpx | p99 | ÷ raw httpx |", "|---|---|---|---|---|"]  # fmt: skip
    for name, row in peers["per_call"].items():
        lines.append(f"| {name} | {row['median_ms']:.3f} ms | {ratio(row['median_ms'] / row['raw_median_ms'])} | "
                     f"{row['p99_ms']:.3f} ms | {ratio(row['p99_ms'] / row['raw_p99_ms'])} |")  # fmt: skip
    return lines


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
        *(() if "blocks" not in sync else [
            (f"`credits.balance()` in blocks, median ({sync['blocks']['calls']:,} calls each)",
             f"{sync['blocks']['sync_median_us']:.0f} µs", f"`NemoClient` {sync['blocks']['async_median_us']:.0f} µs",
             ratio(sync["blocks"]["median_ratio"]),
             f"{sync['blocks']['median_diff_us']:+.0f} µs (p99 {sync['blocks']['p99_diff_us']:+.0f} µs); each "
             "client's calls back to back"),
        ]),
        *(() if "floor" not in sync else [
            ("the floor: the same call through a bare thread bridge, in blocks, median",
             f"{sync['floor']['sync_median_us']:.0f} µs", f"`NemoClient` {sync['floor']['async_median_us']:.0f} µs",
             ratio(sync["floor"]["median_ratio"]),
             f"{sync['floor']['median_diff_us']:+.0f} µs: two thread hand-offs, whatever the bridge; the sync "
             f"client adds {sync['over_floor_us']:+.0f} µs to that"),
        ]),
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
        "thread and back (one non-blocking `run_sync_soon` into the loop of an anyio blocking portal, one wait",
        "for the result); the HTTP work is the same code. Each wake-up of a sleeping thread costs most on a",
        "quiet virtual machine, whose idle CPUs halt. The floor row is the least any bridge from a thread to",
        "a loop in another thread does (a plain asyncio loop, one `call_soon_threadsafe` in, one queue `put`",
        "out): the sync client's own part is its difference from that row.",
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
    "- **Import** is measured by bench_import.py in fresh interpreters of a venv holding only the runtime "
    "dependencies (made by the script with uv), bytecode already compiled, the time taken inside the "
    "interpreter around the statement. httpx's own `__init__` imports its command line's dependencies "
    "(rich, click, pygments) when they are installed, so the floor is measured in that same venv.",
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
    "- **Concurrency** runs twice against the emulator in another process: 2,000 sessions sending a short "
    "message at once on one client with the default pool (100 connections; the rest wait at the SDK's gate), "
    "then 2,000 generations streaming heartbeats for 15 s on a client given a pool of 2,000, so that the "
    "streams are open at once: RSS per open stream is (RSS when the most streams were open - RSS before) / "
    "that number. The emulator's CPU share is its process's CPU time over wall time and cores.",
    "- **Renderer** numbers are the emulator's own renderer (ffmpeg), not the SDK; the real service renders "
    "elsewhere.",
]


def main() -> None:
    parser = argparse.ArgumentParser(description="Run every benchmark and write RESULTS.md")
    parser.add_argument("--size-mb", type=float, default=500, help="upload/download size (default 500)")
    parser.add_argument(
        "--repeats", type=int, default=7, help="repeats of each ratio (default 7, at least 7)"
    )
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    took: dict[str, float] = {}
    runs: dict[str, Any] = {}
    runs["import"], took["bench_import.py"] = with_json(
        "bench_import.py", "--runs", str(max(args.repeats, 7))
    )
    overhead, took["bench_sdk.py overhead"] = [], 0.0
    for _ in range(args.repeats):
        one, seconds = with_json("bench_sdk.py", "overhead")
        overhead.append(one["overhead"])
        took["bench_sdk.py overhead"] += seconds
    runs["overhead"] = overhead
    stream, took["bench_sdk.py stream"] = with_json("bench_sdk.py", "stream")
    runs["stream"] = stream["stream"]
    conc, took["bench_sdk.py concurrency"] = with_json("bench_sdk.py", "concurrency")
    runs["concurrency"] = conc["concurrency"]
    runs["transfer"], took["bench_transfer.py"] = with_json(
        "bench_transfer.py", "--size-mb", str(args.size_mb), "--runs", str(args.repeats)
    )
    try:
        runs["peers"], took["bench_peers.py"] = with_json("bench_peers.py", "--runs", str(args.repeats))
    except SystemExit as failed:
        print(f"peers skipped: {failed}")
    renders, took["bench_renderer.py"] = renderer()
    sync, took["bench_sync.py"] = with_json("bench_sync.py")
    text = report(runs, renders, took, args.size_mb) + "\n".join(sync_section(sync)) + "\n"
    args.out.write_text(text)
    print(f"wrote {args.out} ({sum(took.values()):.0f} s of benchmarks)")


if __name__ == "__main__":
    main()
