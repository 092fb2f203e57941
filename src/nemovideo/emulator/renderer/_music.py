"""Background music without network or samples: a seeded chord progression with a simple beat, written as WAV.

Only the stdlib (`random`, `math`, `array`, `wave`): the seed picks key, tempo, progression and
drum variations; four bars are synthesized once (note tails wrap around, so the loop is seamless)
and tiled to length.
The same style and seed always give the same bytes.
"""

from __future__ import annotations

import functools
import io
import math
import random
import sys
import wave
from array import array
from dataclasses import dataclass
from operator import add

SAMPLE_RATE = 22050
STYLES = ("lofi", "upbeat", "ambient")

_CHORDS: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "maj7": (0, 4, 7, 11),
    "m7": (0, 3, 7, 10),
    "7": (0, 4, 7, 10),
    "sus2": (0, 2, 7),
    "add9": (0, 4, 7, 14),
}
_PROGRESSIONS: dict[str, tuple[tuple[tuple[int, str], ...], ...]] = {
    "lofi": (
        ((2, "m7"), (7, "7"), (0, "maj7"), (9, "m7")),
        ((0, "maj7"), (9, "m7"), (2, "m7"), (7, "7")),
        ((5, "maj7"), (4, "m7"), (2, "m7"), (0, "maj7")),
    ),
    "upbeat": (
        ((0, "maj"), (7, "maj"), (9, "min"), (5, "maj")),
        ((9, "min"), (5, "maj"), (0, "maj"), (7, "maj")),
        ((0, "maj"), (5, "maj"), (7, "maj"), (5, "maj")),
    ),
    "ambient": (
        ((0, "add9"), (5, "maj7"), (9, "m7"), (7, "sus2")),
        ((9, "m7"), (5, "maj7"), (0, "add9"), (7, "sus2")),
    ),
}
_TEMPO = {"lofi": (72, 86), "upbeat": (112, 128), "ambient": (60, 70)}


@dataclass(frozen=True)
class _Song:
    bpm: int
    root: int
    progression: tuple[tuple[int, str], ...]


def _hz(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


class _Mixer:
    """A looped mono buffer; notes that run past the end wrap to the start."""

    def __init__(self, length: int) -> None:
        self.buf = [0.0] * length

    def add(self, at: int, samples: list[float]) -> None:
        n = len(self.buf)
        at %= n
        while samples:
            part, samples = samples[: n - at], samples[n - at :]
            self.buf[at : at + len(part)] = map(add, self.buf[at : at + len(part)], part)
            at = 0


def _tone(freq: float, seconds: float, amp: float, decay: float, attack: float = 0.005) -> list[float]:
    """A sine with its octave, a linear attack and an exponential decay (per second)."""
    n = int(seconds * SAMPLE_RATE)
    w = 2 * math.pi * freq / SAMPLE_RATE
    a = max(1, int(attack * SAMPLE_RATE))
    k = decay / SAMPLE_RATE
    return [
        amp * min(1.0, i / a) * math.exp(-k * i) * (math.sin(w * i) + 0.3 * math.sin(2 * w * i))
        for i in range(n)
    ]


def _swell(freq: float, seconds: float, amp: float) -> list[float]:
    """A slow pad note: a sine rising and falling over its length, slightly detuned for width."""
    n = int(seconds * SAMPLE_RATE)
    w1 = 2 * math.pi * freq / SAMPLE_RATE
    w2 = w1 * 1.003
    return [amp * math.sin(math.pi * i / n) ** 2 * (math.sin(w1 * i) + math.sin(w2 * i)) for i in range(n)]


def _kick(amp: float) -> list[float]:
    n = int(0.25 * SAMPLE_RATE)
    out: list[float] = []
    phase = 0.0
    for i in range(n):
        phase += 2 * math.pi * (45 + 90 * math.exp(-i / 900)) / SAMPLE_RATE
        out.append(amp * math.exp(-i / 2600) * math.sin(phase))
    return out


def _noise(rng: random.Random, seconds: float, amp: float, decay: float, bright: bool) -> list[float]:
    n = int(seconds * SAMPLE_RATE)
    raw = [rng.uniform(-1.0, 1.0) for _ in range(n + 1)]
    k = decay / SAMPLE_RATE
    if bright:
        return [amp * math.exp(-k * i) * (raw[i + 1] - raw[i]) * 0.5 for i in range(n)]
    return [amp * math.exp(-k * i) * raw[i] for i in range(n)]


def _song(style: str, seed: int) -> tuple[_Song, random.Random]:
    rng = random.Random(f"nemovideo-music:{style}:{seed}")
    lo, hi = _TEMPO[style]
    song = _Song(
        bpm=rng.randint(lo, hi), root=rng.randint(57, 64), progression=rng.choice(_PROGRESSIONS[style])
    )
    return song, rng


@functools.lru_cache(maxsize=8)
def _loop(style: str, seed: int) -> array[int]:
    song, rng = _song(style, seed)
    beat = 60 / song.bpm
    bar = 4 * beat
    mix = _Mixer(int(4 * bar * SAMPLE_RATE))
    swing = 0.08 * beat if style == "lofi" else 0.0

    def at(bar_index: int, beats: float) -> int:
        return int((bar_index * bar + beats * beat) * SAMPLE_RATE)

    for b, (degree, quality) in enumerate(song.progression):
        root = song.root + degree
        notes = [root + interval for interval in _CHORDS[quality]]
        bass = _hz(root - 24 if root - 24 >= 33 else root - 12)
        if style == "ambient":
            for note in notes:
                mix.add(at(b, 0), _swell(_hz(note), bar * 1.25, 0.12))
            mix.add(at(b, 0), _swell(bass, bar * 1.25, 0.18))
            for step in range(8):
                if rng.random() < 0.35:
                    mix.add(at(b, step / 2), _tone(_hz(rng.choice(notes) + 12), beat, 0.06, 3.0, 0.02))
            continue
        if style == "lofi":
            for hit in (0.0, 2.5 if rng.random() < 0.5 else 2.0):
                for note in notes:
                    mix.add(at(b, hit), _tone(_hz(note), 1.5 * beat, 0.09, 2.2, 0.01))
            for hit in (0.0, 1.5, 2.0) if rng.random() < 0.5 else (0.0, 2.0, 3.5):
                mix.add(at(b, hit), _tone(bass, beat, 0.28, 3.0, 0.01))
            kicks: tuple[float, ...] = (0.0, 2.0, 2.5) if rng.random() < 0.4 else (0.0, 2.0)
            hats = [i / 2 for i in range(8)]
        else:
            for eighth in range(8):
                if eighth % 2:
                    for note in notes:
                        mix.add(at(b, eighth / 2), _tone(_hz(note), beat / 2, 0.07, 9.0))
                mix.add(at(b, eighth / 2), _tone(bass, beat / 2, 0.22, 7.0))
            kicks = (0.0, 1.0, 2.0, 3.0)
            hats = [i + 0.5 for i in range(4)] + ([3.75] if rng.random() < 0.5 else [])
        for k in kicks:
            mix.add(at(b, k), _kick(0.6))
        for s in (1.0, 3.0):
            mix.add(at(b, s), _noise(rng, 0.18, 0.22, 18.0, False))
        for h in hats:
            offset = swing if (h * 2) % 2 else 0.0
            mix.add(at(b, h) + int(offset * SAMPLE_RATE), _noise(rng, 0.05, 0.18, 60.0, True))
    if style == "lofi":
        for _ in range(int(len(mix.buf) / SAMPLE_RATE * 3)):
            mix.add(rng.randrange(len(mix.buf)), _noise(rng, 0.004, 0.05, 500.0, True))
    peak = max(1e-9, max(abs(x) for x in mix.buf))
    gain = 0.8 * 32767 / peak
    return array("h", [int(x * gain) for x in mix.buf])


def synthesize_music(style: str, seed: int, seconds: float) -> bytes:
    """A mono 16-bit WAV of `seconds` of background music; deterministic for (style, seed)."""
    if style not in STYLES:
        raise ValueError(f"unknown music style {style!r}; expected one of {', '.join(STYLES)}")
    if seconds <= 0:
        raise ValueError("seconds must be positive")
    loop = _loop(style, seed)
    total = max(1, round(seconds * SAMPLE_RATE))
    samples = (loop * (total // len(loop) + 1))[:total]
    if sys.byteorder == "big":
        samples.byteswap()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(samples.tobytes())
    return buf.getvalue()
