"""How long the emulator's agent takes to understand a message: median per message over the agent corpus, and
for a 2,000-character script; the baseline is one `str.lower()` + `re.search` over the same text, measured in
the same run (targets: ≤ 1 ms per message, ≤ 5 ms for the script).

Run: .venv/bin/python benchmarks/bench_agent.py
"""

from __future__ import annotations

import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

from nemovideo.emulator import _drafts as drafts
from nemovideo.emulator._store import Session
from nemovideo.emulator.agent import plan_for

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "emulator" / "agent_corpus.json"
SCRIPT = " ".join(f"Scene {i}: fresh coffee, roasted every morning by people who care." for i in range(32))[
    :2000
]


def session() -> Session:
    canvas = drafts.canvas_for("16:9")
    s = Session("1" * 19, "t", "p", "en", "u", drafts.empty_draft(canvas), canvas)
    for step in plan_for("Generate a 20-second video with background music: A. B. C.", s, 0).steps:
        step.apply(s)
    return s


def median_ms(fn: Any, texts: list[str], rounds: int = 5) -> float:
    times = []
    for text in texts:
        best = min(_once(fn, text) for _ in range(rounds))
        times.append(best)
    return statistics.median(times) * 1000


def _once(fn: Any, text: str) -> float:
    start = time.perf_counter()
    fn(text)
    return time.perf_counter() - start


def main() -> None:
    s = session()
    messages = [c["say"] for c in json.loads(CORPUS.read_text(encoding="utf-8"))["cases"]]
    script = f"Generate a 60-second promo with background music: {SCRIPT}"
    plan_for("warm up", s, 0)
    baseline = re.compile(r"\bvideo\b")

    def base(text: str) -> object:
        return baseline.search(text.lower())

    def agent(text: str) -> object:
        return plan_for(text, s, 0)

    per_message, base_message = median_ms(agent, messages), median_ms(base, messages)
    per_script, base_script = median_ms(agent, [script], 50), median_ms(base, [script], 50)
    ratio, script_ratio = per_message / base_message, per_script / base_script
    print(
        f"messages: {len(messages)}, median {per_message:.3f} ms (target 1 ms), x{ratio:.0f} a regex search"
    )
    print(f"2,000-character script: {per_script:.3f} ms (target 5 ms), x{script_ratio:.0f} a regex search")


if __name__ == "__main__":
    main()
