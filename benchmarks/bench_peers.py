"""nemovideo next to the SDKs a user would pick instead, each in a virtual environment of its own.

    python benchmarks/bench_peers.py [--venvs DIR] [--runs 9] [--calls 1000] [--json out.json]

- import: median of fresh interpreters, each peer in its own venv (so one SDK's extras cannot slow another's
  import). The floor, `import httpx, httpx_sse, pydantic, anyio, tenacity`, is measured in the venv that holds
  nemovideo with its runtime dependencies only: httpx's own ``__init__`` imports its command line's
  dependencies (rich, click, pygments) when they are installed, so the floor must be taken in the same venv.
- per call: `credits.balance()` through nemovideo vs the generic `get` of openai's and anthropic's async
  clients against the same emulator endpoint, validated into the same pydantic model, vs raw httpx + json +
  that model (in each peer's venv, with the HTTP library that peer ships); median and p99 of
  interleaved calls on one warm connection each.

A peer that cannot be installed is skipped with a note. Not part of the test suite: numbers, not verdicts.
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
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
FLOOR = "httpx, httpx_sse, pydantic, anyio, tenacity"
PEERS = {  # venv name -> (what to install, module to import)
    "nemovideo": ([str(ROOT)], "nemovideo"),
    "openai": (["openai"], "openai"),
    "anthropic": (["anthropic"], "anthropic"),
    "replicate": (["replicate"], "replicate"),
    "fal-client": (["fal-client"], "fal_client"),
}

CALLS = r"""
import json, statistics, sys, time
import anyio, pydantic
try:
    import httpx
except ImportError:  # newer openai/anthropic releases ship httpx2 instead
    import httpx2 as httpx

url, token, kind, calls = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
path = "/api/credits/balance/simple"
headers = {"X-Skill-Source": "bench", "X-Skill-Version": "1", "X-Skill-Platform": "unknown"}

class Credits(pydantic.BaseModel):
    available: int
    frozen: int
    total: int

class Envelope(pydantic.BaseModel):
    code: int
    data: Credits

def envelope_on(base):
    # the same two models on a peer's own base class (their generic get insists on it)
    credits = type("Credits", (base,), {"__annotations__": {"available": int, "frozen": int, "total": int}})
    return type("Envelope", (base,), {"__annotations__": {"code": int, "data": credits}})

def pct(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

async def main():
    auth = {"Authorization": f"Bearer {token}", **headers}
    if kind == "openai":
        import openai
        peer = openai.AsyncOpenAI(base_url=url, api_key=token, default_headers=headers, max_retries=0)
        model = envelope_on(openai.BaseModel)
        call = lambda: peer.get(path, cast_to=model)
    elif kind == "anthropic":
        import anthropic
        peer = anthropic.AsyncAnthropic(
            base_url=url, auth_token=token, default_headers=headers, max_retries=0
        )
        model = envelope_on(anthropic.BaseModel)
        call = lambda: peer.get(path, cast_to=model)
    else:
        import nemovideo
        peer = nemovideo.NemoClient(api_url=url, token=token)
        call = peer.credits.balance
    peer_t, raw_t = [], []
    async with httpx.AsyncClient() as http:
        await call()
        await http.get(url + path, headers=auth)
        for i in range(calls * 2):
            t = time.perf_counter()
            if i % 2:
                await call()
                peer_t.append(time.perf_counter() - t)
            else:
                r = await http.get(url + path, headers=auth)
                Envelope.model_validate(json.loads(r.content))
                raw_t.append(time.perf_counter() - t)
    print(json.dumps({
        "median_ms": statistics.median(peer_t) * 1e3, "p99_ms": pct(peer_t, 0.99) * 1e3,
        "raw_median_ms": statistics.median(raw_t) * 1e3, "raw_p99_ms": pct(raw_t, 0.99) * 1e3,
    }))

anyio.run(main)
"""


def venv(root: Path, name: str, install: list[str]) -> Path | None:
    """The venv's python, made once and reused; None (with a note) when the peer cannot be installed."""
    where = root / name
    python = where / "bin" / "python"
    if not python.exists():
        made = subprocess.run(["uv", "venv", "-q", str(where)], capture_output=True, text=True, check=False)
        if made.returncode != 0:
            print(f"{name}: no venv ({made.stderr.strip()[:200]})")
            return None
    env_python = ["--python", str(python)]
    done = subprocess.run(
        ["uv", "pip", "install", "-q", *env_python, *install], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        print(f"{name}: skipped, cannot be installed ({done.stderr.strip()[:200]})")
        return None
    return python


def import_time(python: Path, module: str, runs: int) -> list[float] | None:
    """Every run's seconds (fresh interpreters), or None when the module does not import. A warm-up run
    first writes the bytecode caches (``PYTHONDONTWRITEBYTECODE`` is dropped), as a user's second run finds
    them; it is not counted."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times = []
    for attempt in range(runs + 1):
        code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
        out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=env, check=False)
        if out.returncode != 0:
            return None
        if attempt:
            times.append(float(out.stdout))
    return times


@contextlib.contextmanager
def emulator() -> Iterator[str]:
    """The emulator in this interpreter's venv: it needs the emulator extra, the peers' venvs do not."""
    proc = subprocess.Popen(
        [PY, "-m", "nemovideo.emulator", "--port", "0", "--credits", "100"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description="nemovideo next to its peers, each in its own venv")
    parser.add_argument("--venvs", type=Path, default=Path(tempfile.gettempdir()) / "nemovideo-peer-venvs")
    parser.add_argument("--runs", type=int, default=9, help="fresh interpreters per import (median)")
    parser.add_argument("--calls", type=int, default=1000, help="calls per per-call benchmark")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    args.venvs.mkdir(parents=True, exist_ok=True)
    pythons = {name: venv(args.venvs, name, install) for name, (install, _) in PEERS.items()}
    ours = pythons["nemovideo"]
    if ours is None:
        raise SystemExit("nemovideo itself could not be installed")
    results: dict[str, Any] = {"import_ms": {}, "import_runs_ms": {}, "per_call": {}}
    results["skipped"] = [name for name, python in pythons.items() if python is None]
    floor_runs = import_time(ours, FLOOR, args.runs)
    assert floor_runs is not None
    floor = statistics.median(floor_runs)
    results["import_ms"]["floor"] = floor * 1e3
    results["import_runs_ms"]["floor"] = [t * 1e3 for t in floor_runs]
    for name, (_, module) in PEERS.items():
        python = pythons[name]
        took = import_time(python, module, args.runs) if python else None
        if took is None:
            continue
        results["import_ms"][name] = statistics.median(took) * 1e3
        results["import_runs_ms"][name] = [t * 1e3 for t in took]
    sdk = results["import_ms"]["nemovideo"]
    print(f"import (median of {args.runs}): floor `import {FLOOR}` {floor * 1e3:.0f} ms")
    for name, ms in results["import_ms"].items():
        if name != "floor":
            ratios = f"x{ms / (floor * 1e3):.2f} the floor  x{ms / sdk:.2f} nemovideo"
            print(f"  {name:<10} {ms:6.0f} ms  {ratios}")

    with emulator() as url:
        client_id = str(uuid.uuid4())
        answer = httpx.post(url + "/api/auth/anonymous-token", headers={"X-Client-Id": client_id})
        token = answer.json()["data"]["token"]
        for name in ("nemovideo", "openai", "anthropic"):
            python = pythons[name]
            if python is None:
                continue
            if name != "nemovideo":  # the call script needs anyio and the emulator-side model only
                subprocess.run(["uv", "pip", "install", "-q", "--python", str(python), "anyio"], check=False)
            out = subprocess.run(
                [str(python), "-c", CALLS, url, token, name, str(args.calls)],
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode != 0:
                print(f"  {name}: per-call run failed: {out.stderr.strip()[-300:]}")
                continue
            row = json.loads(out.stdout.strip().splitlines()[-1])
            results["per_call"][name] = row
            med, p99 = row["median_ms"] / row["raw_median_ms"], row["p99_ms"] / row["raw_p99_ms"]
            print(
                f"per call, {name:<10} median {row['median_ms']:.3f} ms (x{med:.2f} raw httpx), "
                f"p99 {row['p99_ms']:.3f} ms (x{p99:.2f})"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
