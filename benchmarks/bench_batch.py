"""`nemovideo batch` at scale: 200 jobs, `--jobs 32`, on the emulator: wall time, jobs/min, client memory.

    .venv/bin/python benchmarks/bench_batch.py [--jobs-count 200] [--jobs 32] [--baseline-count 8]

The emulator runs in its own process (`python -m nemovideo.emulator`, draft renders, a generation working
`--generation-seconds`). Each run is the real `nemovideo batch` command in a child process with a fresh
config directory (a fresh anonymous token), on a manifest of short drafts ("Generate a 2-second video
about ..."). The baseline, measured in the same run, is the same kind of job one at a time (`--jobs 1`) on
`--baseline-count` jobs: the ratio says what concurrency buys on one machine.

Memory: the child's peak RSS (VmHWM), sampled every 50 ms while it runs (not `ru_maxrss`, which after a
fork counts the parent's memory). The emulator's CPU time is shown too: it renders every MP4 with ffmpeg
on the same machine, so on a small machine it, not the client, is what limits the rate.
Not part of the test suite: numbers, not verdicts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PY = sys.executable
SCRIPT = str(Path(PY).with_name("nemovideo"))


def status_kb(field: str, pid: int) -> int:
    """A memory line of /proc/<pid>/status, in kB (0 once the process is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (its children's too, once waited)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(v) for v in fields[11:15]) / ticks


def start_emulator(generation_seconds: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            PY, "-m", "nemovideo.emulator", "--credits", "1000000", "--tokens-per-ip", "100000",
            "--generation-seconds", str(generation_seconds), "--heartbeat-interval", "1",
            "--render-quality", "draft",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    proc.stdout.readline()  # the CDN origin
    return proc, url


def manifest(directory: Path, name: str, count: int) -> Path:
    path = directory / f"{name}.jsonl"
    rows = [
        {"prompt": f"Generate a 2-second video about product number {i}", "output": f"{name}/v{i}.mp4"}
        for i in range(1, count + 1)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def run_batch(url: str, path: Path, jobs: int, emulator_pid: int) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEMO_")}
    with tempfile.TemporaryDirectory() as config:
        env.update(NEMO_API_URL=url, NEMO_CONFIG_DIR=config)
        emulator_cpu = cpu_seconds(emulator_pid)
        output = Path(config) / "results.jsonl"  # a file, not a pipe: nobody reads while it runs
        with output.open("w") as sink:
            started = time.monotonic()
            proc = subprocess.Popen(
                [SCRIPT, "batch", str(path), "--jobs", str(jobs), "--json", "--poll-interval", "0.5"],
                env=env,
                stdout=sink,
                stderr=subprocess.DEVNULL,
            )
            peak = 0
            while True:  # wait4: the child's own CPU time, not that of every child so far
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                peak = max(peak, status_kb("VmHWM", proc.pid))
                time.sleep(0.05)
            wall = time.monotonic() - started
            proc.returncode = os.waitstatus_to_exitcode(status)
        lines = [json.loads(line) for line in output.read_text().splitlines()]
    summary = lines.pop()["summary"]
    done = sum(1 for r in lines if r["status"] == "done")
    return {
        "jobs": len(lines),
        "concurrency": jobs,
        "done": done,
        "exit_code": proc.returncode,
        "wall_s": round(wall, 2),
        "jobs_per_min": round(done / wall * 60, 1),
        "client_peak_rss_mb": round(peak / 1024, 1),
        "client_cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "load_average": round(os.getloadavg()[0], 1),
        "emulator_cpu_s": round(cpu_seconds(emulator_pid) - emulator_cpu, 1),
        "credits_spent": summary["credits_spent"],
        "mean_job_s": round(sum(r["elapsed"] for r in lines) / max(len(lines), 1), 2),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jobs-count", type=int, default=200, help="jobs in the big manifest (default 200)")
    p.add_argument("--jobs", type=int, default=32, help="concurrency of the big run (default 32)")
    p.add_argument("--baseline-count", type=int, default=8, help="jobs of the --jobs 1 baseline (default 8)")
    p.add_argument("--generation-seconds", type=float, default=3.0, help="emulator generation time")
    p.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    ns = p.parse_args()
    emulator, url = start_emulator(ns.generation_seconds)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            work = Path(scratch)
            baseline = run_batch(url, manifest(work, "baseline", ns.baseline_count), 1, emulator.pid)
            big = run_batch(url, manifest(work, "big", ns.jobs_count), ns.jobs, emulator.pid)
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
    ratio = big["jobs_per_min"] / baseline["jobs_per_min"] if baseline["jobs_per_min"] else float("nan")
    cores = os.cpu_count()
    seconds = ns.generation_seconds
    print(f"## Batches (benchmarks/bench_batch.py, {cores} cores, emulator generation {seconds:g} s)")
    print()
    print(
        "| run | jobs | done | wall | jobs/min | vs --jobs 1 | client peak RSS | client CPU | emulator CPU "
        "| mean job | load avg |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r, times in (("--jobs 1 (baseline)", baseline, 1.0), (f"--jobs {ns.jobs}", big, ratio)):
        print(
            f"| {name} | {r['jobs']} | {r['done']} | {r['wall_s']} s | {r['jobs_per_min']} | {times:.1f}x "
            f"| {r['client_peak_rss_mb']} MB | {r['client_cpu_s']} s | {r['emulator_cpu_s']} s "
            f"| {r['mean_job_s']} s | {r['load_average']} |"
        )
    if ns.json is not None:
        ns.json.write_text(json.dumps({"baseline": baseline, "big": big, "ratio": ratio}, indent=1))


if __name__ == "__main__":
    main()
