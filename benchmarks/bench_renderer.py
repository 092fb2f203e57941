"""Wall time, peak memory and real-time factor of the 30-second 1080x1920 promo at each quality.

Run: .venv/bin/python benchmarks/bench_renderer.py [quality ...]
Each quality runs in a fresh Python process, so RUSAGE_CHILDREN's peak is that render's ffmpeg alone.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

from nemovideo.emulator.renderer import check_ffmpeg, render_draft


def promo_draft() -> dict[str, Any]:
    return {
        "d": 30000,
        "m": {"title": "Urban Dreams", "width": 1080, "height": 1920, "fps": 30, "aspect": "9:16"},
        "t": [
            {"tt": 0, "m": {"name": "Video"}, "sg": [
                {"id": "seg_1", "kind": "scene", "start": 0, "end": 10000,
                 "text": "A city that never sleeps, told in thirty seconds of light and motion",
                 "bg": "#1e3a8a", "bg2": "#9333ea"},
                {"id": "seg_2", "kind": "scene", "start": 10000, "end": 20000, "text": "Neon streets",
                 "bg": "#0f172a"},
                {"id": "seg_3", "kind": "scene", "start": 20000, "end": 30000, "text": "Dream big",
                 "bg": "#fde68a", "bg2": "#f97316"}]},
            {"tt": 1, "m": {"name": "BGM"}, "sg": [
                {"id": "seg_4", "kind": "music", "start": 0, "end": 30000, "style": "lofi", "seed": 7,
                 "volume": 35, "fade_in": 500, "fade_out": 1500}]},
            {"tt": 7, "m": {"name": "Title"}, "sg": [
                {"id": "seg_5", "kind": "text", "start": 0, "end": 3000, "text": "Urban Dreams",
                 "position": "top"},
                {"id": "seg_6", "kind": "text", "start": 26000, "end": 30000, "text": "Follow for more",
                 "position": "bottom", "color": "#facc15"}]},
        ],
    }  # fmt: skip


def with_image(image: Path) -> dict[str, Any]:
    """The promo with its middle scene replaced by an image (slow zoom), the costliest kind per frame."""
    draft = promo_draft()
    draft["t"][0]["sg"][1] = {"kind": "image", "start": 10000, "end": 20000, "src": str(image)}
    return draft


def measure(quality: str, variant: str) -> dict[str, Any]:
    check_ffmpeg()
    with tempfile.TemporaryDirectory() as tmp:
        draft = promo_draft()
        if variant == "image":
            image = Path(tmp) / "photo.png"
            subprocess.run(
                [
                    check_ffmpeg(),
                    "-v",
                    "error",
                    "-f",
                    "lavfi",
                    "-i",
                    "testsrc2=s=1600x1200",
                    "-frames:v",
                    "1",
                    str(image),
                ],
                check=True,
            )
            draft = with_image(image)
        start = time.perf_counter()
        result = anyio.run(lambda: render_draft(draft, Path(tmp) / "promo.mp4", quality=quality))
        wall = time.perf_counter() - start
    return {
        "quality": quality,
        "variant": variant,
        "wall_s": round(wall, 2),
        "rtf": round(result.duration / wall, 2),
        "size_mb": round(result.size / 1e6, 2),
        "ffmpeg_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "python_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(json.dumps(measure(sys.argv[2], sys.argv[3])))
        return
    qualities = sys.argv[1:] or ["draft", "medium", "high"]
    header = f"{'quality':8} {'variant':8} {'wall s':>7} {'RTF':>6} {'MB':>6}"
    print(f"{header} {'ffmpeg RSS':>11} {'python RSS':>11}")
    for variant in ("scenes", "image"):
        for quality in qualities:
            out = subprocess.run(
                [sys.executable, __file__, "--one", quality, variant],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            r = json.loads(out)
            print(
                f"{r['quality']:8} {r['variant']:8} {r['wall_s']:7.2f} {r['rtf']:6.2f} {r['size_mb']:6.2f} "
                f"{r['ffmpeg_peak_rss_mb']:9.1f}MB {r['python_peak_rss_mb']:9.1f}MB"
            )


if __name__ == "__main__":
    main()
