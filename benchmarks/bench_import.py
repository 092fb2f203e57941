"""Import time of nemovideo against its own dependencies, in a venv that holds only the runtime dependencies.

    python benchmarks/bench_import.py [--runs 15] [--source DIR] [--venv DIR] [--json out.json]

The venv is made afresh with uv (``uv venv --clear``, then ``uv pip install -e SOURCE``, no extras): httpx's
own ``__init__`` imports its command line's dependencies (rich, click, pygments) when they are installed, so
a venv with the SDK's ``cli`` extra would slow the floor and the SDK alike and hide the ratio.

- floor: ``import httpx, httpx_sse, pydantic, anyio, tenacity``, the runtime dependencies all imported;
- ``import nemovideo`` and ``from nemovideo import NemoClient``: the targets, each ≤ x1.3 the floor;
- where the deferred cost lands, for the notes: pydantic's model machinery alone (``from pydantic import
  BaseModel`` on top of the floor), a ``NemoClient()`` made, every public name (``from nemovideo import *``),
  and the first call: a fresh interpreter that imports, makes a client and gets ``credits.balance()`` from
  the emulator, against raw httpx + the same pydantic validation doing the same (the emulator runs in this
  interpreter's venv, which has the ``emulator`` extra).

Each case runs in ``--runs`` fresh interpreters, interleaved round by round so that a busy moment of the
machine falls on every case alike. The time is taken inside the interpreter around the statement
(interpreter start-up excluded), as wall-clock time (the targets) and as the process's CPU time, which a
busy machine disturbs less (a cross-check). One warm-up round first writes the bytecode caches; it is
listed in the JSON and left out of the medians. One ``-X importtime`` run of each target lists the modules
that cost the most. Not part of the test suite: numbers, not verdicts.
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.3
FLOOR = "import httpx, httpx_sse, pydantic, anyio, tenacity"
TARGETS = {
    "import nemovideo": "import nemovideo",
    "from nemovideo import NemoClient": "from nemovideo import NemoClient",
}
INFORMATIVE = {
    "floor + pydantic BaseModel": f"{FLOOR}; from pydantic import BaseModel",
    "NemoClient() made": (
        "from nemovideo import NemoClient; NemoClient(token='bench', api_url='http://127.0.0.1:9')"
    ),
    "from nemovideo import *": "from nemovideo import *",
}
FIRST_CALL = {
    "first call: nemovideo": """
import anyio
from nemovideo import NemoClient

async def main():
    async with NemoClient(api_url=URL, token=TOKEN) as nemo:
        assert (await nemo.credits.balance()).available >= 0

anyio.run(main)
""",
    "first call: raw httpx + pydantic": """
import anyio, httpx, pydantic

class Credits(pydantic.BaseModel):
    available: int
    frozen: int
    total: int

class Envelope(pydantic.BaseModel):
    code: int
    data: Credits

async def main():
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Skill-Source": "bench", "X-Skill-Version": "1",
               "X-Skill-Platform": "unknown"}
    async with httpx.AsyncClient() as http:
        answer = await http.get(URL + "/api/credits/balance/simple", headers=headers)
        assert Envelope.model_validate_json(answer.content).data.available >= 0

anyio.run(main)
""",
}
TIMED = (
    "import time\n_t, _c = time.perf_counter(), time.process_time()\n{code}\n"
    "print(time.perf_counter() - _t, time.process_time() - _c)\n"
)


def make_venv(where: Path, source: Path) -> tuple[Path, list[str]]:
    """A fresh venv on this interpreter's Python with ``source`` installed (no extras); its packages."""
    subprocess.run(["uv", "venv", "-q", "--clear", "--python", sys.executable, str(where)], check=True)
    python = where / "bin" / "python"
    subprocess.run(["uv", "pip", "install", "-q", "--python", str(python), "-e", str(source)], check=True)
    frozen = subprocess.run(
        ["uv", "pip", "freeze", "--python", str(python)], capture_output=True, text=True, check=True
    )
    return python, frozen.stdout.split()


def timed(python: Path, code: str, env: dict[str, str]) -> tuple[float, float]:
    """Seconds the code took in a fresh interpreter, measured inside it: wall clock, and CPU time."""
    out = subprocess.run(
        [str(python), "-c", TIMED.format(code=code)], capture_output=True, text=True, env=env, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"this failed in the benchmark venv:\n{code}\n{out.stderr[-2000:]}")
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def importtime(python: Path, code: str, env: dict[str, str], top: int = 15) -> dict[str, Any]:
    """One ``-X importtime`` run: the modules with the largest self and cumulative times (microseconds)."""
    out = subprocess.run(
        [str(python), "-X", "importtime", "-c", code], capture_output=True, text=True, env=env, check=True
    )
    rows = []
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line.removeprefix("import time:").split("|")
        rows.append((name.strip(), int(self_us), int(cumulative_us)))
    by_self = sorted(rows, key=lambda r: -r[1])[:top]
    by_cumulative = sorted(rows, key=lambda r: -r[2])[:top]
    return {
        "modules": len(rows),
        "total_ms": sum(r[1] for r in rows) / 1e3,
        "top_self": [list(r) for r in by_self],
        "top_cumulative": [list(r) for r in by_cumulative],
    }


@contextlib.contextmanager
def emulator() -> Iterator[tuple[str, str] | None]:
    """The emulator in this interpreter's venv and an anonymous token; None when the extra is missing."""
    try:
        import nemovideo.emulator  # noqa: F401
    except ImportError:
        yield None
        return
    proc = subprocess.Popen(
        [sys.executable, "-m", "nemovideo.emulator", "--port", "0", "--credits", "100"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        answer = httpx.post(url + "/api/auth/anonymous-token", headers={"X-Client-Id": "bench-import"})
        yield url, answer.json()["data"]["token"]
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description="import time of nemovideo vs its dependencies")
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters per case (at least 7)")
    parser.add_argument("--source", type=Path, default=ROOT, help="the nemovideo checkout to measure")
    parser.add_argument("--venv", type=Path, default=Path(tempfile.gettempdir()) / "nemovideo-import-venv")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    if args.runs < 7:
        parser.error("--runs must be at least 7")

    python, packages = make_venv(args.venv, args.source.resolve())
    with tempfile.TemporaryDirectory() as config_dir, emulator() as served:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEMO_", "PYTHON"))}
        env["NEMO_CONFIG_DIR"] = config_dir  # no saved key or token of the user's is read
        cases = {"floor": FLOOR, **TARGETS, **INFORMATIVE}
        if served is not None:
            url, token = served
            prelude = f"URL, TOKEN = {url!r}, {token!r}\n"
            cases.update({name: prelude + code for name, code in FIRST_CALL.items()})
        warmup = {name: timed(python, code, env) for name, code in cases.items()}
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, code in cases.items():
                runs[name].append(timed(python, code, env))
        profiles = {name: importtime(python, code, env) for name, code in {"floor": FLOOR, **TARGETS}.items()}

    median = {name: statistics.median(t for t, _ in values) * 1e3 for name, values in runs.items()}
    cpu = {name: statistics.median(c for _, c in values) * 1e3 for name, values in runs.items()}
    floor, cpu_floor = median["floor"], cpu["floor"]
    results: dict[str, Any] = {
        "python": sys.version.split()[0],
        "source": str(args.source),
        "venv_packages": packages,
        "runs": args.runs,
        "target_ratio": TARGET,
        "cases": {
            name: {
                "code": code,
                "median_ms": median[name],
                "ratio_to_floor": median[name] / floor,
                "runs_ms": [t * 1e3 for t, _ in runs[name]],
                "cpu_median_ms": cpu[name],
                "cpu_ratio_to_floor": cpu[name] / cpu_floor,
                "cpu_runs_ms": [c * 1e3 for _, c in runs[name]],
                "warmup_ms": warmup[name][0] * 1e3,
            }
            for name, code in cases.items()
        },
        "targets": {name: median[name] / floor <= TARGET for name in TARGETS},
        "importtime": profiles,
    }
    if served is None:
        results["first_call_note"] = "skipped: the emulator extra is not installed in this interpreter's venv"

    venv = f"{len(packages)} packages, no extras"
    print(f"import time, median of {args.runs} fresh interpreters (venv: {venv})")
    for name in cases:
        if name in TARGETS:
            verdict = "met" if results["targets"][name] else "MISSED"
            note = f"target ≤ x{TARGET:.2f}: {verdict}"
        else:
            note = "the floor" if name == "floor" else ""
        line = (
            f"  {name:<34} {median[name]:6.1f} ms  x{median[name] / floor:.2f} the floor"
            f"  (CPU {cpu[name]:6.1f} ms, x{cpu[name] / cpu_floor:.2f})  {note}"
        )
        print(line.rstrip())
    if served is None:
        print(f"  first call: {results['first_call_note']}")
    else:
        ours, raw = median["first call: nemovideo"], median["first call: raw httpx + pydantic"]
        print(f"  first call, nemovideo ÷ raw httpx + pydantic: x{ours / raw:.2f}")
    for name, profile in profiles.items():
        print(f"-X importtime, {name}: {profile['modules']} modules; largest self times (ms):")
        for module, self_us, cumulative_us in profile["top_self"][:8]:
            print(f"    {self_us / 1e3:6.1f}  (cumulative {cumulative_us / 1e3:6.1f})  {module}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
