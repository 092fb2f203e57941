"""Startup of the MCP server: from spawning ``nemovideo mcp`` until it answers ``initialize``.

    .venv/bin/python benchmarks/bench_mcp.py [--runs 7] [--json out.json]

An assistant spawns the server when it starts (and again after each crash), so this is the delay a user
waits for before the tools appear. Each run spawns a fresh process, writes one JSON-RPC ``initialize``
line to its stdin and stops the clock when the answer line arrives on stdout. Baselines measured in the
same run: a bare ``python -c pass`` (the interpreter's own start), ``nemovideo --version`` (the command
line without the server), and importing the ``mcp`` package's server alone and with ``nemovideo`` (the
floor for any server built on these two). Target: a median of at most 0.5 s. Numbers, not verdicts.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
SCRIPT = str(Path(PY).with_name("nemovideo"))
TARGET = 0.5
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "bench_mcp", "version": "1"},
    },
}


def until_exit(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter() - start


def until_initialized(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(
        args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.write(json.dumps(INITIALIZE) + "\n")
    proc.stdin.flush()
    answer = proc.stdout.readline()
    took = time.perf_counter() - start
    proc.stdin.close()
    proc.wait(timeout=30)
    reply = json.loads(answer)
    if reply.get("id") != 1 or "result" not in reply:
        raise SystemExit(f"unexpected answer to initialize: {answer!r}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-mcp-") as config_dir:
        # No request reaches the API before a tool is called; the URL is only read.
        env = {**os.environ, "NEMO_API_URL": "http://127.0.0.1:9", "NEMO_CONFIG_DIR": config_dir}
        cases = {
            "python -c pass": lambda: until_exit([PY, "-c", "pass"]),
            "nemovideo --version": lambda: until_exit([SCRIPT, "--version"]),
            "import mcp.server.mcpserver": lambda: until_exit([PY, "-c", "import mcp.server.mcpserver"]),
            "import mcp.server.mcpserver, nemovideo": lambda: until_exit(
                [PY, "-c", "import mcp.server.mcpserver, nemovideo"]
            ),
            "nemovideo mcp (until initialize)": lambda: until_initialized([SCRIPT, "mcp"], env),
            "python -m nemovideo.mcp (until initialize)": lambda: until_initialized(
                [PY, "-m", "nemovideo.mcp"], env
            ),
        }
        for case in cases.values():
            case()  # warm the file cache
        times = {name: [case() for _ in range(args.runs)] for name, case in cases.items()}

    medians = {name: statistics.median(values) for name, values in times.items()}
    python = medians["python -c pass"]
    print(f"startup, median of {args.runs} runs (target for the server: <= {TARGET:g} s)")
    for name, median in medians.items():
        spread = f"{min(times[name]):.3f}-{max(times[name]):.3f}"
        print(f"  {name:<44} {median:.3f} s  (range {spread} s, x{median / python:.1f} python)")
    server = medians["nemovideo mcp (until initialize)"]
    floor = medians["import mcp.server.mcpserver, nemovideo"]
    print(f"  nemovideo mcp / imports floor: x{server / floor:.2f}")
    print(f"  nemovideo mcp: {'within' if server <= TARGET else 'OVER'} the {TARGET:g} s target")
    if args.json:
        args.json.write_text(
            json.dumps({"runs": args.runs, "target": TARGET, "median": medians, "times": times})
        )


if __name__ == "__main__":
    main()
